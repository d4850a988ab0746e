package worker

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/schemas"
)

func TestIsTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("get schema 7: %w", schemas.ErrRegistryUnavailable), true},
		{fmt.Errorf("produce: %w", kerr.NotEnoughReplicas), true},
		{fmt.Errorf("produce: %w", kerr.LeaderNotAvailable), true},
		{fmt.Errorf("get schema: %w", context.DeadlineExceeded), true},
		{fmt.Errorf("put: %w", connectors.ErrRetriable), true},
		{fmt.Errorf("decode: %w", schemas.ErrBadMagic), false},
		{fmt.Errorf("decode: %w", schemas.ErrUnknownSchema), false},
		{fmt.Errorf("decode: %w", schemas.ErrTruncated), false},
		{fmt.Errorf("decode: %w", schemas.ErrMalformed), false},
		{errors.New("transform m: field x missing"), false},
		{fmt.Errorf("produce: %w", kerr.TopicAuthorizationFailed), false},
	} {
		if got := isTransient(tc.err); got != tc.want {
			t.Errorf("isTransient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestExceptionClass(t *testing.T) {
	if got := exceptionClass(fmt.Errorf("decode: %w", schemas.ErrUnknownSchema)); got !=
		"schemas.ErrUnknownSchema" {
		t.Errorf("class %q", got)
	}
	if got := exceptionClass(fmt.Errorf("a: %w", &kgo.ErrFirstReadEOF{})); got !=
		"*kgo.ErrFirstReadEOF" {
		t.Errorf("class %q", got)
	}
	trace := errorTrace(fmt.Errorf("decode record a/1@2: %w", schemas.ErrBadMagic))
	if want := "*fmt.wrapError: decode record a/1@2: bad magic byte\n" +
		"*errors.errorString: bad magic byte\n"; trace != want {
		t.Errorf("trace %q, want %q", trace, want)
	}
}

// dlqTask is a delivering task of connector "orders-sink" with
// errors.tolerance=all and a dead letter queue on kc, whose clients get
// opts too. A dead letter not delivered within a minute fails the task: the
// limit only bounds a test that fails, however loaded the machine.
func dlqTask(t *testing.T, kc *kfake.Cluster, sink connectors.SinkTask, topic string,
	opts ...kgo.Opt,
) *task {
	t.Helper()
	return dlqTaskWithin(t, kc, sink, topic, time.Minute, opts...)
}

// dlqTaskWithin is dlqTask with a dead letter delivery timeout of its own.
func dlqTaskWithin(t *testing.T, kc *kfake.Cluster, sink connectors.SinkTask, topic string,
	timeout time.Duration, opts ...kgo.Opt,
) *task {
	t.Helper()
	w := New(Options{Brokers: kc.ListenAddrs(), DeadLetterTimeout: timeout, KafkaOpts: opts})
	eh := config.DefaultErrorHandling()
	eh.Tolerance = config.ToleranceAll
	eh.DeadLetterTopic = topic
	eh.ContextHeaders = true
	c := &connector{name: "orders-sink", common: Common{ErrorsTolerance: config.ToleranceAll,
		Errors: eh}}
	tk := newTask(w, c, 2, sink, nil, offsetDecoder{})
	if err := tk.startErrorHandling(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tk.closeDeadLetters)
	return tk
}

// readTopic returns the n first records of topic.
func readTopic(t *testing.T, kc *kfake.Cluster, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: got %d records, want %d", topic, len(out), n)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

func TestDeadLetterQueueHeaders(t *testing.T) {
	kc := newCluster(t)
	sink := &recordingSink{}
	tk := dlqTask(t, kc, sink, "orders-dlq")

	krs := kafkaRecords(10, 3, 7)
	krs[3].Key = []byte("k3")
	krs[3].Headers = []kgo.RecordHeader{{Key: "trace", Value: []byte("t3")}}
	if err := tk.deliver(context.Background(), krs); err != nil {
		t.Fatal(err)
	}
	if len(sink.got) != 8 {
		t.Fatalf("sink got %d records, want 8", len(sink.got))
	}
	if err := settleDLQ(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	got := readTopic(t, kc, "orders-dlq", 2)
	if len(got) != 2 {
		t.Fatalf("dead letters: %d, want 2", len(got))
	}
	first := got[0]
	if string(first.Key) != "k3" || string(first.Value) != "\x01" {
		t.Errorf("dead letter key %q value %q, want the original", first.Key, first.Value)
	}
	h := map[string]string{}
	for _, kh := range first.Headers {
		h[kh.Key] = string(kh.Value)
	}
	want := map[string]string{
		"trace":                                 "t3",
		"__connect.errors.topic":                "actions",
		"__connect.errors.partition":            "3",
		"__connect.errors.offset":               "3",
		"__connect.errors.connector.name":       "orders-sink",
		"__connect.errors.task.id":              "2",
		"__connect.errors.stage":                "VALUE_CONVERTER",
		"__connect.errors.class.name":           "io.confluent.connect.avro.AvroConverter",
		"__connect.errors.exception.class.name": "schemas.ErrBadMagic",
		"__connect.errors.exception.message":    "decode record actions/3@3: bad magic byte",
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("header %s = %q, want %q", k, h[k], v)
		}
	}
	if !strings.Contains(h["__connect.errors.exception.stacktrace"], "bad magic byte") {
		t.Errorf("stacktrace %q", h["__connect.errors.exception.stacktrace"])
	}
	if len(first.Headers) != 12 {
		t.Errorf("%d headers, want the original one, its timestamp and ten context headers",
			len(first.Headers))
	}
	if off := headerOf(got[1], "__connect.errors.offset"); off != "7" {
		t.Errorf("second dead letter is offset %s, want 7", off)
	}
}

// newCluster starts a one-broker kfake cluster for the test.
func newCluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	return kc
}

func headerOf(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// TestDeadLetterHoldsOffsets holds the produce request of a dead letter:
// until it is acknowledged, nothing is committed past the skipped record.
func TestDeadLetterHoldsOffsets(t *testing.T) {
	kc := newCluster(t)
	tk := dlqTask(t, kc, &recordingSink{}, "held-dlq")

	release := make(chan struct{})
	var slept atomic.Bool
	kc.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if slept.CompareAndSwap(false, true) {
			kc.SleepControl(func() { <-release })
		}
		return nil, nil, false
	})
	if err := tk.deliver(context.Background(), kafkaRecords(10, 4)); err != nil {
		t.Fatal(err)
	}
	tp := connectors.TopicPartition{Topic: "actions", Partition: 3}
	other := connectors.TopicPartition{Topic: "actions", Partition: 4}
	if got := tk.held(tp, 10); got != 4 {
		t.Errorf("held offset %d before the ack, want 4", got)
	}
	if got := tk.held(other, 10); got != 10 {
		t.Errorf("another partition held at %d, want 10", got)
	}
	close(release)
	if err := settleDLQ(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	if got := tk.held(tp, 10); got != 10 {
		t.Errorf("held offset %d after the ack, want 10", got)
	}
}

// TestDeadLetterQueueUnreachable refuses every produce: within the delivery
// timeout the task fails naming the queue, and the record's offset stays
// held.
func TestDeadLetterQueueUnreachable(t *testing.T) {
	kc := newCluster(t)
	tk := dlqTaskWithin(t, kc, &recordingSink{}, "denied-dlq", 2*time.Second)
	kc.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		req := kreq.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	if err := tk.deliver(context.Background(), kafkaRecords(6, 2)); err != nil {
		t.Fatal(err)
	}
	err := settleDLQ(context.Background(), tk)
	if err == nil || !strings.Contains(err.Error(),
		"dead letter queue denied-dlq: produce record actions/3@2") {
		t.Fatalf("flush: %v", err)
	}
	tp := connectors.TopicPartition{Topic: "actions", Partition: 3}
	if got := tk.held(tp, 6); got != 2 {
		t.Errorf("held offset %d, want 2", got)
	}
}

// outageDecoder answers registry unavailable for its first failures calls,
// then decodes as offsetDecoder.
type outageDecoder struct {
	failures atomic.Int64
}

func (d *outageDecoder) Decode(ctx context.Context, v []byte) (*schemas.Schema, any, error) {
	if d.failures.Add(-1) >= 0 {
		return nil, nil, fmt.Errorf("get schema 1: %w", schemas.ErrRegistryUnavailable)
	}
	return offsetDecoder{}.Decode(ctx, v)
}

// TestRegistryOutageRetried never dead-letters or skips a record while the
// registry is down: with a retry budget every record reaches the sink.
func TestRegistryOutageRetried(t *testing.T) {
	kc := newCluster(t)
	sink := &recordingSink{}
	tk := dlqTask(t, kc, sink, "outage-dlq")
	tk.retry.timeout = -1 // forever
	dec := &outageDecoder{}
	dec.failures.Store(3)
	tk.dec = dec
	if err := tk.deliver(context.Background(), kafkaRecords(5)); err != nil {
		t.Fatal(err)
	}
	if len(sink.got) != 5 {
		t.Errorf("sink got %d records, want 5", len(sink.got))
	}
	if err := settleDLQ(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	if got := tk.held(connectors.TopicPartition{Topic: "actions", Partition: 3}, 5); got != 5 {
		t.Errorf("held offset %d, want 5: nothing dead-lettered", got)
	}
}

// TestRegistryOutageBudget fails the task, under errors.tolerance=all too,
// once errors.retry.timeout is spent; it skips nothing.
func TestRegistryOutageBudget(t *testing.T) {
	sink := &recordingSink{}
	tk := newDeliverTask(sink)
	tk.c.common.ErrorsTolerance = config.ToleranceAll
	tk.retry.timeout = 50 * time.Millisecond
	dec := &outageDecoder{}
	dec.failures.Store(1 << 40)
	tk.dec = dec
	err := tk.deliver(context.Background(), kafkaRecords(3))
	var re *recordError
	if err == nil || errors.As(err, &re) || !schemas.IsTransient(err) ||
		!strings.Contains(err.Error(), "errors.retry.timeout=50") {
		t.Fatalf("err = %v, want a transient failure past the budget", err)
	}
	if len(sink.got) != 0 {
		t.Errorf("sink got %d records", len(sink.got))
	}

	// An explicit 0, Kafka Connect's default, retries nothing.
	tk = newDeliverTask(&recordingSink{})
	tk.retry.timeout = 0
	tk.dec = dec
	if err := tk.deliver(context.Background(), kafkaRecords(1)); err == nil ||
		!strings.Contains(err.Error(), "errors.retry.timeout=0") {
		t.Fatalf("no budget: %v", err)
	}
}

// TestRegistryOutageDefaultBudget retries without end when
// errors.retry.timeout is unset: the task hands its records back to the
// consumer instead of failing.
func TestRegistryOutageDefaultBudget(t *testing.T) {
	tk := newDeliverTask(&recordingSink{})
	if tk.retry.timeout >= 0 {
		t.Fatalf("default retry timeout %v, want forever", tk.retry.timeout)
	}
	tk.retry.stretch = 20 * time.Millisecond
	dec := &outageDecoder{}
	dec.failures.Store(1 << 40)
	tk.dec = dec
	var rl *retryLater
	if err := tk.deliver(context.Background(), kafkaRecords(1)); !errors.As(err, &rl) {
		t.Fatalf("err = %v, want the records handed back for a later retry", err)
	}
}

// TestRegistryOutageYieldsToPoll hands the records back to the consumer
// once a retry outlasts what one poll may block.
func TestRegistryOutageYieldsToPoll(t *testing.T) {
	sink := &recordingSink{}
	tk := newDeliverTask(sink)
	tk.retry.timeout = -1
	tk.retry.stretch = 20 * time.Millisecond
	dec := &outageDecoder{}
	dec.failures.Store(1 << 40)
	tk.dec = dec
	krs := kafkaRecords(3)
	err := tk.deliver(context.Background(), krs)
	var rl *retryLater
	if !errors.As(err, &rl) || rl.record != krs[0] {
		t.Fatalf("err = %v, want a retry later at the first record", err)
	}
}

// TestErrorsLog logs a skipped record only with errors.log.enable, and its
// key and value only with errors.log.include.messages.
func TestErrorsLog(t *testing.T) {
	for _, tc := range []struct {
		enable, messages bool
		want             []string
		absent           []string
	}{
		{false, false, nil, []string{"record skipped"}},
		{true, false, []string{"record skipped", "offset=1", "stage=VALUE_CONVERTER"},
			[]string{"key=", "value="}},
		{true, true, []string{"record skipped", `key="\"k1\""`, `value="\"\\x01\""`}, nil},
	} {
		var buf bytes.Buffer
		tk := newDeliverTask(&recordingSink{})
		tk.log = slog.New(slog.NewTextHandler(&buf, nil))
		tk.c.common.ErrorsTolerance = config.ToleranceAll
		tk.c.common.Errors.LogEnable = tc.enable
		tk.c.common.Errors.LogMessages = tc.messages
		krs := kafkaRecords(3, 1)
		krs[1].Key = []byte("k1")
		if err := tk.deliver(context.Background(), krs); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("enable=%v messages=%v: log %q lacks %s", tc.enable, tc.messages,
					buf.String(), w)
			}
		}
		for _, a := range tc.absent {
			if strings.Contains(buf.String(), a) {
				t.Errorf("enable=%v messages=%v: log %q has %s", tc.enable, tc.messages,
					buf.String(), a)
			}
		}
	}
}

// TestDeadLetterProducerIdempotent checks that dead letters go through an
// idempotent producer that waits for every in-sync replica, and that the
// broker received them as idempotent batches.
func TestDeadLetterProducerIdempotent(t *testing.T) {
	kc := newCluster(t)
	tk := dlqTask(t, kc, &recordingSink{}, "idempotent-dlq")

	cl := tk.dlq.cl
	if v := cl.OptValue(kgo.DisableIdempotentWrite); v != false {
		t.Errorf("DisableIdempotentWrite = %v, want false", v)
	}
	if v := cl.OptValue(kgo.RequiredAcks); v != kgo.AllISRAcks() {
		t.Errorf("RequiredAcks = %v, want all in-sync replicas", v)
	}
	if v := cl.OptValue(kgo.AllowIdempotentProduceCancellation); v != true {
		t.Errorf("AllowIdempotentProduceCancellation = %v, want true", v)
	}

	if err := tk.deliver(context.Background(), kafkaRecords(10, 3, 7)); err != nil {
		t.Fatal(err)
	}
	if err := settleDLQ(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	for _, r := range readTopic(t, kc, "idempotent-dlq", 2) {
		if r.ProducerID < 0 {
			t.Errorf("dead letter %s written without a producer id: not idempotent",
				headerOf(r, HeaderErrorsOffset))
		}
	}
}

// TestDeadLetterQueueBlackholed never answers a produce request: the
// idempotent producer still gives the dead letter up once its request
// timed out, so the task fails instead of waiting for ever, and the
// record's offset stays held.
func TestDeadLetterQueueBlackholed(t *testing.T) {
	kc := newCluster(t)
	tk := dlqTaskWithin(t, kc, &recordingSink{}, "blackholed-dlq", 2*time.Second,
		kgo.RequestTimeoutOverhead(500*time.Millisecond))
	wake := make(chan struct{})
	defer close(wake)
	kc.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		kc.KeepControl()
		kc.SleepControl(func() { <-wake })
		return nil, nil, true
	})

	if err := tk.deliver(context.Background(), kafkaRecords(6, 2)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := settleDLQ(ctx, tk)
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(),
		"dead letter queue blackholed-dlq: produce record actions/3@2") {
		t.Fatalf("flush: %v", err)
	}
	tp := connectors.TopicPartition{Topic: "actions", Partition: 3}
	if got := tk.held(tp, 6); got != 2 {
		t.Errorf("held offset %d, want 2", got)
	}
}

