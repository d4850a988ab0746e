package actions

import _ "embed" // for the go:embed directives below

// Booking is the text of the Avro schema io.tributary.actions.Booking, a hotel
// booking with one field per column of the bundled bookings CSV.
//
//go:embed booking.avsc
var Booking string

// Click is the text of the Avro schema io.tributary.actions.Click, a click on
// a page element.
//
//go:embed click.avsc
var Click string
