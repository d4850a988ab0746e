package storage

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// Connector is a storage SinkConnector over the Store that NewStore builds.
// Back ends (connectors/s3, connectors/file) fill it in.
type Connector struct {
	// Keys validates the back end's own keys.
	Keys func(config map[string]string) []connectors.FieldError
	// Def declares the back end's own keys; ConfigDef adds the storage
	// keys every back end shares.
	Def connectors.ConfigDef
	// NewStore opens the store a task writes to.
	NewStore func(ctx context.Context, config map[string]string) (Store, error)
}

// Validate implements connectors.SinkConnector.
func (c *Connector) Validate(config map[string]string) []connectors.FieldError {
	_, errs := ParseConfig(config)
	if c.Keys != nil {
		errs = append(errs, c.Keys(config)...)
	}
	errs = append(errs, topicRenames(config)...)
	if schemalessValues(config) {
		errs = append(errs, connectors.FieldError{Key: KeyFormatClass, Message: "every " +
			"format writes records with a schema, and JsonConverter with " +
			"value.converter.schemas.enable=false reads values without one; produce " +
			"{\"schema\": ..., \"payload\": ...} envelopes with schemas.enable=true, or " +
			"Avro in the Confluent wire format"})
	}
	return errs
}

// topicRenames reports the transforms of config that rename the topic: the
// sink keeps its segments, plans and object keys per consumed topic
// partition, which a renamed record no longer names.
func topicRenames(config map[string]string) []connectors.FieldError {
	var errs []connectors.FieldError
	for _, alias := range strings.Split(config["transforms"], ",") {
		key := "transforms." + strings.TrimSpace(alias) + ".type"
		class := strings.TrimSpace(config[key])
		switch class[strings.LastIndex(class, ".")+1:] {
		case "RegexRouter", "TimestampRouter":
			errs = append(errs, connectors.FieldError{Key: key, Message: "the storage sinks " +
				"write each record under the topic and partition it was consumed from, " +
				"so a transform that renames the topic cannot be used; topics.dir and " +
				"path.format shape the object keys instead"})
		}
	}
	return errs
}

// schemalessValues reports whether config's value converter reads values
// without a schema: JsonConverter with schemas.enable=false. config is the
// connector's as the worker runs it, with the worker's converter defaults.
func schemalessValues(config map[string]string) bool {
	switch strings.TrimSpace(config["value.converter"]) {
	case "org.apache.kafka.connect.json.JsonConverter", "json":
		return strings.EqualFold(strings.TrimSpace(config["value.converter.schemas.enable"]), "false")
	}
	return false
}

// ConfigDef implements connectors.ConfigDefiner: the back end's keys, then
// those of package storage and its partitioners.
func (c *Connector) ConfigDef() connectors.ConfigDef {
	return connectors.ConfigDef{
		Keys:     slices.Concat(c.Def.Keys, configKeys),
		Prefixes: slices.Clone(c.Def.Prefixes),
	}
}

// TaskConfigs implements connectors.SinkConnector: every task gets the same
// config, and Kafka's group protocol shares the partitions among them.
func (c *Connector) TaskConfigs(config map[string]string, maxTasks int) []map[string]string {
	out := make([]map[string]string, maxTasks)
	for i := range out {
		out[i] = config
	}
	return out
}

// NewTask implements connectors.SinkConnector.
func (c *Connector) NewTask() connectors.SinkTask { return &Task{newStore: c.NewStore} }

// Task is the storage SinkTask. It follows the protocol in the package
// documentation.
type Task struct {
	newStore func(ctx context.Context, config map[string]string) (Store, error)
	store    Store
	cfg      *Config
	log      *slog.Logger
	tc       connectors.SinkTaskContext
	metrics  connectors.SinkMetrics
	spoolDir string
	// spoolLock holds spoolDir for the life of the task, so that no other
	// task takes it for abandoned.
	spoolLock *spoolLock
	parts     map[connectors.TopicPartition]*partitionWriter
	now       func() time.Time
	readable  map[[2]int]bool // schema.compatibility checks by schema ids
}

// partitionWriter is the state of one Kafka partition.
type partitionWriter struct {
	tp       connectors.TopicPartition
	seg      *segment // nil when no segment is open
	pending  *plan    // a plan to re-execute before anything else
	durable  int64    // every record below is in the store; -1 unknown
	next     int64    // records below are replays and skipped; -1 any
	waitFor  int64    // after a rewind, skip until this offset arrives; -1 off
	rotateAt time.Time
}

