//go:build integration

package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/schemas"
)

// The schema independent clients register and write with: every Avro type
// a JSON document can carry exactly, so that values compare across
// languages. Its evolutions add a field with a default (compatible under
// BACKWARD) or change a field's type (not compatible).
const (
	actionHead   = `{"type":"record","name":"Action","namespace":"it.clients","fields":[`
	actionFields = `{"name":"id","type":"long"},
		{"name":"user","type":"string"},
		{"name":"count","type":"int"},
		{"name":"score","type":"double"},
		{"name":"ok","type":"boolean"},
		{"name":"note","type":["null","string"],"default":null},
		{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["VIEW","BUY"]}},
		{"name":"tags","type":{"type":"array","items":"string"}},
		{"name":"attrs","type":{"type":"map","values":"long"}}`
	actionV1 = actionHead + actionFields + `]}`
	actionV2 = actionHead + actionFields + `,
		{"name":"channel","type":"string","default":"web"}]}`
	actionBroken = actionHead + `{"name":"id","type":"string"}]}`
)

// actionRecords returns n Action values in the generic form Tributary's
// converter decodes to, with edge values (the extremes of long and int,
// fractional doubles, empty and non-ASCII strings) among them.
func actionRecords(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range n {
		var note any
		if i%3 != 0 {
			note = fmt.Sprintf("note %d ü€", i)
		}
		kind := "VIEW"
		if i%2 == 1 {
			kind = "BUY"
		}
		tags := make([]any, i%4)
		for j := range tags {
			tags[j] = fmt.Sprintf("t%d", j)
		}
		attrs := map[string]any{}
		for j := range i % 3 {
			attrs[fmt.Sprintf("k%d", j)] = int64(i * j)
		}
		out[i] = map[string]any{
			"id":    int64(i)*1_000_000_007 - 3,
			"user":  strings.Repeat("u", i%5),
			"count": i - n/2,
			"score": float64(i) / 7,
			"ok":    i%2 == 0,
			"note":  note,
			"kind":  kind,
			"tags":  tags,
			"attrs": attrs,
		}
	}
	out[0]["id"] = int64(math.MaxInt64)
	out[0]["count"] = math.MinInt32
	out[n-1]["id"] = int64(math.MinInt64)
	out[n-1]["count"] = math.MaxInt32
	return out
}

