package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/tributary-io/tributary/schemas"
)

const (
	orderV1 = `{"type":"record","name":"Order","namespace":"acme","fields":[{"name":"id","type":"long"}]}`
	// orderV1Spaced is orderV1 with other whitespace and key order.
	orderV1Spaced = `{ "name": "Order", "namespace": "acme", "type": "record",
		"fields": [ { "type": "long", "name": "id" } ] }`
	orderV2 = `{"type":"record","name":"Order","namespace":"acme","fields":[{"name":"id","type":"long"},
		{"name":"note","type":["null","string"],"default":null}]}`
	clickV1 = `{"type":"record","name":"Click","fields":[{"name":"url","type":"string"}]}`
)

func newCluster(t *testing.T) []string {
	t.Helper()
	return newKfake(t).ListenAddrs()
}

// newKfake starts an in-process Kafka that stops when the test ends.
func newKfake(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// startServer runs a registry on topic and serves it over HTTP until the
// test ends.
func startServer(t *testing.T, brokers []string, topic string) (*Server, *httptest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := NewServer(ctx, ServerConfig{Brokers: brokers, Topic: topic})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		_ = s.Close()
	})
	return s, ts
}

// call sends one request and returns the status and the decoded JSON body.
func call(t *testing.T, ts *httptest.Server, method, path, body string) (int, any) {
	t.Helper()
	status, raw := callRaw(t, ts, method, path, body, "application/vnd.schemaregistry.v1+json")
	var v any
	if status == http.StatusNoContent {
		// A 204 carries no body, by HTTP's rules.
		if len(raw) != 0 {
			t.Errorf("%s %s: 204 with body %q", method, path, raw)
		}
		return status, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, path, raw, err)
	}
	return status, v
}

func callRaw(t *testing.T, ts *httptest.Server, method, path, body, contentType string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != mediaV1 && resp.StatusCode != http.StatusNoContent {
		t.Errorf("%s %s: Content-Type %q, want %q", method, path, ct, mediaV1)
	}
	return resp.StatusCode, raw
}

func schemaBody(text string) string {
	b, _ := json.Marshal(map[string]string{"schema": text})
	return string(b)
}

// register registers text under subject and returns the id.
func register(t *testing.T, ts *httptest.Server, subject, text string) int {
	t.Helper()
	status, v := call(t, ts, "POST", "/subjects/"+subject+"/versions", schemaBody(text))
	if status != http.StatusOK {
		t.Fatalf("register %s: status %d, body %v", subject, status, v)
	}
	return int(v.(map[string]any)["id"].(float64))
}

func canonical(t *testing.T, text string) string {
	t.Helper()
	ident, _, err := identify(typeAvro, text)
	if err != nil {
		t.Fatal(err)
	}
	return ident
}

