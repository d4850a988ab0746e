package schemas

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hamba/avro/v2"
)

// Kafka Connect's converter class names, as connector configs spell them in
// key.converter, value.converter and header.converter.
const (
	ClassAvroConverter      = "io.confluent.connect.avro.AvroConverter"
	ClassJSONConverter      = "org.apache.kafka.connect.json.JsonConverter"
	ClassStringConverter    = "org.apache.kafka.connect.storage.StringConverter"
	ClassByteArrayConverter = "org.apache.kafka.connect.converters.ByteArrayConverter"
	ClassSimpleHeader       = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
)

// Primitive schemas of the converters that carry no schema of their own.
var (
	// StringSchema is the schema of what StringConverter decodes.
	StringSchema = &Schema{Avro: avro.NewPrimitiveSchema(avro.String, nil), Text: `"string"`}
	// BytesSchema is the schema of what ByteArrayConverter decodes.
	BytesSchema = &Schema{Avro: avro.NewPrimitiveSchema(avro.Bytes, nil), Text: `"bytes"`}
)

// StringConverter is Kafka Connect's StringConverter: the bytes are UTF-8
// text and decode to a string.
type StringConverter struct{}

// Decode returns s as a string. A nil value is a tombstone.
func (StringConverter) Decode(_ context.Context, b []byte) (*Schema, any, error) {
	if b == nil {
		return nil, nil, nil
	}
	return StringSchema, string(b), nil
}

// ByteArrayConverter is Kafka Connect's ByteArrayConverter: the bytes pass
// through unchanged.
type ByteArrayConverter struct{}

// Decode returns a copy of b. A nil value is a tombstone.
func (ByteArrayConverter) Decode(_ context.Context, b []byte) (*Schema, any, error) {
	if b == nil {
		return nil, nil, nil
	}
	return BytesSchema, bytes.Clone(b), nil
}

// JSONConverter is Kafka Connect's JsonConverter. With SchemasEnable (the
// default in Kafka Connect), a value is the envelope
// {"schema": <Connect schema>, "payload": <value>}; the Connect schema is
// turned into an Avro schema and the payload into the converter's generic
// form (see Converter). Without it, a value is plain JSON and decodes with
// no schema: objects to map[string]any, arrays to []any, integers to int64
// and other numbers to float64.
//
// Envelope schemas have no registry id. Each gets a negative id derived
// from its text, so that equal schemas share an id across restarts and
// never collide with a registry's ids.
type JSONConverter struct {
	SchemasEnable bool
	// MaxBytes caps the length of a value (default DefaultMaxBytes), and
	// with it the memory one value can make the converter allocate.
	MaxBytes int
	// MaxDepth caps the nesting of objects and arrays (default
	// DefaultMaxDepth).
	MaxDepth int

	mu     sync.Mutex
	byText map[string]*jsonSchema // bounded by maxJSONSchemas
}

// maxJSONSchemas bounds the converter's cache of envelope schemas.
const maxJSONSchemas = 1024

// maxDecimalDigits caps the precision and scale of an envelope's decimals:
// the scale sets the power of ten every value is divided by, which an
// envelope could otherwise make arbitrarily expensive.
const maxDecimalDigits = 1000

// jsonSchema is a compiled envelope schema.
type jsonSchema struct {
	schema *Schema
	root   *connectSchema
}

// connectSchema is a Kafka Connect schema as JsonConverter writes it.
type connectSchema struct {
	Type       string            `json:"type"`
	Optional   bool              `json:"optional"`
	Name       string            `json:"name"`
	Field      string            `json:"field"`
	Parameters map[string]string `json:"parameters"`
	Fields     []*connectSchema  `json:"fields"`
	Items      *connectSchema    `json:"items"`
	Keys       *connectSchema    `json:"keys"`
	Values     *connectSchema    `json:"values"`
	Default    json.RawMessage   `json:"default"`
}

// The logical types of Kafka Connect's data API.
const (
	connectDecimal   = "org.apache.kafka.connect.data.Decimal"
	connectDate      = "org.apache.kafka.connect.data.Date"
	connectTime      = "org.apache.kafka.connect.data.Time"
	connectTimestamp = "org.apache.kafka.connect.data.Timestamp"
)

