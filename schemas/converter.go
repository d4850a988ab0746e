package schemas

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hamba/avro/v2"
)

// Resolver finds the schema a registry id names. The converter calls it
// once per id and caches the answer for its lifetime: registry ids are
// immutable. It may be called concurrently. An error wrapping
// ErrUnknownSchema means the id does not exist (permanent); one wrapping
// ErrTransient means the registry could not answer (retry later).
type Resolver interface {
	SchemaByID(ctx context.Context, id int) (*Schema, error)
}

// Default decoding limits. They bound the memory one hostile or corrupt value
// can make the converter allocate.
const (
	// DefaultMaxBytes caps the length of one string, bytes or fixed value.
	DefaultMaxBytes = 8 << 20
	// DefaultMaxElements caps the array and map entries of one value, summed
	// over the whole value.
	DefaultMaxElements = 1 << 20
	// DefaultMaxDepth caps the nesting of records, arrays and maps.
	DefaultMaxDepth = 128
)

// ConverterOption changes a Converter's defaults.
type ConverterOption func(*converterOptions)

type converterOptions struct {
	maxBytes    int
	maxElements int
	maxDepth    int
}

// WithMaxBytes caps the length of one string, bytes or fixed value
// (default DefaultMaxBytes). Longer values fail with ErrTooLarge.
func WithMaxBytes(n int) ConverterOption {
	return func(o *converterOptions) { o.maxBytes = n }
}

// WithMaxElements caps the number of array items plus map entries in one
// value (default DefaultMaxElements). More fail with ErrTooLarge.
func WithMaxElements(n int) ConverterOption {
	return func(o *converterOptions) { o.maxElements = n }
}

// WithMaxDepth caps the nesting of records, arrays and maps in one value
// (default DefaultMaxDepth). It matters for recursive schemas, whose values
// could otherwise nest as deep as the input is long. Deeper values fail with
// ErrTooLarge.
func WithMaxDepth(n int) ConverterOption {
	return func(o *converterOptions) { o.maxDepth = n }
}

// Converter turns Kafka record values in the Confluent wire format into
// schemas and generic Avro values, and back. It is safe for concurrent use;
// one converter per worker is enough.
//
// Decoded values take the generic form of github.com/hamba/avro:
// map[string]any for records and maps, []any for arrays, the branch value
// for unions (nil for null), int for int, int64 for long, float32, float64,
// bool, string (also for enums and uuids), []byte for bytes and fixed,
// *big.Rat for decimals, time.Time in UTC for date and the timestamps
// (local ones read as UTC), time.Duration for time-millis and time-micros,
// and avro.LogicalDuration for duration. Encode accepts the same form.
type Converter struct {
	reg  Resolver
	opts converterOptions
	// api encodes values that are not in the generic form (Go structs
	// with avro tags), through hamba/avro's reflection.
	api avro.API

	byID   sync.Map // int -> *resolved
	byAvro sync.Map // avro.Schema -> *codec
}

// resolved is a schema together with its compiled codec.
type resolved struct {
	schema *Schema
	codec  *codec
}

