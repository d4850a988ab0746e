package storage

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/schemas"
)

// Three versions of one record schema, each compatible with the others
// under FULL: v2 adds device with a default, v3 adds score and region.
var (
	evoV1 = &schemas.Schema{ID: 11, Avro: avro.MustParse(`{"type":"record","name":"Action",
		"fields":[{"name":"id","type":"long"},{"name":"kind","type":"string"}]}`)}
	evoV2 = &schemas.Schema{ID: 12, Avro: avro.MustParse(`{"type":"record","name":"Action",
		"fields":[{"name":"id","type":"long"},{"name":"kind","type":"string"},
		{"name":"device","type":"string","default":"web"}]}`)}
	evoV3 = &schemas.Schema{ID: 13, Avro: avro.MustParse(`{"type":"record","name":"Action",
		"fields":[{"name":"id","type":"long"},{"name":"kind","type":"string"},
		{"name":"device","type":"string","default":"web"},
		{"name":"score","type":["null","double"],"default":null},
		{"name":"region","type":"string","default":"eu"}]}`)}
	// evoBad changes kind's type: no earlier version can be read with it.
	evoBad = &schemas.Schema{ID: 14, Avro: avro.MustParse(`{"type":"record","name":"Action",
		"fields":[{"name":"id","type":"long"},{"name":"kind","type":"int"}]}`)}
)

// evoRecords returns n records whose schema versions interleave v1, v3, v2,
// v1, v2, v3, ...
func evoRecords(n int) []*connectors.Record {
	order := []*schemas.Schema{evoV1, evoV3, evoV2, evoV1, evoV2, evoV3}
	out := make([]*connectors.Record, n)
	for i := range out {
		off := int64(i)
		s := order[i%len(order)]
		v := map[string]any{"id": off, "kind": "click"}
		if s.ID >= evoV2.ID {
			v["device"] = "ios"
		}
		if s == evoV3 {
			v["score"] = float64(off) / 2
			v["region"] = "us"
		}
		out[i] = &connectors.Record{
			Topic: "actions", Partition: 0, Offset: off,
			Timestamp: time.UnixMilli(1_700_000_000_000), ValueSchema: s, Value: v,
		}
	}
	return out
}