func TestServerRegisterAndRead(t *testing.T) {
	_, ts := startServer(t, newCluster(t), "_schemas")

	steps := []struct {
		subject, text string
		wantID        int
	}{
		{"orders-value", orderV1, 1},
		{"orders-value", orderV1Spaced, 1}, // same schema, same id and version
		{"archive-value", orderV1, 1},      // same schema, other subject: id reused
		{"orders-value", orderV2, 2},
		{"clicks-value", clickV1, 3},
	}
	for _, st := range steps {
		if id := register(t, ts, st.subject, st.text); id != st.wantID {
			t.Errorf("register %s = id %d, want %d", st.subject, id, st.wantID)
		}
	}

	v1, v2 := canonical(t, orderV1), canonical(t, orderV2)
	tests := []struct {
		method, path, body string
		want               any
	}{
		{"GET", "/", "", map[string]any{}},
		{"GET", "/schemas/types", "", []any{"AVRO"}},
		{"GET", "/config", "", map[string]any{"compatibilityLevel": "BACKWARD"}},
		{"GET", "/schemas/ids/1", "", map[string]any{"schema": v1}},
		{"GET", "/schemas/ids/2", "", map[string]any{"schema": v2}},
		{"GET", "/subjects", "", []any{"archive-value", "clicks-value", "orders-value"}},
		{"GET", "/subjects/orders-value/versions", "", []any{1.0, 2.0}},
		{"GET", "/subjects/orders-value/versions/", "", []any{1.0, 2.0}},
		{"GET", "/schemas/ids/1/subjects", "", []any{"archive-value", "orders-value"}},
		{"GET", "/schemas/ids/1/versions", "", []any{
			map[string]any{"subject": "archive-value", "version": 1.0},
			map[string]any{"subject": "orders-value", "version": 1.0},
		}},
		{"GET", "/subjects/orders-value/versions/1", "", map[string]any{
			"subject": "orders-value", "version": 1.0, "id": 1.0, "schema": v1,
		}},
		{"GET", "/subjects/orders-value/versions/latest", "", map[string]any{
			"subject": "orders-value", "version": 2.0, "id": 2.0, "schema": v2,
		}},
		{"GET", "/subjects/orders-value/versions/-1", "", map[string]any{
			"subject": "orders-value", "version": 2.0, "id": 2.0, "schema": v2,
		}},
		{"GET", "/subjects/archive-value/versions/%20Latest%20", "", map[string]any{
			"subject": "archive-value", "version": 1.0, "id": 1.0, "schema": v1,
		}},
		{"POST", "/subjects/orders-value", schemaBody(orderV1Spaced), map[string]any{
			"subject": "orders-value", "version": 1.0, "id": 1.0, "schema": v1,
		}},
		{"POST", "/subjects/orders-value/versions", schemaBody(orderV2), map[string]any{
			"version": 2.0, "id": 2.0, "schema": v2,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			status, got := call(t, ts, tt.method, tt.path, tt.body)
			if status != http.StatusOK || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %d %v\nwant 200 %v", status, got, tt.want)
			}
		})
	}

	status, raw := callRaw(t, ts, "GET", "/subjects/orders-value/versions/1/schema", "", "")
	if status != http.StatusOK || string(raw) != v1 {
		t.Errorf("GET .../versions/1/schema = %d %s, want 200 %s", status, raw, v1)
	}
}