// NewConverter returns a converter that resolves schema ids through reg.
// reg may be nil for a converter that only encodes or decodes bodies whose
// schema the caller supplies.
func NewConverter(reg Resolver, opts ...ConverterOption) *Converter {
	o := converterOptions{
		maxBytes:    DefaultMaxBytes,
		maxElements: DefaultMaxElements,
		maxDepth:    DefaultMaxDepth,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return &Converter{
		reg:  reg,
		opts: o,
		api: avro.Config{
			MaxByteSliceSize:  o.maxBytes,
			MaxSliceAllocSize: o.maxElements,
		}.Freeze(),
	}
}

// Decode reads a framed record value: the wire header, the schema its id
// names, then the Avro body. It returns the writer schema and the value.
//
// A nil value is a tombstone and decodes to (nil, nil, nil). A zero-length
// value that is not nil is not a tombstone but a value cut short: it fails
// with ErrTruncated. Other errors wrap ErrBadMagic, ErrTruncated,
// ErrTrailingBytes, ErrMalformed, ErrTooLarge or what the resolver returned
// (ErrUnknownSchema, ErrTransient). Decode never panics, and allocates no
// more than the limits allow whatever the input.
//
// When the writer schema is the Avro primitive bytes, the body is the value
// itself with no length prefix, as Confluent's serializers write it.
func (c *Converter) Decode(ctx context.Context, value []byte) (*Schema, any, error) {
	if value == nil {
		return nil, nil, nil
	}
	id, body, err := ParseWire(value)
	if err != nil {
		return nil, nil, err
	}
	r, err := c.resolve(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	v, err := c.decodeBody(r.codec, body)
	if err != nil {
		return r.schema, nil, fmt.Errorf("decode with schema %d: %w", id, err)
	}
	return r.schema, v, nil
}

// DecodeBody decodes an Avro body written with s, without a wire header.
func (c *Converter) DecodeBody(s *Schema, body []byte) (any, error) {
	cd, err := c.codecOf(s)
	if err != nil {
		return nil, err
	}
	return c.decodeBody(cd, body)
}

// Encode frames v, written with s, in the wire format: the header with s.ID
// then the Avro body. v is in the generic form Decode returns; a Go struct
// for a record schema is encoded through hamba/avro's struct tags instead.
// A record field missing from a map takes its default.
func (c *Converter) Encode(s *Schema, v any) ([]byte, error) {
	if s == nil || s.ID <= 0 {
		return nil, errors.New("encode: schema has no registry id")
	}
	cd, err := c.codecOf(s)
	if err != nil {
		return nil, err
	}
	buf := AppendWire(make([]byte, 0, cd.sizeHint()), s.ID, nil)
	switch {
	case cd.op == opBytes:
		b, ok := asBytes(v)
		if !ok {
			return nil, fmt.Errorf("encode schema %d: %T is not bytes", s.ID, v)
		}
		buf = append(buf, b...)
	case cd.op == opRecord && isStruct(v):
		body, err := c.api.Marshal(s.Avro, v)
		if err != nil {
			return nil, fmt.Errorf("encode schema %d: %w", s.ID, err)
		}
		buf = append(buf, body...)
	default:
		buf, err = cd.encode(buf, v)
		if err != nil {
			return nil, fmt.Errorf("encode schema %d: %w", s.ID, err)
		}
	}
	cd.noteSize(len(buf))
	return buf, nil
}

// resolve returns the schema and codec for id, from the cache or the
// resolver.
func (c *Converter) resolve(ctx context.Context, id int) (*resolved, error) {
	if r, ok := c.byID.Load(id); ok {
		return r.(*resolved), nil
	}
	if c.reg == nil {
		return nil, fmt.Errorf("resolve schema %d: no registry configured: %w",
			id, ErrUnknownSchema)
	}
	s, err := c.reg.SchemaByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("resolve schema %d: %w", id, err)
	}
	if s == nil || s.Avro == nil {
		return nil, fmt.Errorf("resolve schema %d: %w", id, ErrUnknownSchema)
	}
	cd, err := c.codecOf(s)
	if err != nil {
		return nil, err
	}
	r, _ := c.byID.LoadOrStore(id, &resolved{schema: s, codec: cd})
	return r.(*resolved), nil
}

// codecOf returns the compiled codec of s, compiling it on first use.
func (c *Converter) codecOf(s *Schema) (*codec, error) {
	if s == nil || s.Avro == nil {
		return nil, errors.New("schema without avro definition")
	}
	// Keyed by the parsed schema rather than *Schema, so that callers that
	// wrap one parsed schema in fresh Schema values share one codec.
	if cd, ok := c.byAvro.Load(s.Avro); ok {
		return cd.(*codec), nil
	}
	cd, err := compile(s.Avro, map[string]*codec{})
	if err != nil {
		return nil, fmt.Errorf("compile schema %d: %w", s.ID, err)
	}
	setMinSize(cd, map[*codec]bool{})
	got, _ := c.byAvro.LoadOrStore(s.Avro, cd)
	return got.(*codec), nil
}

func (c *Converter) decodeBody(cd *codec, body []byte) (v any, err error) {
	if cd.op == opBytes {
		// Confluent frames a top-level bytes value without its length.
		if len(body) > c.opts.maxBytes {
			return nil, fmt.Errorf("%w: %d bytes, limit %d",
				ErrTooLarge, len(body), c.opts.maxBytes)
		}
		return bytes.Clone(body[:len(body):len(body)]), nil
	}
	d := decoder{
		b:        body,
		maxBytes: c.opts.maxBytes,
		elems:    c.opts.maxElements,
		maxDepth: c.opts.maxDepth,
	}
	// The decoder checks every length and index before using it; the
	// recover is a last line of defence so that a bug fails one record
	// rather than the worker.
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("%w: avro: %v", ErrMalformed, p)
		}
	}()
	v = cd.decode(&d)
	if d.err != nil {
		return nil, d.err
	}
	if d.pos != len(body) {
		return nil, fmt.Errorf("%w: %d of %d bytes unread",
			ErrTrailingBytes, len(body)-d.pos, len(body))
	}
	return v, nil
}

// op selects how a codec reads and writes its values.
type op uint8

