package loader

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"github.com/tributary-io/tributary/internal/bookings"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/actions"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeRegistry hands out one id per distinct schema text and remembers the
// subjects it was asked for.
type fakeRegistry struct {
	mu       sync.Mutex
	subjects []string
	ids      map[string]int
	err      error
}

func (r *fakeRegistry) Register(_ context.Context, subject, text string) (*schemas.Schema, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	s, err := avro.Parse(text)
	if err != nil {
		return nil, err
	}
	if r.ids == nil {
		r.ids = map[string]int{}
	}
	id, ok := r.ids[text]
	if !ok {
		id = 40 + len(r.ids) // not 1, so a hard-coded id would show
		r.ids[text] = id
	}
	r.subjects = append(r.subjects, subject)
	return &schemas.Schema{ID: id, Avro: s, Text: text}, nil
}

func newCluster(t *testing.T) *kfake.Cluster { return newClusterB(t) }

// newClusterB starts a one-broker kfake cluster that stops with the test.
func newClusterB(tb testing.TB) *kfake.Cluster {
	tb.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

// consume reads n records from topic, failing if they do not arrive in
// time or if more arrive.
func consume(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(recs), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("fetch %s/%d: %v", topic, p, err)
		})
		recs = append(recs, fs.Records()...)
	}
	if len(recs) != n {
		t.Fatalf("consumed %d records, want %d", len(recs), n)
	}
	return recs
}

// endOffsets sums the end offsets of topic's partitions.
func endOffsets(t *testing.T, brokers []string, topic string) (sum int64, partitions int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		sum += o.Offset
		partitions++
	})
	return sum, partitions
}

// csvRows reads the first n rows of the embedded dataset in generic form,
// by action id.
func csvRows(t *testing.T, n int) map[string]bookings.Row {
	t.Helper()
	rc, err := bookings.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r, err := bookings.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bookings.Row{}
	for len(rows) < n {
		row, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		rows[row.Value["action_id"].(string)] = row
	}
	return rows
}

// decode checks the wire header of a record value and decodes its body.
func decode(t *testing.T, schema avro.Schema, wantID int, value []byte) map[string]any {
	t.Helper()
	id, body, err := schemas.ParseWire(value)
	if err != nil {
		t.Fatal(err)
	}
	if id != wantID {
		t.Fatalf("schema id %d in the wire header, want %d", id, wantID)
	}
	var v map[string]any
	if err := avro.Unmarshal(schema, body, &v); err != nil {
		t.Fatalf("decode value: %v", err)
	}
	// hamba/avro decodes a union into {"int": 3}; the rows hold it bare.
	for k, x := range v {
		if m, ok := x.(map[string]any); ok && len(m) == 1 {
			for _, inner := range m {
				v[k] = inner
			}
		}
	}
	return v
}

// equalValue compares two values of the generic form.
func equalValue(a, b any) bool {
	switch x := a.(type) {
	case *big.Rat:
		y, ok := b.(*big.Rat)
		return ok && x.Cmp(y) == 0
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	default:
		return a == b
	}
}

func TestLoadFirstRows(t *testing.T) {
	for _, key := range []Key{"", KeyActionID} {
		t.Run("key="+string(key), func(t *testing.T) { testLoadFirstRows(t, key) })
	}
}

