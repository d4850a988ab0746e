// Package config is the configuration model of Tributary: the worker's
// settings and the connector config files the worker runs.
//
// It sits at the very start of the data path. cmd/tributary binds its flags to
// a viper instance and calls LoadWorker, which layers the YAML worker file,
// TRIBUTARY_* environment variables and flags over DefaultWorker. The worker
// then loads connector files with LoadConnector or LoadConnectorDir, checks
// the keys every sink shares with Connector.Common, hands the rest to the
// connector's own Validate, and resolves ${env:NAME} references with Resolve
// just before a task starts, so that secrets never sit in a parsed config.
//
// # Connector files
//
// A connector file holds one connector in Kafka Connect's shape, as YAML
// (.yaml, .yml), JSON (.json) or, as Kafka Connect standalone reads it, a
// Java .properties file whose keys are the name and the config keys:
//
//	name: bookings-s3
//	config:
//	  connector.class: s3
//	  tasks.max: 2
//	  topics: bookings
//
// Reading is strict, so that a typo fails at start-up rather than at 3am:
// unknown top-level keys, duplicate keys, anchors and aliases, several
// documents in one file and files over 1 MiB are errors. Config values may be
// written as any YAML scalar; they become the strings a user would have
// written in Kafka Connect's JSON: numbers in plain decimal (1e4 becomes
// 10000), booleans as true or false, and a list as its comma-joined items.
// Integers with a leading zero are rejected, because YAML 1.1 reads them as
// octal. Nested mappings are flattened with dots, so
//
//	transforms:
//	  mask:
//	    type: MaskField
//
// is the key transforms.mask.type. Writing one key both ways is a duplicate.
//
// # Errors
//
// Loading reports every problem of a file at once in a
// *connectors.ConfigError. Each FieldError's Key carries the position in the
// compiler's style, so editors can jump to it:
//
//	configs/connectors/bookings-s3.yaml:7: config.flush.size: duplicate key
//
// Connectors that did not come from a file (created through the REST API)
// get plain keys such as tasks.max.
package config
