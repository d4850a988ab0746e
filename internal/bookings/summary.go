package bookings

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
)

// nullableFields lists the Booking fields that may be null.
var nullableFields = [...]string{"children", "agent", "company", "country"}

// Summary holds the figures that tell two copies of the bookings apart:
// counts per hotel, status and arrival year, the exact sum of adr and the
// number of nulls per nullable field. A sink that lost or duplicated a
// booking cannot match the Reference figures.
type Summary struct {
	// Rows is the number of bookings.
	Rows int
	// Hotels counts bookings per hotel name.
	Hotels map[string]int
	// Canceled counts bookings with is_canceled = 1.
	Canceled int
	// Statuses counts bookings per reservation_status.
	Statuses map[string]int
	// ArrivalYears counts bookings per arrival_date_year.
	ArrivalYears map[int]int
	// ADR is the sum of adr, exact.
	ADR *big.Rat
	// Nulls counts bookings per nullable field (children, agent, company,
	// country) in which the field is null or absent.
	Nulls map[string]int
}

// NewSummary returns an empty Summary ready for Add.
func NewSummary() *Summary {
	return &Summary{
		Hotels:       map[string]int{},
		Statuses:     map[string]int{},
		ArrivalYears: map[int]int{},
		ADR:          new(big.Rat),
		Nulls:        map[string]int{"children": 0, "agent": 0, "company": 0, "country": 0},
	}
}

// Reference returns the published figures of the bundled dataset (see
// data/README.md).
func Reference() *Summary {
	adr, _ := new(big.Rat).SetString("12157617.60")
	return &Summary{
		Rows:         119390,
		Hotels:       map[string]int{"City Hotel": 79330, "Resort Hotel": 40060},
		Canceled:     44224,
		Statuses:     map[string]int{"Check-Out": 75166, "Canceled": 43017, "No-Show": 1207},
		ArrivalYears: map[int]int{2015: 21996, 2016: 56707, 2017: 40687},
		ADR:          adr,
		Nulls: map[string]int{
			"children": 4, "agent": 16340, "company": 112593, "country": 488,
		},
	}
}

// Summarize returns the Summary of the given Booking values.
func Summarize(values []map[string]any) (*Summary, error) {
	s := NewSummary()
	for i, v := range values {
		if err := s.Add(v); err != nil {
			return nil, fmt.Errorf("summarize booking %d: %w", i, err)
		}
	}
	return s, nil
}

// Add counts one Booking value. It takes the generic form a Reader returns
// or hamba/avro decodes, and is lenient where other formats differ: integers
// of any Go integer type, adr as a *big.Rat, a decimal string or a float64,
// and unions either unwrapped or as hamba/avro's single-entry map such as
// {"int": 3}. A value it cannot read is an error, and s is then unchanged.
func (s *Summary) Add(v map[string]any) error {
	hotel, err := stringField(v, "hotel")
	if err != nil {
		return err
	}
	status, err := stringField(v, "reservation_status")
	if err != nil {
		return err
	}
	canceled, err := intField(v, "is_canceled")
	if err != nil {
		return err
	}
	year, err := intField(v, "arrival_date_year")
	if err != nil {
		return err
	}
	adr, err := ratField(v, "adr")
	if err != nil {
		return err
	}

	s.Rows++
	s.Hotels[hotel]++
	s.Statuses[status]++
	s.ArrivalYears[int(year)]++
	if canceled == 1 {
		s.Canceled++
	}
	s.ADR.Add(s.ADR, adr)
	for _, name := range nullableFields {
		if unwrap(v[name]) == nil {
			s.Nulls[name]++
		}
	}
	return nil
}

// ADRString renders the adr sum with two decimals, as in "12157617.60".
func (s *Summary) ADRString() string {
	return s.ADR.FloatString(2)
}

// Diff lists, one line per figure, where s differs from want; it returns
// nil when every figure matches.
func (s *Summary) Diff(want *Summary) []string {
	var d []string
	if s.Rows != want.Rows {
		d = append(d, fmt.Sprintf("rows: %d, want %d", s.Rows, want.Rows))
	}
	if s.Canceled != want.Canceled {
		d = append(d, fmt.Sprintf("canceled: %d, want %d", s.Canceled, want.Canceled))
	}
	if s.ADR.Cmp(want.ADR) != 0 {
		d = append(d, fmt.Sprintf("adr sum: %s, want %s", s.ADRString(), want.ADRString()))
	}
	d = diffCounts(d, "hotel", s.Hotels, want.Hotels)
	d = diffCounts(d, "reservation_status", s.Statuses, want.Statuses)
	d = diffCounts(d, "arrival_date_year", s.ArrivalYears, want.ArrivalYears)
	d = diffCounts(d, "nulls in", s.Nulls, want.Nulls)
	return d
}

func diffCounts[K comparable](d []string, what string, got, want map[K]int) []string {
	for k, w := range want {
		if got[k] != w {
			d = append(d, fmt.Sprintf("%s %v: %d, want %d", what, k, got[k], w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && g != 0 {
			d = append(d, fmt.Sprintf("%s %v: %d, want none", what, k, g))
		}
	}
	return d
}

// unwrap returns the branch value of a union that hamba/avro decoded into a
// single-entry map keyed by the branch type.
func unwrap(x any) any {
	if m, ok := x.(map[string]any); ok && len(m) == 1 {
		for _, b := range m {
			return b
		}
	}
	return x
}

func stringField(v map[string]any, name string) (string, error) {
	switch x := unwrap(v[name]).(type) {
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	default:
		return "", fmt.Errorf("field %s: %T is not a string", name, x)
	}
}

func intField(v map[string]any, name string) (int64, error) {
	switch x := unwrap(v[name]).(type) {
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case float64:
		// JSON decoders yield float64; accept it only when it is whole.
		if x != float64(int64(x)) {
			return 0, fmt.Errorf("field %s: %v is not an integer", name, x)
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("field %s: %w", name, err)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("field %s: %T is not an integer", name, x)
	}
}

func ratField(v map[string]any, name string) (*big.Rat, error) {
	switch x := unwrap(v[name]).(type) {
	case *big.Rat:
		return x, nil
	case string:
		r, ok := new(big.Rat).SetString(x)
		if !ok {
			return nil, fmt.Errorf("field %s: %q is not a decimal", name, x)
		}
		return r, nil
	case float64:
		// Round to the schema's two decimals: a float cannot hold 0.01 exactly.
		return big.NewRat(int64(math.Round(x*100)), 100), nil
	default:
		return nil, fmt.Errorf("field %s: %T is not a decimal", name, x)
	}
}
