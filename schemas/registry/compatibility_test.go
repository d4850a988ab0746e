package registry

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// rec renders a record schema named name with the given fields, each a JSON
// field object.
func rec(name string, fields ...string) string {
	return fmt.Sprintf(`{"type":"record","name":%q,"fields":[%s]}`, name, strings.Join(fields, ","))
}

// allLevels is the order of the columns of compatibilityCases' answers.
var allLevels = []string{
	levelNone, levelBackward, levelBackwardTransitive, levelForward,
	levelForwardTransitive, levelFull, levelFullTransitive,
}

// compatibilityCases gives, for each rule of Avro's schema resolution, the
// answer the specification gives at each level (Y compatible, N not) in the
// order of allLevels: NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD,
// FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE. The last schema is the new
// one; the others are the subject's versions, oldest first. BACKWARD means
// the new schema reads the old data, FORWARD the old schema reads the new.
var compatibilityCases = []struct {
	rule     string
	versions []string
	want     string
}{
	{"int promotes to long", []string{`"int"`, `"long"`}, "YYYNNNN"},
	{"int promotes to float", []string{`"int"`, `"float"`}, "YYYNNNN"},
	{"int promotes to double", []string{`"int"`, `"double"`}, "YYYNNNN"},
	{"long promotes to float", []string{`"long"`, `"float"`}, "YYYNNNN"},
	{"long promotes to double", []string{`"long"`, `"double"`}, "YYYNNNN"},
	{"float promotes to double", []string{`"float"`, `"double"`}, "YYYNNNN"},
	{"string and bytes read each other", []string{`"string"`, `"bytes"`}, "YYYYYYY"},
	{"bytes and string read each other", []string{`"bytes"`, `"string"`}, "YYYYYYY"},
	{"long does not narrow to int", []string{`"long"`, `"int"`}, "YNNYYNN"},
	{"double does not narrow to float", []string{`"double"`, `"float"`}, "YNNYYNN"},
	{"string and int do not mix", []string{`"string"`, `"int"`}, "YNNNNNN"},
	{"logical type is ignored", []string{`"long"`,
		`{"type":"long","logicalType":"timestamp-millis"}`}, "YYYYYYY"},

	{"enum symbol added", []string{
		`{"type":"enum","name":"E","symbols":["A","B"]}`,
		`{"type":"enum","name":"E","symbols":["A","B","C"]}`}, "YYYNNNN"},
	{"enum symbol added, old enum has a default", []string{
		`{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}`,
		`{"type":"enum","name":"E","symbols":["A","B","C"],"default":"A"}`}, "YYYYYYY"},
	{"enum symbol removed", []string{
		`{"type":"enum","name":"E","symbols":["A","B","C"]}`,
		`{"type":"enum","name":"E","symbols":["A","B"]}`}, "YNNYYNN"},
	{"enum symbol removed, new enum has a default", []string{
		`{"type":"enum","name":"E","symbols":["A","B","C"]}`,
		`{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}`}, "YYYYYYY"},
	{"enum renamed", []string{
		`{"type":"enum","name":"E","symbols":["A"]}`,
		`{"type":"enum","name":"F","symbols":["A"]}`}, "YNNNNNN"},

	{"union branch added", []string{`["null","string"]`, `["null","string","int"]`}, "YYYNNNN"},
	{"type made nullable", []string{`"string"`, `["null","string"]`}, "YYYNNNN"},
	{"nullable made required", []string{`["null","string"]`, `"string"`}, "YNNYYNN"},
	{"reader union branch read by promotion", []string{`"int"`, `["null","long"]`}, "YYYNNNN"},
	{"union of records, record gains a defaulted field", []string{
		`["null",` + rec("R", `{"name":"a","type":"int"}`) + `]`,
		`["null",` + rec("R", `{"name":"a","type":"int"}`,
			`{"name":"b","type":"int","default":0}`) + `]`}, "YYYYYYY"},

	{"field added with a default", []string{
		rec("R", `{"name":"a","type":"int"}`),
		rec("R", `{"name":"a","type":"int"}`, `{"name":"b","type":"string","default":"x"}`),
	}, "YYYYYYY"},
	{"field added with a null default", []string{
		rec("R", `{"name":"a","type":"int"}`),
		rec("R", `{"name":"a","type":"int"}`, `{"name":"b","type":["null","string"],"default":null}`),
	}, "YYYYYYY"},
	{"field added without a default", []string{
		rec("R", `{"name":"a","type":"int"}`),
		rec("R", `{"name":"a","type":"int"}`, `{"name":"b","type":["null","string"]}`),
	}, "YNNYYNN"},
	{"field added without a default, its enum has one", []string{
		rec("R", `{"name":"a","type":"int"}`),
		rec("R", `{"name":"a","type":"int"}`,
			`{"name":"e","type":{"type":"enum","name":"E","symbols":["A"],"default":"A"}}`),
	}, "YNNYYNN"},
	{"field removed, it had no default", []string{
		rec("R", `{"name":"a","type":"int"}`, `{"name":"b","type":"int"}`),
		rec("R", `{"name":"a","type":"int"}`),
	}, "YYYNNNN"},
	{"field removed, it had a default", []string{
		rec("R", `{"name":"a","type":"int"}`, `{"name":"b","type":"int","default":1}`),
		rec("R", `{"name":"a","type":"int"}`),
	}, "YYYYYYY"},
	{"field renamed, new field aliases the old name", []string{
		rec("R", `{"name":"total","type":"long"}`),
		rec("R", `{"name":"amount","type":"long","aliases":["total"]}`),
	}, "YYYNNNN"},
	{"field alias matching a second writer field", []string{
		rec("R", `{"name":"a","type":"int"}`, `{"name":"b","type":"int"}`),
		rec("R", `{"name":"a","type":"int","aliases":["b"]}`),
	}, "YNNNNNN"},
	{"field type promoted", []string{
		rec("R", `{"name":"a","type":"int"}`), rec("R", `{"name":"a","type":"long"}`),
	}, "YYYNNNN"},

	{"record namespace changed", []string{
		`{"type":"record","name":"Order","namespace":"acme","fields":[]}`,
		`{"type":"record","name":"Order","namespace":"shop","fields":[]}`}, "YYYYYYY"},
	{"record renamed, alias has the old full name", []string{
		`{"type":"record","name":"Order","namespace":"acme","fields":[]}`,
		`{"type":"record","name":"Sale","namespace":"shop","aliases":["acme.Order"],"fields":[]}`,
	}, "YYYNNNN"},
	{"record renamed, relative alias resolves in the new namespace", []string{
		`{"type":"record","name":"Order","namespace":"acme","fields":[]}`,
		`{"type":"record","name":"Sale","namespace":"acme","aliases":["Order"],"fields":[]}`,
	}, "YYYNNNN"},
	{"record renamed, relative alias misses a name without namespace", []string{
		`{"type":"record","name":"Order","fields":[]}`,
		`{"type":"record","name":"Sale","namespace":"acme","aliases":["Order"],"fields":[]}`,
	}, "YNNNNNN"},
	{"record renamed without alias", []string{rec("Order"), rec("Sale")}, "YNNNNNN"},

	{"fixed size changed", []string{
		`{"type":"fixed","name":"F","size":4}`, `{"type":"fixed","name":"F","size":8}`}, "YNNNNNN"},
	{"fixed renamed", []string{
		`{"type":"fixed","name":"F","size":4}`, `{"type":"fixed","name":"G","size":4}`}, "YNNNNNN"},
	{"fixed renamed with alias", []string{
		`{"type":"fixed","name":"F","size":4}`,
		`{"type":"fixed","name":"G","size":4,"aliases":["F"]}`}, "YYYNNNN"},

	{"array items promoted", []string{
		`{"type":"array","items":"int"}`, `{"type":"array","items":"long"}`}, "YYYNNNN"},
	{"map values promoted", []string{
		`{"type":"map","values":"int"}`, `{"type":"map","values":"long"}`}, "YYYNNNN"},
	{"array is not a map", []string{
		`{"type":"array","items":"int"}`, `{"type":"map","values":"int"}`}, "YNNNNNN"},

	{"recursive record gains a defaulted field", []string{
		rec("Node", `{"name":"v","type":"int"}`, `{"name":"next","type":["null","Node"]}`),
		rec("Node", `{"name":"v","type":"int"}`, `{"name":"next","type":["null","Node"]}`,
			`{"name":"w","type":"int","default":0}`),
	}, "YYYYYYY"},
	{"recursive record gains a field without default", []string{
		rec("Node", `{"name":"v","type":"int"}`, `{"name":"next","type":["null","Node"]}`),
		rec("Node", `{"name":"v","type":"int"}`, `{"name":"next","type":["null","Node"]}`,
			`{"name":"w","type":"int"}`),
	}, "YNNYYNN"},

	{"transitive: the oldest version lacks a field the new one requires", []string{
		rec("R", `{"name":"id","type":"long"}`),
		rec("R", `{"name":"id","type":"long"}`, `{"name":"note","type":"string","default":""}`),
		rec("R", `{"name":"id","type":"long"}`, `{"name":"note","type":"string"}`),
	}, "YYNYYYN"},
	{"transitive: the oldest version requires a field the new one drops", []string{
		rec("R", `{"name":"id","type":"long"}`, `{"name":"note","type":"string"}`),
		rec("R", `{"name":"id","type":"long"}`, `{"name":"note","type":"string","default":""}`),
		rec("R", `{"name":"id","type":"long"}`),
	}, "YYYYNYN"},
}