// segment is an open offset range of one partition and its files.
type segment struct {
	start, last int64
	records     int
	baseTime    time.Time
	files       []*openFile // in creation order, which is deterministic
	index       map[fileID]*openFile
	byPart      map[string][]*openFile // files by output partition, when evolving
	closed      bool                   // files finished; commit under way
	closedAt    time.Time              // when the files were finished
	planned     bool                   // plan created by this task
	plan        *plan
}

type fileID struct {
	partition string
	schema    int
}

// openFile is one data file being written to the spool.
type openFile struct {
	key      string
	records  int
	spool    *os.File
	buf      *bufio.Writer
	w        RecordWriter
	size     int64
	uploaded bool

	// When schema.compatibility is not NONE, records wait in held until the
	// segment ends; part and members say where they go and which schemas
	// they were written with. See evolution.go.
	part    string
	members []*schemas.Schema
	held    []*connectors.Record
}

// Start implements connectors.SinkTask.
func (t *Task) Start(ctx context.Context, tc connectors.SinkTaskContext, config map[string]string) error {
	cfg, errs := ParseConfig(config)
	if len(errs) > 0 {
		return &connectors.ConfigError{Source: tc.Connector, Errors: errs}
	}
	store, err := t.newStore(ctx, config)
	if err != nil {
		return err
	}
	base := cfg.SpoolDir
	if base == "" {
		base = filepath.Join(os.TempDir(), "tributary-spool")
	}
	dir, lock, err := openSpool(base, fmt.Sprintf("%s-%d-", tc.Connector, tc.TaskID))
	if err != nil {
		return err
	}
	t.cfg, t.store, t.tc, t.spoolDir, t.spoolLock = cfg, store, tc, dir, lock
	t.log = tc.Logger
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	t.metrics = tc.Metrics
	if t.metrics == nil {
		t.metrics = connectors.NopSinkMetrics{}
	}
	t.parts = make(map[connectors.TopicPartition]*partitionWriter)
	if t.now == nil {
		t.now = time.Now
	}
	return nil
}

// Open implements connectors.SinkTask: it recovers each partition's position
// from the plans in the store. See "Recovery" in the package documentation.
func (t *Task) Open(ctx context.Context, committed map[connectors.TopicPartition]int64) (map[connectors.TopicPartition]int64, error) {
	resume := make(map[connectors.TopicPartition]int64)
	for tp, c := range committed {
		pw := &partitionWriter{tp: tp, durable: c, next: c, waitFor: -1}
		p, err := t.latestPlan(ctx, tp, c)
		if err != nil {
			return nil, fmt.Errorf("recover %s: %w", tp, err)
		}
		if p != nil {
			pw.pending, pw.durable, pw.next = p, p.Start, p.Start
			resume[tp] = p.Start
			t.log.Info("partition recovered from plan", "topic", tp.Topic, "partition", tp.Partition,
				"committed", c, "resume", p.Start, "plan_last", p.Last)
		}
		t.closePartition(tp)
		t.parts[tp] = pw
	}
	return resume, nil
}

// Put implements connectors.SinkTask. It is safe to call again with the same
// records after it returned a retriable error: records it has taken already
// are skipped.
func (t *Task) Put(ctx context.Context, records []*connectors.Record) error {
	defer t.countSegments()
	for _, r := range records {
		pw := t.parts[r.TopicPartition()]
		if pw == nil {
			return fmt.Errorf("record %s: partition is not open in this task; a transform "+
				"that renames topics (RegexRouter, TimestampRouter) cannot be used with "+
				"this sink", r.Position())
		}
		if pw.waitFor >= 0 {
			if r.Offset != pw.waitFor {
				continue
			}
			pw.waitFor = -1
		}
		if r.Offset < pw.next {
			continue
		}
		if err := t.write(ctx, pw, r); err != nil {
			return err
		}
	}
	return nil
}

// countSegments reports how many segments are open: once per call into
// the task, which is cheaper than on every change.
func (t *Task) countSegments() {
	n := 0
	for _, pw := range t.parts {
		if pw.seg != nil {
			n++
		}
	}
	t.metrics.OpenSegments(n)
}

