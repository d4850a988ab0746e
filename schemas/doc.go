// Package schemas holds the Avro side of the data path: parsed schemas with
// their registry ids, the Confluent wire format (magic byte 0, a 4-byte
// big-endian schema id, the Avro body), and the converter that turns Kafka
// record values into generic Avro values for the connectors.
//
// Subpackages: registry (the Schema Registry client cache and the compatible
// server) and actions (the .avsc files of the actions Tributary ships).
package schemas
