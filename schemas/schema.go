package schemas

import "github.com/hamba/avro/v2"

// Schema is an Avro schema as registered in a Schema Registry.
type Schema struct {
	// ID is the registry's global id for the schema; 0 when unregistered.
	ID int
	// Avro is the parsed schema.
	Avro avro.Schema
	// Text is the schema as registered.
	Text string
}
