package storage

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/hamba/avro/v2"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/brotli"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/lz4"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// parquetFormat writes Apache Parquet files.
//
// The Parquet schema follows the Avro schema the way parquet-avro maps it:
// records become groups with their fields in Avro order, ["null", T]
// unions become optional fields, arrays become LIST and maps become MAP
// groups (three-level form), and logical types map to their Parquet
// counterparts (DECIMAL, DATE, TIME, TIMESTAMP, UUID). Unions with more
// than one non-null branch have no Parquet counterpart and are rejected.
//
// Records are not turned into rows by reflection: each schema is compiled
// once into a tree of pqNodes that walks the generic value and appends
// parquet.Values with their levels directly.
type parquetFormat struct{}

func (parquetFormat) Name() string { return "parquet" }

func (parquetFormat) Extension() string { return ".parquet" }

// pqPlans caches compiled plans by schema fingerprint, so that the many
// files of one schema share one plan.
var pqPlans sync.Map // writerPlanKey -> *pqPlan

// writerPlanKey identifies a compiled plan: a schema hash and whether the
// Kafka metadata columns are added.
type writerPlanKey struct {
	fingerprint [32]byte
	meta        bool
}

func (parquetFormat) NewWriter(
	w io.Writer, s *schemas.Schema, opts WriterOptions,
) (RecordWriter, error) {
	rec, err := recordSchema(s, "parquet")
	if err != nil {
		return nil, err
	}
	codec, err := parquetCodec(opts.Codec)
	if err != nil {
		return nil, err
	}
	key := writerPlanKey{fingerprint: rec.Fingerprint(), meta: opts.KafkaMetadata}
	plan, _ := pqPlans.Load(key)
	if plan == nil {
		p, err := compileParquet(rec, opts.KafkaMetadata)
		if err != nil {
			return nil, fmt.Errorf("parquet schema for %s: %w", rec.FullName(), err)
		}
		plan, _ = pqPlans.LoadOrStore(key, p)
	}
	return newParquetWriter(w, plan.(*pqPlan), codec, opts.maxBuffer()), nil
}

// parquetCodec maps parquet.codec values, Confluent's spelling included, to
// a codec.
func parquetCodec(name string) (compress.Codec, error) {
	switch strings.ToLower(name) {
	case "", "snappy":
		return &snappy.Codec{}, nil
	case "none", "uncompressed":
		return &uncompressed.Codec{}, nil
	case "gzip":
		return &gzip.Codec{Level: gzip.DefaultCompression}, nil
	case "zstd":
		return &zstd.Codec{Level: zstd.DefaultLevel}, nil
	case "lz4", "lz4_raw":
		return &lz4.Codec{}, nil
	case "brotli":
		return &brotli.Codec{Quality: brotli.DefaultQuality, LGWin: brotli.DefaultLGWin}, nil
	}
	return nil, fmt.Errorf("unknown parquet codec %q: want none, snappy, gzip, zstd, lz4 or brotli",
		name)
}

// pqKind is the shape of a pqNode.
type pqKind uint8

const (
	pqLeaf pqKind = iota
	pqRecord
	pqList
	pqMap
)

// pqNode is one node of a compiled plan. Levels follow Dremel: def is the
// definition level of the node's values when the node is present (an
// optional node counts itself), rep the repetition level of the elements of
// a list or map.
type pqNode struct {
	kind        pqKind
	path        string // field path, for errors
	optional    bool
	branch      string // union branch name, to strip hamba's wrapper
	def         int
	rep         int
	col         int // leaf column
	first, last int // the leaf columns below the node, for null runs

	leaf   pqLeafFunc
	fields []pqField // pqRecord
	elem   *pqNode   // pqList element, pqMap value
	key    *pqNode   // pqMap key
}

type pqField struct {
	name string
	node *pqNode
}

// pqLeafFunc converts one non-null generic value to a parquet.Value without
// levels. Bytes it must produce go to b.arena.
type pqLeafFunc func(b *pqRowBuilder, v any) (parquet.Value, error)

