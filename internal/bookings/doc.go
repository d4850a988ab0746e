// Package bookings turns the bundled Hotel Booking Demand dataset into
// io.tributary.actions.Booking actions.
//
// It sits at the very start of the data path: internal/loader reads rows from
// here, encodes them with the Booking schema (schemas/actions) and produces
// them to Kafka, where the sinks pick them up. The same package recomputes the
// dataset's published figures (Reference, Summarize), so a test at the far end
// of the path can prove that nothing was lost or duplicated on the way.
//
// The dataset is embedded gzip-compressed (Open). Reader checks the header
// and parses each row either into a Booking struct (ReadBooking, the fast
// path the loader takes) or into the generic form of github.com/hamba/avro/v2
// (Next); both encode to the same bytes with the Booking schema. A bad row
// is a *RowError that names its line and column, after which the Reader goes
// on with the next row.
//
// data/README.md credits the dataset's authors and states its licence
// (CC BY 4.0); keep it next to any copy of the file.
package bookings