func testLoadFirstRows(t *testing.T, key Key) {
	const n = 1000
	c := newCluster(t)
	brokers := c.ListenAddrs()
	reg := &fakeRegistry{}
	rc, err := bookings.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var progress bytes.Buffer

	res, err := Load(context.Background(), Config{
		Brokers: brokers, Topic: "bookings", Partitions: 3, Registry: reg,
		Key: key, Limit: n, Progress: &progress,
	}, rc)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if res.Produced != n || res.Rejected != 0 || res.SchemaID != 40 || res.Elapsed <= 0 {
		t.Errorf("result %+v, want %d produced, none rejected, schema id 40", res, n)
	}
	if len(reg.subjects) != 1 || reg.subjects[0] != "bookings-value" {
		t.Errorf("registered under %v, want [bookings-value]", reg.subjects)
	}
	if got := progress.String(); !strings.HasPrefix(got, "produced 1000 bookings (0 rejected) in ") ||
		strings.Count(got, "\n") != 1 {
		t.Errorf("progress output %q, want one summary line", got)
	}
	if sum, parts := endOffsets(t, brokers, "bookings"); sum != n || parts != 3 {
		t.Errorf("end offsets sum to %d over %d partitions, want %d over 3", sum, parts, n)
	}

	schema := avro.MustParse(actions.Booking)
	want := csvRows(t, n)
	seen := map[string]bool{}
	perPartition := map[int32]int{}
	for _, rec := range consume(t, brokers, "bookings", n) {
		v := decode(t, schema, 40, rec.Value)
		id, _ := v["action_id"].(string)
		row, ok := want[id]
		if !ok || seen[id] {
			t.Fatalf("record %s/%d@%d has unknown or repeated action id %q",
				rec.Topic, rec.Partition, rec.Offset, id)
		}
		seen[id] = true
		wantKey := row.Value["hotel"].(string)
		if key == KeyActionID {
			wantKey = id
		}
		if string(rec.Key) != wantKey {
			t.Errorf("line %d: key %q, want %q", row.Line, rec.Key, wantKey)
		}
		perPartition[rec.Partition]++
		if et := row.Value["event_time"].(time.Time); !rec.Timestamp.Equal(et) {
			t.Errorf("line %d: timestamp %v, want the event time %v", row.Line, rec.Timestamp, et)
		}
		for name, w := range row.Value {
			if !equalValue(v[name], w) {
				t.Errorf("line %d: %s = %#v, want %#v", row.Line, name, v[name], w)
			}
		}
		// Spot checks against the CSV text itself, not only the reader.
		switch row.Line {
		case 2:
			if v["lead_time"] != 342 || v["agent"] != nil || v["country"] != "PRT" {
				t.Errorf("line 2 decoded as %v", v)
			}
		case 20:
			if v["company"] != 110 || v["adr"].(*big.Rat).FloatString(2) != "107.42" {
				t.Errorf("line 20 decoded as %v", v)
			}
		}
	}
	if key != KeyActionID {
		// The first rows are all of one hotel, so of one partition.
		if len(perPartition) != 1 {
			t.Errorf("one hotel's records spread over partitions %v", perPartition)
		}
		return
	}
	// Keyed by a unique id, the records spread over every partition.
	for p := range int32(3) {
		if perPartition[p] < n/6 {
			t.Errorf("partition %d holds %d of %d records: %v", p, perPartition[p], n, perPartition)
		}
	}
}

func TestLoadBadRows(t *testing.T) {
	rc, err := bookings.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	head, err := io.ReadAll(io.LimitReader(rc, 4096))
	if err != nil {
		t.Fatal(err)
	}
	// The header and the first ten rows, with lines 4 and 9 broken.
	lines := strings.SplitN(string(head), "\r\n", 12)[:11]
	lines[3] = strings.Replace(lines[3], ",75,", ",7,5,", 1)
	lines[8] = strings.Replace(lines[8], "July", "Juli", 1)
	in := strings.Join(lines, "\r\n") + "\r\n"

	c := newCluster(t)
	var logs bytes.Buffer
	res, err := Load(context.Background(), Config{
		Brokers: c.ListenAddrs(), Topic: "bad", Registry: &fakeRegistry{},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}, strings.NewReader(in))
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "2 rows rejected") {
		t.Fatalf("error %v, want 2 rows rejected", err)
	}
	if res.Produced != 8 || res.Rejected != 2 {
		t.Errorf("result %+v, want 8 produced and 2 rejected", res)
	}
	for _, want := range []string{
		`line=4 err="line 4: 33 fields, want 32: wrong number of fields"`,
		`line=9 err="line 9: column arrival_date_month: \"Juli\" is not an English month name"`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
	got := map[string]bool{}
	for _, rec := range consume(t, c.ListenAddrs(), "bad", 8) {
		_, body, _ := schemas.ParseWire(rec.Value)
		var v map[string]any
		if err := avro.Unmarshal(avro.MustParse(actions.Booking), body, &v); err != nil {
			t.Fatal(err)
		}
		got[v["action_id"].(string)] = true
	}
	for line := 2; line <= 11; line++ {
		if want := line != 4 && line != 9; got[bookings.ActionID(0, line)] != want {
			t.Errorf("line %d produced: %v, want %v", line, !want, want)
		}
	}
}

