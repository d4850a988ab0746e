package registry

import (
	"context"
	"errors"
	"testing"

	"github.com/tributary-io/tributary/schemas"
)

func TestMemory(t *testing.T) {
	m := NewMemory()
	steps := []struct {
		subject, text string
		wantID        int
	}{
		{"a", orderV1, 1},
		{"a", orderV1Spaced, 1},
		{"b", orderV1, 1},
		{"a", orderV2, 2},
		{"c", clickV1, 3},
	}
	for _, st := range steps {
		s, err := m.Register(st.subject, st.text)
		if err != nil || s.ID != st.wantID {
			t.Fatalf("Register(%s) = %+v, %v; want id %d", st.subject, s, err, st.wantID)
		}
	}
	if v := live(m.v.history("a")); len(v) != 2 {
		t.Errorf("subject a has versions %v, want [1 2]", v)
	}
	s, err := m.SchemaByID(context.Background(), 2)
	if err != nil || s.ID != 2 || s.Text != canonical(t, orderV2) {
		t.Errorf("SchemaByID(2) = %+v, %v", s, err)
	}
	if _, err := m.SchemaByID(context.Background(), 9); !errors.Is(err, schemas.ErrUnknownSchema) {
		t.Errorf("SchemaByID(9) err = %v, want ErrUnknownSchema", err)
	}
	if _, err := m.Register("x", `{"type":"record"}`); err == nil {
		t.Error("Register of an invalid schema succeeded")
	}
}

func TestMemoryWithConverter(t *testing.T) {
	m := NewMemory()
	s, err := m.Register("clicks-value", clickV1)
	if err != nil {
		t.Fatal(err)
	}
	c := schemas.NewConverter(m)
	wire, err := c.Encode(s, map[string]any{"url": "https://example.com"})
	if err != nil {
		t.Fatal(err)
	}
	got, v, err := c.Decode(context.Background(), wire)
	if err != nil || got.ID != s.ID || v.(map[string]any)["url"] != "https://example.com" {
		t.Fatalf("Decode = %v, %v, %v", got, v, err)
	}
}