// pqPlan is a compiled schema.
type pqPlan struct {
	schema *parquet.Schema
	root   *pqNode
	cols   int
	// nested is set when a column can repeat within a row. Values are then
	// emitted in walk order and sorted by column afterwards, since parquet
	// wants each column's values together.
	nested  bool
	metaCol int // first metadata column, -1 without
}

type pqCompiler struct {
	cols   int
	nested bool
}

func compileParquet(rec *avro.RecordSchema, meta bool) (*pqPlan, error) {
	c := &pqCompiler{}
	node, root, err := c.compile(rec, "", 0, 0)
	if err != nil {
		return nil, err
	}
	plan := &pqPlan{root: root, metaCol: -1}
	fields := node.(*pqGroup).fields
	group := make([]pqGroupField, 0, len(fields)+4)
	for _, f := range fields {
		group = append(group, pqGroupField{f.Name(), f})
	}
	if meta {
		plan.metaCol = c.cols
		group = append(group,
			pqGroupField{KafkaTopicField, parquet.String()},
			pqGroupField{KafkaPartitionField, parquet.Leaf(parquet.Int32Type)},
			pqGroupField{KafkaOffsetField, parquet.Leaf(parquet.Int64Type)},
			pqGroupField{KafkaTimestampField, parquet.Timestamp(parquet.Millisecond)},
		)
		c.cols += 4
	}
	plan.cols = c.cols
	plan.nested = c.nested
	plan.schema = parquet.NewSchema(rec.Name(), newPQGroup(group))
	return plan, nil
}

