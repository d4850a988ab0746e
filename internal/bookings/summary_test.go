package bookings

import (
	"math/big"
	"slices"
	"testing"
)

// TestSummaryForms feeds the same booking in the forms different decoders
// produce and expects the same figures from each.
func TestSummaryForms(t *testing.T) {
	forms := []struct {
		name string
		v    map[string]any
	}{
		{"reader", map[string]any{
			"hotel": "City Hotel", "reservation_status": "Canceled", "is_canceled": 1,
			"arrival_date_year": 2016, "adr": big.NewRat(-638, 100),
			"children": nil, "agent": 9, "company": nil, "country": "PRT",
		}},
		{"hamba unions", map[string]any{
			"hotel": "City Hotel", "reservation_status": "Canceled", "is_canceled": int32(1),
			"arrival_date_year": int32(2016), "adr": big.NewRat(-638, 100),
			"children": nil, "agent": map[string]any{"int": 9}, "company": nil,
			"country": map[string]any{"string": "PRT"},
		}},
		{"json", map[string]any{
			"hotel": "City Hotel", "reservation_status": "Canceled", "is_canceled": float64(1),
			"arrival_date_year": float64(2016), "adr": -6.38,
			"agent": float64(9), "country": "PRT", // absent nullable fields count as null
		}},
		{"strings", map[string]any{
			"hotel": []byte("City Hotel"), "reservation_status": "Canceled", "is_canceled": "1",
			"arrival_date_year": int64(2016), "adr": "-6.38",
			"children": nil, "agent": 9, "company": nil, "country": "PRT",
		}},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			s := NewSummary()
			for range 2 {
				if err := s.Add(f.v); err != nil {
					t.Fatal(err)
				}
			}
			want := &Summary{
				Rows: 2, Canceled: 2, ADR: big.NewRat(-1276, 100),
				Hotels:       map[string]int{"City Hotel": 2},
				Statuses:     map[string]int{"Canceled": 2},
				ArrivalYears: map[int]int{2016: 2},
				Nulls:        map[string]int{"children": 2, "agent": 0, "company": 2, "country": 0},
			}
			if d := s.Diff(want); d != nil {
				t.Errorf("differences: %q", d)
			}
			if s.ADRString() != "-12.76" {
				t.Errorf("adr sum %s, want -12.76", s.ADRString())
			}
		})
	}
}

func TestSummaryDiff(t *testing.T) {
	got := Reference()
	got.Rows--
	got.Hotels["Resort Hotel"]--
	got.Hotels["Motel"] = 1
	got.ADR.Add(got.ADR, big.NewRat(1, 100))
	d := got.Diff(Reference())
	slices.Sort(d)
	want := []string{
		"adr sum: 12157617.61, want 12157617.60",
		"hotel Motel: 1, want none",
		"hotel Resort Hotel: 40059, want 40060",
		"rows: 119389, want 119390",
	}
	if !slices.Equal(d, want) {
		t.Errorf("diff %q, want %q", d, want)
	}
}

func TestSummaryAddRejects(t *testing.T) {
	s := NewSummary()
	err := s.Add(map[string]any{"hotel": 3})
	if err == nil || err.Error() != "field hotel: int is not a string" {
		t.Errorf("error %v, want field hotel: int is not a string", err)
	}
	if s.Rows != 0 {
		t.Errorf("rows %d after a rejected value, want 0", s.Rows)
	}
}
