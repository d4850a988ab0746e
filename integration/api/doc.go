// Package api holds the end-to-end tests of Tributary's Kafka
// Connect-compatible REST API against real Kafka and MinIO: an independent
// Kafka Connect client from PyPI (kafka-connect-py) drives a worker process;
// a connector created through the API on a standalone worker survives the
// worker's restart with its target state and offsets; and a secret given
// as ${env:...} never shows in a response, a log line or an error.
//
// The tests run with the integration build tag, against the services that
// integration/services.sh starts.
package api
