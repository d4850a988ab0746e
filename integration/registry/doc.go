// Package registry holds the integration tests of the Schema Registry on the
// data path: a worker whose converter resolves schema ids through Tributary's
// registry client, against real Kafka, while the registry fails and
// recovers. The tests carry the build tag integration.
package registry
