// Package schemas holds the schema side of the data path: parsed schemas
// with their registry ids, the Confluent wire format (magic byte 0, a 4-byte
// big-endian schema id, the Avro body), and the converters that turn Kafka
// record keys and values into schemas and generic Avro values for the
// connectors.
//
// The converters are Kafka Connect's, by class name: Converter is the
// AvroConverter (io.confluent.connect.avro.AvroConverter), JSONConverter
// the JsonConverter with and without its {"schema","payload"} envelope,
// StringConverter and ByteArrayConverter. ParseHeader reads header values
// as SimpleHeaderConverter does, and NewSubjectStrategy names the registry
// subjects of Confluent's subject name strategies.
//
// Every decoder caps what one input can make it allocate (string and bytes
// lengths, array and map entries, nesting) and is fuzzed against those caps.
//
// Subpackages: registry (the Schema Registry client cache and the compatible
// server) and actions (the .avsc files of the actions Tributary ships).
package schemas