func TestServerErrors(t *testing.T) {
	_, ts := startServer(t, newCluster(t), "_schemas")
	register(t, ts, "orders-value", orderV1)

	tests := []struct {
		name, method, path, body string
		status, code             int
		msg                      string
	}{
		{"unknown subject", "GET", "/subjects/nope/versions", "", 404, 40401, "Subject 'nope' not found."},
		{"unknown subject version", "GET", "/subjects/nope/versions/1", "", 404, 40401, ""},
		{"unknown version", "GET", "/subjects/orders-value/versions/9", "",
			404, 40402, "Version 9 not found."},
		{"unknown id", "GET", "/schemas/ids/99", "", 404, 40403, "Schema 99 not found"},
		{"unknown id subjects", "GET", "/schemas/ids/99/subjects", "", 404, 40403, ""},
		{"lookup unknown subject", "POST", "/subjects/nope", schemaBody(orderV1), 404, 40401, ""},
		{"lookup unknown schema", "POST", "/subjects/orders-value", schemaBody(clickV1),
			404, 40403, "Schema not found"},
		{"invalid avro", "POST", "/subjects/x/versions", schemaBody(`{"type":"record"}`), 422, 42201, ""},
		{"unknown type name", "POST", "/subjects/x/versions", schemaBody(`"nosuchtype"`), 422, 42201, ""},
		{"truncated schema", "POST", "/subjects/x/versions", schemaBody(`{"type":"record",`), 422, 42201,
			`Invalid schema {"type":"record",, details: the schema is not valid JSON: ` +
				"unexpected end of JSON input"},
		{"json schema", "POST", "/subjects/x/versions", `{"schema":"{}","schemaType":"JSON"}`,
			422, 42201, ""},
		{"lower-case avro", "POST", "/subjects/x/versions", `{"schema":"\"int\"","schemaType":"avro"}`,
			422, 42201, ""},
		{"empty schema", "POST", "/subjects/x/versions", `{"schema":""}`, 422, 42201, "Empty schema"},
		{"import id", "POST", "/subjects/x/versions", `{"schema":"\"int\"","id":7}`, 422, 42205, ""},
		{"wrong version", "POST", "/subjects/orders-value/versions",
			`{"schema":` + mustJSON(orderV2) + `,"version":5}`, 422, 42201,
			"Version is not one more than previous version"},
		{"version zero", "GET", "/subjects/orders-value/versions/0", "", 422, 42202, ""},
		{"version word", "GET", "/subjects/orders-value/versions/first", "", 422, 42202, ""},
		{"reserved subject", "POST", "/subjects/__GLOBAL/versions", schemaBody(orderV1), 422, 42208, ""},
		{"no body", "POST", "/subjects/x/versions", "", 422, 422, ""},
		{"bad json", "POST", "/subjects/x/versions", `{"schema":`, 400, 400, ""},
		{"non-integer id", "GET", "/schemas/ids/abc", "", 404, 404, "HTTP 404 Not Found"},
		{"unknown path", "GET", "/nope", "", 404, 404, ""},
		{"wrong method", "DELETE", "/subjects", "", 405, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := call(t, ts, tt.method, tt.path, tt.body)
			m, _ := got.(map[string]any)
			code, _ := m["error_code"].(float64)
			if status != tt.status || int(code) != tt.code {
				t.Fatalf("got %d %v, want %d with error_code %d", status, got, tt.status, tt.code)
			}
			if msg, _ := m["message"].(string); msg == "" || (tt.msg != "" && msg != tt.msg) {
				t.Errorf("message %q, want %q", msg, tt.msg)
			}
			if len(m) != 2 {
				t.Errorf("error body %v has fields besides error_code and message", m)
			}
		})
	}

	status, _ := callRaw(t, ts, "POST", "/subjects/x/versions", schemaBody(orderV1), "text/plain")
	if status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain register: status %d, want 415", status)
	}
	for _, ct := range []string{"", "application/json", "application/octet-stream",
		"application/vnd.schemaregistry+json; charset=utf-8"} {
		status, raw := callRaw(t, ts, "POST", "/subjects/orders-value", schemaBody(orderV1), ct)
		if status != http.StatusOK {
			t.Errorf("lookup with Content-Type %q: %d %s, want 200", ct, status, raw)
		}
	}
}

func TestServerRestartKeepsIDs(t *testing.T) {
	brokers := newCluster(t)
	s1, ts1 := startServer(t, brokers, "_schemas")
	ids := map[string]int{
		"a": register(t, ts1, "a", orderV1),
		"b": register(t, ts1, "b", orderV2),
		"c": register(t, ts1, "c", orderV1),
	}
	ts1.Close()
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	_, ts2 := startServer(t, brokers, "_schemas")
	for subject, text := range map[string]string{"a": orderV1, "b": orderV2, "c": orderV1} {
		status, v := call(t, ts2, "POST", "/subjects/"+subject, schemaBody(text))
		got, _ := v.(map[string]any)["id"].(float64)
		if status != http.StatusOK || int(got) != ids[subject] {
			t.Errorf("after restart, lookup %s = %d %v, want id %d", subject, status, v, ids[subject])
		}
	}
	if id := register(t, ts2, "d", clickV1); id != 3 {
		t.Errorf("after restart, new schema got id %d, want 3", id)
	}
	if id := register(t, ts2, "e", orderV2); id != ids["b"] {
		t.Errorf("after restart, known schema got id %d, want %d", id, ids["b"])
	}
}