// TestCompatibilityLevels checks every case at every level twice: through
// the compatibility endpoint, and by registering, which must refuse an
// incompatible schema with 409.
func TestCompatibilityLevels(t *testing.T) {
	_, ts := startServer(t, newCluster(t), "_schemas")
	n := 0
	for _, tc := range compatibilityCases {
		if len(tc.want) != len(allLevels) {
			t.Fatalf("%s: want %q has %d answers, need %d", tc.rule, tc.want, len(tc.want), len(allLevels))
		}
		for i, level := range allLevels {
			n++
			subject := fmt.Sprintf("case-%d", n)
			want := tc.want[i] == 'Y'
			t.Run(tc.rule+"/"+level, func(t *testing.T) {
				old, next := tc.versions[:len(tc.versions)-1], tc.versions[len(tc.versions)-1]
				putConfig(t, ts, subject, levelNone)
				for _, v := range old {
					register(t, ts, subject, v)
				}
				putConfig(t, ts, subject, level)

				status, got := call(t, ts, "POST",
					"/compatibility/subjects/"+subject+"/versions?verbose=true", schemaBody(next))
				m, _ := got.(map[string]any)
				if status != http.StatusOK || m["is_compatible"] != want {
					t.Errorf("check = %d %v, want is_compatible %v", status, got, want)
				}
				if msgs, ok := m["messages"].([]any); !ok || want != (len(msgs) == 0) {
					t.Errorf("verbose messages %v do not match is_compatible %v", m["messages"], want)
				}

				status, got = call(t, ts, "POST", "/subjects/"+subject+"/versions", schemaBody(next))
				m, _ = got.(map[string]any)
				switch {
				case want && status != http.StatusOK:
					t.Errorf("register = %d %v, want 200", status, got)
				case !want && (status != http.StatusConflict || m["error_code"] != 409.0 ||
					!strings.HasPrefix(m["message"].(string),
						"Schema being registered is incompatible with an earlier schema")):
					t.Errorf("register = %d %v, want 409 with error_code 409", status, got)
				}
			})
		}
	}
}

