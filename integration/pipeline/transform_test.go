//go:build integration

package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors/s3"
	"github.com/tributary-io/tributary/connectors/storage"
	"github.com/tributary-io/tributary/integration/registrytest"
	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/internal/verify"
	"github.com/tributary-io/tributary/runtime/config"
)

// transformedBookings is how many bookings TestTransformChain loads.
const transformedBookings = 3000

// TestTransformChain runs the example connector copied from a Kafka Connect
// S3 sink with transforms (configs/connectors/bookings-clean-s3.yaml) over
// real Kafka and MinIO: test records marked with a header, tombstones
// among them, are filtered out at the tail of each partition, the country
// is masked, adr renamed, company dropped and a static field inserted. The
// group still commits the end of the topic, the oracle finds every other
// offset exactly once, and DuckDB reads the transformed columns.
func TestTransformChain(t *testing.T) {
	env = services.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	topic, bucket := newTopic(t, 2), newBucket(t)
	regURL := registrytest.Start(t, env)
	if res := loadBookings(t, ctx, topic, regURL, transformedBookings); res.Produced != transformedBookings {
		t.Fatalf("produced %d bookings", res.Produced)
	}
	filtered := produceTestRecords(t, ctx, topic, 20)

	example, err := config.LoadConnector(filepath.Join("..", "..", "configs", "connectors",
		"bookings-clean-s3.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := example.Config
	for k, v := range map[string]string{
		"topics": topic, "tasks.max": "2", "s3.bucket.name": bucket, "topics.dir": "topics",
		"store.url": "http://" + env.S3Endpoint, "aws.access.key.id": env.S3AccessKey,
		"aws.secret.access.key": env.S3SecretKey, "rotate.schedule.interval.ms": "2000",
		"value.converter.schema.registry.url": regURL,
	} {
		cfg[k] = v
	}

	// The filtered records are the last of each partition: the commit
	// must move past them all the same.
	runToEnd(t, ctx, newWorker(t, regURL), connectorName("clean", topic), topic, cfg)

	rep := verifyFiltered(t, topic, bucket, filtered)
	dropped := len(filtered[0]) + len(filtered[1])
	if records, rows, _, dup := rep.Totals(); records != transformedBookings+dropped ||
		rows != transformedBookings || dup != 0 {
		t.Fatalf("verify: %d records, %d rows, %d duplicated; want %d, %d, 0",
			records, rows, dup, transformedBookings+dropped, transformedBookings)
	}

	got := duckdbTransformed(t, downloadParquet(t, bucket, "topics/"+topic+"/"))
	want := transformedFigures{Rows: transformedBookings, Source: transformedBookings, Unmasked: 0,
		HasADR: false, HasCompany: false, RateType: "DECIMAL(10,2)"}
	want.Masked, want.NullCountry = got.Masked, got.NullCountry // counted below
	if got != want {
		t.Errorf("duckdb: %+v\nwant %+v", got, want)
	}
	if got.Masked == 0 || got.Masked+got.NullCountry != transformedBookings {
		t.Errorf("countries: %d masked, %d null, want all %d one or the other",
			got.Masked, got.NullCountry, transformedBookings)
	}
}

// produceTestRecords appends, to each of the topic's two partitions, n
// copies of loaded booking values and one tombstone, all with the header
// "test" that the example's Filter drops. It returns their offsets.
func produceTestRecords(t *testing.T, ctx context.Context, topic string, n int) map[int32][]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.KafkaBrokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var values [][]byte
	for len(values) < n {
		fs := cl.PollRecords(ctx, n)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) { values = append(values, r.Value) })
	}
	header := []kgo.RecordHeader{{Key: "test", Value: []byte("1")}}
	var recs []*kgo.Record
	for p := int32(0); p < 2; p++ {
		for _, v := range values[:n] {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: v, Headers: header})
		}
		recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Headers: header})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	out := map[int32][]int64{}
	for _, r := range recs {
		out[r.Partition] = append(out[r.Partition], r.Offset)
	}
	return out
}

// verifyFiltered runs the sink oracle and requires that exactly the
// filtered offsets are missing, and none is duplicated or unexpected.
func verifyFiltered(t *testing.T, topic, bucket string, filtered map[int32][]int64) *verify.Report {
	t.Helper()
	format, err := storage.NewFormat("parquet")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := verify.Run(ctx, oracleSource(topic),
		verify.Sink{Store: s3.NewStore(minioClient(t), bucket), TopicsDir: "topics", Format: format})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Partitions {
		t.Logf("partition %d: %d records, %d rows, %d missing (%d filtered), %d duplicated, %d unexpected",
			p.Partition, p.Records, p.Rows, len(p.Missing), len(filtered[p.Partition]),
			len(p.Duplicated), len(p.Unexpected))
		if !slices.Equal(p.Missing, filtered[p.Partition]) {
			t.Errorf("partition %d: missing %v, want exactly the filtered %v",
				p.Partition, p.Missing, filtered[p.Partition])
		}
		if len(p.Duplicated)+len(p.Unexpected) > 0 {
			t.Errorf("partition %d: duplicated %v, unexpected %v", p.Partition, p.Duplicated, p.Unexpected)
		}
	}
	return rep
}

// transformedFigures is what DuckDB reads of the transformed files.
type transformedFigures struct {
	Rows        int    `json:"rows"`
	Source      int    `json:"source"`
	Masked      int    `json:"masked"`
	NullCountry int    `json:"null_country"`
	Unmasked    int    `json:"unmasked"`
	HasADR      bool   `json:"has_adr"`
	HasCompany  bool   `json:"has_company"`
	RateType    string `json:"rate_type"`
}

const duckdbTransformScript = `
import duckdb, json, sys
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
src = "read_parquet('%s/**/*.parquet', hive_partitioning=true)" % sys.argv[1]
q = lambda s: con.execute(s.replace("SRC", src)).fetchall()
types = dict(q("select column_name, column_type from (describe select * from SRC)"))
print(json.dumps({
    "rows": q("select count(*) from SRC")[0][0],
    "source": q("select count(*) from SRC where source = 'tributary'")[0][0],
    "masked": q("select count(*) from SRC where country = '***'")[0][0],
    "null_country": q("select count(*) from SRC where country is null")[0][0],
    "unmasked": q("select count(*) from SRC where country != '***'")[0][0],
    "has_adr": "adr" in types,
    "has_company": "company" in types,
    "rate_type": types.get("average_daily_rate", ""),
}))
`

func duckdbTransformed(t *testing.T, dir string) transformedFigures {
	t.Helper()
	var f transformedFigures
	runDuckDB(t, duckdbTransformScript, dir, &f)
	return f
}

// runDuckDB runs a Python script that queries the Parquet files under dir
// with DuckDB and prints one JSON object, and decodes that object into out.
func runDuckDB(t *testing.T, script, dir string, out any) {
	t.Helper()
	// Only stdout is JSON; DuckDB may draw progress on the terminal streams.
	var stderr bytes.Buffer
	cmd := exec.Command(env.Python, "-c", script, dir)
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s%s", err, b, stderr.Bytes())
	}
	t.Logf("duckdb: %s", b)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("duckdb output %q: %v", b, err)
	}
}
