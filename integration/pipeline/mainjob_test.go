//go:build integration

package pipeline

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/s3"
	"github.com/tributary-io/tributary/integration/registrytest"
	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/internal/bookings"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/registry"
)

// newWorker returns an in-process worker against the real services.
func newWorker(t *testing.T, registryURL string) *worker.Worker {
	t.Helper()
	client, err := registry.NewClient([]string{registryURL})
	if err != nil {
		t.Fatal(err)
	}
	return newWorkerWith(t, schemas.NewConverter(client))
}

// newWorkerWith returns an in-process worker that decodes values with conv.
// runToEnd starts connector name with cfg on w, waits until it has
// committed every record of topic, and stops it.
func runToEnd(t *testing.T, ctx context.Context, w *worker.Worker, name, topic string,
	cfg map[string]string) {
	t.Helper()
	must(t, w.Start(ctx, name, cfg))
	waitCommitted(t, "connect-"+name, topic, 3*time.Minute)
	must(t, w.Stop(ctx, name))
}

func newWorkerWith(t *testing.T, conv worker.Decoder) *worker.Worker {
	t.Helper()
	w := worker.New(worker.Options{
		Brokers:        env.KafkaBrokers,
		Plugins:        map[string]connectors.SinkConnector{"s3": s3.NewConnector()},
		NewDecoder:     func(map[string]string) (worker.Decoder, error) { return conv, nil },
		Logger:         slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		CommitInterval: time.Second,
		SessionTimeout: 6 * time.Second,
		SpoolDir:       t.TempDir(),
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = w.Close(ctx)
	})
	return w
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestBookingsToParquetOnMinIO is the main job: all 119,390 bookings through
// Kafka into Parquet on MinIO, partitioned by arrival date, read back by
// DuckDB, with the figures computed from the CSV.
func TestBookingsToParquetOnMinIO(t *testing.T) {
	env = services.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	topic, bucket := newTopic(t, 2), newBucket(t)
	regURL := registrytest.Start(t, env)
	res := loadBookings(t, ctx, topic, regURL, 0)
	if res.Produced != 119390 {
		t.Fatalf("produced %d bookings, want 119390", res.Produced)
	}

	w := newWorker(t, regURL)
	cfg := sinkConfig(topic, bucket, map[string]string{
		"rotate.schedule.interval.ms": "2000", // flushes the tail
	})
	start := time.Now()
	name := connectorName("bookings", topic)
	if err := w.Start(ctx, name, cfg); err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, "connect-"+name, topic, 10*time.Minute)
	t.Logf("sink caught up with 119390 records in %v", time.Since(start))
	if err := w.Stop(ctx, name); err != nil {
		t.Fatal(err)
	}

	rep := verifyBucket(t, topic, bucket)
	if records, rows, _, _ := rep.Totals(); records != 119390 || rows != 119390 {
		t.Fatalf("verify counted %d records and %d rows, want 119390 each", records, rows)
	}

	// Keys follow the layout: topics/<topic>/year=YYYY/month=MM/day=dd/<topic>+<p>+<offset>.parquet
	dir := downloadParquet(t, bucket, "topics/"+topic+"/")
	got := duckdbFigures(t, dir)
	want := bookings.Reference()
	checkFigures(t, got, want)
}

// downloadParquet copies every Parquet object under prefix into a temporary
// directory, keeping the keys' paths, and returns the directory.
func downloadParquet(t *testing.T, bucket, prefix string) string {
	t.Helper()
	mc := minioClient(t)
	dir := t.TempDir()
	n := 0
	for obj := range mc.ListObjects(context.Background(), bucket,
		minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		if !strings.HasSuffix(obj.Key, ".parquet") {
			continue
		}
		if !strings.Contains(obj.Key, "/year=") || !strings.Contains(obj.Key, "/day=") {
			t.Fatalf("object %s is not partitioned by arrival date", obj.Key)
		}
		dst := filepath.Join(dir, filepath.FromSlash(obj.Key))
		if err := mc.FGetObject(context.Background(), bucket, obj.Key, dst, minio.GetObjectOptions{}); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no Parquet objects under s3://%s/%s", bucket, prefix)
	}
	t.Logf("downloaded %d Parquet objects", n)
	return dir
}

