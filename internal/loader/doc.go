// Package loader produces the bundled hotel bookings to Kafka as
// io.tributary.actions.Booking actions, the first step of the data path: the
// records it writes are what the sink connectors read back and store.
//
// Load registers the Booking schema under the topic's value subject, frames
// each row in the Confluent wire format and produces it with franz-go's
// idempotent producer, keyed by hotel (or by the action's id, see Key) and
// stamped with the booking's event time. It returns only once every record is acknowledged by the
// brokers or has failed, and it counts both, so that a load either reports
// exactly what reached Kafka or reports an error.
//
// # Limitations
//
//   - Keyed by hotel, the records use at most two partitions, and on a
//     topic of two or four partitions only one, since both hotels hash to
//     partition 1. KeyActionID spreads them over every partition at the
//     cost of any order across bookings; the demo and the benchmark use it.
//   - Record timestamps lie in 2014-2017. A topic created by Load keeps its
//     records forever (retention.ms=-1); on a topic that exists already with
//     time-based retention, the brokers may delete the records soon after
//     they arrive, and Load logs a warning.
package loader
