package schemas

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestAppendWire(t *testing.T) {
	tests := []struct {
		id   int
		body []byte
		want []byte
	}{
		{1, []byte{0x02}, []byte{0, 0, 0, 0, 1, 0x02}},
		{258, nil, []byte{0, 0, 0, 1, 2}},
		{0x7fffffff, []byte("ab"), []byte{0, 0x7f, 0xff, 0xff, 0xff, 'a', 'b'}},
	}
	for _, tt := range tests {
		got := AppendWire(nil, tt.id, tt.body)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("AppendWire(%d, %x) = %x, want %x", tt.id, tt.body, got, tt.want)
		}
		id, body, err := ParseWire(got)
		if err != nil || id != tt.id || !bytes.Equal(body, tt.body) {
			t.Errorf("ParseWire(%x) = %d, %x, %v; want %d, %x", got, id, body, err, tt.id, tt.body)
		}
	}
}

func TestAppendWireKeepsPrefix(t *testing.T) {
	got := AppendWire([]byte("xy"), 7, []byte{9})
	if want := []byte{'x', 'y', 0, 0, 0, 0, 7, 9}; !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
}

func TestParseWireErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    error
		wantMsg string
	}{
		{"empty", []byte{}, ErrTruncated, "0 bytes"},
		{"four bytes", []byte{0, 0, 0, 1}, ErrTruncated, "4 bytes"},
		{"magic 1", []byte{1, 0, 0, 0, 1}, ErrBadMagic, "0x01"},
		{"json value", []byte(`{"a":1}`), ErrBadMagic, "0x7b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseWire(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantMsg)
			}
			if IsTransient(err) {
				t.Errorf("IsTransient(%v) = true, want false", err)
			}
		})
	}
}

func TestParseWireNegativeID(t *testing.T) {
	id, _, err := ParseWire([]byte{0, 0xff, 0xff, 0xff, 0xfe})
	if err != nil || id != -2 {
		t.Fatalf("ParseWire = %d, %v; want -2, nil", id, err)
	}
}

func TestIsTransient(t *testing.T) {
	err := errors.Join(errors.New("dial tcp: refused"), ErrRegistryUnavailable)
	if !IsTransient(err) {
		t.Errorf("IsTransient(%v) = false, want true", err)
	}
	if !errors.Is(ErrRegistryUnavailable, ErrTransient) {
		t.Error("ErrRegistryUnavailable does not wrap ErrTransient")
	}
	if IsTransient(ErrUnknownSchema) {
		t.Error("IsTransient(ErrUnknownSchema) = true, want false")
	}
}