// putConfig sets subject's compatibility level.
func putConfig(t *testing.T, ts *httptest.Server, subject, level string) {
	t.Helper()
	status, got := call(t, ts, "PUT", "/config/"+subject, `{"compatibility":"`+level+`"}`)
	if status != http.StatusOK || got.(map[string]any)["compatibility"] != level {
		t.Fatalf("PUT /config/%s %s = %d %v", subject, level, status, got)
	}
}

// TestReadableReasons checks the location and kind of each reason the
// checker gives, the way Confluent's verbose answers carry them.
func TestReadableReasons(t *testing.T) {
	tests := []struct {
		name           string
		reader, writer string
		want           []incompatibility
	}{
		{"type", `"int"`, `"string"`, []incompatibility{
			{kindTypeMismatch, "/", "reader type: INT not compatible with writer type: STRING"}}},
		{"nested enum symbols",
			rec("R", `{"name":"a","type":"int"}`,
				`{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}}`),
			rec("R", `{"name":"a","type":"int"}`,
				`{"name":"e","type":{"type":"enum","name":"E","symbols":["C","A","B"]}}`),
			[]incompatibility{{kindEnumSymbols, "/fields/1/type/symbols", "[B, C]"}}},
		{"every field reported",
			rec("R", `{"name":"a","type":"int"}`, `{"name":"b","type":"int"}`),
			rec("R", `{"name":"b","type":"string"}`),
			[]incompatibility{
				{kindMissingDefault, "/fields/0", "a"},
				{kindTypeMismatch, "/fields/1/type",
					"reader type: INT not compatible with writer type: STRING"}}},
		{"union branch", `["null","int"]`, `["null","int","string"]`, []incompatibility{
			{kindUnionBranch, "/2", "reader union lacking writer type: STRING"}}},
		{"writer union into a plain reader", `"string"`, `["null","string"]`, []incompatibility{
			{kindTypeMismatch, "/", "reader type: STRING not compatible with writer type: NULL"}}},
		{"fixed", `{"type":"fixed","name":"F","size":4}`, `{"type":"fixed","name":"F","size":8}`,
			[]incompatibility{{kindFixedSize, "/size", "expected: 8, found: 4"}}},
		{"name", rec("A"), `{"type":"record","name":"B","namespace":"n","fields":[]}`,
			[]incompatibility{{kindNameMismatch, "/name", "expected: n.B"}}},
		{"array items", `{"type":"array","items":"int"}`, `{"type":"array","items":"long"}`,
			[]incompatibility{{kindTypeMismatch, "/items",
				"reader type: INT not compatible with writer type: LONG"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reader, _ := parseAvro(tt.reader)
			writer, _ := parseAvro(tt.writer)
			if reader == nil || writer == nil {
				t.Fatal("test schema does not parse")
			}
			ok, got := readable(reader, writer)
			if ok || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("readable = %v %+v\nwant false %+v", ok, got, tt.want)
			}
		})
	}
}
