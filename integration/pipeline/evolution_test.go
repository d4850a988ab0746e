//go:build integration

package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/integration/registrytest"
	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/registry"
)

// evolvedFlushSize and evolvedSegments size TestSchemaEvolutionBackward:
// the topic holds exactly evolvedSegments full segments.
const (
	evolvedFlushSize = 100
	evolvedSegments  = 3
)

// TestSchemaEvolutionBackward registers three versions of the click schema
// under BACKWARD in the built-in registry (v1 without the optional client
// fields, v2 with some, v3 the shipped click.avsc), produces clicks that
// interleave the versions record by record, and sinks them with
// schema.compatibility=BACKWARD. DuckDB must find exactly flush.size rows
// in every Parquet file, the columns of v3 in each, and v3's defaults in
// the rows written with older versions.
func TestSchemaEvolutionBackward(t *testing.T) {
	env = services.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	topic, bucket := newTopic(t, 1), newBucket(t)
	regURL := registrytest.Start(t, env)
	versions := registerClickVersions(t, ctx, regURL, topic+"-value")

	client, err := registry.NewClient([]string{regURL})
	if err != nil {
		t.Fatal(err)
	}
	conv := schemas.NewConverter(client)
	order := []int{0, 2, 1, 0, 1, 2}
	base := time.Date(2026, 7, 14, 9, 0, 0, 0, time.UTC)
	var values [][]byte
	for i := range evolvedFlushSize * evolvedSegments {
		v := order[i%len(order)]
		value, err := conv.Encode(versions[v], evolvedClick(i, v, base))
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, value)
	}
	produce(t, ctx, topic, values...)

	cfg := sinkConfig(topic, bucket, map[string]string{
		"tasks.max": "1", "flush.size": fmt.Sprint(evolvedFlushSize),
		"timestamp.field": "event_time", "schema.compatibility": "BACKWARD",
		"value.converter.schema.registry.url": regURL,
	})
	runToEnd(t, ctx, newWorker(t, regURL), connectorName("evolve", topic), topic, cfg)
	verifyBucket(t, topic, bucket)

	var got evolvedFigures
	runDuckDB(t, duckdbEvolvedScript, downloadParquet(t, bucket, "topics/"+topic+"/"), &got)
	if len(got.Files) != evolvedSegments {
		t.Fatalf("%d Parquet files, want %d of %d rows", len(got.Files), evolvedSegments,
			evolvedFlushSize)
	}
	for name, rows := range got.Files {
		if rows != evolvedFlushSize {
			t.Errorf("%s holds %d rows, want flush.size %d", name, rows, evolvedFlushSize)
		}
	}
	for _, col := range []string{"action_id", "event_time", "session_id", "user_id", "page",
		"element", "referrer", "user_agent", "country", "device"} {
		if !strings.Contains(","+got.Columns+",", ","+col+",") {
			t.Errorf("column %s missing from %s", col, got.Columns)
		}
	}
	// v1 records (a third of them) take v3's defaults for device, agent
	// and country; v2 records take the default for country only.
	per := evolvedFlushSize * evolvedSegments / 3
	if got.UnknownDevice != per || got.Mobile != 2*per || got.NullCountry != 2*per ||
		got.NullAgent != per {
		t.Errorf("duckdb: %d UNKNOWN and %d MOBILE devices, %d null countries, "+
			"%d null agents; want %d, %d, %d, %d", got.UnknownDevice, got.Mobile,
			got.NullCountry, got.NullAgent, per, 2*per, 2*per, per)
	}
}

// registerClickVersions sets subject's compatibility to BACKWARD and
// registers three versions of the click schema, oldest first: the
// registry refusing one would fail the test.
func registerClickVersions(
	t *testing.T, ctx context.Context, regURL, subject string,
) []*schemas.Schema {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, regURL+"/config/"+subject,
		strings.NewReader(`{"compatibility":"BACKWARD"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set BACKWARD on %s: HTTP %d", subject, resp.StatusCode)
	}

	v3, err := os.ReadFile(filepath.Join("..", "..", "schemas", "actions", "click.avsc"))
	if err != nil {
		t.Fatal(err)
	}
	client, err := registry.NewClient([]string{regURL})
	if err != nil {
		t.Fatal(err)
	}
	var out []*schemas.Schema
	for _, drop := range [][]string{
		{"referrer", "user_agent", "country", "device"},
		{"country"},
		nil,
	} {
		s, err := client.Register(ctx, subject, withoutFields(t, string(v3), drop))
		if err != nil {
			t.Fatalf("register click without %v: %v", drop, err)
		}
		out = append(out, s)
	}
	if !(out[0].ID < out[1].ID && out[1].ID < out[2].ID) {
		t.Fatalf("schema ids %d, %d, %d do not increase", out[0].ID, out[1].ID, out[2].ID)
	}
	return out
}

// withoutFields returns the record schema text without the named fields.
// It edits the JSON rather than the parsed schema, whose canonical form
// would lose the fields' defaults.
func withoutFields(t *testing.T, text string, drop []string) string {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal([]byte(text), &rec); err != nil {
		t.Fatal(err)
	}
	var fields []any
	for _, f := range rec["fields"].([]any) {
		if !slices.Contains(drop, f.(map[string]any)["name"].(string)) {
			fields = append(fields, f)
		}
	}
	rec["fields"] = fields
	out, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// evolvedClick is click i written with version v (0, 1 or 2).
func evolvedClick(i, v int, base time.Time) map[string]any {
	m := map[string]any{
		"action_id":  fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		"event_time": base.Add(time.Duration(i) * time.Second),
		"session_id": fmt.Sprintf("s%d", i/10), "user_id": nil,
		"page": "/hotels/lisbon", "element": "book-button",
	}
	if v >= 1 {
		m["referrer"], m["user_agent"], m["device"] = nil, "test-agent", "MOBILE"
	}
	if v == 2 {
		m["country"] = "PT"
	}
	return m
}

// evolvedFigures is what DuckDB reads of the evolved files.
type evolvedFigures struct {
	Files         map[string]int `json:"files"`
	Columns       string         `json:"columns"`
	UnknownDevice int            `json:"unknown_device"`
	NullCountry   int            `json:"null_country"`
	Mobile        int            `json:"mobile"`
	NullAgent     int            `json:"null_agent"`
}

const duckdbEvolvedScript = `
import duckdb, glob, json, os, sys
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
files = sorted(glob.glob(sys.argv[1] + "/**/*.parquet", recursive=True))
src = "read_parquet(%r, union_by_name=false)" % files
q = lambda s: con.execute(s.replace("SRC", src)).fetchall()
print(json.dumps({
    "files": {os.path.basename(f): q("select count(*) from read_parquet('%s')" % f)[0][0]
              for f in files},
    "columns": ",".join(r[0] for r in q("select column_name from (describe select * from SRC)")),
    "unknown_device": q("select count(*) from SRC where device = 'UNKNOWN'")[0][0],
    "null_country": q("select count(*) from SRC where country is null")[0][0],
    "mobile": q("select count(*) from SRC where device = 'MOBILE'")[0][0],
    "null_agent": q("select count(*) from SRC where user_agent is null")[0][0],
}))
`