// TestServerReadsForeignRecords feeds the topic records as Confluent's
// registry writes them, while the server runs, and waits for it to serve
// them.
func TestServerReadsForeignRecords(t *testing.T) {
	brokers := newCluster(t)
	_, ts := startServer(t, brokers, "_schemas")

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	schemaKey := func(subject string, version int) string {
		return fmt.Sprintf(`{"keytype":"SCHEMA","subject":"%s","version":%d,"magic":1}`, subject, version)
	}
	text, _ := json.Marshal(orderV1)
	records := []struct{ key, value string }{
		{`{"keytype":"NOOP","magic":0}`, ""},
		{`{"keytype":"CONFIG","magic":0}`, `{"compatibilityLevel":"FULL"}`},
		{`{"keytype":"MODE","magic":0}`, `{"mode":"READWRITE"}`},
		{`{"keytype":"FUTURE","magic":0}`, `{}`},
		{`not json`, `{}`},
		{schemaKey("s", 1), fmt.Sprintf(
			`{"subject":"s","version":1,"id":40,"schemaType":"AVRO","schema":%s,"deleted":false}`, text)},
		// Written by 7.x: no schemaType.
		{schemaKey("t", 1), fmt.Sprintf(
			`{"subject":"t","version":1,"id":41,"schema":%s,"deleted":false}`, text)},
		{schemaKey("s", 2), `{"subject":"s","version":2,"id":7,"schema":"\"string\"","deleted":false}`},
		{schemaKey("s", 2), `{"subject":"s","version":2,"id":7,"schema":"\"string\"","deleted":true}`},
		// id 7 is bound to "string": a record binding it to "int" is ignored.
		{schemaKey("u", 1), `{"subject":"u","version":1,"id":7,"schema":"\"int\"","deleted":false}`},
		// The last record: once it is served, all the others were read.
		{`{"keytype":"CONFIG","subject":"last","magic":0}`, `{"compatibilityLevel":"NONE"}`},
	}
	for _, r := range records {
		rec := &kgo.Record{Topic: "_schemas", Key: []byte(r.key)}
		if r.value != "" {
			rec.Value = []byte(r.value)
		}
		if err := cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	waitFor(t, func() bool {
		status, _ := call(t, ts, "GET", "/config/last", "")
		return status == http.StatusOK
	})
	checks := []struct {
		path string
		want any
	}{
		{"/config", map[string]any{"compatibilityLevel": "FULL"}},
		{"/subjects", []any{"s", "t"}},
		{"/subjects?deleted=true", []any{"s", "t"}},
		{"/subjects/s/versions", []any{1.0}},
		{"/subjects/s/versions?deleted=true", []any{1.0, 2.0}},
		{"/schemas/ids/7", map[string]any{"schema": `"string"`}},
		{"/schemas/ids/40", map[string]any{"schema": orderV1}},
	}
	for _, c := range checks {
		status, got := call(t, ts, "GET", c.path, "")
		if status != http.StatusOK || !reflect.DeepEqual(got, c.want) {
			t.Errorf("GET %s = %d %v, want %v", c.path, status, got, c.want)
		}
	}
	if status, _ := call(t, ts, "GET", "/subjects/u/versions", ""); status != http.StatusNotFound {
		t.Errorf("subject u of a conflicting record: status %d, want 404", status)
	}
	// The same content as ids 40 and 41 keeps the first id; the next new id
	// follows the highest seen.
	if id := register(t, ts, "v", orderV1); id != 40 {
		t.Errorf("register known content = id %d, want 40", id)
	}
	if id := register(t, ts, "w", clickV1); id != 42 {
		t.Errorf("register new content = id %d, want 42", id)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServerRecordFormat(t *testing.T) {
	brokers := newCluster(t)
	_, ts := startServer(t, brokers, "_schemas")
	register(t, ts, "a&b", orderV1)

	got := readTopic(t, brokers, "_schemas", 1)
	wantKey := `{"keytype":"SCHEMA","subject":"a&b","version":1,"magic":1}`
	wantValue := `{"subject":"a&b","version":1,"id":1,"schema":` +
		mustJSON(canonical(t, orderV1)) + `,"deleted":false}`
	if string(got[0].Key) != wantKey || string(got[0].Value) != wantValue {
		t.Errorf("schema record = %s => %s\nwant %s => %s", got[0].Key, got[0].Value, wantKey, wantValue)
	}
}

// readTopic reads the first n records of topic that are not the NOOP
// records instances write to find the end of the topic.
func readTopic(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var got []*kgo.Record
	for len(got) < n && ctx.Err() == nil {
		for _, r := range cl.PollFetches(ctx).Records() {
			if string(r.Key) != string(noopKey) {
				got = append(got, r)
			}
		}
	}
	if len(got) < n {
		t.Fatalf("read %d records of %s, want %d", len(got), topic, n)
	}
	return got
}

func mustJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSpace(b.String())
}

// TestFranzGoClient drives the server with franz-go's registry client, as
// a third-party client would.
func TestFranzGoClient(t *testing.T) {
	_, ts := startServer(t, newCluster(t), "_schemas")
	cl, err := sr.NewClient(sr.URLs(ts.URL))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	created, err := cl.CreateSchema(ctx, "orders-value", sr.Schema{Schema: orderV1})
	if err != nil {
		t.Fatalf("CreateSchema: %v", err)
	}
	if created.ID != 1 || created.Version != 1 || created.Subject != "orders-value" {
		t.Errorf("CreateSchema = %+v, want orders-value v1 id 1", created)
	}
	second, err := cl.CreateSchema(ctx, "orders-value", sr.Schema{Schema: orderV2})
	if err != nil || second.ID != 2 || second.Version != 2 {
		t.Fatalf("CreateSchema v2 = %+v, %v; want id 2 version 2", second, err)
	}

	// Subjects arrive percent-encoded when they hold characters such as '/'.
	odd, err := cl.CreateSchema(ctx, "team/orders value", sr.Schema{Schema: clickV1})
	if err != nil || odd.ID != 3 || odd.Subject != "team/orders value" {
		t.Errorf("CreateSchema with an escaped subject = %+v, %v; want id 3", odd, err)
	}

	byID, err := cl.SchemaByID(ctx, 1)
	if err != nil || byID.Schema != canonical(t, orderV1) || byID.Type != sr.TypeAvro {
		t.Errorf("SchemaByID = %+v, %v", byID, err)
	}
	latest, err := cl.SchemaByVersion(ctx, "orders-value", -1)
	if err != nil || latest.ID != 2 || latest.Version != 2 {
		t.Errorf("SchemaByVersion latest = %+v, %v", latest, err)
	}
	found, err := cl.LookupSchema(ctx, "orders-value", sr.Schema{Schema: orderV1Spaced})
	if err != nil || found.ID != 1 || found.Version != 1 {
		t.Errorf("LookupSchema = %+v, %v", found, err)
	}
	versions, err := cl.SubjectVersions(ctx, "orders-value")
	if err != nil || !reflect.DeepEqual(versions, []int{1, 2}) {
		t.Errorf("SubjectVersions = %v, %v", versions, err)
	}
	subjects, err := cl.Subjects(ctx)
	if err != nil || !reflect.DeepEqual(subjects, []string{"orders-value", "team/orders value"}) {
		t.Errorf("Subjects = %v, %v", subjects, err)
	}
	types, err := cl.SupportedTypes(ctx)
	if err != nil || !reflect.DeepEqual(types, []sr.SchemaType{sr.TypeAvro}) {
		t.Errorf("SupportedTypes = %v, %v", types, err)
	}
	_, err = cl.SchemaByID(ctx, 99)
	var re *sr.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 404 || re.ErrorCode != 40403 {
		t.Errorf("SchemaByID(99) err = %v, want 404/40403", err)
	}
}

func TestStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, ServerConfig{Brokers: newCluster(t), Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	cl, err := NewClient([]string{s.URL()})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := cl.Register(ctx, "a", orderV1)
	if err != nil || reg.ID != 1 {
		t.Fatalf("Register through Start's listener = %+v, %v", reg, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	fresh, _ := NewClient([]string{s.URL()}, WithTimeout(time.Second))
	if _, err := fresh.SchemaByID(ctx, 1); !schemas.IsTransient(err) {
		t.Errorf("SchemaByID after Close err = %v, want transient", err)
	}
}