// leakyDecoder fails every record with an error that quotes a registry URL
// with its password, and a key's password.
type leakyDecoder struct{}

func (leakyDecoder) Decode(context.Context, []byte) (*schemas.Schema, any, error) {
	return nil, nil, fmt.Errorf("schema from http://reader:dlq-pw-8812@registry "+
		"with key key-pw-5521: %w", schemas.ErrBadMagic)
}

// The error headers of a dead letter quote the error as a log line would:
// without the worker's secrets or a URL's password.
func TestDeadLetterHeadersRedacted(t *testing.T) {
	kc := newCluster(t)
	tk := dlqTask(t, kc, &recordingSink{}, "redacted-dlq")
	tk.w.opts.Secrets.Add(map[string]string{"ssl.key.password": "key-pw-5521"}, nil)
	tk.dec = leakyDecoder{}

	if err := tk.deliver(context.Background(), kafkaRecords(2, 1)); err != nil {
		t.Fatal(err)
	}
	if err := settleDLQ(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	got := readTopic(t, kc, "redacted-dlq", 1)[0]
	msg := headerOf(got, HeaderErrorsExcMessage)
	trace := headerOf(got, HeaderErrorsExcTrace)
	if !strings.Contains(msg, "http://reader:[hidden]@registry with key [hidden]") ||
		strings.Contains(msg+trace, "dlq-pw-8812") || strings.Contains(msg+trace, "key-pw-5521") {
		t.Errorf("error headers show the URL's password: message %q, trace %q", msg, trace)
	}
}

// lossyConn loses the answer to the first produce request it carries, once
// the broker has written the batch, and breaks the connection: the
// producer cannot tell whether the batch was written, and retries it.
type lossyConn struct {
	net.Conn
	lost    *atomic.Bool
	mu      sync.Mutex
	out     []byte         // request bytes not yet framed
	produce map[int32]bool // correlation ids of produce requests
	in      []byte         // response bytes framed but not yet read
}

func (c *lossyConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out = append(c.out, p...)
	for len(c.out) >= 12 {
		size := int(binary.BigEndian.Uint32(c.out))
		if len(c.out) < 4+size {
			break
		}
		if int16(binary.BigEndian.Uint16(c.out[4:])) == int16(kmsg.Produce) {
			c.produce[int32(binary.BigEndian.Uint32(c.out[8:]))] = true
		}
		c.out = c.out[4+size:]
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *lossyConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		frame := make([]byte, 8)
		if _, err := io.ReadFull(c.Conn, frame); err != nil {
			return 0, err
		}
		body := make([]byte, int(binary.BigEndian.Uint32(frame))-4)
		if _, err := io.ReadFull(c.Conn, body); err != nil {
			return 0, err
		}
		c.mu.Lock()
		isProduce := c.produce[int32(binary.BigEndian.Uint32(frame[4:]))]
		c.mu.Unlock()
		if isProduce && c.lost.CompareAndSwap(false, true) {
			c.Conn.Close()
			return 0, errors.New("produce response lost")
		}
		c.in = append(frame, body...)
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}

// TestDeadLetterRetryNotDuplicated loses the broker's answer to a written
// dead letter: the producer's retry is deduplicated, so the dead letter
// queue holds each dead letter once.
func TestDeadLetterRetryNotDuplicated(t *testing.T) {
	kc := newCluster(t)
	var lost atomic.Bool
	var d net.Dialer
	dial := func(ctx context.Context, network, host string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, host)
		if err != nil {
			return nil, err
		}
		return &lossyConn{Conn: conn, lost: &lost, produce: map[int32]bool{}}, nil
	}
	tk := dlqTask(t, kc, &recordingSink{}, "lossy-dlq", kgo.Dialer(dial),
		kgo.MetadataMinAge(50*time.Millisecond))

	if err := tk.deliver(context.Background(), kafkaRecords(10, 3, 7)); err != nil {
		t.Fatal(err)
	}
	if err := settleDLQ(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	if !lost.Load() {
		t.Fatal("no produce response was lost")
	}
	got := readTopic(t, kc, "lossy-dlq", 2)
	offsets := map[string]int{}
	for _, r := range got {
		offsets[headerOf(r, HeaderErrorsOffset)]++
	}
	end := kc.PartitionInfo("lossy-dlq", 0)
	if len(got) != 2 || offsets["3"] != 1 || offsets["7"] != 1 || end.HighWatermark != 2 {
		t.Errorf("dead letters %v, high watermark %d: want offsets 3 and 7 once each",
			offsets, end.HighWatermark)
	}
}

// settleDLQ waits for tk's dead letters and returns the first that failed.
func settleDLQ(ctx context.Context, tk *task) error {
	if err := tk.dlq.flush(ctx); err != nil {
		return err
	}
	return tk.dlq.err()
}
