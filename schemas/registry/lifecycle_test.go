package registry

import (
	"net/http/httptest"
	"reflect"
	"testing"
)

// step is one request of a scripted test and what it must answer: the
// status, and either the whole JSON body or, for errors, the error code.
type step struct {
	method, path, body string
	status             int
	code               int // error_code, for error answers
	want               any // the whole body, when not nil
}

// play runs the steps in order; each depends on the ones before.
func play(t *testing.T, ts *httptest.Server, steps []step) {
	t.Helper()
	for i, st := range steps {
		status, got := call(t, ts, st.method, st.path, st.body)
		m, _ := got.(map[string]any)
		code, _ := m["error_code"].(float64)
		switch {
		case status != st.status:
			t.Errorf("step %d %s %s = %d %v, want status %d", i, st.method, st.path, status, got, st.status)
		case st.code != 0 && int(code) != st.code:
			t.Errorf("step %d %s %s = %v, want error_code %d", i, st.method, st.path, got, st.code)
		case st.want != nil && !matches(got, st.want):
			t.Errorf("step %d %s %s = %v\nwant %v", i, st.method, st.path, got, st.want)
		}
	}
}

// hasID, as a step's want, checks the id of a registration alone.
type hasID int

func id(n int) hasID { return hasID(n) }

func matches(got, want any) bool {
	if n, ok := want.(hasID); ok {
		m, _ := got.(map[string]any)
		return m["id"] == float64(n)
	}
	return reflect.DeepEqual(got, want)
}

// TestServerRegistrationRules plays the registration and deletion rules of
// Confluent's registry: ids are global and reused, an identical schema
// keeps its id and version, soft-deleted versions still count and serve
// their id, and a schema registered again after a soft delete supersedes
// the deleted version.
func TestServerRegistrationRules(t *testing.T) {
	_, ts := startServer(t, newCluster(t), "_schemas")
	s1, s2 := schemaBody(orderV1), schemaBody(orderV2)
	v1, v2 := canonical(t, orderV1), canonical(t, orderV2)
	play(t, ts, []step{
		{"POST", "/subjects/a/versions", s1, 200, 0, map[string]any{"id": 1.0, "version": 1.0, "schema": v1}},
		{"POST", "/subjects/a/versions", s1, 200, 0, map[string]any{"id": 1.0, "version": 1.0, "schema": v1}},
		{"POST", "/subjects/b/versions", s1, 200, 0, map[string]any{"id": 1.0, "version": 1.0, "schema": v1}},
		{"POST", "/subjects/a/versions", s2, 200, 0, map[string]any{"id": 2.0, "version": 2.0, "schema": v2}},

		// Soft-delete a v2; registering it again takes v3 and drops v2.
		{"DELETE", "/subjects/a/versions/2", "", 200, 0, 2.0},
		{"DELETE", "/subjects/a/versions/2", "", 404, 40406, nil},
		{"GET", "/subjects/a/versions", "", 200, 0, []any{1.0}},
		{"GET", "/subjects/a/versions?deleted=true", "", 200, 0, []any{1.0, 2.0}},
		{"GET", "/subjects/a/versions?deletedOnly=true", "", 200, 0, []any{2.0}},
		{"GET", "/subjects/a/versions/2", "", 404, 40402, nil},
		{"GET", "/subjects/a/versions/2?deleted=true", "", 200, 0, map[string]any{
			"subject": "a", "version": 2.0, "id": 2.0, "schema": v2}},
		{"GET", "/schemas/ids/2", "", 200, 0, map[string]any{"schema": v2}},
		{"GET", "/schemas/ids/2/subjects", "", 200, 0, []any{}},
		{"GET", "/schemas/ids/2/subjects?deleted=true", "", 200, 0, []any{"a"}},
		{"POST", "/subjects/a", s2, 404, 40403, nil},
		{"POST", "/subjects/a?deleted=true", s2, 200, 0, map[string]any{
			"subject": "a", "version": 2.0, "id": 2.0, "schema": v2}},
		{"POST", "/subjects/a/versions", s2, 200, 0, map[string]any{"id": 2.0, "version": 3.0, "schema": v2}},
		{"GET", "/subjects/a/versions?deleted=true", "", 200, 0, []any{1.0, 3.0}},

		// Soft-delete the whole subject: only live versions, once.
		{"DELETE", "/subjects/a", "", 200, 0, []any{1.0, 3.0}},
		{"DELETE", "/subjects/a", "", 404, 40404, nil},
		{"GET", "/subjects", "", 200, 0, []any{"b"}},
		{"GET", "/subjects?deleted=true", "", 200, 0, []any{"a", "b"}},
		{"GET", "/subjects?deletedOnly=true", "", 200, 0, []any{"a"}},
		{"GET", "/subjects/a/versions", "", 404, 40401, nil},
		{"GET", "/subjects/a/versions/latest", "", 404, 40401, nil},
		{"GET", "/subjects/a/versions/latest?deleted=true", "", 404, 40402, nil},
		{"POST", "/subjects/a", s1, 404, 40401, nil},

		// Registering a soft-deleted schema again.
		{"POST", "/subjects/a/versions", s1, 200, 0, map[string]any{"id": 1.0, "version": 4.0, "schema": v1}},
		{"GET", "/subjects/a/versions?deleted=true", "", 200, 0, []any{3.0, 4.0}},

		// Permanent deletes only after soft ones.
		{"DELETE", "/subjects/a/versions/4?permanent=true", "", 404, 40407, nil},
		{"DELETE", "/subjects/a?permanent=true", "", 404, 40405, nil},
		{"DELETE", "/subjects/a/versions/3?permanent=true", "", 200, 0, 3.0},
		{"DELETE", "/subjects/a/versions/3?permanent=true", "", 404, 40402, nil},
		{"DELETE", "/subjects/a/versions/latest", "", 200, 0, 4.0},
		{"DELETE", "/subjects/a?permanent=true", "", 200, 0, []any{4.0}},
		{"GET", "/subjects?deleted=true", "", 200, 0, []any{"b"}},
		{"DELETE", "/subjects/a", "", 404, 40401, nil},
		{"DELETE", "/subjects/a/versions/1", "", 404, 40401, nil},
		{"DELETE", "/subjects/b/versions/7", "", 404, 40402, nil},
		{"DELETE", "/subjects/b/versions/zero", "", 422, 42202, nil},

		// id 2 lost its last subject-version: the same schema takes a new id.
		{"GET", "/schemas/ids/2", "", 404, 40403, nil},
		{"POST", "/subjects/c/versions", s2, 200, 0, map[string]any{"id": 3.0, "version": 1.0, "schema": v2}},
		{"POST", "/subjects/b/versions", s2, 200, 0, map[string]any{"id": 3.0, "version": 2.0, "schema": v2}},
		{"GET", "/schemas/ids/3/versions", "", 200, 0, []any{
			map[string]any{"subject": "b", "version": 2.0},
			map[string]any{"subject": "c", "version": 1.0}}},
		{"GET", "/schemas/ids/3?fetchMaxId=true&subject=c", "", 200, 0, map[string]any{
			"subject": "c", "version": 1.0, "schema": v2, "maxId": 3.0}},
	})
}

