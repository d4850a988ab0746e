package bookings

import (
	"crypto/sha1"
	"encoding/csv"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Row is one booking read from the CSV.
type Row struct {
	// Line is the row's line in the file; the header is line 1, so the first
	// booking is line 2.
	Line int
	// Value is the Booking action in the generic form of
	// github.com/hamba/avro/v2, ready to be encoded with the Booking schema:
	// string and int fields as string and int, adr as a *big.Rat,
	// arrival_date and reservation_status_date as time.Time at midnight UTC,
	// event_time as a time.Time, action_id as a string and missing values
	// as nil.
	Value map[string]any
}

// Reader reads bookings from CSV text with the dataset's header. It is not
// safe for concurrent use.
type Reader struct {
	// Repetition is the copy number that goes into action ids (see
	// ActionID); 0, the default, for the dataset as published.
	Repetition int

	csv  *csv.Reader
	sha  hash.Hash
	name []byte
}

// Null markers of the dataset: NA in children, NULL in the other nullable
// columns.
const (
	nullNA   = "NA"
	nullNULL = "NULL"
)

// NewReader returns a Reader of the CSV text in r after checking its header:
// it must list exactly the dataset's 32 columns (see Columns), in order. A
// UTF-8 byte order mark before the header is ignored.
func NewReader(r io.Reader) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("read bookings header: empty input")
	}
	if err != nil {
		return nil, fmt.Errorf("read bookings header: %w", err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if err := checkHeader(header); err != nil {
		return nil, err
	}
	cr.FieldsPerRecord = len(columns)
	return &Reader{csv: cr, sha: sha1.New()}, nil
}

func checkHeader(header []string) error {
	for i, want := range columns {
		if i >= len(header) {
			return fmt.Errorf("bookings header: column %d missing, want %q", i+1, want)
		}
		if header[i] != want {
			return fmt.Errorf("bookings header: column %d is %q, want %q", i+1, header[i], want)
		}
	}
	if len(header) > len(columns) {
		return fmt.Errorf("bookings header: column %d is %q, want no more than %d columns",
			len(columns)+1, header[len(columns)], len(columns))
	}
	return nil
}

// Next returns the next booking in generic form. At the end of the input it
// returns io.EOF. A row that cannot become a Booking yields a *RowError, and
// the following call goes on with the next row; any other error comes from
// the underlying reader and ends the input.
func (r *Reader) Next() (Row, error) {
	var b Booking
	line, err := r.ReadBooking(&b)
	if err != nil {
		return Row{}, err
	}
	return Row{Line: line, Value: b.Map()}, nil
}

// ReadBooking reads the next booking into b and returns its line. It reports
// the end of the input and bad rows as Next does; after an error b holds
// partial data. To save allocations it reuses the values that b's pointer
// fields point to, so a caller that keeps a Booking passes a new one to the
// next call.
func (r *Reader) ReadBooking(b *Booking) (line int, err error) {
	rec, err := r.csv.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				err = fmt.Errorf("%d fields, want %d: %w", len(rec), len(columns), pe.Err)
			} else {
				err = pe.Err
			}
			return pe.StartLine, &RowError{Line: pe.StartLine, Err: err}
		}
		return 0, err
	}
	line, _ = r.csv.FieldPos(0)
	if err := r.fill(b, rec, line); err != nil {
		return line, err
	}
	return line, nil
}

// fill sets every field of b from the record at line.
func (r *Reader) fill(b *Booking, rec []string, line int) error {
	p := fieldParser{rec: rec, line: line}
	b.Hotel = rec[0]
	b.IsCanceled = p.int(1)
	b.LeadTime = p.int(2)
	b.ArrivalDateYear = p.int(3)
	b.ArrivalDateMonth = rec[4]
	month := p.month(4)
	b.ArrivalDateWeekNumber = p.int(5)
	b.ArrivalDateDayOfMonth = p.int(6)
	b.StaysInWeekendNights = p.int(7)
	b.StaysInWeekNights = p.int(8)
	b.Adults = p.int(9)
	b.Children = p.nullInt(10, nullNA, b.Children)
	b.Babies = p.int(11)
	b.Meal = rec[12]
	b.Country = nullString(rec[13], b.Country)
	b.MarketSegment = rec[14]
	b.DistributionChannel = rec[15]
	b.IsRepeatedGuest = p.int(16)
	b.PreviousCancellations = p.int(17)
	b.PreviousBookingsNotCanceled = p.int(18)
	b.ReservedRoomType = rec[19]
	b.AssignedRoomType = rec[20]
	b.BookingChanges = p.int(21)
	b.DepositType = rec[22]
	b.Agent = p.nullInt(23, nullNULL, b.Agent)
	b.Company = p.nullInt(24, nullNULL, b.Company)
	b.DaysInWaitingList = p.int(25)
	b.CustomerType = rec[26]
	b.ADR = p.decimal(27, b.ADR)
	b.RequiredCarParkingSpaces = p.int(28)
	b.TotalOfSpecialRequests = p.int(29)
	b.ReservationStatus = rec[30]
	b.ReservationStatusDate = p.date(31)
	if p.err != nil {
		return p.err
	}

	day := b.ArrivalDateDayOfMonth
	b.ArrivalDate = time.Date(b.ArrivalDateYear, month, day, 0, 0, 0, 0, time.UTC)
	if b.ArrivalDate.Day() != day {
		return p.fail(6, ErrNoSuchDay)
	}
	// UTC has no daylight saving, so a day is always 24 hours here.
	b.EventTime = b.ArrivalDate.Add(-time.Duration(b.LeadTime) * 24 * time.Hour)

	r.name = actionName(r.name[:0], r.Repetition, line)
	b.ActionID = uuid.NewHash(r.sha, namespace, r.name, 5).String()
	return nil
}