const (
	opNull op = iota
	opBool
	opInt
	opLong
	opFloat
	opDouble
	opString
	opBytes
	opDate
	opTimeMillis
	opTimeMicros
	opTimestampMillis
	opTimestampMicros
	opDecimalBytes
	opFixed
	opDecimalFixed
	opDuration
	opEnum
	opArray
	opMap
	opRecord
	opUnion
)

// codec is a schema compiled for decoding and encoding generic values.
// Compiling once per schema keeps type switches on hamba's schema types and
// logical-type lookups off the per-record path.
type codec struct {
	op       op
	name     string       // full name of records, enums and fixed
	fields   []field      // record
	elem     *codec       // array items, map values
	branches []*codec     // union
	symbols  []string     // enum
	size     int          // fixed
	pow10    *big.Int     // decimal: 10^scale
	minSize  int          // fewest bytes a value can encode to
	lastSize atomic.Int64 // largest encoding seen, see sizeHint
}

type field struct {
	name       string
	codec      *codec
	hasDefault bool
	def        any
}

// compile builds the codec of s. named maps full names to the codecs of
// named types already seen, so that references and recursive types resolve
// to the same codec.
func compile(s avro.Schema, named map[string]*codec) (*codec, error) {
	var lt avro.LogicalType
	if ls, ok := s.(avro.LogicalTypeSchema); ok && ls.Logical() != nil {
		lt = ls.Logical().Type()
	}
	switch s.Type() {
	case avro.Null:
		return &codec{op: opNull}, nil
	case avro.Boolean:
		return &codec{op: opBool}, nil
	case avro.Int:
		switch lt {
		case avro.Date:
			return &codec{op: opDate}, nil
		case avro.TimeMillis:
			return &codec{op: opTimeMillis}, nil
		}
		return &codec{op: opInt}, nil
	case avro.Long:
		switch lt {
		case avro.TimeMicros:
			return &codec{op: opTimeMicros}, nil
		case avro.TimestampMillis, avro.LocalTimestampMillis:
			return &codec{op: opTimestampMillis}, nil
		case avro.TimestampMicros, avro.LocalTimestampMicros:
			return &codec{op: opTimestampMicros}, nil
		}
		return &codec{op: opLong}, nil
	case avro.Float:
		return &codec{op: opFloat}, nil
	case avro.Double:
		return &codec{op: opDouble}, nil
	case avro.String:
		return &codec{op: opString}, nil
	case avro.Bytes:
		if lt == avro.Decimal {
			return decimalCodec(opDecimalBytes, s.(avro.LogicalTypeSchema))
		}
		return &codec{op: opBytes}, nil
	case avro.Record, avro.Error:
		return compileRecord(s.(*avro.RecordSchema), named)
	case avro.Ref:
		return compile(s.(*avro.RefSchema).Schema(), named)
	case avro.Enum:
		es := s.(*avro.EnumSchema)
		return &codec{op: opEnum, name: es.FullName(), symbols: es.Symbols()}, nil
	case avro.Fixed:
		return compileFixed(s.(*avro.FixedSchema), lt)
	case avro.Array:
		elem, err := compile(s.(*avro.ArraySchema).Items(), named)
		if err != nil {
			return nil, err
		}
		return &codec{op: opArray, elem: elem}, nil
	case avro.Map:
		elem, err := compile(s.(*avro.MapSchema).Values(), named)
		if err != nil {
			return nil, err
		}
		return &codec{op: opMap, elem: elem}, nil
	case avro.Union:
		types := s.(*avro.UnionSchema).Types()
		cd := &codec{op: opUnion, branches: make([]*codec, len(types))}
		for i, t := range types {
			b, err := compile(t, named)
			if err != nil {
				return nil, err
			}
			cd.branches[i] = b
		}
		return cd, nil
	}
	return nil, fmt.Errorf("unsupported avro type %s", s.Type())
}

func compileRecord(rs *avro.RecordSchema, named map[string]*codec) (*codec, error) {
	if cd, ok := named[rs.FullName()]; ok {
		return cd, nil
	}
	// Register before compiling the fields: a recursive field refers back
	// to this codec.
	cd := &codec{op: opRecord, name: rs.FullName()}
	named[rs.FullName()] = cd
	fields := rs.Fields()
	cd.fields = make([]field, len(fields))
	for i, f := range fields {
		fc, err := compile(f.Type(), named)
		if err != nil {
			return nil, fmt.Errorf("field %s.%s: %w", rs.FullName(), f.Name(), err)
		}
		cd.fields[i] = field{name: f.Name(), codec: fc, hasDefault: f.HasDefault()}
		if f.HasDefault() {
			cd.fields[i].def = f.Default()
		}
	}
	return cd, nil
}