// TestServerConfigAndMode plays the config and mode endpoints and the
// writes each mode refuses.
func TestServerConfigAndMode(t *testing.T) {
	_, ts := startServer(t, newCluster(t), "_schemas")
	play(t, ts, []step{
		{"GET", "/config", "", 200, 0, map[string]any{"compatibilityLevel": "BACKWARD"}},
		{"GET", "/config/a", "", 404, 40408, nil},
		{"GET", "/config/a?defaultToGlobal=true", "", 200, 0, map[string]any{"compatibilityLevel": "BACKWARD"}},
		{"PUT", "/config", `{"compatibility":"full"}`, 200, 0, map[string]any{"compatibility": "FULL"}},
		{"PUT", "/config", `{"compatibility":"SIDEWAYS"}`, 422, 42203, nil},
		{"PUT", "/config", ``, 422, 422, nil},
		{"PUT", "/config/a", `{"compatibility":"NONE"}`, 200, 0, map[string]any{"compatibility": "NONE"}},
		{"PUT", "/config/__GLOBAL", `{"compatibility":"NONE"}`, 422, 42208, nil},
		{"GET", "/config/a", "", 200, 0, map[string]any{"compatibilityLevel": "NONE"}},
		{"GET", "/config", "", 200, 0, map[string]any{"compatibilityLevel": "FULL"}},
		{"GET", "/config/b?defaultToGlobal=true", "", 200, 0, map[string]any{"compatibilityLevel": "FULL"}},

		// Subject a takes anything; subject b is FULL through the global level.
		{"POST", "/subjects/a/versions", schemaBody(orderV1), 200, 0, id(1)},
		{"POST", "/subjects/a/versions", schemaBody(clickV1), 200, 0, id(2)},
		{"POST", "/subjects/b/versions", schemaBody(orderV1), 200, 0, id(1)},
		{"POST", "/subjects/b/versions", schemaBody(clickV1), 409, 409, nil},
		{"POST", "/subjects/b/versions?force=true", schemaBody(clickV1), 200, 0, id(2)},

		{"DELETE", "/config/a", "", 200, 0, map[string]any{"compatibilityLevel": "NONE"}},
		{"DELETE", "/config/a", "", 404, 40401, nil},
		{"DELETE", "/config", "", 200, 0, map[string]any{"compatibilityLevel": "FULL"}},
		{"GET", "/config", "", 200, 0, map[string]any{"compatibilityLevel": "BACKWARD"}},

		{"GET", "/mode", "", 200, 0, map[string]any{"mode": "READWRITE"}},
		{"GET", "/mode/a", "", 404, 40409, nil},
		{"GET", "/mode/a?defaultToGlobal=true", "", 200, 0, map[string]any{"mode": "READWRITE"}},
		{"PUT", "/mode/a", `{"mode":"SLEEPY"}`, 422, 42204, nil},
		{"PUT", "/mode/a", `{"mode":"FORWARD"}`, 422, 42204, nil},
		{"PUT", "/mode/a", `{"mode":"READONLY"}`, 200, 0, map[string]any{"mode": "READONLY"}},
		{"GET", "/mode/a", "", 200, 0, map[string]any{"mode": "READONLY"}},
		// Read-only: an identical schema is still answered; nothing is written.
		{"POST", "/subjects/a/versions", schemaBody(clickV1), 200, 0, id(2)},
		{"POST", "/subjects/a/versions", schemaBody(orderV2), 422, 42205, nil},
		{"DELETE", "/subjects/a/versions/1", "", 422, 42205, nil},
		{"DELETE", "/subjects/a", "", 422, 42205, nil},
		{"PUT", "/config/a", `{"compatibility":"NONE"}`, 422, 42205, nil},
		{"POST", "/subjects/b/versions", schemaBody(orderV1), 200, 0, id(1)},
		{"DELETE", "/mode/a", "", 200, 0, map[string]any{"mode": "READONLY"}},
		{"DELETE", "/mode/a", "", 404, 40401, nil},

		// Import: explicit ids only, any version, and only into empty scopes.
		{"PUT", "/mode", `{"mode":"IMPORT"}`, 422, 42205, nil},
		{"PUT", "/mode/imported", `{"mode":"IMPORT"}`, 200, 0, map[string]any{"mode": "IMPORT"}},
		{"POST", "/subjects/imported/versions", schemaBody(orderV1), 422, 42205, nil},
		{"POST", "/subjects/imported/versions", `{"schema":` + mustJSON(orderV2) + `,"id":50,"version":7}`,
			200, 0, nil},
		{"GET", "/subjects/imported/versions/7", "", 200, 0, map[string]any{
			"subject": "imported", "version": 7.0, "id": 50.0, "schema": canonical(t, orderV2)}},
		{"POST", "/subjects/imported/versions", `{"schema":"\"int\"","id":50,"version":8}`, 422, 42205, nil},
		{"POST", "/subjects/x/versions", `{"schema":"\"int\"","id":51}`, 422, 42205, nil},
		{"PUT", "/mode", `{"mode":"READONLY"}`, 200, 0, map[string]any{"mode": "READONLY"}},
		{"PUT", "/config", `{"compatibility":"NONE"}`, 422, 42205, nil},
		{"POST", "/subjects/c/versions", schemaBody(orderV1), 422, 42205, nil},
		{"DELETE", "/mode", "", 200, 0, map[string]any{"mode": "READONLY"}},
		{"GET", "/mode", "", 200, 0, map[string]any{"mode": "READWRITE"}},
		{"POST", "/subjects/c/versions", schemaBody(clickV1), 200, 0, id(2)},
		// The next id follows the highest seen, imported ones included.
		{"POST", "/subjects/d/versions", schemaBody(`"int"`), 200, 0, id(51)},
	})
}