// TestIntegrationConfluentPython has Confluent's Python client register,
// check and fetch a schema in Tributary's registry and produce Avro records
// with its AvroSerializer to a real Kafka; Tributary's converter decodes
// each to the values produced. Then records Tributary's converter framed
// are read back by the Python AvroDeserializer with equal values.
func TestIntegrationConfluentPython(t *testing.T) {
	env := services.Require(t)
	brokers, python := env.KafkaBrokers, env.Python
	schemaTopic := fmt.Sprintf("_schemas_it_py_%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteTopic(t, brokers, schemaTopic) })
	reg := startInstance(t, brokers, schemaTopic)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// Python to Tributary.
	const n = 200
	want := actionRecords(n)
	pyTopic := services.NewTopic(t, env, 1)
	var got struct {
		ID            int    `json:"id"`
		LatestID      int    `json:"latest_id"`
		LatestVersion int    `json:"latest_version"`
		Fetched       string `json:"fetched"`
		Compatible    bool   `json:"compatible"`
		Incompatible  bool   `json:"incompatible"`
		Produced      int    `json:"produced"`
	}
	runPython(ctx, t, python, "produce", reg.URL(), brokers, pyTopic, map[string]any{
		"schema": actionV1, "compatible": actionV2, "incompatible": actionBroken,
		"records": want,
	}, &got)
	if got.ID != 1 || got.LatestID != 1 || got.LatestVersion != 1 || got.Produced != n {
		t.Errorf("python register: id %d, latest id %d version %d, produced %d; "+
			"want id 1 version 1 and %d produced", got.ID, got.LatestID, got.LatestVersion,
			got.Produced, n)
	}
	if !got.Compatible || got.Incompatible {
		t.Errorf("python compatibility: v2 %v, broken %v; want true, false",
			got.Compatible, got.Incompatible)
	}
	if got.Fetched != canonical(t, actionV1) {
		t.Errorf("python get_schema(1) = %s, want %s", got.Fetched, canonical(t, actionV1))
	}

	client, err := NewClient([]string{reg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	conv := schemas.NewConverter(client)
	values := consumeValues(ctx, t, brokers, pyTopic, n)
	for i, v := range values {
		s, decoded, err := conv.Decode(ctx, v)
		if err != nil {
			t.Fatalf("decode python record %d: %v", i, err)
		}
		if s.ID != 1 || !reflect.DeepEqual(decoded, want[i]) {
			t.Errorf("python record %d decoded with schema %d to\n%#v\nwant\n%#v",
				i, s.ID, decoded, want[i])
		}
	}
	t.Logf("%d records from confluent-kafka's AvroSerializer decoded by the converter", n)

	// Tributary to Python, written with the evolved schema, registered
	// through Tributary's client.
	goTopic := services.NewTopic(t, env, 1)
	v2, err := client.Register(ctx, goTopic+"-value", actionV2)
	if err != nil || v2.ID != 2 {
		t.Fatalf("register v2 = %+v, %v; want id 2", v2, err)
	}
	framed := make([][]byte, n)
	for i, rec := range want {
		rec["channel"] = fmt.Sprintf("app-%d", i)
		if framed[i], err = conv.Encode(v2, rec); err != nil {
			t.Fatalf("encode record %d: %v", i, err)
		}
	}
	produceValues(ctx, t, brokers, goTopic, framed)
	var read struct{ Records []any }
	runPython(ctx, t, python, "consume", reg.URL(), brokers, goTopic,
		map[string]any{"count": n}, &read)
	if len(read.Records) != n {
		t.Fatalf("python read %d records, want %d", len(read.Records), n)
	}
	for i, rec := range read.Records {
		if !sameJSON(rec, jsonOf(t, want[i])) {
			t.Errorf("python read record %d as\n%v\nwant\n%v", i, rec, want[i])
		}
	}
	t.Logf("%d records from the converter read by confluent-kafka's AvroDeserializer", n)
}

// runPython runs testdata/confluent_client.py in mode with job on its
// standard input and decodes what it prints into out.
func runPython(ctx context.Context, t *testing.T, python, mode, url string, brokers []string,
	topic string, job any, out any,
) {
	t.Helper()
	in, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, python, "testdata/confluent_client.py", mode, url,
		strings.Join(brokers, ","), topic)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("confluent_client.py %s: %v\n%s", mode, err, stderr.String())
	}
	d := json.NewDecoder(&stdout)
	d.UseNumber()
	if err := d.Decode(out); err != nil {
		t.Fatalf("confluent_client.py %s printed %q: %v", mode, stdout.String(), err)
	}
}

// jsonOf returns v as a JSON decoder with UseNumber reads it.
func jsonOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameJSON compares two decoded JSON documents whose numbers are
// json.Number: integers by their digits, other numbers by their float64
// value, since Python prints 3.0 where Go prints 3.
func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		if ai, err := a.Int64(); err == nil {
			bi, err := b.Int64()
			if err == nil {
				return ai == bi
			}
		}
		af, aerr := a.Float64()
		bf, berr := b.Float64()
		return aerr == nil && berr == nil && af == bf
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !sameJSON(v, b[k]) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		return ok && slices.EqualFunc(a, b, sameJSON)
	}
	return reflect.DeepEqual(a, b)
}

// consumeValues reads the first n record values of the one-partition
// topic, in order.
func consumeValues(ctx context.Context, t *testing.T, brokers []string, topic string,
	n int,
) [][]byte {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out [][]byte
	for len(out) < n {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume %s: %d of %d records: %v", topic, len(out), n, err)
		}
		fetches.EachError(func(_ string, p int32, err error) {
			t.Fatalf("consume %s/%d: %v", topic, p, err)
		})
		fetches.EachRecord(func(r *kgo.Record) { out = append(out, r.Value) })
	}
	return out[:n]
}