// fieldParser parses the fields of one record. It keeps the first error and
// does nothing after it, so that fill reads as a list of assignments.
type fieldParser struct {
	rec  []string
	line int
	err  error
}

func (p *fieldParser) fail(col int, err error) error {
	if p.err == nil {
		p.err = &RowError{Line: p.line, Column: columns[col], Value: p.rec[col], Err: err}
	}
	return p.err
}

func (p *fieldParser) int(col int) int {
	if p.err != nil {
		return 0
	}
	n, err := parseInt(p.rec[col])
	if err != nil {
		p.fail(col, err)
	}
	return n
}

// nullInt parses a nullable int into the storage dst points to, allocating
// it if dst is nil, and returns nil where the field holds the null marker.
func (p *fieldParser) nullInt(col int, null string, dst *int) *int {
	if p.err != nil || p.rec[col] == null {
		return nil
	}
	n := p.int(col)
	if dst == nil {
		dst = new(int)
	}
	*dst = n
	return dst
}

func nullString(s string, dst *string) *string {
	if s == nullNULL {
		return nil
	}
	if dst == nil {
		dst = new(string)
	}
	*dst = s
	return dst
}

func (p *fieldParser) month(col int) time.Month {
	if p.err != nil {
		return 0
	}
	m := parseMonth(p.rec[col])
	if m == 0 {
		p.fail(col, ErrNotMonth)
	}
	return m
}

// decimal parses adr into dst, allocating it if dst is nil.
func (p *fieldParser) decimal(col int, dst *big.Rat) *big.Rat {
	if p.err != nil {
		return dst
	}
	cents, err := parseCents(p.rec[col])
	if err != nil {
		p.fail(col, err)
		return dst
	}
	if dst == nil {
		dst = new(big.Rat)
	}
	return dst.SetFrac64(cents, 100)
}

func (p *fieldParser) date(col int) time.Time {
	if p.err != nil {
		return time.Time{}
	}
	t, err := parseDMY(p.rec[col])
	if err != nil {
		p.fail(col, err)
	}
	return t
}

// parseInt parses a decimal integer that fits an Avro int.
func parseInt(s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, ErrOutOfRange
		}
		return 0, ErrNotInt
	}
	return int(n), nil
}

// maxCents bounds adr to the 10 digits of its decimal(10,2) type.
const maxCents = 1e10 - 1

// parseCents parses a decimal with at most two decimals, such as "-6.38",
// "151.2" or "75", into hundredths.
func parseCents(s string) (int64, error) {
	neg := false
	digits := s
	if len(digits) > 0 && (digits[0] == '-' || digits[0] == '+') {
		neg = digits[0] == '-'
		digits = digits[1:]
	}
	intPart, frac, hasDot := strings.Cut(digits, ".")
	if intPart == "" || len(frac) > 2 || (hasDot && frac == "") {
		return 0, ErrNotDecimal
	}
	var cents int64
	for _, part := range [...]string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return 0, ErrNotDecimal
			}
			cents = cents*10 + int64(c-'0')
			if cents > maxCents {
				return 0, ErrOutOfRange
			}
		}
	}
	for range 2 - len(frac) {
		cents *= 10
	}
	if cents > maxCents {
		return 0, ErrOutOfRange
	}
	if neg {
		cents = -cents
	}
	return cents, nil
}

// parseMonth returns the month named in English, or 0.
func parseMonth(s string) time.Month {
	switch s {
	case "January":
		return time.January
	case "February":
		return time.February
	case "March":
		return time.March
	case "April":
		return time.April
	case "May":
		return time.May
	case "June":
		return time.June
	case "July":
		return time.July
	case "August":
		return time.August
	case "September":
		return time.September
	case "October":
		return time.October
	case "November":
		return time.November
	case "December":
		return time.December
	}
	return 0
}

// parseDMY parses a date written dd-mm-yyyy, as in 01-07-2015 for 1 July
// 2015, into midnight UTC of that day.
func parseDMY(s string) (time.Time, error) {
	if len(s) != 10 || s[2] != '-' || s[5] != '-' {
		return time.Time{}, ErrNotDate
	}
	d, okD := digits(s[0:2])
	m, okM := digits(s[3:5])
	y, okY := digits(s[6:10])
	if !okD || !okM || !okY || m < 1 || m > 12 {
		return time.Time{}, ErrNotDate
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, ErrNoSuchDay
	}
	return t, nil
}

// digits parses a run of ASCII digits; ok is false if s has anything else.
func digits(s string) (n int, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