func (t *Task) write(ctx context.Context, pw *partitionWriter, r *connectors.Record) error {
	if pw.seg != nil && pw.seg.closed {
		if err := t.commit(ctx, pw); err != nil {
			return err
		}
		if pw.waitFor >= 0 {
			return nil // the commit adopted another plan and rewound
		}
	}

	if p := pw.pending; p != nil {
		switch {
		case pw.seg == nil && r.Offset != p.Start:
			return fmt.Errorf("re-execute plan %s: first record read is at offset %d", p, r.Offset)
		case r.Offset > p.Last:
			return fmt.Errorf("re-execute plan %s: offset %d read before the plan's last", p, r.Offset)
		}
		if err := t.append(pw, r, nil); err != nil {
			return err
		}
		if r.Offset == p.Last {
			return t.commit(ctx, pw)
		}
		return nil
	}

	var recTime *time.Time
	if t.cfg.RotateInterval > 0 {
		ts, err := t.cfg.RecordTime(r)
		if err != nil {
			return fmt.Errorf("record %s: %w", r.Position(), err)
		}
		recTime = &ts
		if pw.seg != nil && pw.seg.records > 0 && ts.Sub(pw.seg.baseTime) >= t.cfg.RotateInterval {
			if err := t.commit(ctx, pw); err != nil || pw.waitFor >= 0 {
				return err
			}
		}
	}
	if pw.seg != nil && len(pw.seg.files) >= t.cfg.MaxOpenFiles && t.wouldOpen(pw, r) {
		if err := t.commit(ctx, pw); err != nil || pw.waitFor >= 0 {
			return err
		}
	}

	if err := t.append(pw, r, recTime); err != nil {
		return err
	}
	seg := pw.seg
	if seg.records >= t.cfg.FlushSize || t.scheduleDue(pw) {
		return t.commit(ctx, pw)
	}
	return nil
}

// wouldOpen reports whether r needs a file the open segment lacks.
func (t *Task) wouldOpen(pw *partitionWriter, r *connectors.Record) bool {
	if r.Value == nil || r.ValueSchema == nil {
		return false
	}
	part, err := t.cfg.Partitioner.Partition(r)
	if err != nil {
		return false // append reports it
	}
	if t.evolving() {
		return t.evolvingFile(pw.seg, part, r.ValueSchema) == nil
	}
	_, ok := pw.seg.index[fileID{part, r.ValueSchema.ID}]
	return !ok
}

func (t *Task) scheduleDue(pw *partitionWriter) bool {
	return t.cfg.RotateSchedule > 0 && pw.seg != nil && pw.seg.records > 0 &&
		!t.now().Before(pw.rotateAt)
}

// nextRotation returns the next multiple of rotate.schedule.interval.ms after
// now, counted in the configured time zone, as Confluent's sinks do.
func (t *Task) nextRotation(now time.Time) time.Time {
	_, off := now.In(t.cfg.Location).Zone()
	interval := t.cfg.RotateSchedule.Milliseconds()
	local := now.UnixMilli() + int64(off)*1000
	next := (local/interval+1)*interval - int64(off)*1000
	return time.UnixMilli(next)
}

// append adds r to pw's open segment, opening the segment and the file it
// needs.
func (t *Task) append(pw *partitionWriter, r *connectors.Record, recTime *time.Time) error {
	if pw.seg == nil {
		pw.seg = &segment{start: r.Offset, index: make(map[fileID]*openFile)}
		if recTime != nil {
			pw.seg.baseTime = *recTime
		}
		if t.cfg.RotateSchedule > 0 {
			pw.rotateAt = t.nextRotation(t.now())
		}
	}
	seg := pw.seg
	if r.Value == nil {
		if !t.cfg.IgnoreNulls {
			return fmt.Errorf("record %s: null value (tombstone); set %s=ignore to skip such records",
				r.Position(), KeyNullValues)
		}
		seg.last, pw.next = r.Offset, r.Offset+1
		return nil
	}
	if r.ValueSchema == nil {
		return fmt.Errorf("record %s: value has no schema", r.Position())
	}
	part, err := t.cfg.Partitioner.Partition(r)
	if err != nil {
		return err
	}
	var f *openFile
	if t.evolving() {
		f = t.hold(pw.tp, seg, part, r)
	} else if f, err = t.fileFor(pw.tp, seg, part, r); err != nil {
		return err
	}
	f.records++
	seg.records++
	if seg.records == 1 && recTime != nil {
		seg.baseTime = *recTime
	}
	seg.last, pw.next = r.Offset, r.Offset+1
	return nil
}