// figures is what DuckDB computes over the Parquet files.
type figures struct {
	Rows           int64            `json:"rows"`
	Hotels         map[string]int64 `json:"hotels"`
	Canceled       int64            `json:"canceled"`
	Status         map[string]int64 `json:"status"`
	Years          map[string]int64 `json:"years"`
	ADR            string           `json:"adr"`
	NullChildren   int64            `json:"null_children"`
	NullAgent      int64            `json:"null_agent"`
	NullCompany    int64            `json:"null_company"`
	NullCountry    int64            `json:"null_country"`
	ADRType        string           `json:"adr_type"`
	ArrivalType    string           `json:"arrival_type"`
	EventTimeType  string           `json:"event_time_type"`
	MisfiledByDate int64            `json:"misfiled"`
}

const duckdbScript = `
import duckdb, json, sys
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
src = "read_parquet('%s/**/*.parquet', hive_partitioning=true)" % sys.argv[1]
q = lambda s: con.execute(s.replace("SRC", src)).fetchall()
out = {}
out["rows"] = q("select count(*) from SRC")[0][0]
out["hotels"] = dict(q("select hotel, count(*) from SRC group by 1"))
out["canceled"] = q("select count(*) from SRC where is_canceled = 1")[0][0]
out["status"] = dict(q("select reservation_status, count(*) from SRC group by 1"))
out["years"] = {str(k): v for k, v in q("select year(arrival_date), count(*) from SRC group by 1")}
out["adr"] = str(q("select sum(adr) from SRC")[0][0])
for c in ["children", "agent", "company", "country"]:
    out["null_" + c] = q("select count(*) from SRC where %s is null" % c)[0][0]
types = dict(q("select column_name, column_type from (describe select * from SRC)"))
out["adr_type"] = types["adr"]
out["arrival_type"] = types["arrival_date"]
out["event_time_type"] = types["event_time"]
out["misfiled"] = q("""select count(*) from SRC where strftime(arrival_date, '%Y') != cast(year as varchar)
  or strftime(arrival_date, '%m') != lpad(cast(month as varchar), 2, '0')
  or strftime(arrival_date, '%d') != lpad(cast(day as varchar), 2, '0')""")[0][0]
print(json.dumps(out))
`

func duckdbFigures(t *testing.T, dir string) figures {
	t.Helper()
	var f figures
	runDuckDB(t, duckdbScript, dir, &f)
	return f
}

func checkFigures(t *testing.T, got figures, want *bookings.Summary) {
	t.Helper()
	wantJSON, _ := json.Marshal(want)
	t.Logf("from the CSV: %s", wantJSON)
	check := func(name string, g, w any) {
		if gj, wj := mustJSON(g), mustJSON(w); gj != wj {
			t.Errorf("%s: duckdb says %s, the CSV says %s", name, gj, wj)
		}
	}
	check("rows", got.Rows, int64(want.Rows))
	check("per hotel", got.Hotels, want.Hotels)
	check("canceled", got.Canceled, int64(want.Canceled))
	check("reservation status", got.Status, want.Statuses)
	years := map[string]int{}
	for y, n := range want.ArrivalYears {
		years[strconv.Itoa(y)] = n
	}
	check("arrivals per year", got.Years, years)
	check("sum of adr", got.ADR, want.ADRString())
	check("null children", got.NullChildren, int64(want.Nulls["children"]))
	check("null agent", got.NullAgent, int64(want.Nulls["agent"]))
	check("null company", got.NullCompany, int64(want.Nulls["company"]))
	check("null country", got.NullCountry, int64(want.Nulls["country"]))
	check("adr type", got.ADRType, "DECIMAL(10,2)")
	check("arrival_date type", got.ArrivalType, "DATE")
	check("event_time type", strings.HasPrefix(got.EventTimeType, "TIMESTAMP"), true)
	check("rows in the wrong date partition", got.MisfiledByDate, int64(0))
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