func compileFixed(fs *avro.FixedSchema, lt avro.LogicalType) (*codec, error) {
	switch lt {
	case avro.Decimal:
		cd, err := decimalCodec(opDecimalFixed, fs)
		if err != nil {
			return nil, err
		}
		cd.name, cd.size = fs.FullName(), fs.Size()
		return cd, nil
	case avro.Duration:
		if fs.Size() != 12 {
			return nil, fmt.Errorf("duration %s: size %d, want 12", fs.FullName(), fs.Size())
		}
		return &codec{op: opDuration, name: fs.FullName(), size: 12}, nil
	}
	return &codec{op: opFixed, name: fs.FullName(), size: fs.Size()}, nil
}

func decimalCodec(o op, s avro.LogicalTypeSchema) (*codec, error) {
	dec, ok := s.Logical().(*avro.DecimalLogicalSchema)
	if !ok {
		return nil, errors.New("decimal without precision and scale")
	}
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dec.Scale())), nil)
	return &codec{op: o, pow10: pow}, nil
}

// setMinSize fills in the fewest bytes each codec's values encode to. A
// record being visited counts as 0, which keeps the result a lower bound for
// recursive types.
func setMinSize(cd *codec, visiting map[*codec]bool) int {
	if visiting[cd] {
		return cd.minSize
	}
	visiting[cd] = true
	switch cd.op {
	case opNull:
		cd.minSize = 0
	case opFloat:
		cd.minSize = 4
	case opDouble:
		cd.minSize = 8
	case opFixed, opDecimalFixed, opDuration:
		cd.minSize = cd.size
	case opRecord:
		n := 0
		for _, f := range cd.fields {
			n += setMinSize(f.codec, visiting)
		}
		cd.minSize = n
	case opArray, opMap:
		setMinSize(cd.elem, visiting)
		cd.minSize = 1
	case opUnion:
		for _, b := range cd.branches {
			setMinSize(b, visiting)
		}
		cd.minSize = 1
	default:
		cd.minSize = 1
	}
	return cd.minSize
}

// sizeHint is the capacity to allocate for an encoded value: the largest
// encoded so far with this codec (up to maxSizeHint), so that most values
// need one allocation.
func (cd *codec) sizeHint() int {
	n := int(cd.lastSize.Load())
	if n < 64 {
		return 64
	}
	return n + n/4
}

// maxSizeHint keeps one outsized value from inflating every later
// allocation.
const maxSizeHint = 64 << 10

// noteSize records an encoded size. It writes only when the hint grows, so
// that concurrent encoders do not contend on it once it has settled.
func (cd *codec) noteSize(n int) {
	if n > int(cd.lastSize.Load()) && n <= maxSizeHint {
		cd.lastSize.Store(int64(n))
	}
}

// decoder reads one Avro body. Errors are sticky: once err is set, reads
// return zero values and callers stop at their next check.
type decoder struct {
	b        []byte
	s        string // b as a string, made on the first string read
	pos      int
	err      error
	maxBytes int
	elems    int // array items and map entries still allowed
	depth    int
	maxDepth int
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) truncated(what string) {
	d.fail(fmt.Errorf("%w: %s at byte %d of %d", ErrTruncated, what, d.pos, len(d.b)))
}

func (d *decoder) malformed(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.fail(fmt.Errorf("%w: avro %s at byte %d", ErrMalformed, msg, d.pos))
}

// readLong reads a zig-zag varint of at most 10 bytes.
func (d *decoder) readLong() int64 {
	var u uint64
	for shift := uint(0); shift < 70; shift += 7 {
		if d.pos >= len(d.b) {
			d.truncated("varint")
			return 0
		}
		c := d.b[d.pos]
		d.pos++
		if shift == 63 && c > 1 {
			d.malformed("varint overflows 64 bits")
			return 0
		}
		u |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1)
		}
	}
	d.malformed("varint longer than 10 bytes")
	return 0
}

func (d *decoder) readInt() int32 {
	v := d.readLong()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.malformed("int %d overflows 32 bits", v)
		return 0
	}
	return int32(v)
}