// compile returns the Parquet node of s and its plan. def and rep are the
// levels reached by the parent.
func (c *pqCompiler) compile(
	s avro.Schema, path string, def, rep int,
) (parquet.Node, *pqNode, error) {
	s = deref(s)
	first := c.cols
	if u, ok := s.(*avro.UnionSchema); ok {
		inner, ok := nullableBranch(u)
		if !ok {
			return nil, nil, fmt.Errorf("field %s: union %s has no parquet mapping: "+
				"only [\"null\", T] unions are supported", path, u.String())
		}
		node, n, err := c.compile(inner, path, def+1, rep)
		if err != nil {
			return nil, nil, err
		}
		n.optional = true
		n.branch = unionBranchName(inner)
		return parquet.Optional(node), n, nil
	}

	n := &pqNode{path: path, def: def, rep: rep, first: first}
	var node parquet.Node
	switch s := s.(type) {
	case *avro.RecordSchema:
		if len(s.Fields()) == 0 {
			return nil, nil, fmt.Errorf("field %s: record %s has no fields", path, s.FullName())
		}
		n.kind = pqRecord
		group := make([]pqGroupField, 0, len(s.Fields()))
		for _, f := range s.Fields() {
			fnode, fn, err := c.compile(f.Type(), joinPath(path, f.Name()), def, rep)
			if err != nil {
				return nil, nil, err
			}
			group = append(group, pqGroupField{f.Name(), fnode})
			n.fields = append(n.fields, pqField{f.Name(), fn})
		}
		node = newPQGroup(group)
	case *avro.ArraySchema:
		// The repeated "list" group adds one definition and one repetition
		// level; an empty list stops at the LIST group's own level.
		c.nested = true
		n.kind, n.rep = pqList, rep+1
		elem, en, err := c.compile(s.Items(), path+"[]", def+1, rep+1)
		if err != nil {
			return nil, nil, err
		}
		n.elem = en
		node = parquet.List(elem)
	case *avro.MapSchema:
		c.nested = true
		n.kind, n.rep = pqMap, rep+1
		n.key = &pqNode{path: path + ".key", def: def + 1, rep: rep + 1, col: c.cols,
			first: c.cols, last: c.cols, leaf: pqString}
		c.cols++
		val, vn, err := c.compile(s.Values(), path+".value", def+1, rep+1)
		if err != nil {
			return nil, nil, err
		}
		n.elem = vn
		node = parquet.Map(parquet.String(), val)
	default:
		leaf, fn, err := pqLeafOf(s)
		if err != nil {
			return nil, nil, fmt.Errorf("field %s: %w", path, err)
		}
		n.kind, n.col, n.leaf = pqLeaf, c.cols, fn
		c.cols++
		node = leaf
	}
	n.last = c.cols - 1
	return node, n, nil
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// pqLeafOf maps a primitive, enum or fixed schema to its Parquet leaf.
func pqLeafOf(s avro.Schema) (parquet.Node, pqLeafFunc, error) {
	var logical avro.LogicalSchema
	if lts, ok := s.(avro.LogicalTypeSchema); ok {
		logical = lts.Logical()
	}
	if dec, ok := logical.(*avro.DecimalLogicalSchema); ok {
		size := 0
		if f, ok := s.(*avro.FixedSchema); ok {
			size = f.Size()
		}
		return pqDecimal(dec.Precision(), dec.Scale(), size)
	}
	var lt avro.LogicalType
	if logical != nil {
		lt = logical.Type()
	}

	switch s.Type() {
	case avro.Boolean:
		return parquet.Leaf(parquet.BooleanType), pqBool, nil
	case avro.Int:
		switch lt {
		case avro.Date:
			return parquet.Date(), pqDate, nil
		case avro.TimeMillis:
			return parquet.TimeAdjusted(parquet.Millisecond, false), pqTimeMillis, nil
		}
		return parquet.Leaf(parquet.Int32Type), pqInt, nil
	case avro.Long:
		switch lt {
		case avro.TimestampMillis:
			return parquet.Timestamp(parquet.Millisecond), pqMillis, nil
		case avro.TimestampMicros:
			return parquet.Timestamp(parquet.Microsecond), pqMicros, nil
		case avro.LocalTimestampMillis:
			return parquet.TimestampAdjusted(parquet.Millisecond, false), pqMillis, nil
		case avro.LocalTimestampMicros:
			return parquet.TimestampAdjusted(parquet.Microsecond, false), pqMicros, nil
		case avro.TimeMicros:
			return parquet.TimeAdjusted(parquet.Microsecond, false), pqTimeMicros, nil
		}
		return parquet.Leaf(parquet.Int64Type), pqLong, nil
	case avro.Float:
		return parquet.Leaf(parquet.FloatType), pqFloat, nil
	case avro.Double:
		return parquet.Leaf(parquet.DoubleType), pqDouble, nil
	case avro.String:
		if lt == avro.UUID {
			return parquet.UUID(), pqUUID, nil
		}
		return parquet.String(), pqString, nil
	case avro.Bytes:
		return parquet.Leaf(parquet.ByteArrayType), pqBytes, nil
	case avro.Enum:
		return parquet.Enum(), pqString, nil
	case avro.Fixed:
		size := s.(*avro.FixedSchema).Size()
		return parquet.Leaf(parquet.FixedLenByteArrayType(size)), pqFixed(size), nil
	}
	return nil, nil, fmt.Errorf("avro type %s has no parquet mapping", s.Type())
}

// pqDecimal picks the physical type the Parquet spec recommends for a
// precision: INT32 up to 9 digits, INT64 up to 18, else a fixed-length
// array (of the Avro fixed size when there is one).
func pqDecimal(precision, scale, fixedSize int) (parquet.Node, pqLeafFunc, error) {
	if precision < 1 || scale < 0 || scale > precision {
		return nil, nil, fmt.Errorf("invalid decimal(%d,%d)", precision, scale)
	}
	switch {
	case precision <= 9:
		node := parquet.Decimal(scale, precision, parquet.Int32Type)
		return node, func(_ *pqRowBuilder, v any) (parquet.Value, error) {
			n, err := decimalUnscaled(v, scale, precision)
			return parquet.Int32Value(int32(n)), err
		}, nil
	case precision <= 18:
		node := parquet.Decimal(scale, precision, parquet.Int64Type)
		return node, func(_ *pqRowBuilder, v any) (parquet.Value, error) {
			n, err := decimalUnscaled(v, scale, precision)
			return parquet.Int64Value(n), err
		}, nil
	}
	size := fixedSize
	if size == 0 {
		size = decimalBytes(precision)
	}
	node := parquet.Decimal(scale, precision, parquet.FixedLenByteArrayType(size))
	return node, func(b *pqRowBuilder, v any) (parquet.Value, error) {
		r, ok := v.(*big.Rat)
		if !ok {
			return parquet.Value{}, typeError("decimal (*big.Rat)", v)
		}
		start := len(b.arena)
		var err error
		if b.arena, err = appendDecimalBytes(b.arena, r, scale, size); err != nil {
			return parquet.Value{}, err
		}
		return parquet.FixedLenByteArrayValue(b.arena[start:]), nil
	}, nil
}

// decimalBytes is the smallest two's-complement width that holds every
// value of the precision.
func decimalBytes(precision int) int {
	n := 1
	for float64(8*n-1)*math.Log10(2) < float64(precision) {
		n++
	}
	return n
}

// decimalUnscaled returns the unscaled int64 of a decimal of at most 18
// digits, checking it fits the precision.
func decimalUnscaled(v any, scale, precision int) (int64, error) {
	r, ok := v.(*big.Rat)
	if !ok {
		return 0, typeError("decimal (*big.Rat)", v)
	}
	n, fits, err := decimalInt64(r, scale)
	if err != nil {
		return 0, err
	}
	limit := pow10[precision]
	if !fits || n >= limit || n <= -limit {
		return 0, fmt.Errorf("decimal %s exceeds precision %d", r.FloatString(scale), precision)
	}
	return n, nil
}

func pqBool(_ *pqRowBuilder, v any) (parquet.Value, error) {
	b, ok := v.(bool)
	if !ok {
		return parquet.Value{}, typeError("boolean", v)
	}
	return parquet.BooleanValue(b), nil
}

func pqInt(_ *pqRowBuilder, v any) (parquet.Value, error) {
	n, err := asInt32(v)
	return parquet.Int32Value(n), err
}

func pqLong(_ *pqRowBuilder, v any) (parquet.Value, error) {
	n, ok := asInt64(v)
	if !ok {
		return parquet.Value{}, typeError("long", v)
	}
	return parquet.Int64Value(n), nil
}

func pqFloat(_ *pqRowBuilder, v any) (parquet.Value, error) {
	switch f := v.(type) {
	case float32:
		return parquet.FloatValue(f), nil
	case float64:
		return parquet.FloatValue(float32(f)), nil
	}
	return parquet.Value{}, typeError("float", v)
}

func pqDouble(_ *pqRowBuilder, v any) (parquet.Value, error) {
	switch f := v.(type) {
	case float64:
		return parquet.DoubleValue(f), nil
	case float32:
		return parquet.DoubleValue(float64(f)), nil
	}
	return parquet.Value{}, typeError("double", v)
}

// pqString points the value at the string's bytes without copying them:
// strings are immutable, and the writer copies the bytes into its column
// buffer before the row is released.
func pqString(_ *pqRowBuilder, v any) (parquet.Value, error) {
	s, ok := v.(string)
	if !ok {
		return parquet.Value{}, typeError("string", v)
	}
	return pqStringValue(s), nil
}

func pqStringValue(s string) parquet.Value {
	return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// pqBytes copies the bytes: unlike a string, a []byte may be changed by the
// caller after Write returns, and rows are written in batches.
func pqBytes(b *pqRowBuilder, v any) (parquet.Value, error) {
	p, ok := v.([]byte)
	if !ok {
		return parquet.Value{}, typeError("bytes", v)
	}
	start := len(b.arena)
	b.arena = append(b.arena, p...)
	return parquet.ByteArrayValue(b.arena[start:len(b.arena):len(b.arena)]), nil
}

func pqFixed(size int) pqLeafFunc {
	return func(b *pqRowBuilder, v any) (parquet.Value, error) {
		p, err := fixedBytes(v, size)
		if err != nil {
			return parquet.Value{}, err
		}
		start := len(b.arena)
		b.arena = append(b.arena, p...)
		return parquet.FixedLenByteArrayValue(b.arena[start:len(b.arena):len(b.arena)]), nil
	}
}

func pqUUID(b *pqRowBuilder, v any) (parquet.Value, error) {
	s, ok := v.(string)
	if !ok {
		return parquet.Value{}, typeError("uuid string", v)
	}
	start := len(b.arena)
	var err error
	if b.arena, err = appendUUID(b.arena, s); err != nil {
		return parquet.Value{}, err
	}
	return parquet.FixedLenByteArrayValue(b.arena[start:len(b.arena):len(b.arena)]), nil
}

func pqDate(_ *pqRowBuilder, v any) (parquet.Value, error) {
	t, ok := v.(time.Time)
	if !ok {
		return parquet.Value{}, typeError("date (time.Time)", v)
	}
	return parquet.Int32Value(int32(epochDays(t))), nil
}

func pqMillis(_ *pqRowBuilder, v any) (parquet.Value, error) {
	t, ok := v.(time.Time)
	if !ok {
		return parquet.Value{}, typeError("timestamp (time.Time)", v)
	}
	return parquet.Int64Value(t.UnixMilli()), nil
}

func pqMicros(_ *pqRowBuilder, v any) (parquet.Value, error) {
	t, ok := v.(time.Time)
	if !ok {
		return parquet.Value{}, typeError("timestamp (time.Time)", v)
	}
	return parquet.Int64Value(t.UnixMicro()), nil
}

func pqTimeMillis(_ *pqRowBuilder, v any) (parquet.Value, error) {
	d, ok := v.(time.Duration)
	if !ok {
		return parquet.Value{}, typeError("time (time.Duration)", v)
	}
	return parquet.Int32Value(int32(d.Milliseconds())), nil
}

func pqTimeMicros(_ *pqRowBuilder, v any) (parquet.Value, error) {
	d, ok := v.(time.Duration)
	if !ok {
		return parquet.Value{}, typeError("time (time.Duration)", v)
	}
	return parquet.Int64Value(d.Microseconds()), nil
}

// pqRowBuilder turns generic values into parquet rows.
type pqRowBuilder struct {
	row   parquet.Row
	arena []byte // bytes the values of the current batch point into
	keys  []string
}

// write appends the values of v, the value of n, to b.row. r is the
// repetition level of the node's first value.
func (b *pqRowBuilder) write(n *pqNode, v any, r int) error {
	if v == nil {
		if !n.optional {
			return fmt.Errorf("field %s: null in a non-nullable field", n.path)
		}
		b.nulls(n, r, n.def-1)
		return nil
	}
	if n.optional && n.kind != pqLeaf {
		v = unwrapUnion(v, n.branch)
	}
	switch n.kind {
	case pqLeaf:
		val, err := n.leaf(b, v)
		if err != nil {
			if n.optional {
				// hamba's wrapped form of a nullable union, rarely seen.
				if inner := unwrapUnion(v, n.branch); inner != v {
					return b.write(n, inner, r)
				}
			}
			return fmt.Errorf("field %s: %w", n.path, err)
		}
		b.row = append(b.row, val.Level(r, n.def, n.col))
	case pqRecord:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("field %s: %w", n.path, typeError("record (map[string]any)", v))
		}
		for i := range n.fields {
			f := &n.fields[i]
			fv := m[f.name]
			// Flat fields are the common case: handle them without the
			// recursive call.
			if fn := f.node; fn.kind == pqLeaf && (fv != nil || fn.optional) {
				if fv == nil {
					b.row = append(b.row, parquet.NullValue().Level(r, fn.def-1, fn.col))
					continue
				}
				if val, err := fn.leaf(b, fv); err == nil {
					b.push(val, r, fn.def, fn.col)
					continue
				}
			}
			if err := b.write(f.node, fv, r); err != nil {
				return err
			}
		}
	case pqList:
		items, ok := v.([]any)
		if !ok {
			return fmt.Errorf("field %s: %w", n.path, typeError("array ([]any)", v))
		}
		if len(items) == 0 {
			b.nulls(n, r, n.def)
			return nil
		}
		for i, item := range items {
			if i > 0 {
				r = n.rep
			}
			if err := b.write(n.elem, item, r); err != nil {
				return err
			}
		}
	case pqMap:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("field %s: %w", n.path, typeError("map (map[string]any)", v))
		}
		if len(m) == 0 {
			b.nulls(n, r, n.def)
			return nil
		}
		// Sorted keys keep files identical however Go iterates the map.
		start := len(b.keys)
		for k := range m {
			b.keys = append(b.keys, k)
		}
		keys := b.keys[start:]
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				r = n.rep
			}
			b.row = append(b.row, pqStringValue(k).Level(r, n.key.def, n.key.col))
			if err := b.write(n.elem, m[k], r); err != nil {
				return err
			}
		}
		b.keys = b.keys[:start]
	}
	return nil
}

