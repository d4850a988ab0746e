package bookings

import (
	"bytes"
	"compress/gzip"
	_ "embed" // for the go:embed directive below
	"fmt"
	"io"
	"strconv"

	"github.com/google/uuid"
)

// Dataset is the name of the bundled dataset. It is part of every action id,
// so changing it changes every id.
const Dataset = "hotel_bookings.csv"

//go:embed data/hotel_bookings.csv.gz
var compressed []byte

// namespace is the UUID namespace of booking action ids: the version 5 UUID
// of the URL "https://tributary.io/actions/booking".
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://tributary.io/actions/booking"))

// columns are the CSV columns in file order, which is also the order of the
// first fields of the Booking schema.
var columns = [...]string{
	"hotel", "is_canceled", "lead_time", "arrival_date_year", "arrival_date_month",
	"arrival_date_week_number", "arrival_date_day_of_month", "stays_in_weekend_nights",
	"stays_in_week_nights", "adults", "children", "babies", "meal", "country",
	"market_segment", "distribution_channel", "is_repeated_guest", "previous_cancellations",
	"previous_bookings_not_canceled", "reserved_room_type", "assigned_room_type",
	"booking_changes", "deposit_type", "agent", "company", "days_in_waiting_list",
	"customer_type", "adr", "required_car_parking_spaces", "total_of_special_requests",
	"reservation_status", "reservation_status_date",
}

// Columns returns the names of the 32 CSV columns in the order the header
// must list them.
func Columns() []string {
	out := make([]string, len(columns))
	copy(out, columns[:])
	return out
}

// Open returns the embedded dataset as CSV text, decompressed on the fly.
// The caller closes it.
func Open() (io.ReadCloser, error) {
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, fmt.Errorf("open embedded %s: %w", Dataset, err)
	}
	return zr, nil
}

// ActionID returns the action id of the row at line (the header is line 1)
// in the given copy of the dataset: the version 5 UUID of
// "hotel_bookings.csv/<repetition>/<line>" in the namespace that is itself
// the version 5 UUID of the URL "https://tributary.io/actions/booking". Copy 0 is the dataset as
// published; load tests that replicate the data number further copies 1, 2,
// and so on, so that every copy has its own ids.
func ActionID(repetition, line int) string {
	return uuid.NewSHA1(namespace, actionName(nil, repetition, line)).String()
}

func actionName(dst []byte, repetition, line int) []byte {
	dst = append(dst, Dataset...)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, int64(repetition), 10)
	dst = append(dst, '/')
	return strconv.AppendInt(dst, int64(line), 10)
}
