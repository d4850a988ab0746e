package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// part selects what a $Key or $Value transform works on.
type part bool

const (
	partValue part = false
	partKey   part = true
)

// get returns the schema and data of the part. A key the key converter
// decoded is used as it is; an undecoded key has no schema: see decodeKey.
func (p part) get(r *connectors.Record) (*schemas.Schema, any, error) {
	if p == partKey {
		if r.KeyConverted {
			return r.KeySchema, r.KeyData, nil
		}
		v, err := decodeKey(r.Key)
		return nil, v, err
	}
	return r.ValueSchema, r.Value, nil
}

// set stores new schema and data in the part. A new key is also written
// back to Record.Key, so that the bytes and the decoded key agree.
func (p part) set(r *connectors.Record, s *schemas.Schema, v any) error {
	if p == partKey {
		b, err := encodeKey(v)
		if err != nil {
			return err
		}
		r.Key = b
		if r.KeyConverted {
			r.KeySchema, r.KeyData = s, v
		}
		return nil
	}
	r.ValueSchema, r.Value = s, v
	return nil
}

// partFunc transforms the schema and data of one part of r.
type partFunc func(r *connectors.Record, s *schemas.Schema, v any) (*schemas.Schema, any, error)

// applyPart runs fn on the part of r that p selects. With passNull, a null
// key or value (a tombstone) passes unchanged and fn does not run.
func applyPart(p part, r *connectors.Record, passNull bool, fn partFunc) (*connectors.Record, error) {
	s, v, err := p.get(r)
	if err != nil {
		return nil, err
	}
	if v == nil && passNull {
		return r, nil
	}
	s, v, err = fn(r, s, v)
	if err != nil {
		return nil, err
	}
	if err := p.set(r, s, v); err != nil {
		return nil, err
	}
	return r, nil
}

// decodeKey gives a record key the form a schemaless converter would: a
// key holding a JSON object or array is decoded into maps and slices, as
// Kafka Connect's JsonConverter with schemas.enable=false does; any other
// key is a string, as with the StringConverter. A nil key stays nil.
func decodeKey(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') || !json.Valid(trimmed) {
		return string(b), nil
	}
	d := json.NewDecoder(bytes.NewReader(trimmed))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode key: %w", err)
	}
	return fromJSON(v), nil
}

// fromJSON turns json.Numbers into int64 or float64.
func fromJSON(v any) any {
	switch t := v.(type) {
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = fromJSON(e)
		}
	case []any:
		for i, e := range t {
			t[i] = fromJSON(e)
		}
	}
	return v
}

// encodeKey renders a transformed key: strings and bytes as they are,
// anything else as JSON.
func encodeKey(v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(t), nil
	case []byte:
		return t, nil
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return b, nil
}

// jsonable converts the generic Avro forms encoding/json does not render
// the way Kafka Connect's JsonConverter does: decimals become numbers,
// timestamps and dates epoch milliseconds, times milliseconds of the day.
func jsonable(v any) any {
	switch t := v.(type) {
	case *big.Rat:
		return json.Number(ratString(t))
	case time.Time:
		return t.UnixMilli()
	case time.Duration:
		return t.Milliseconds()
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = jsonable(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = jsonable(e)
		}
		return out
	}
	return v
}

// ratString renders a decimal exactly, with the fewest digits.
func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	for prec := 1; prec < 64; prec++ {
		s := r.FloatString(prec)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
			return s
		}
	}
	return r.FloatString(64)
}

// stringOf renders a value the way Kafka Connect's simple header converter
// and Cast to string do: strings as they are, numbers and booleans in
// their usual form, structures as JSON.
func stringOf(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []byte:
		return string(t)
	case bool:
		return strconv.FormatBool(t)
	case int:
		return strconv.Itoa(t)
	case int32:
		return strconv.FormatInt(int64(t), 10)
	case int64:
		return strconv.FormatInt(t, 10)
	case float32:
		return strconv.FormatFloat(float64(t), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	case *big.Rat:
		return ratString(t)
	case time.Time:
		return t.UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// structOf checks that v is a structure: a record of schema s, or, without
// a schema, a map. purpose names the operation in the error, as Kafka
// Connect's messages do.
func structOf(purpose string, s *schemas.Schema, v any) (*avro.RecordSchema, map[string]any, error) {
	m, isMap := v.(map[string]any)
	if s == nil {
		if !isMap {
			return nil, nil, fmt.Errorf("only Map objects supported in absence of schema for [%s], found: %s",
				purpose, typeName(v))
		}
		return nil, m, nil
	}
	rec, ok := recordOf(s.Avro)
	if !ok || !isMap {
		return nil, nil, fmt.Errorf("only Struct objects supported for [%s], found: %s",
			purpose, typeName(v))
	}
	return rec, m, nil
}

func typeName(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// read returns a field's value; with replaceNull, a null value of a field
// whose schema has a non-null default reads as that default.
func read(rec *avro.RecordSchema, m map[string]any, name string, replaceNull bool) any {
	v := m[name]
	if v != nil || !replaceNull || rec == nil {
		return v
	}
	if f := fieldOf(rec, name); f != nil && f.HasDefault() {
		return f.Default()
	}
	return nil
}