// push appends val at levels (r, d) in column col. The setters inline
// where Value.Level does not, which matters once per value.
func (b *pqRowBuilder) push(val parquet.Value, r, d, col int) {
	b.row = append(b.row, val)
	p := &b.row[len(b.row)-1]
	p.SetRepetitionLevel(r)
	p.SetDefinitionLevel(d)
	p.SetColumnIndex(col)
}

// nulls appends a null at levels (r, d) for every leaf below n.
func (b *pqRowBuilder) nulls(n *pqNode, r, d int) {
	for col := n.first; col <= n.last; col++ {
		b.row = append(b.row, parquet.NullValue().Level(r, d, col))
	}
}

// pqBatchRows is how many rows go to the parquet writer per WriteRows call:
// enough to spread its per-call cost, few enough to keep the batch small.
const pqBatchRows = 128

// parquetWriter writes one Parquet file.
//
// Memory stays near the buffer bound: column pages are sized so that all
// columns' open pages take at most a quarter of it, and the row group is
// flushed to w whenever what the writer buffers passes half of it. Both
// decisions depend only on the rows written, so files stay reproducible.
type parquetWriter struct {
	plan    *pqPlan
	pw      *parquet.Writer
	b       pqRowBuilder
	rows    []parquet.Row
	n       int
	limit   int64
	flushed int64 // pw.Size() right after the last row group flush
	err     error
}

