// Package compacted follows a compacted Kafka topic into an in-memory view.
//
// Several parts of Tributary keep their state in a compacted topic and read
// it whole at start: the distributed worker's config and status stores and
// the Schema Registry's _schemas topic. Each keeps its own view and hands a
// Follower the function that applies one record to it; the Follower owns the
// goroutine that reads the topic from its start, records how far it applied
// each partition, and lets writers wait until the view holds what they wrote.
//
// EnsureTopic creates such a topic, compacted, and checks the partition
// count of an existing one. A Follower reads to the end of its topic either
// by its end offsets (ReadToEnd, for topics never written in transactions)
// or, where the tail may be a transaction marker, by writing a record of
// its own and waiting for it (Write then WaitFor).
package compacted
