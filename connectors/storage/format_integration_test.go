//go:build integration

package storage

import (
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tributary-io/tributary/schemas/actions"
)

// witnessScript reads the files the test wrote with independent readers:
// DuckDB for Parquet, fastavro (or DuckDB's avro extension) for Avro. It
// prints one JSON object with what it found.
const witnessScript = `
import json, sys
import duckdb

pq, av = sys.argv[1], sys.argv[2]
con = duckdb.connect()
out = {}
rel = "read_parquet('%s')" % pq
out["types"] = {r[0]: r[1] for r in con.execute(
    "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM %s)" % rel).fetchall()}
out["columns"] = [r[0] for r in con.execute("DESCRIBE SELECT * FROM %s" % rel).fetchall()]
row = con.execute("""SELECT count(*), CAST(sum(adr) AS VARCHAR),
    count(*) FILTER (WHERE children IS NULL), count(*) FILTER (WHERE country IS NULL),
    count(*) FILTER (WHERE agent IS NULL), count(*) FILTER (WHERE company IS NULL),
    CAST(min(arrival_date) AS VARCHAR), CAST(max(event_time) AS VARCHAR),
    CAST(min(_kafka_offset) AS VARCHAR), CAST(max(_kafka_offset) AS VARCHAR)
    FROM %s""" % rel).fetchone()
out["parquet"] = [str(v) for v in row]
out["first_id"] = str(con.execute(
    "SELECT action_id FROM %s WHERE _kafka_offset = 0" % rel).fetchone()[0])

try:
    import fastavro
    with open(av, "rb") as f:
        rows = list(fastavro.reader(f))
    total = sum(r["adr"] for r in rows)
    out["avro"] = [str(len(rows)), str(total),
                   str(sum(1 for r in rows if r["children"] is None)),
                   str(rows[0]["action_id"]), str(rows[-1]["_kafka_offset"])]
except ImportError:
    con.execute("LOAD avro")
    row = con.execute("""SELECT count(*), CAST(sum(adr) AS VARCHAR),
        count(*) FILTER (WHERE children IS NULL), min(action_id), max(_kafka_offset)
        FROM read_avro('%s')""" % av).fetchone()
    out["avro"] = [str(v) for v in row]
print(json.dumps(out))
`

// TestIndependentReaders writes booking records as Parquet and Avro and
// has DuckDB and fastavro read them back.
func TestIndependentReaders(t *testing.T) {
	python := os.Getenv("TRIBUTARY_PYTHON")
	if python == "" {
		t.Fatal("TRIBUTARY_PYTHON is not set: run the integration suite with `make test`, " +
			"which installs the Python witnesses (duckdb, pyarrow) and sets it")
	}
	s := mustSchema(t, actions.Booking)
	recs := bookingRecords(s, 1000)
	dir := t.TempDir()
	pqPath := filepath.Join(dir, "bookings.parquet")
	avPath := filepath.Join(dir, "bookings.avro")
	opts := WriterOptions{KafkaMetadata: true, MaxBufferBytes: 64 << 10}
	if err := os.WriteFile(pqPath, writeFile(t, parquetFormat{}, s, opts, recs), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Codec = "deflate"
	if err := os.WriteFile(avPath, writeFile(t, avroFormat{}, s, opts, recs), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(python, "-c", witnessScript, pqPath, avPath)
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("run witness script with %s: %v (the Avro check needs fastavro or DuckDB's "+
			"avro extension in that Python)", python, err)
	}
	var got struct {
		Types   map[string]string
		Columns []string
		Parquet []string
		FirstID string `json:"first_id"`
		Avro    []string
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("parse witness output %s: %v", raw, err)
	}

	t.Logf("witness: parquet %v, avro %v", got.Parquet, got.Avro)

	// What the records hold, computed here.
	sum := new(big.Rat)
	var nullChildren, nullCountry, nullAgent, nullCompany int
	for _, r := range recs {
		v := r.Value.(map[string]any)
		sum.Add(sum, v["adr"].(*big.Rat))
		for name, n := range map[string]*int{"children": &nullChildren, "country": &nullCountry,
			"agent": &nullAgent, "company": &nullCompany} {
			if v[name] == nil {
				*n++
			}
		}
	}
	itoa := func(n int) string { return big.NewInt(int64(n)).String() }

	wantTypes := map[string]string{
		"hotel": "VARCHAR", "children": "INTEGER", "adr": "DECIMAL(10,2)",
		"arrival_date": "DATE", "event_time": "TIMESTAMP WITH TIME ZONE", "action_id": "UUID",
		"_kafka_topic": "VARCHAR", "_kafka_partition": "INTEGER", "_kafka_offset": "BIGINT",
		"_kafka_timestamp": "TIMESTAMP WITH TIME ZONE",
	}
	for col, want := range wantTypes {
		if got.Types[col] != want {
			t.Errorf("DuckDB type of %s = %q, want %q", col, got.Types[col], want)
		}
	}
	if len(got.Columns) != 39 || got.Columns[0] != "hotel" || got.Columns[34] != "action_id" ||
		got.Columns[35] != KafkaTopicField {
		t.Errorf("DuckDB columns = %v, want the 35 booking fields in order, then metadata",
			got.Columns)
	}
	wantParquet := []string{"1000", sum.FloatString(2), itoa(nullChildren), itoa(nullCountry),
		itoa(nullAgent), itoa(nullCompany), "2015-07-01", got.Parquet[7], "0", "999"}
	for i := range wantParquet {
		if i < len(got.Parquet) && got.Parquet[i] != wantParquet[i] {
			t.Errorf("DuckDB parquet value %d = %q, want %q", i, got.Parquet[i], wantParquet[i])
		}
	}
	first := recs[0].Value.(map[string]any)["action_id"].(string)
	if got.FirstID != first {
		t.Errorf("DuckDB action_id of offset 0 = %q, want %q", got.FirstID, first)
	}
	wantAvro := []string{"1000", sum.FloatString(2), itoa(nullChildren), first, "999"}
	if len(got.Avro) != len(wantAvro) {
		t.Fatalf("avro witness = %v, want %v", got.Avro, wantAvro)
	}
	for i := range wantAvro {
		if got.Avro[i] != wantAvro[i] {
			t.Errorf("avro witness value %d = %q, want %q", i, got.Avro[i], wantAvro[i])
		}
	}
}