func newParquetWriter(w io.Writer, plan *pqPlan, codec compress.Codec, maxBuf int) *parquetWriter {
	page := maxBuf / (4 * plan.cols)
	page = min(max(page, 4<<10), parquet.DefaultPageBufferSize)
	pw := parquet.NewWriter(w, plan.schema,
		parquet.Compression(codec),
		parquet.PageBufferSize(page),
		parquet.WriteBufferSize(min(maxBuf/8, parquet.DefaultWriteBufferSize)),
	)
	pqw := &parquetWriter{
		plan:  plan,
		pw:    pw,
		rows:  make([]parquet.Row, pqBatchRows),
		limit: int64(maxBuf / 2),
	}
	for i := range pqw.rows {
		pqw.rows[i] = make(parquet.Row, 0, plan.cols)
	}
	return pqw
}

func (w *parquetWriter) Write(r *connectors.Record) error {
	if w.err != nil {
		return w.err
	}
	b := &w.b
	b.row = w.rows[w.n][:0]
	if err := b.write(w.plan.root, r.Value, 0); err != nil {
		return fmt.Errorf("encode record %s: %w", r.Position(), err)
	}
	if c := w.plan.metaCol; c >= 0 {
		b.row = append(b.row,
			pqStringValue(r.Topic).Level(0, 0, c),
			parquet.Int32Value(r.Partition).Level(0, 0, c+1),
			parquet.Int64Value(r.Offset).Level(0, 0, c+2),
			parquet.Int64Value(r.Timestamp.UnixMilli()).Level(0, 0, c+3),
		)
	}
	if w.plan.nested {
		slices.SortStableFunc(b.row, func(x, y parquet.Value) int { return x.Column() - y.Column() })
	}
	w.rows[w.n] = b.row
	w.n++
	if w.n == len(w.rows) {
		return w.flushRows()
	}
	return nil
}

