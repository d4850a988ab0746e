package loader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/internal/bookings"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/actions"
)

// ErrRejected is wrapped by the error Load returns when rows were rejected.
var ErrRejected = errors.New("rows rejected")

// Producer settings, chosen by measuring loads of the dataset into a local
// broker: batches fill to about 1 MiB within a few milliseconds, enough
// records are buffered to keep several batches per partition in flight, and
// compression is off because lz4 and snappy cost more CPU than they saved
// there. ClientOptions can change any of them.
const (
	linger             = 5 * time.Millisecond
	batchMaxBytes      = 1 << 20
	maxBufferedRecords = 100_000
)

// Result reports what a load did.
type Result struct {
	// Produced counts the records the brokers acknowledged.
	Produced int64
	// Rejected counts the rows that could not become a Booking.
	Rejected int
	// Elapsed is the time from the schema's registration to the last
	// acknowledgement.
	Elapsed time.Duration
	// SchemaID is the registry id of the Booking schema the values carry.
	SchemaID int
}

// Subject returns the registry subject of the values of topic, following
// the topic name strategy: "<topic>-value".
func Subject(topic string) string { return topic + "-value" }

// Load reads bookings CSV from src and produces one Booking action per row
// to cfg.Topic, then waits until the brokers have acknowledged every record.
//
// A bad row is logged with its line, counted and skipped; the load goes on,
// and Load returns an error wrapping ErrRejected at the end. With Repeat
// above 1, src is read into memory once and parsed again for every copy;
// the bad rows of later copies are skipped without being logged or counted
// again. A record the brokers fail stops the reading: Load waits for the
// records in flight and returns an error that counts the failed ones. When
// ctx is cancelled, records not yet sent are failed and Load returns the
// context's error. Result is filled in whatever the error.
func Load(ctx context.Context, cfg Config, src io.Reader) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, fmt.Errorf("load bookings: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	schema, err := avro.Parse(actions.Booking)
	if err != nil {
		return Result{}, fmt.Errorf("parse booking schema: %w", err)
	}

	start := time.Now()
	registered, err := cfg.Registry.Register(ctx, Subject(cfg.Topic), actions.Booking)
	if err != nil {
		return Result{}, fmt.Errorf("register booking schema under %s: %w", Subject(cfg.Topic), err)
	}
	res := Result{SchemaID: registered.ID}

	cl, err := kgo.NewClient(clientOptions(cfg)...)
	if err != nil {
		return res, fmt.Errorf("create kafka client: %w", err)
	}
	defer cl.Close()
	if err := ensureTopic(ctx, cl, cfg, log); err != nil {
		return res, err
	}

	copies := max(cfg.Repeat, 1)
	var data []byte
	if copies > 1 {
		if data, err = io.ReadAll(src); err != nil {
			return res, fmt.Errorf("read bookings: %w", err)
		}
	}
	log.Info("load bookings", "topic", cfg.Topic, "schema_id", res.SchemaID, "copies", copies)

	p := newProducer(cl, schema, res.SchemaID, cfg.Limit, log, newProgress(cfg.Progress))
	p.byID = cfg.Key == KeyActionID
	for rep := 0; rep < copies && !p.done(); rep++ {
		in := src
		if data != nil {
			in = bytes.NewReader(data)
		}
		if err = p.produceCopy(ctx, in, rep); err != nil {
			err = fmt.Errorf("load bookings into %s: %w", cfg.Topic, err)
			break
		}
	}
	if ferr := p.flush(ctx); err == nil {
		err = ferr
	}

	res.Produced = p.acked.Load()
	res.Rejected = p.rejected
	res.Elapsed = time.Since(start)
	p.progress.finish(res)
	log.Info("bookings loaded", "topic", cfg.Topic, "produced", res.Produced,
		"rejected", res.Rejected, "elapsed", res.Elapsed.Round(time.Millisecond),
		"records_per_second", int64(float64(res.Produced)/res.Elapsed.Seconds()))
	if err != nil {
		return res, err
	}
	if res.Rejected > 0 {
		return res, fmt.Errorf("load bookings into %s: %d %w, see the log for their lines",
			cfg.Topic, res.Rejected, ErrRejected)
	}
	return res, nil
}

func clientOptions(cfg Config) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.ProducerLinger(linger),
		kgo.ProducerBatchMaxBytes(batchMaxBytes),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		// The idempotent producer and acks=all are franz-go's defaults.
		kgo.MaxBufferedRecords(maxBufferedRecords),
	}
	return append(opts, cfg.ClientOptions...)
}

