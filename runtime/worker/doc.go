// Package worker hosts connectors and runs their tasks: it is the sink task
// loop of the data path.
//
// Each sink task is one Kafka consumer in the group connect-<connector>, as
// in Kafka Connect, so tasks.max tasks share the topic's partitions through
// Kafka's group protocol, within one worker or across several. A task's loop:
//
//  1. poll a batch of records (rebalances wait until the batch is handled);
//  2. decode each value through the connector's converter (Confluent wire
//     format, schema from the registry, ids cached); a registry outage is
//     retried with backoff, never treated as a bad record; then run the
//     connector's transform chain (connectors/transform), which may drop it;
//  3. hand the batch to the connector's SinkTask.Put, retrying with backoff
//     when it reports a retriable error;
//  4. every offset.flush.interval.ms, ask SinkTask.PreCommit which offsets
//     are durable and commit exactly those to Kafka, with the consumer's
//     group generation so that a task that lost its partitions cannot
//     commit for them.
//
// When partitions are assigned, the task's Open sees the committed offsets
// and may move the start position forward to what its sink knows is durable.
// When they are revoked, durable offsets are committed and the task drops
// what it buffered; when they are lost, it only drops.
//
// Shutdown order for a task: stop polling, run PreCommit and commit, close the
// partitions, stop the SinkTask, then close the consumer, which leaves the
// group. Each step is bounded by task.shutdown.graceful.timeout.ms; past it
// the consumer is closed anyway and the next owner resumes from the last
// commit.
package worker