// next returns the next n bytes, aliasing the input.
func (d *decoder) next(n int, what string) []byte {
	if n > len(d.b)-d.pos {
		d.truncated(what)
		return nil
	}
	b := d.b[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return b
}

// readBytes reads a length-prefixed byte string, aliasing the input. The
// length is checked against the limit and the bytes left before anything is
// allocated.
func (d *decoder) readBytes() []byte {
	n := d.readLong()
	switch {
	case d.err != nil:
		return nil
	case n < 0:
		d.malformed("negative length %d", n)
		return nil
	case n > int64(d.maxBytes):
		d.fail(fmt.Errorf("%w: length %d exceeds %d bytes", ErrTooLarge, n, d.maxBytes))
		return nil
	}
	return d.next(int(n), "bytes")
}

// blockCount reads an array or map block header and charges its count to
// the element budget. Each item takes at least minSize bytes, so a count
// that cannot fit in the bytes left is a truncated value.
// readString reads a length-prefixed string. All strings of one value are
// substrings of a single copy of the body: one allocation per value instead
// of one per string. They keep that copy alive, which is no larger than the
// value they come from.
func (d *decoder) readString() string {
	b := d.readBytes()
	if b == nil {
		return ""
	}
	if d.s == "" {
		d.s = string(d.b)
	}
	end := d.pos
	return d.s[end-len(b) : end]
}

func (d *decoder) blockCount(minSize int) int {
	n := d.readLong()
	if n < 0 {
		if n == math.MinInt64 {
			d.malformed("block count overflows")
			return 0
		}
		n = -n
		if size := d.readLong(); size < 0 {
			d.malformed("negative block size %d", size)
			return 0
		}
	}
	switch {
	case d.err != nil || n == 0:
		return 0
	case n > int64(d.elems):
		d.fail(fmt.Errorf("%w: more than %d array or map entries", ErrTooLarge, d.elems))
		return 0
	case minSize > 0 && n > int64((len(d.b)-d.pos)/minSize):
		d.truncated("block")
		return 0
	}
	d.elems -= int(n)
	return int(n)
}

func (d *decoder) enter() bool {
	d.depth++
	if d.depth > d.maxDepth {
		d.fail(fmt.Errorf("%w: nesting deeper than %d", ErrTooLarge, d.maxDepth))
		return false
	}
	return true
}

// decode reads one value of cd's schema.
func (cd *codec) decode(d *decoder) any {
	switch cd.op {
	case opNull:
		return nil
	case opBool:
		b := d.next(1, "boolean")
		return b != nil && b[0] != 0
	case opInt:
		return int(d.readInt())
	case opLong:
		return d.readLong()
	case opFloat:
		if b := d.next(4, "float"); b != nil {
			return math.Float32frombits(binary.LittleEndian.Uint32(b))
		}
		return float32(0)
	case opDouble:
		if b := d.next(8, "double"); b != nil {
			return math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		return float64(0)
	case opString:
		return d.readString()
	case opBytes:
		return bytes.Clone(d.readBytes())
	case opDate:
		return time.Unix(int64(d.readInt())*86400, 0).UTC()
	case opTimeMillis:
		return time.Duration(d.readInt()) * time.Millisecond
	case opTimeMicros:
		return time.Duration(d.readLong()) * time.Microsecond
	case opTimestampMillis:
		return time.UnixMilli(d.readLong()).UTC()
	case opTimestampMicros:
		return time.UnixMicro(d.readLong()).UTC()
	case opDecimalBytes:
		return ratFromTwosComplement(d.readBytes(), cd.pow10)
	case opFixed:
		return bytes.Clone(cd.readFixed(d))
	case opDecimalFixed:
		return ratFromTwosComplement(cd.readFixed(d), cd.pow10)
	case opDuration:
		b := cd.readFixed(d)
		if b == nil {
			return avro.LogicalDuration{}
		}
		return avro.LogicalDuration{
			Months:       binary.LittleEndian.Uint32(b[0:4]),
			Days:         binary.LittleEndian.Uint32(b[4:8]),
			Milliseconds: binary.LittleEndian.Uint32(b[8:12]),
		}
	case opEnum:
		i := d.readInt()
		if d.err == nil && (i < 0 || int(i) >= len(cd.symbols)) {
			d.malformed("enum %s index %d out of range", cd.name, i)
			return nil
		}
		if d.err != nil {
			return nil
		}
		return cd.symbols[i]
	case opUnion:
		i := d.readLong()
		if d.err == nil && (i < 0 || i >= int64(len(cd.branches))) {
			d.malformed("union index %d out of range", i)
		}
		if d.err != nil {
			return nil
		}
		return cd.branches[i].decode(d)
	case opRecord:
		return cd.decodeRecord(d)
	case opArray:
		return cd.decodeArray(d)
	case opMap:
		return cd.decodeMap(d)
	}
	d.malformed("unknown codec op %d", cd.op)
	return nil
}

func (cd *codec) readFixed(d *decoder) []byte {
	if cd.size > d.maxBytes {
		d.fail(fmt.Errorf("%w: fixed %s of %d bytes", ErrTooLarge, cd.name, cd.size))
		return nil
	}
	return d.next(cd.size, "fixed")
}

func (cd *codec) decodeRecord(d *decoder) any {
	defer func() { d.depth-- }()
	if !d.enter() {
		return nil
	}
	m := make(map[string]any, len(cd.fields))
	for i := range cd.fields {
		f := &cd.fields[i]
		v := f.codec.decode(d)
		if d.err != nil {
			return nil
		}
		m[f.name] = v
	}
	return m
}

// maxPrealloc bounds the capacity allocated ahead of decoding a block, for
// items that may encode to no bytes at all (nulls, empty records).
const maxPrealloc = 4096

func (cd *codec) decodeArray(d *decoder) any {
	defer func() { d.depth-- }()
	if !d.enter() {
		return nil
	}
	out := make([]any, 0)
	for {
		n := d.blockCount(cd.elem.minSize)
		if n == 0 {
			break
		}
		out = slices.Grow(out, min(n, maxPrealloc))
		for range n {
			v := cd.elem.decode(d)
			if d.err != nil {
				return nil
			}
			out = append(out, v)
		}
	}
	if d.err != nil {
		return nil
	}
	return out
}

func (cd *codec) decodeMap(d *decoder) any {
	defer func() { d.depth-- }()
	if !d.enter() {
		return nil
	}
	var out map[string]any
	for {
		// Every entry has at least its key's length byte.
		n := d.blockCount(1 + cd.elem.minSize)
		if n == 0 {
			break
		}
		if out == nil {
			out = make(map[string]any, min(n, maxPrealloc))
		}
		for range n {
			k := d.readString()
			v := cd.elem.decode(d)
			if d.err != nil {
				return nil
			}
			out[k] = v
		}
	}
	if d.err != nil {
		return nil
	}
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// ratFromTwosComplement reads a decimal's unscaled value, a big-endian
// two's-complement integer, and divides it by 10^scale.
func ratFromTwosComplement(b []byte, pow10 *big.Int) any {
	if b == nil {
		return nil
	}
	i := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		i.Sub(i, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return new(big.Rat).SetFrac(i, pow10)
}

// encode appends the Avro encoding of v to buf.
func (cd *codec) encode(buf []byte, v any) ([]byte, error) {
	switch cd.op {
	case opNull:
		if v != nil {
			return buf, fmt.Errorf("%T is not null", v)
		}
		return buf, nil
	case opBool:
		b, ok := v.(bool)
		if !ok {
			return buf, fmt.Errorf("%T is not a boolean", v)
		}
		if b {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case opInt, opLong, opDate, opTimeMillis, opTimeMicros, opTimestampMillis, opTimestampMicros:
		n, err := cd.integer(v)
		if err != nil {
			return buf, err
		}
		return appendLong(buf, n), nil
	case opFloat:
		f, ok := asFloat(v)
		if !ok {
			return buf, fmt.Errorf("%T is not a float", v)
		}
		return binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(f))), nil
	case opDouble:
		f, ok := asFloat(v)
		if !ok {
			return buf, fmt.Errorf("%T is not a double", v)
		}
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(f)), nil
	case opString, opBytes:
		if s, ok := v.(string); ok {
			buf = appendLong(buf, int64(len(s)))
			return append(buf, s...), nil
		}
		b, ok := v.([]byte)
		if !ok {
			return buf, fmt.Errorf("%T is not a string or bytes", v)
		}
		buf = appendLong(buf, int64(len(b)))
		return append(buf, b...), nil
	case opDecimalBytes:
		b, err := cd.unscaled(v, 0)
		if err != nil {
			return buf, err
		}
		buf = appendLong(buf, int64(len(b)))
		return append(buf, b...), nil
	case opDecimalFixed:
		b, err := cd.unscaled(v, cd.size)
		if err != nil {
			return buf, err
		}
		return append(buf, b...), nil
	case opFixed:
		b, ok := asFixed(v)
		if !ok || len(b) != cd.size {
			return buf, fmt.Errorf("%T is not fixed %s of %d bytes", v, cd.name, cd.size)
		}
		return append(buf, b...), nil
	case opDuration:
		ld, ok := v.(avro.LogicalDuration)
		if !ok {
			return buf, fmt.Errorf("%T is not an avro.LogicalDuration", v)
		}
		buf = binary.LittleEndian.AppendUint32(buf, ld.Months)
		buf = binary.LittleEndian.AppendUint32(buf, ld.Days)
		return binary.LittleEndian.AppendUint32(buf, ld.Milliseconds), nil
	case opEnum:
		s, _ := v.(string)
		i := slices.Index(cd.symbols, s)
		if i < 0 {
			return buf, fmt.Errorf("%v is not a symbol of enum %s", v, cd.name)
		}
		return appendLong(buf, int64(i)), nil
	case opUnion:
		for i, b := range cd.branches {
			if b.accepts(v) {
				return b.encode(appendLong(buf, int64(i)), v)
			}
		}
		return buf, fmt.Errorf("%T matches no branch of the union", v)
	case opRecord:
		return cd.encodeRecord(buf, v)
	case opArray:
		return cd.encodeArray(buf, v)
	case opMap:
		return cd.encodeMap(buf, v)
	}
	return buf, fmt.Errorf("unknown codec op %d", cd.op)
}

func (cd *codec) encodeRecord(buf []byte, v any) ([]byte, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return buf, fmt.Errorf("%T is not a map[string]any for record %s", v, cd.name)
	}
	for i := range cd.fields {
		f := &cd.fields[i]
		fv, ok := m[f.name]
		if !ok {
			if !f.hasDefault {
				return buf, fmt.Errorf("record %s: field %s missing and without default",
					cd.name, f.name)
			}
			fv = f.def
		}
		var err error
		if buf, err = f.codec.encode(buf, fv); err != nil {
			return buf, fmt.Errorf("field %s: %w", f.name, err)
		}
	}
	return buf, nil
}

func (cd *codec) encodeArray(buf []byte, v any) ([]byte, error) {
	var err error
	if items, ok := v.([]any); ok {
		if len(items) > 0 {
			buf = appendLong(buf, int64(len(items)))
		}
		for i, it := range items {
			if buf, err = cd.elem.encode(buf, it); err != nil {
				return buf, fmt.Errorf("item %d: %w", i, err)
			}
		}
		return append(buf, 0), nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return buf, fmt.Errorf("%T is not a slice", v)
	}
	if rv.Len() > 0 {
		buf = appendLong(buf, int64(rv.Len()))
	}
	for i := range rv.Len() {
		if buf, err = cd.elem.encode(buf, rv.Index(i).Interface()); err != nil {
			return buf, fmt.Errorf("item %d: %w", i, err)
		}
	}
	return append(buf, 0), nil
}

// encodeMap writes the entries in key order, so that equal maps encode to
// equal bytes.
func (cd *codec) encodeMap(buf []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return buf, fmt.Errorf("%T is not a map with string keys", v)
	}
	keys := make([]string, 0, rv.Len())
	for _, k := range rv.MapKeys() {
		keys = append(keys, k.String())
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		buf = appendLong(buf, int64(len(keys)))
	}
	for _, k := range keys {
		buf = appendLong(buf, int64(len(k)))
		buf = append(buf, k...)
		val := rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key())).Interface()
		var err error
		if buf, err = cd.elem.encode(buf, val); err != nil {
			return buf, fmt.Errorf("key %q: %w", k, err)
		}
	}
	return append(buf, 0), nil
}

