package bookings

import (
	"errors"
	"strconv"
)

// Errors a RowError wraps, saying what is wrong with the value of a column.
// Their messages read after the quoted value: `"abc" is not a decimal`.
var (
	ErrNotInt     = errors.New("is not an integer")
	ErrOutOfRange = errors.New("is out of range")
	ErrNotDecimal = errors.New("is not a decimal with at most 2 decimals")
	ErrNotMonth   = errors.New("is not an English month name")
	ErrNotDate    = errors.New("is not a day-month-year date")
	ErrNoSuchDay  = errors.New("is not a day of that month")
)

// RowError reports a row that cannot become a Booking. The Reader that
// returned it goes on with the next row on the following call to Next.
type RowError struct {
	// Line is the row's line in the CSV file; the header is line 1.
	Line int
	// Column is the offending column; empty when the row as a whole is
	// wrong, such as a row with the wrong number of fields.
	Column string
	// Value is the offending value as written in the file.
	Value string
	// Err says what is wrong: one of the errors above, or an error from
	// encoding/csv for a row that is not valid CSV.
	Err error
}

// Error renders the error as `line 1234: column adr: "abc" is not a decimal
// with at most 2 decimals`.
func (e *RowError) Error() string {
	b := make([]byte, 0, 64+len(e.Value))
	b = append(b, "line "...)
	b = strconv.AppendInt(b, int64(e.Line), 10)
	b = append(b, ": "...)
	if e.Column != "" {
		b = append(b, "column "...)
		b = append(b, e.Column...)
		b = append(b, ": "...)
		b = strconv.AppendQuote(b, e.Value)
		b = append(b, ' ')
	}
	b = append(b, e.Err.Error()...)
	return string(b)
}

// Unwrap returns Err, so that errors.Is(err, ErrNotDecimal) works.
func (e *RowError) Unwrap() error { return e.Err }