// produceValues writes values to topic, in order, and waits for them all.
func produceValues(ctx context.Context, t *testing.T, brokers []string, topic string,
	values [][]byte,
) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Value: v, Partition: 0}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// TestIntegrationFranzSR drives the registry with franz-go's sr client:
// register, look up, list, check compatibility, and delete softly then
// permanently, with the ids, versions and error codes Confluent's answers
// carry.
func TestIntegrationFranzSR(t *testing.T) {
	brokers := integrationBrokers(t)
	topic := fmt.Sprintf("_schemas_it_sr_%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteTopic(t, brokers, topic) })
	reg := startInstance(t, brokers, topic)
	cl, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	avsc := func(text string) sr.Schema { return sr.Schema{Schema: text, Type: sr.TypeAvro} }

	// Registration: ids are global, versions per subject.
	steps := []struct {
		subject, text string
		id            int
	}{
		{"actions-value", actionV1, 1},
		{"actions-value", actionV1, 1},
		{"copy-value", actionV1, 1},
		{"actions-value", actionV2, 2},
		{"clicks-value", clickV1, 3},
	}
	for _, st := range steps {
		id, err := cl.RegisterSchema(ctx, st.subject, avsc(st.text), -1, -1)
		if err != nil || id != st.id {
			t.Errorf("RegisterSchema(%s) = %d, %v; want %d", st.subject, id, err, st.id)
		}
	}
	if _, err := cl.RegisterSchema(ctx, "actions-value", avsc(actionBroken), -1, -1); !isStatusCode(
		err, 409, 409) {
		t.Errorf("RegisterSchema of an incompatible schema err = %v, want HTTP 409", err)
	}

	ss, err := cl.LookupSchema(ctx, "actions-value", avsc(actionV2))
	if err != nil || ss.ID != 2 || ss.Version != 2 || ss.Subject != "actions-value" {
		t.Errorf("LookupSchema = %+v, %v; want id 2 version 2", ss, err)
	}
	if _, err := cl.LookupSchema(ctx, "clicks-value", avsc(actionV1)); !isStatusCode(err, 404, 40403) {
		t.Errorf("LookupSchema of a schema not under the subject err = %v, want 40403", err)
	}
	subjects, err := cl.Subjects(ctx)
	if want := []string{"actions-value", "clicks-value", "copy-value"}; err != nil ||
		!slices.Equal(sorted(subjects), want) {
		t.Errorf("Subjects = %v, %v; want %v", subjects, err, want)
	}
	if vs, err := cl.SubjectVersions(ctx, "actions-value"); err != nil ||
		!slices.Equal(vs, []int{1, 2}) {
		t.Errorf("SubjectVersions = %v, %v; want [1 2]", vs, err)
	}
	if got, err := cl.SchemaByVersion(ctx, "actions-value", -1); err != nil || got.ID != 2 ||
		got.Version != 2 {
		t.Errorf("SchemaByVersion(latest) = %+v, %v; want id 2 version 2", got, err)
	}
	if got, err := cl.SchemaByID(ctx, 3); err != nil || got.Schema != canonical(t, clickV1) {
		t.Errorf("SchemaByID(3) = %+v, %v; want the click schema", got, err)
	}
	if svs, err := cl.SchemaVersionsByID(ctx, 1); err != nil || len(svs) != 2 {
		t.Errorf("SchemaVersionsByID(1) = %+v, %v; want actions-value/1 and copy-value/1",
			svs, err)
	}
	for text, want := range map[string]bool{actionV2: true, actionBroken: false} {
		res, err := cl.CheckCompatibility(ctx, "actions-value", -1, avsc(text))
		if err != nil || res.Is != want {
			t.Errorf("CheckCompatibility = %+v, %v; want %v", res, err, want)
		}
	}

	// Deletion: soft first, then permanent, each refused out of order.
	if err := cl.DeleteSchema(ctx, "actions-value", 1, sr.HardDelete); !isStatusCode(err, 404, 40407) {
		t.Errorf("permanent delete before soft delete err = %v, want 40407", err)
	}
	if err := cl.DeleteSchema(ctx, "actions-value", 1, sr.SoftDelete); err != nil {
		t.Errorf("soft delete actions-value/1: %v", err)
	}
	if vs, err := cl.SubjectVersions(ctx, "actions-value"); err != nil || !slices.Equal(vs, []int{2}) {
		t.Errorf("SubjectVersions after soft delete = %v, %v; want [2]", vs, err)
	}
	if err := cl.DeleteSchema(ctx, "actions-value", 1, sr.HardDelete); err != nil {
		t.Errorf("permanent delete actions-value/1: %v", err)
	}
	if _, err := cl.SchemaByVersion(ctx, "actions-value", 1); !isStatusCode(err, 404, 40402) {
		t.Errorf("SchemaByVersion of a deleted version err = %v, want 40402", err)
	}
	if vs, err := cl.DeleteSubject(ctx, "clicks-value", sr.SoftDelete); err != nil ||
		!slices.Equal(vs, []int{1}) {
		t.Errorf("DeleteSubject(clicks-value) = %v, %v; want [1]", vs, err)
	}
	if _, err := cl.DeleteSubject(ctx, "clicks-value", sr.SoftDelete); !isStatusCode(err, 404, 40404) {
		t.Errorf("second soft DeleteSubject err = %v, want 40404", err)
	}
	if _, err := cl.SubjectVersions(ctx, "clicks-value"); !isStatusCode(err, 404, 40401) {
		t.Errorf("SubjectVersions of a deleted subject err = %v, want 40401", err)
	}
	if vs, err := cl.DeleteSubject(ctx, "clicks-value", sr.HardDelete); err != nil ||
		!slices.Equal(vs, []int{1}) {
		t.Errorf("permanent DeleteSubject(clicks-value) = %v, %v; want [1]", vs, err)
	}
	if subjects, err := cl.Subjects(ctx); err != nil ||
		!slices.Equal(sorted(subjects), []string{"actions-value", "copy-value"}) {
		t.Errorf("Subjects after deletes = %v, %v", subjects, err)
	}
	// Once no subject holds a content, its id is gone: registering it
	// again allocates the next one.
	if id, err := cl.RegisterSchema(ctx, "clicks-value", avsc(clickV1), -1, -1); err != nil ||
		id != 4 {
		t.Errorf("RegisterSchema after permanent delete = %d, %v; want the new id 4", id, err)
	}
}

// isCode tells whether err is a registry answer with the HTTP status and
// Schema Registry error code given.
func isStatusCode(err error, status, code int) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && re.StatusCode == status && re.ErrorCode == code
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestIntegrationSrclient makes the round trip of riferrei/srclient, a
// client written against Confluent's registry: create, fetch by id and as
// latest, look up and check compatibility.
func TestIntegrationSrclient(t *testing.T) {
	brokers := integrationBrokers(t)
	topic := fmt.Sprintf("_schemas_it_srclient_%d", time.Now().UnixNano())
	t.Cleanup(func() { deleteTopic(t, brokers, topic) })
	reg := startInstance(t, brokers, topic)
	cl := srclient.NewSchemaRegistryClient(reg.URL(), srclient.WithClient(testClient))
	cl.CachingEnabled(false)

	created, err := cl.CreateSchema("actions-value", actionV1, srclient.Avro)
	if err != nil || created.ID() != 1 {
		t.Fatalf("CreateSchema = %+v, %v; want id 1", created, err)
	}
	byID, err := cl.GetSchema(1)
	if err != nil || byID.Schema() != canonical(t, actionV1) || byID.Codec() == nil {
		t.Errorf("GetSchema(1) = %+v, %v; want the action schema with a codec", byID, err)
	}
	next, err := cl.CreateSchema("actions-value", actionV2, srclient.Avro)
	if err != nil || next.ID() != 2 {
		t.Fatalf("CreateSchema(v2) = %+v, %v; want id 2", next, err)
	}
	latest, err := cl.GetLatestSchema("actions-value")
	if err != nil || latest.ID() != 2 || latest.Version() != 2 ||
		latest.Schema() != canonical(t, actionV2) {
		t.Errorf("GetLatestSchema = %+v, %v; want id 2 version 2", latest, err)
	}
	found, err := cl.LookupSchema("actions-value", actionV1, srclient.Avro)
	if err != nil || found.ID() != 1 || found.Version() != 1 {
		t.Errorf("LookupSchema(v1) = %+v, %v; want id 1 version 1", found, err)
	}
	if versions, err := cl.GetSchemaVersions("actions-value"); err != nil ||
		!slices.Equal(versions, []int{1, 2}) {
		t.Errorf("GetSchemaVersions = %v, %v; want [1 2]", versions, err)
	}
	for text, want := range map[string]bool{actionV2: true, actionBroken: false} {
		ok, err := cl.IsSchemaCompatible("actions-value", text, "latest", srclient.Avro)
		if err != nil || ok != want {
			t.Errorf("IsSchemaCompatible = %v, %v; want %v", ok, err, want)
		}
	}

	// srclient's own goavro codec reads what Tributary's converter frames.
	client, err := NewClient([]string{reg.URL()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := client.SchemaByID(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	records := actionRecords(20)
	conv := schemas.NewConverter(client)
	for i, rec := range records {
		rec["channel"] = "shop"
		framed, err := conv.Encode(s, rec)
		if err != nil {
			t.Fatal(err)
		}
		native, rest, err := latest.Codec().NativeFromBinary(framed[schemas.WireHeaderSize:])
		if err != nil || len(rest) != 0 {
			t.Fatalf("goavro decode record %d: %v (%d bytes left)", i, err, len(rest))
		}
		if !sameJSON(jsonOf(t, goavroPlain(native)), jsonOf(t, rec)) {
			t.Errorf("goavro read record %d as %v, want %v", i, native, rec)
		}
	}
}

// goavroPlain unwraps goavro's union values, which are maps from the branch
// name to the value, into the value alone.
func goavroPlain(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if u, ok := x.(map[string]any); ok && len(u) == 1 && u["string"] != nil {
				out[k] = u["string"]
				continue
			}
			out[k] = goavroPlain(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = goavroPlain(x)
		}
		return out
	}
	return v
}