// evoRun writes recs through a task with the given compatibility and
// returns the data objects by key.
func evoRun(t *testing.T, compat string, recs []*connectors.Record) map[string]string {
	t.Helper()
	h := &harness{t: t, store: newMemStore()}
	task := h.task(map[string]string{
		"format.class": "avro", "partitioner.class": "default",
		"schema.compatibility": compat, "flush.size": "10",
	})
	defer func() { _ = task.Stop(context.Background()) }()
	h.open(task, 0)
	h.put(task, recs)
	if got, want := h.durable(task), recs[len(recs)-1].Offset+1; got != want && len(recs)%10 == 0 {
		t.Fatalf("durable offset %d, want %d", got, want)
	}
	out := map[string]string{}
	for k, v := range h.store.snapshot() {
		if strings.HasSuffix(k, ".avro") {
			out[k] = v
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestEvolutionBackwardProjectsToNewest(t *testing.T) {
	for _, compat := range []string{CompatBackward, CompatFull} {
		t.Run(compat, func(t *testing.T) {
			objs := evoRun(t, compat, evoRecords(30))
			if len(objs) != 3 {
				t.Fatalf("got %d files %v, want 3 of flush.size records", len(objs), sortedKeys(objs))
			}
			for _, key := range sortedKeys(objs) {
				schema, _, rows := readOCF(t, []byte(objs[key]))
				if len(rows) != 10 {
					t.Errorf("%s: %d rows, want 10", key, len(rows))
				}
				fields := schema.(*avro.RecordSchema).Fields()
				if len(fields) != 5+4 { // v3 plus the Kafka metadata fields
					t.Errorf("%s: schema has %d fields, want v3's 5 and 4 metadata", key, len(fields))
				}
				for _, row := range rows {
					checkEvoRow(t, key, row)
				}
			}
		})
	}
}

// checkEvoRow checks a row projected to v3 against the record it came from.
func checkEvoRow(t *testing.T, key string, row map[string]any) {
	t.Helper()
	off := row["id"].(int64)
	wantDevice, wantRegion, wantScore := "web", "eu", any(nil)
	switch off % 6 {
	case 1, 5: // v3
		wantDevice, wantRegion, wantScore = "ios", "us", float64(off)/2
	case 2, 4: // v2
		wantDevice = "ios"
	}
	if got := plain(row["score"]); got != wantScore {
		t.Errorf("%s offset %d: score %v, want %v", key, off, got, wantScore)
	}
	if row["device"] != wantDevice || row["region"] != wantRegion || row["kind"] != "click" {
		t.Errorf("%s offset %d: row %v, want device %s region %s kind click",
			key, off, row, wantDevice, wantRegion)
	}
}

func TestEvolutionForwardProjectsToOldest(t *testing.T) {
	objs := evoRun(t, CompatForward, evoRecords(20))
	if len(objs) != 2 {
		t.Fatalf("got %d files %v, want 2", len(objs), sortedKeys(objs))
	}
	for _, key := range sortedKeys(objs) {
		schema, _, rows := readOCF(t, []byte(objs[key]))
		names := []string{}
		for _, f := range schema.(*avro.RecordSchema).Fields() {
			names = append(names, f.Name())
		}
		if strings.Join(names[:2], ",") != "id,kind" || len(names) != 2+4 {
			t.Errorf("%s: fields %v, want v1's id, kind and the metadata", key, names)
		}
		if len(rows) != 10 {
			t.Errorf("%s: %d rows, want 10", key, len(rows))
		}
	}
}

func TestEvolutionNoneSplitsBySchema(t *testing.T) {
	objs := evoRun(t, CompatNone, evoRecords(30))
	if len(objs) != 9 { // three segments, three schemas each
		t.Fatalf("got %d files, want 9", len(objs))
	}
}

func TestEvolutionIncompatibleStartsAnotherFile(t *testing.T) {
	recs := evoRecords(10)
	recs[4].ValueSchema, recs[4].Value = evoBad, map[string]any{"id": int64(4), "kind": 4}
	objs := evoRun(t, CompatBackward, recs)
	keys := sortedKeys(objs)
	want := []string{"topics/actions/partition=0/actions+0+0000000000.avro",
		"topics/actions/partition=0/actions+0+0000000004.avro"}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Fatalf("files %v, want %v", keys, want)
	}
	if _, _, rows := readOCF(t, []byte(objs[want[0]])); len(rows) != 9 {
		t.Errorf("compatible file has %d rows, want 9", len(rows))
	}
	if _, _, rows := readOCF(t, []byte(objs[want[1]])); len(rows) != 1 || rows[0]["kind"] != 4 {
		t.Errorf("incompatible file rows %v, want the one record with kind 4", rows)
	}
}

// TestEvolutionReplayIsByteIdentical renders the same records twice, the
// second time as a fresh task would after a crash, and compares the bytes.
func TestEvolutionReplayIsByteIdentical(t *testing.T) {
	first := evoRun(t, CompatBackward, evoRecords(30))
	second := evoRun(t, CompatBackward, evoRecords(30))
	if len(first) != len(second) {
		t.Fatalf("%d files, then %d", len(first), len(second))
	}
	for k, v := range first {
		if second[k] != v {
			t.Errorf("%s differs between runs", k)
		}
	}
}

func TestProjectPromotesAndDefaults(t *testing.T) {
	writer := avro.MustParse(`{"type":"record","name":"R","fields":[
		{"name":"n","type":"int"},{"name":"s","type":"bytes"},
		{"name":"inner","type":["null",{"type":"record","name":"I",
			"fields":[{"name":"a","type":"int"}]}]},
		{"name":"list","type":{"type":"array","items":"float"}}]}`)
	reader := avro.MustParse(`{"type":"record","name":"R","fields":[
		{"name":"n","type":"long"},{"name":"s","type":"string"},
		{"name":"inner","type":["null",{"type":"record","name":"I",
			"fields":[{"name":"a","type":"long"},{"name":"b","type":"string","default":"x"}]}]},
		{"name":"list","type":{"type":"array","items":"double"}},
		{"name":"added","type":"int","default":3}]}`)
	got, err := project(reader, writer, map[string]any{
		"n": 1, "s": []byte("hi"), "inner": map[string]any{"a": 2},
		"list": []any{float32(1.5)},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := got.(map[string]any)
	inner := m["inner"].(map[string]any)
	if m["n"] != int64(1) || m["s"] != "hi" || inner["a"] != int64(2) || inner["b"] != "x" ||
		m["list"].([]any)[0] != float64(1.5) || m["added"] != 3 {
		t.Errorf("projected %#v", got)
	}
}

func TestConfigCompatibility(t *testing.T) {
	base := map[string]string{"flush.size": "1", "format.class": "avro"}
	for in, want := range map[string]string{"": CompatNone, "backward": CompatBackward,
		"FULL": CompatFull, "FORWARD": CompatForward} {
		m := map[string]string{"schema.compatibility": in}
		for k, v := range base {
			m[k] = v
		}
		if in == "" {
			delete(m, "schema.compatibility")
		}
		c, errs := ParseConfig(m)
		if len(errs) > 0 || c.Compatibility != want {
			t.Errorf("%q: got %v %v, want %s", in, c, errs, want)
		}
	}
	_, errs := ParseConfig(map[string]string{"flush.size": "1", "schema.compatibility": "BOTH"})
	if len(errs) != 1 || errs[0].Key != "schema.compatibility" {
		t.Errorf("BOTH: errors %v, want one on schema.compatibility", errs)
	}
}

// TestValidateRefusesSchemalessJSON refuses, at validation, values that
// every record would fail on: JsonConverter without schemas.
func TestValidateRefusesSchemalessJSON(t *testing.T) {
	c := &Connector{}
	for _, tt := range []struct {
		converter, enable string
		refused           bool
	}{
		{"org.apache.kafka.connect.json.JsonConverter", "false", true},
		{" json", "FALSE ", true},
		{"org.apache.kafka.connect.json.JsonConverter", "true", false},
		{"org.apache.kafka.connect.json.JsonConverter", "", false},
		{"io.confluent.connect.avro.AvroConverter", "false", false},
	} {
		errs := c.Validate(map[string]string{"flush.size": "1", "value.converter": tt.converter,
			"value.converter.schemas.enable": tt.enable})
		refused := len(errs) == 1 && errs[0].Key == KeyFormatClass &&
			strings.Contains(errs[0].Message, "schemas.enable=false")
		if refused != tt.refused || (!tt.refused && len(errs) > 0) {
			t.Errorf("%s schemas.enable=%q: errors %v, want refused %v", tt.converter,
				tt.enable, errs, tt.refused)
		}
	}
}

// TestValidateRefusesTopicRenames refuses the transforms that rename the
// topic, by class name or alias, and accepts the others.
func TestValidateRefusesTopicRenames(t *testing.T) {
	errs := (&Connector{}).Validate(map[string]string{"flush.size": "1",
		"transforms":            "route, mask,stamp",
		"transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.mask.type":  "org.apache.kafka.connect.transforms.MaskField$Value",
		"transforms.stamp.type": "TimestampRouter"})
	var keys []string
	for _, fe := range errs {
		keys = append(keys, fe.Key)
	}
	if !slices.Equal(keys, []string{"transforms.route.type", "transforms.stamp.type"}) {
		t.Errorf("errors %v, want one on each router", errs)
	}
}

// TestEvolutionCrashReexecutesPlan loses the file of the last plan, as a
// crash between the plan and its upload would, and restarts: the new task,
// which never saw the earlier segments' schemas, re-executes the plan and
// renders the same bytes.
func TestEvolutionCrashReexecutesPlan(t *testing.T) {
	h := &harness{t: t, store: newMemStore()}
	cfg := map[string]string{"format.class": "avro", "partitioner.class": "default",
		"schema.compatibility": CompatBackward}
	first := h.task(cfg)
	h.open(first, -1)
	h.put(first, evoRecords(30))
	const lost = "topics/actions/partition=0/actions+0+0000000020.avro"
	want, ok := h.store.snapshot()[lost]
	if !ok {
		t.Fatalf("no %s; have %v", lost, keys(h.store.snapshot()))
	}
	_ = h.store.Delete(context.Background(), lost)
	_ = first.Stop(context.Background())

	second := h.task(cfg)
	defer func() { _ = second.Stop(context.Background()) }()
	if got := h.open(second, 10); got != 20 {
		t.Fatalf("resume at %d, want 20", got)
	}
	h.put(second, evoRecords(30)[20:])
	if got := h.durable(second); got != 30 {
		t.Fatalf("durable %d after re-executing the plan, want 30", got)
	}
	if got := h.store.snapshot()[lost]; got != want {
		t.Errorf("re-executed %s differs from the first rendering", lost)
	}
}