// integer returns the Avro int or long that v stands for under cd's
// logical type. Plain Go integers are taken as already converted.
func (cd *codec) integer(v any) (int64, error) {
	var n int64
	switch x := v.(type) {
	case time.Time:
		switch cd.op {
		case opDate:
			n = floorDiv(x.Unix(), 86400)
		case opTimestampMillis:
			n = x.UnixMilli()
		case opTimestampMicros:
			n = x.UnixMicro()
		default:
			return 0, fmt.Errorf("time.Time for a non-timestamp %s", cd.opName())
		}
	case time.Duration:
		switch cd.op {
		case opTimeMillis:
			n = x.Milliseconds()
		case opTimeMicros:
			n = x.Microseconds()
		default:
			return 0, fmt.Errorf("time.Duration for a non-time %s", cd.opName())
		}
	default:
		var ok bool
		if n, ok = asInt64(v); !ok {
			return 0, fmt.Errorf("%T is not an integer for %s", v, cd.opName())
		}
	}
	if cd.is32() && (n < math.MinInt32 || n > math.MaxInt32) {
		return 0, fmt.Errorf("%d overflows %s", n, cd.opName())
	}
	return n, nil
}

func (cd *codec) is32() bool {
	return cd.op == opInt || cd.op == opDate || cd.op == opTimeMillis
}