// producer encodes bookings and hands them to the client. Its fields are
// used by the loading goroutine only, except those the promise touches,
// which are atomic or under mu.
type producer struct {
	cl       *kgo.Client
	schema   avro.Schema
	schemaID int
	limit    int
	log      *slog.Logger
	progress *progress

	byID     bool              // key by action_id rather than by hotel
	hotels   map[string][]byte // the hotel keys, made once each
	w        *avro.Writer
	booking  bookings.Booking
	values   slab[byte]
	records  slab[kgo.Record]
	read     int
	rejected int

	acked  atomic.Int64
	failed atomic.Int64
	mu     sync.Mutex
	first  error // the first produce error, under mu
}

func newProducer(
	cl *kgo.Client, schema avro.Schema, id, limit int, log *slog.Logger, pr *progress,
) *producer {
	return &producer{
		cl: cl, schema: schema, schemaID: id, limit: limit, log: log, progress: pr,
		hotels:  map[string][]byte{},
		w:       avro.NewWriter(nil, 512),
		values:  slab[byte]{size: 1 << 20},
		records: slab[kgo.Record]{size: 1024},
	}
}

// done reports whether the load must stop reading: the limit is reached or
// a record failed.
func (p *producer) done() bool {
	return (p.limit > 0 && p.read >= p.limit) || p.failed.Load() > 0
}

// produceCopy produces every row of one copy of the dataset.
func (p *producer) produceCopy(ctx context.Context, src io.Reader, rep int) error {
	r, err := bookings.NewReader(src)
	if err != nil {
		return err
	}
	r.Repetition = rep
	for !p.done() {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, err := r.ReadBooking(&p.booking)
		if err == io.EOF {
			return nil
		}
		p.read++
		var rowErr *bookings.RowError
		if errors.As(err, &rowErr) {
			if rep == 0 {
				p.reject(rowErr)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("read bookings: %w", err)
		}
		if err := p.produce(ctx); err != nil {
			if rep == 0 {
				p.reject(&bookings.RowError{Line: line, Err: err})
			}
			continue
		}
		if p.read%1024 == 0 {
			p.progress.update(p.acked.Load())
		}
	}
	return nil
}

func (p *producer) reject(err *bookings.RowError) {
	p.rejected++
	p.log.Warn("reject booking", "line", err.Line, "err", err)
}

// produce encodes the current booking and hands it to the client. The value
// and the record come from slabs, so most records cost no allocation.
func (p *producer) produce(ctx context.Context) error {
	b := &p.booking
	p.w.Reset(nil)
	p.w.Error = nil
	p.w.WriteVal(p.schema, b)
	if p.w.Error != nil {
		return fmt.Errorf("encode booking: %w", p.w.Error)
	}
	body := p.w.Buffer()
	value := schemas.AppendWire(p.values.take(schemas.WireHeaderSize + len(body))[:0],
		p.schemaID, body)

	rec := p.records.one()
	if p.byID {
		rec.Key = append(p.values.take(len(b.ActionID))[:0], b.ActionID...)
	} else {
		key, ok := p.hotels[b.Hotel]
		if !ok {
			key = []byte(b.Hotel)
			p.hotels[b.Hotel] = key
		}
		rec.Key = key
	}
	rec.Value = value
	rec.Timestamp = b.EventTime
	p.cl.Produce(ctx, rec, p.promise)
	return nil
}

// promise runs on the client's goroutines once a record is acknowledged or
// has failed.
func (p *producer) promise(_ *kgo.Record, err error) {
	if err == nil {
		p.acked.Add(1)
		return
	}
	if p.failed.Add(1) == 1 {
		p.mu.Lock()
		p.first = err
		p.mu.Unlock()
	}
}

// flush waits for every record handed to the client. When ctx ends first,
// it fails the records still buffered so that none is left unaccounted for.
func (p *producer) flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		if aerr := p.cl.AbortBufferedRecords(context.Background()); aerr != nil {
			return fmt.Errorf("abort buffered records: %w", aerr)
		}
		return fmt.Errorf("flush bookings: %w", err)
	}
	if n := p.failed.Load(); n > 0 {
		p.mu.Lock()
		first := p.first
		p.mu.Unlock()
		return fmt.Errorf("produce bookings: %d records not acknowledged, the first because: %w",
			n, first)
	}
	return nil
}

// slab hands out pieces of large allocations, so that values and records
// cost an allocation per slab rather than per record. A piece is never
// handed out twice; a slab is garbage once every piece is.
type slab[T any] struct {
	size int
	free []T
}

// take returns a piece of n elements.
func (s *slab[T]) take(n int) []T {
	if len(s.free) < n {
		s.free = make([]T, max(s.size, n))
	}
	piece := s.free[:n:n]
	s.free = s.free[n:]
	return piece
}

// one returns a pointer to a single zeroed element.
func (s *slab[T]) one() *T { return &s.take(1)[0] }