// flushRows hands the batch to the parquet writer, then flushes the row
// group once it has grown past the limit.
func (w *parquetWriter) flushRows() error {
	if w.n == 0 {
		return nil
	}
	_, err := w.pw.WriteRows(w.rows[:w.n])
	for i := range w.rows[:w.n] {
		w.rows[i] = w.rows[i][:0]
	}
	w.n = 0
	w.b.arena = w.b.arena[:0]
	if err != nil {
		w.err = fmt.Errorf("write parquet rows: %w", err)
		return w.err
	}
	if size := w.pw.Size(); size-w.flushed >= w.limit {
		if err := w.pw.Flush(); err != nil {
			w.err = fmt.Errorf("flush parquet row group: %w", err)
			return w.err
		}
		w.flushed = w.pw.Size()
	}
	return nil
}

func (w *parquetWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.flushRows(); err != nil {
		return err
	}
	if err := w.pw.Close(); err != nil {
		w.err = fmt.Errorf("close parquet file: %w", err)
		return w.err
	}
	w.err = errors.New("parquet writer is closed")
	return nil
}

// ReadPositions reads the three coordinate columns chunk by chunk, without
// decoding the rest of the file.
func (parquetFormat) ReadPositions(r io.ReaderAt, size int64) ([]Position, error) {
	f, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("open parquet file: %w", err)
	}
	var cols [3]int
	for i, name := range []string{KafkaTopicField, KafkaPartitionField, KafkaOffsetField} {
		leaf, ok := f.Schema().Lookup(name)
		if !ok {
			return nil, fmt.Errorf("parquet column %s: %w", name, ErrNoKafkaMetadata)
		}
		cols[i] = leaf.ColumnIndex
	}

	out := make([]Position, f.NumRows())
	var base int64
	for _, rg := range f.RowGroups() {
		chunks := rg.ColumnChunks()
		i := base
		err := readColumn(chunks[cols[0]], func(v parquet.Value) {
			out[i].Topic = string(v.ByteArray())
			i++
		})
		if err == nil {
			i = base
			err = readColumn(chunks[cols[1]], func(v parquet.Value) {
				out[i].Partition = v.Int32()
				i++
			})
		}
		if err == nil {
			i = base
			err = readColumn(chunks[cols[2]], func(v parquet.Value) {
				out[i].Offset = v.Int64()
				i++
			})
		}
		if err != nil {
			return nil, err
		}
		base += rg.NumRows()
	}
	return out, nil
}