func (cd *codec) opName() string {
	switch cd.op {
	case opInt:
		return "int"
	case opDate:
		return "date"
	case opTimeMillis:
		return "time-millis"
	case opTimeMicros:
		return "time-micros"
	case opTimestampMillis:
		return "timestamp-millis"
	case opTimestampMicros:
		return "timestamp-micros"
	}
	return "long"
}

// unscaled returns v*10^scale as a big-endian two's-complement integer,
// sign-extended to size bytes when size > 0.
func (cd *codec) unscaled(v any, size int) ([]byte, error) {
	var i *big.Int
	switch x := v.(type) {
	case *big.Rat:
		if x == nil {
			return nil, errors.New("nil *big.Rat for a decimal")
		}
		num := new(big.Int).Mul(x.Num(), cd.pow10)
		var rem big.Int
		i, _ = new(big.Int).QuoRem(num, x.Denom(), &rem)
		if rem.Sign() != 0 {
			return nil, fmt.Errorf("decimal %s does not fit the schema's scale", x.RatString())
		}
	case []byte:
		// Defaults of decimal fields arrive in their encoded form.
		i = new(big.Int).SetBytes(x)
		if len(x) > 0 && x[0]&0x80 != 0 {
			i.Sub(i, new(big.Int).Lsh(big.NewInt(1), uint(len(x))*8))
		}
		return cd.fit(x, i, size)
	case *big.Int:
		if x == nil {
			return nil, errors.New("nil *big.Int for a decimal")
		}
		i = new(big.Int).Mul(x, cd.pow10)
	default:
		return nil, fmt.Errorf("%T is not a *big.Rat for a decimal", v)
	}
	return cd.fit(twosComplement(i), i, size)
}

