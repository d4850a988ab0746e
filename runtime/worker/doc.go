// Package worker hosts connectors and runs their tasks: it is the sink task
// loop of the data path.
//
// Each sink task is one Kafka consumer in the group connect-<connector>, as
// in Kafka Connect, so tasks.max tasks share the topic's partitions through
// Kafka's group protocol, within one worker or across several. A task's loop:
//
//  1. poll a batch of records (rebalances wait until the batch is handled);
//  2. convert each record as Kafka Connect does: the key through
//     key.converter (when set; without it the key stays bytes), the header
//     values through header.converter (SimpleHeaderConverter), the value
//     through value.converter (Confluent wire format, schema from the
//     registry, ids cached); a registry outage is retried with backoff,
//     never treated as a bad record; then run the connector's transform
//     chain (connectors/transform), which may drop it;
//  3. hand the batch to the connector's SinkTask.Put, retrying with backoff
//     when it reports a retriable error;
//  4. every offset.flush.interval.ms, ask SinkTask.PreCommit which offsets
//     are durable and commit exactly those to Kafka, with the consumer's
//     group generation so that a task that lost its partitions cannot
//     commit for them.
//
// Record failures are classified in errors.go. Transient ones (registry or
// broker unavailable, timeouts) are retried within errors.retry.timeout,
// or until they clear when it is unset; a
// retry that outlasts a third of the session timeout hands the batch back
// to the consumer and polls again, so the task keeps its membership.
// Permanent ones (bad magic byte, unknown schema id, malformed Avro, a key
// or header its converter rejects, a failing transform) fail the task under
// errors.tolerance=none; under all the record is skipped and, when
// errors.deadletterqueue.topic.name is set,
// produced raw to the dead letter queue with Kafka Connect's
// __connect.errors.* headers (dlq.go). A partition's committed offset never
// passes a dead letter that is not acknowledged, and one that cannot be
// delivered fails the task.
//
// When partitions are assigned, the task's Open sees the committed offsets
// and may move the start position forward to what its sink knows is durable.
// When they are revoked, durable offsets are committed and the task drops
// what it buffered; when they are lost, it only drops.
//
// Shutdown order for a task: stop polling, flush the dead letter queue, run
// PreCommit and commit, close the partitions, stop the SinkTask, close the
// consumer, which leaves the group, then the dead letter producer. Each step is bounded by task.shutdown.graceful.timeout.ms; past it
// the consumer is closed anyway and the next owner resumes from the last
// commit.
package worker
