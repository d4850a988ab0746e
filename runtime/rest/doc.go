// Package rest is Tributary's Kafka Connect-compatible REST API: the same
// paths, verbs, query parameters, JSON shapes, status codes and error body
// ({"error_code": ..., "message": ...}) as Kafka Connect's, so that the
// tools people already use with Kafka Connect (curl recipes, kcctl, UIs,
// Terraform providers, client libraries) drive a Tributary worker unchanged.
// openapi.yaml in this directory describes every route; a test holds the
// server to it.
//
// On the data path the API only observes and steers: each request becomes
// a call on the Herder (the worker), which writes the change to its config
// store and then applies it to the tasks.
//
// # Security
//
// The worker listens on 127.0.0.1 unless configured otherwise. With TLS
// configured it serves HTTPS only, optionally requiring client
// certificates; with basic or bearer credentials configured every route
// requires them, compared in constant time. Request bodies are limited to
// MaxBodyBytes, and the server sets read-header, read, write and idle
// timeouts.
//
// Password-typed config values (keys such as aws.secret.access.key,
// *.password, sasl.jaas.config) read "[hidden]" in every response, and so
// does the password of a URL in any value (http://user:[hidden]@host); a
// PUT that sends such a value back keeps the stored one. Config provider
// references (${env:NAME}, ${file:/path:key}) are stored and returned as
// written; the worker resolves them only when it starts tasks, and any
// resolved secret the worker has seen is redacted from messages.
//
// # Differences from Kafka Connect
//
//   - A connector declared in a pipelines file is owned by that file: PUT
//     and PATCH of its config and DELETE answer 409 with a message naming
//     the file. Pause, resume, stop, restart and offsets work as usual.
//   - GET /connectors/{c}/topics lists the topics the connector's consumer
//     group has committed offsets for, and topic tracking cannot be reset
//     (403, as Kafka Connect answers with topic.tracking.allow.reset=false).
//   - The S3 sink is listed as io.confluent.connect.s3.S3SinkConnector; the
//     local-directory sink, which is not Kafka Connect's
//     FileStreamSinkConnector, as file. Both names and the aliases work
//     wherever a plugin is named.
//   - GET /connector-plugins/{plugin}/config describes transformations,
//     predicates and converters by the keys Tributary reads, which for
//     the AvroConverter include its registry credentials but not the
//     serializer settings it has no use for.
//   - Every connector is a sink: offsets are the consumer group's committed
//     offsets, in Kafka Connect's sink form.
package rest