// readColumn calls fn with each value of a required flat column chunk.
func readColumn(chunk parquet.ColumnChunk, fn func(parquet.Value)) error {
	pages := chunk.Pages()
	defer pages.Close()
	buf := make([]parquet.Value, 1024)
	for {
		page, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read parquet page: %w", err)
		}
		values := page.Values()
		for {
			n, err := values.ReadValues(buf)
			for _, v := range buf[:n] {
				fn(v)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				parquet.Release(page)
				return fmt.Errorf("read parquet values: %w", err)
			}
		}
		parquet.Release(page)
	}
}

// pqGroup is a Parquet group that keeps its fields in the order given.
// parquet.Group is a map and sorts its fields by name; files written from
// it would list columns alphabetically instead of in Avro field order.
type pqGroup struct {
	fields []parquet.Field
	byName parquet.Group // the same fields, for the methods order does not affect
}

func newPQGroup(fields []pqGroupField) *pqGroup {
	g := &pqGroup{byName: make(parquet.Group, len(fields))}
	for _, f := range fields {
		// A one-field parquet.Group makes the parquet.Field for us, with the
		// reflection-based Value method parquet-go expects.
		g.fields = append(g.fields, parquet.Group{f.name: f.node}.Fields()[0])
		g.byName[f.name] = f.node
	}
	return g
}

type pqGroupField struct {
	name string
	node parquet.Node
}

func (g *pqGroup) ID() int                     { return 0 }
func (g *pqGroup) String() string              { return g.byName.String() }
func (g *pqGroup) Type() parquet.Type          { return g.byName.Type() }
func (g *pqGroup) Optional() bool              { return false }
func (g *pqGroup) Repeated() bool              { return false }
func (g *pqGroup) Required() bool              { return true }
func (g *pqGroup) Leaf() bool                  { return false }
func (g *pqGroup) Fields() []parquet.Field     { return g.fields }
func (g *pqGroup) Encoding() encoding.Encoding { return nil }
func (g *pqGroup) Compression() compress.Codec { return nil }
func (g *pqGroup) GoType() reflect.Type        { return g.byName.GoType() }