// Decode reads one JSON value. Errors wrap ErrMalformed or ErrTooLarge.
func (c *JSONConverter) Decode(_ context.Context, b []byte) (*Schema, any, error) {
	if b == nil {
		return nil, nil, nil
	}
	maxBytes, maxDepth := c.MaxBytes, c.MaxDepth
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if len(b) > maxBytes {
		return nil, nil, fmt.Errorf("%w: json value of %d bytes, the limit is %d",
			ErrTooLarge, len(b), maxBytes)
	}
	if d := jsonDepth(b); d > maxDepth {
		return nil, nil, fmt.Errorf("%w: json nested %d deep, the limit is %d",
			ErrTooLarge, d, maxDepth)
	}
	// JSON is UTF-8, and Kafka Connect's converter refuses anything else.
	// Decoding would replace each bad byte with three bytes of U+FFFD, so
	// a value within MaxBytes could triple past it.
	if !utf8.Valid(b) {
		return nil, nil, fmt.Errorf("%w: json is not valid UTF-8", ErrMalformed)
	}
	if !c.SchemasEnable {
		v, err := decodeJSON(b)
		if err != nil {
			return nil, nil, err
		}
		return nil, v, nil
	}

	var env struct {
		Schema  json.RawMessage `json:"schema"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return nil, nil, fmt.Errorf("%w: json %s where schemas.enable=true wants an "+
				"object {\"schema\": ..., \"payload\": ...}", ErrMalformed, typ.Value)
		}
		return nil, nil, fmt.Errorf("%w: json: %v", ErrMalformed, err)
	}
	if len(env.Schema) == 0 || string(env.Schema) == "null" {
		return nil, nil, fmt.Errorf("%w: json envelope without schema "+
			"(schemas.enable=true wants {\"schema\": ..., \"payload\": ...})", ErrMalformed)
	}
	js, err := c.compiled(env.Schema)
	if err != nil {
		return nil, nil, err
	}
	raw, err := decodeJSON(env.Payload)
	if err != nil {
		return nil, nil, err
	}
	v, err := connectValue(js.root, raw, "payload")
	if err != nil {
		return nil, nil, err
	}
	return js.schema, v, nil
}

// jsonDepth returns the deepest nesting of objects and arrays in b,
// skipping strings. It runs before decoding so that no decoder recurses
// deeper than the limit.
func jsonDepth(b []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// decodeJSON decodes b keeping integers exact.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: json: %v", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: json value followed by more data", ErrTrailingBytes)
	}
	return numbers(v), nil
}

// numbers replaces json.Number with int64 where the number is an integer
// that fits, else float64.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

// compiled returns the envelope schema for text, from the cache or newly
// translated.
func (c *JSONConverter) compiled(text json.RawMessage) (*jsonSchema, error) {
	c.mu.Lock()
	js, ok := c.byText[string(text)]
	c.mu.Unlock()
	if ok {
		return js, nil
	}
	var root connectSchema
	if err := json.Unmarshal(text, &root); err != nil {
		return nil, fmt.Errorf("%w: connect schema: %v", ErrMalformed, err)
	}
	t := &avroTranslator{}
	avroJSON, err := t.translate(&root, "schema")
	if err != nil {
		return nil, err
	}
	textOut, err := json.Marshal(avroJSON)
	if err != nil {
		return nil, fmt.Errorf("%w: connect schema: %v", ErrMalformed, err)
	}
	parsed, err := avro.ParseBytesWithCache(textOut, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("%w: connect schema as avro: %v", ErrMalformed, err)
	}
	h := fnv.New32a()
	_, _ = h.Write(textOut)
	id := -int(h.Sum32()&math.MaxInt32) - 1
	js = &jsonSchema{schema: &Schema{ID: id, Avro: parsed, Text: string(textOut)}, root: &root}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byText == nil || len(c.byText) >= maxJSONSchemas {
		c.byText = make(map[string]*jsonSchema)
	}
	c.byText[string(text)] = js
	return js, nil
}

// avroTranslator turns Connect schemas into Avro schema JSON, naming
// anonymous structs ConnectDefault, ConnectDefault2, ... as Confluent's
// AvroData does.
type avroTranslator struct{ anonymous int }

func (t *avroTranslator) translate(s *connectSchema, path string) (any, error) {
	out, err := t.required(s, path)
	if err != nil || !s.Optional {
		return out, err
	}
	return []any{"null", out}, nil
}

// logicalBase is the Connect type each logical type is carried in.
var logicalBase = map[string]string{
	connectDecimal: "bytes", connectDate: "int32", connectTime: "int32", connectTimestamp: "int64",
}

func (t *avroTranslator) required(s *connectSchema, path string) (any, error) {
	if base, ok := logicalBase[s.Name]; ok && s.Type != base {
		return nil, fmt.Errorf("%w: %s: %s is carried in %s, not %q",
			ErrMalformed, path, s.Name, base, s.Type)
	}
	switch s.Name {
	case connectDecimal:
		scale, err := strconv.Atoi(s.Parameters["scale"])
		if err != nil || scale < 0 {
			return nil, fmt.Errorf("%w: %s: decimal without a valid scale parameter",
				ErrMalformed, path)
		}
		prec := 38
		if p, err := strconv.Atoi(s.Parameters["connect.decimal.precision"]); err == nil {
			prec = p
		}
		if scale > maxDecimalDigits || prec > maxDecimalDigits {
			return nil, fmt.Errorf("%w: %s: decimal(%d,%d) exceeds %d digits",
				ErrTooLarge, path, prec, scale, maxDecimalDigits)
		}
		return map[string]any{"type": "bytes", "logicalType": "decimal",
			"precision": max(prec, scale, 1), "scale": scale}, nil
	case connectDate:
		return map[string]any{"type": "int", "logicalType": "date"}, nil
	case connectTime:
		return map[string]any{"type": "int", "logicalType": "time-millis"}, nil
	case connectTimestamp:
		return map[string]any{"type": "long", "logicalType": "timestamp-millis"}, nil
	}
	switch s.Type {
	case "int8", "int16", "int32":
		return "int", nil
	case "int64":
		return "long", nil
	case "float":
		return "float", nil
	case "double":
		return "double", nil
	case "boolean", "string", "bytes":
		return s.Type, nil
	case "array":
		if s.Items == nil {
			return nil, fmt.Errorf("%w: %s: array without items", ErrMalformed, path)
		}
		items, err := t.translate(s.Items, path+".items")
		return map[string]any{"type": "array", "items": items}, err
	case "map":
		if s.Keys == nil || s.Values == nil || s.Keys.Type != "string" {
			return nil, fmt.Errorf("%w: %s: only maps with string keys are supported",
				ErrMalformed, path)
		}
		values, err := t.translate(s.Values, path+".values")
		return map[string]any{"type": "map", "values": values}, err
	case "struct":
		return t.record(s, path)
	}
	return nil, fmt.Errorf("%w: %s: unknown connect type %q", ErrMalformed, path, s.Type)
}

func (t *avroTranslator) record(s *connectSchema, path string) (any, error) {
	name := s.Name
	if name == "" {
		t.anonymous++
		name = "ConnectDefault"
		if t.anonymous > 1 {
			name += strconv.Itoa(t.anonymous)
		}
		name = "io.confluent.connect.avro." + name
	}
	fields := make([]any, 0, len(s.Fields))
	for _, f := range s.Fields {
		ft, err := t.translate(f, path+"."+f.Field)
		if err != nil {
			return nil, err
		}
		field := map[string]any{"name": f.Field, "type": ft}
		if f.Optional {
			field["default"] = nil
		}
		fields = append(fields, field)
	}
	return map[string]any{"type": "record", "name": name, "fields": fields}, nil
}

// connectValue converts a JSON payload to the generic form of the Avro
// schema s translates to.
func connectValue(s *connectSchema, v any, path string) (any, error) {
	if v == nil {
		if s.Optional {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %s: null for a required %s", ErrMalformed, path, s.Type)
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("%w: %s: %T is not a %s", ErrMalformed, path, v, s.Type)
	}
	switch s.Name {
	case connectDecimal:
		b, err := base64Of(v, path)
		if err != nil {
			return nil, err
		}
		scale, _ := strconv.Atoi(s.Parameters["scale"])
		return ratFromTwosComplement(b, new(big.Int).Exp(big.NewInt(10),
			big.NewInt(int64(scale)), nil)), nil
	case connectDate:
		n, ok := v.(int64)
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return bad()
		}
		return time.Unix(n*86400, 0).UTC(), nil
	case connectTime:
		n, ok := v.(int64)
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return bad()
		}
		return time.Duration(n) * time.Millisecond, nil
	case connectTimestamp:
		n, ok := v.(int64)
		if !ok {
			return bad()
		}
		return time.UnixMilli(n).UTC(), nil
	}
	switch s.Type {
	case "int8", "int16", "int32":
		n, ok := v.(int64)
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return bad()
		}
		return int(n), nil
	case "int64":
		if n, ok := v.(int64); ok {
			return n, nil
		}
		return bad()
	case "float", "double":
		var f float64
		switch n := v.(type) {
		case int64:
			f = float64(n)
		case float64:
			f = n
		default:
			return bad()
		}
		if s.Type == "float" {
			return float32(f), nil
		}
		return f, nil
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return bad()
	case "string":
		if str, ok := v.(string); ok {
			return str, nil
		}
		return bad()
	case "bytes":
		return base64Of(v, path)
	case "array":
		items, ok := v.([]any)
		if !ok {
			return bad()
		}
		for i, item := range items {
			x, err := connectValue(s.Items, item, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			items[i] = x
		}
		return items, nil
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		for k, item := range m {
			x, err := connectValue(s.Values, item, path+"."+k)
			if err != nil {
				return nil, err
			}
			m[k] = x
		}
		return m, nil
	case "struct":
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		out := make(map[string]any, len(s.Fields))
		for _, f := range s.Fields {
			x, err := connectValue(f, m[f.Field], path+"."+f.Field)
			if err != nil {
				return nil, err
			}
			out[f.Field] = x
		}
		return out, nil
	}
	return bad()
}

func base64Of(v any, path string) ([]byte, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: %s: %T is not base64 bytes", ErrMalformed, path, v)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, path, err)
	}
	return b, nil
}

// ParseHeader reads a header value the way Kafka Connect's
// SimpleHeaderConverter does: nil stays nil; "true" and "false" are
// booleans; an integer is an int64 and another number a float64; a JSON
// array or object decodes as such; anything else is the string itself.
func ParseHeader(b []byte) any {
	if b == nil {
		return nil
	}
	s := strings.TrimSpace(string(b))
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "":
		return string(b)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) &&
		strings.ContainsAny(s, ".eE") {
		return f
	}
	if (s[0] == '[' || s[0] == '{') && len(b) <= DefaultMaxBytes &&
		jsonDepth(b) <= DefaultMaxDepth {
		if v, err := decodeJSON(b); err == nil {
			return v
		}
	}
	return string(b)
}