// fileFor writes r to the file of seg for its output partition and writer
// schema, opening the file if needed, and returns the file.
func (t *Task) fileFor(
	tp connectors.TopicPartition, seg *segment, part string, r *connectors.Record,
) (*openFile, error) {
	id := fileID{part, r.ValueSchema.ID}
	f := seg.index[id]
	if f == nil {
		var err error
		if f, err = t.newFile(tp, part, r.ValueSchema, r); err != nil {
			return nil, err
		}
		seg.index[id] = f
		seg.files = append(seg.files, f)
	}
	if err := f.w.Write(r); err != nil {
		return nil, fmt.Errorf("write record %s to %s: %w", r.Position(), f.key, err)
	}
	return f, nil
}

// newFile starts the spool file for output partition part whose first
// record is r, written with schema s.
func (t *Task) newFile(
	tp connectors.TopicPartition, part string, s *schemas.Schema, r *connectors.Record,
) (*openFile, error) {
	spool, err := os.CreateTemp(t.spoolDir, "file-*")
	if err != nil {
		return nil, fmt.Errorf("create spool file: %w", err)
	}
	buf := bufio.NewWriterSize(spool, 256<<10)
	w, err := t.cfg.Format.NewWriter(buf, s, WriterOptions{
		KafkaMetadata:  t.cfg.KafkaMetadata,
		Codec:          t.cfg.Codec,
		MaxBufferBytes: t.cfg.BufferBytes,
	})
	if err != nil {
		removeSpool(spool)
		return nil, fmt.Errorf("start file for record %s: %w", r.Position(), err)
	}
	key := dataKey(t.cfg, tp, part, r.Offset)
	return &openFile{key: key, spool: spool, buf: buf, w: w}, nil
}

// finish closes every file of the segment so that it can be uploaded.
func (s *segment) finish() error {
	for _, f := range s.files {
		if err := f.w.Close(); err != nil {
			return fmt.Errorf("close %s: %w", f.key, err)
		}
		if err := f.buf.Flush(); err != nil {
			return fmt.Errorf("flush %s: %w", f.key, err)
		}
		size, err := f.spool.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		f.size = size
	}
	s.closed, s.closedAt = true, time.Now()
	return nil
}

// discard drops the segment's spool files.
func (s *segment) discard() {
	for _, f := range s.files {
		if f.spool != nil {
			removeSpool(f.spool)
		}
	}
	s.files, s.index = nil, nil
}

// rewind asks the runtime to consume pw's partition again from offset, and
// skips what the current batch still holds of it.
func (t *Task) rewind(pw *partitionWriter, offset int64) {
	pw.next, pw.waitFor = offset, offset
	if t.tc.Rewind != nil {
		t.tc.Rewind(pw.tp, offset)
	}
}

// PreCommit implements connectors.SinkTask. It also ends segments whose
// wall-clock rotation is due and resumes interrupted commits.
func (t *Task) PreCommit(ctx context.Context) (map[connectors.TopicPartition]int64, error) {
	out := make(map[connectors.TopicPartition]int64, len(t.parts))
	for tp, pw := range t.parts {
		if pw.seg != nil && pw.pending == nil && (pw.seg.closed || t.scheduleDue(pw)) {
			if err := t.commit(ctx, pw); err != nil {
				return nil, err
			}
		}
		if pw.durable >= 0 {
			out[tp] = pw.durable
		}
	}
	t.countSegments()
	return out, nil
}

// Close implements connectors.SinkTask: buffered records of revoked
// partitions are dropped; their new owner reads them again.
func (t *Task) Close(ctx context.Context, partitions []connectors.TopicPartition) error {
	for _, tp := range partitions {
		t.closePartition(tp)
	}
	t.countSegments()
	return nil
}

func (t *Task) closePartition(tp connectors.TopicPartition) {
	if pw := t.parts[tp]; pw != nil && pw.seg != nil {
		pw.seg.discard()
	}
	delete(t.parts, tp)
}

// Stop implements connectors.SinkTask.
func (t *Task) Stop(ctx context.Context) error {
	for tp := range t.parts {
		t.closePartition(tp)
	}
	if t.metrics != nil {
		t.countSegments()
	}
	if t.spoolDir != "" {
		err := os.RemoveAll(t.spoolDir)
		t.spoolLock.release()
		return err
	}
	return nil
}
