// Package registry is Tributary's side of the Confluent Schema Registry: a
// client that resolves the schema ids found in record values, and a server
// that speaks the registry's REST API for deployments without one.
//
// On the data path, the converter in package schemas asks a Client (through
// the schemas.Resolver interface) for the schema of each id it has not seen
// yet; the client caches every answer for the life of the process, since
// ids never change meaning. Memory is an in-process Resolver for tests.
//
// The Server keeps its state where Confluent's does: a compacted Kafka topic,
// "_schemas" by default, in the same record format, so that either can read
// what the other wrote. Every instance reads the whole topic at start and
// keeps following it; a registration is answered only once its record is
// written with acks=all and applied to the instance's view.
//
// Compatibility is checked on registration and by the compatibility
// endpoints at the seven levels of Confluent's registry, with the schema
// resolution rules of the Avro specification (compatibility.go); config,
// mode and deletes follow Confluent's rules and error codes.
//
// Schema references are resolved against the versions they name ("latest"
// is pinned to a number on registration), and a version that another schema
// imports cannot be deleted. Instances elect one writer through a Kafka
// consumer group (leader.go); the others forward writes to it.
//
// Limitations:
//   - Only AVRO schemas are accepted; JSON Schema and Protobuf are refused
//     on registration (and merely carried when read from a topic another
//     registry wrote), as are metadata and rule sets.
//   - Only the default context, ".", exists.
//   - Entering IMPORT mode does not purge the soft-deleted versions in its
//     scope, as Confluent's registry does.
//   - Schema identity is the schema's canonical JSON rendering by
//     github.com/hamba/avro: whitespace and key order do not matter, while
//     defaults, docs and custom properties do, as with Confluent's registry.
//     The rendering, and the normalized form (aliases and references
//     sorted), are deterministic but not byte for byte Java's.
//   - A schema with references is stored as its client sent it, trimmed,
//     since the rendering would inline its imports; and a request that
//     inlines what a stored version imports is not matched to it.
//   - A write that times out (50002) may still reach the topic later.
package registry
