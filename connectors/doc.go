// Package connectors is the plugin API of Tributary: the types a connector
// implements and the records the runtime hands it.
//
// It sits between the runtime and the back ends. The runtime (runtime/worker)
// polls Kafka, decodes each record through a converter from package schemas,
// applies the transform chain and calls a SinkTask with batches of Records.
// The task writes them to its external system and reports, through PreCommit,
// which offsets are durable there. The runtime commits exactly those offsets
// to Kafka and nothing beyond them.
//
// Connector packages (connectors/s3, connectors/file, ...) never import the
// runtime; cmd/tributary wires them in explicitly through a Registry.
package connectors
