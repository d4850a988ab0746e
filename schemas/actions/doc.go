// Package actions holds the Avro schemas of the actions Tributary ships: the
// records its loaders and generators produce to Kafka and its sinks write out.
//
// The schemas live in .avsc files next to this package and are embedded at
// build time, so the text registered in a Schema Registry is exactly the text
// in the repository. Each schema documents its fields with "doc" attributes.
//
//   - Booking (booking.avsc): one hotel booking from the Hotel Booking Demand
//     dataset, loaded by internal/loader. Its 32 CSV columns keep their names;
//     arrival_date, event_time and action_id are derived from them.
//   - Click (click.avsc): one click on a page element.
package actions