func TestLoadRepeat(t *testing.T) {
	rc, err := bookings.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	head, err := io.ReadAll(io.LimitReader(rc, 2048))
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Join(strings.SplitN(string(head), "\r\n", 5)[:4], "\r\n") + "\r\n"

	c := newCluster(t)
	res, err := Load(context.Background(), Config{
		Brokers: c.ListenAddrs(), Topic: "repeat", Registry: &fakeRegistry{}, Repeat: 3,
	}, strings.NewReader(in))
	if err != nil || res.Produced != 9 {
		t.Fatalf("load: %+v, %v; want 9 produced", res, err)
	}
	want := map[string]bool{}
	for rep := range 3 {
		for line := 2; line <= 4; line++ {
			want[bookings.ActionID(rep, line)] = true
		}
	}
	schema := avro.MustParse(actions.Booking)
	leads := map[any]int{}
	for _, rec := range consume(t, c.ListenAddrs(), "repeat", 9) {
		v := decode(t, schema, 40, rec.Value)
		if !want[v["action_id"].(string)] {
			t.Errorf("unexpected or repeated action id %v", v["action_id"])
		}
		delete(want, v["action_id"].(string))
		leads[v["lead_time"]]++
	}
	// Rows 2-4 have lead times 342, 737 and 7: each copy repeats them.
	if leads[342] != 3 || leads[737] != 3 || leads[7] != 3 {
		t.Errorf("lead times %v, want 342, 737 and 7 three times each", leads)
	}
}

func TestLoadProduceFailure(t *testing.T) {
	c := newCluster(t)
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		preq := req.(*kmsg.ProduceRequest)
		resp := preq.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range preq.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			st.TopicID = rt.TopicID // produce v13 and later name topics by id
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
	rc, err := bookings.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	res, err := Load(context.Background(), Config{
		Brokers: c.ListenAddrs(), Topic: "denied", Registry: &fakeRegistry{}, Limit: 100,
	}, rc)
	if !errors.Is(err, kerr.TopicAuthorizationFailed) ||
		!strings.Contains(err.Error(), "not acknowledged") {
		t.Fatalf("error %v, want records not acknowledged for lack of authorization", err)
	}
	if res.Produced != 0 {
		t.Errorf("%d records reported produced, want 0", res.Produced)
	}
}

// TestLoadCancelled cancels the load when the first produce request reaches
// the broker, so that records are in flight and buffered at that moment.
func TestLoadCancelled(t *testing.T) {
	c := newCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		cancel()
		return nil, nil, false // let the broker handle the request as usual
	})
	rc, err := bookings.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	cfg := Config{Brokers: c.ListenAddrs(), Topic: "cancel", Registry: &fakeRegistry{}}
	res, err := Load(ctx, cfg, rc)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if res.Produced >= 119390 {
		t.Errorf("%d records produced after cancellation, want fewer than the dataset",
			res.Produced)
	}
	if sum, _ := endOffsets(t, c.ListenAddrs(), "cancel"); sum != res.Produced {
		t.Errorf("topic holds %d records, the result says %d", sum, res.Produced)
	}
}

func TestLoadRegistryError(t *testing.T) {
	reg := &fakeRegistry{err: errors.New("registry down")}
	_, err := Load(context.Background(), Config{
		Brokers: []string{"127.0.0.1:1"}, Topic: "t", Registry: reg,
	}, strings.NewReader(""))
	want := "register booking schema under t-value: registry down"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := Config{Partitions: -1, Repeat: -2, Limit: -3, ReplicationFactor: -1, Key: "country"}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("no error for an empty config")
	}
	for _, field := range []string{
		"brokers:", "topic:", "partitions:", "replication factor:",
		"registry:", "repeat:", "limit:", `key: "country" is not a key field`,
	} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
	ok := Config{Brokers: []string{"b:9092"}, Topic: "t", Registry: &fakeRegistry{}}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

// TestLoadWarnsOnRetention loads into a topic that exists with a week of
// retention, which would delete bookings stamped 2014-2017.
func TestLoadWarnsOnRetention(t *testing.T) {
	c := newCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	week := "604800000"
	_, err = kadm.NewClient(cl).CreateTopic(context.Background(), 1, 1,
		map[string]*string{"retention.ms": &week}, "weekly")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	_, err = Load(context.Background(), Config{
		Brokers: c.ListenAddrs(), Topic: "weekly", Registry: &fakeRegistry{}, Limit: 10,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}, strings.NewReader(strings.Join(bookings.Columns(), ",")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=WARN msg=\"topic deletes old records") ||
		!strings.Contains(logs.String(), "retention_ms=604800000") {
		t.Errorf("no retention warning in the log:\n%s", logs.String())
	}
}
