// Package store remembers what the worker was asked to run: each
// connector's config, exactly as submitted (config provider references
// unresolved), its target state and, for connectors declared in a pipelines
// directory, the file that owns it.
//
// On the data path it sits beside the worker, not on it: the REST API and
// the pipelines reconciler change connectors through the worker, the worker
// writes each change to its ConfigStore before acting on it, and a restarted
// worker reads the store back and resumes every connector in its target
// state. Sink offsets are not kept here: they live in each connector's Kafka
// consumer group, connect-<name>, as in Kafka Connect.
//
// A standalone worker keeps its store in one JSON file
// (config.storage.file.filename). Memory is the twin every test can use.
// Distributed workers share Kafka, a store backed by the compacted topic
// config.storage.topic, as Kafka Connect's distributed workers do;
// EnsureTopic creates the storage topics. They also share KafkaStatus, the
// last reported state of every connector and task of the cluster, kept in
// status.storage.topic: each worker writes what it runs and reads what
// all others run.
//
// Diff compares a pipelines directory with the store; the worker applies
// its result and tributary plan prints it.
package store