// fit sign-extends the two's-complement bytes b of i to size bytes; size 0
// keeps b as it is.
func (cd *codec) fit(b []byte, i *big.Int, size int) ([]byte, error) {
	if size == 0 {
		return b, nil
	}
	if len(b) > size {
		return nil, fmt.Errorf("decimal needs %d bytes, fixed %s has %d", len(b), cd.name, size)
	}
	pad := byte(0)
	if i.Sign() < 0 {
		pad = 0xff
	}
	out := make([]byte, size)
	for k := range size - len(b) {
		out[k] = pad
	}
	copy(out[size-len(b):], b)
	return out, nil
}

// twosComplement renders i in the fewest big-endian two's-complement bytes,
// at least one.
func twosComplement(i *big.Int) []byte {
	if i.Sign() >= 0 {
		b := i.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -x = ^(x-1): invert the bytes of |i|-1.
	m := new(big.Int).Neg(i)
	m.Sub(m, big.NewInt(1))
	b := m.Bytes()
	for k := range b {
		b[k] = ^b[k]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}

// accepts reports whether v is a value of cd's type, to choose a union
// branch. Branches are tried in schema order; the first that accepts wins.
func (cd *codec) accepts(v any) bool {
	switch cd.op {
	case opNull:
		return v == nil
	case opBool:
		_, ok := v.(bool)
		return ok
	case opInt, opLong:
		n, ok := asInt64(v)
		return ok && (cd.op == opLong || (n >= math.MinInt32 && n <= math.MaxInt32))
	case opDate, opTimestampMillis, opTimestampMicros:
		_, ok := v.(time.Time)
		return ok
	case opTimeMillis, opTimeMicros:
		_, ok := v.(time.Duration)
		return ok
	case opFloat, opDouble:
		switch v.(type) {
		case float32, float64:
			return true
		}
		return false
	case opString:
		_, ok := v.(string)
		return ok
	case opBytes:
		_, ok := v.([]byte)
		return ok
	case opDecimalBytes, opDecimalFixed:
		_, ok := v.(*big.Rat)
		return ok
	case opFixed:
		b, ok := asFixed(v)
		return ok && len(b) == cd.size
	case opDuration:
		_, ok := v.(avro.LogicalDuration)
		return ok
	case opEnum:
		s, ok := v.(string)
		return ok && slices.Contains(cd.symbols, s)
	case opArray:
		if _, ok := v.([]byte); ok || v == nil {
			return false
		}
		k := reflect.TypeOf(v).Kind()
		return k == reflect.Slice || k == reflect.Array
	case opMap:
		if v == nil {
			return false
		}
		t := reflect.TypeOf(v)
		return t.Kind() == reflect.Map && t.Key().Kind() == reflect.String
	case opRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		// Tell records apart by their required fields.
		for _, f := range cd.fields {
			if _, has := m[f.name]; !has && !f.hasDefault {
				return false
			}
		}
		return true
	}
	return false
}

func appendLong(buf []byte, n int64) []byte {
	return binary.AppendUvarint(buf, uint64(n<<1)^uint64(n>>63))
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		return int64(x), x <= math.MaxInt64
	case uint64:
		return int64(x), x <= math.MaxInt64
	}
	return 0, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	if n, ok := asInt64(v); ok {
		return float64(n), true
	}
	return 0, false
}

func asBytes(v any) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case string:
		return []byte(x), true
	}
	return nil, false
}

// asFixed accepts []byte and byte arrays such as [16]byte, the form
// hamba/avro's generic decoding gives fixed values.
func asFixed(v any) ([]byte, bool) {
	if b, ok := v.([]byte); ok {
		return b, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Array || rv.Type().Elem().Kind() != reflect.Uint8 {
		return nil, false
	}
	b := make([]byte, rv.Len())
	reflect.Copy(reflect.ValueOf(b), rv)
	return b, true
}

func isStruct(v any) bool {
	t := reflect.TypeOf(v)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.Kind() == reflect.Struct
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
