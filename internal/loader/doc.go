// Package loader produces the bundled hotel bookings to Kafka as
// io.tributary.actions.Booking actions, the first step of the data path: the
// records it writes are what the sink connectors read back and store.
//
// Load registers the Booking schema under the topic's value subject, frames
// each row in the Confluent wire format and produces it with franz-go's
// idempotent producer, keyed by the action's id and stamped with the booking's
// event time. It returns only once every record is acknowledged by the
// brokers or has failed, and it counts both, so that a load either reports
// exactly what reached Kafka or reports an error.
//
// # Limitations
//
//   - Records are keyed by action_id, unique per booking and the same at
//     every load, so they spread evenly over the topic's partitions and a
//     reload lands each booking where the first load did. No two records
//     share a key: nothing is ordered across bookings.
//   - Record timestamps lie in 2014-2017. A topic created by Load keeps its
//     records forever (retention.ms=-1); on a topic that exists already with
//     time-based retention, the brokers may delete the records soon after
//     they arrive, and Load logs a warning.
package loader