// TestServerSettingsRecordFormat checks the CONFIG, MODE and
// DELETE_SUBJECT records against the bytes Confluent's registry writes.
func TestServerSettingsRecordFormat(t *testing.T) {
	brokers := newCluster(t)
	_, ts := startServer(t, brokers, "_schemas")
	play(t, ts, []step{
		{"PUT", "/config", `{"compatibility":"FULL"}`, 200, 0, nil},
		{"PUT", "/config/a", `{"compatibility":"none"}`, 200, 0, nil},
		{"PUT", "/mode/a", `{"mode":"READONLY"}`, 200, 0, nil},
		{"DELETE", "/mode/a", "", 200, 0, nil},
		{"PUT", "/mode", `{"mode":"READWRITE"}`, 200, 0, nil},
		{"POST", "/subjects/a/versions", schemaBody(`"int"`), 200, 0, nil},
		{"DELETE", "/subjects/a", "", 200, 0, nil},
	})
	want := []struct{ key, value string }{
		{`{"keytype":"CONFIG","magic":0}`, `{"compatibilityLevel":"FULL"}`},
		{`{"keytype":"CONFIG","subject":"a","magic":0}`, `{"subject":"a","compatibilityLevel":"NONE"}`},
		{`{"keytype":"MODE","subject":"a","magic":0}`, `{"subject":"a","mode":"READONLY"}`},
		{`{"keytype":"MODE","subject":"a","magic":0}`, ""},
		{`{"keytype":"MODE","magic":0}`, `{"mode":"READWRITE"}`},
		{`{"keytype":"SCHEMA","subject":"a","version":1,"magic":1}`,
			`{"subject":"a","version":1,"id":1,"schema":"\"int\"","deleted":false}`},
		{`{"keytype":"DELETE_SUBJECT","subject":"a","magic":0}`, `{"subject":"a","version":1}`},
	}
	got := readTopic(t, brokers, "_schemas", len(want))
	for i, w := range want {
		if string(got[i].Key) != w.key || string(got[i].Value) != w.value {
			t.Errorf("record %d = %s => %s\nwant %s => %s", i, got[i].Key, got[i].Value, w.key, w.value)
		}
	}
}
