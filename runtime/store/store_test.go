package store

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestFileSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state", "connectors.json")
	s, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := Connector{Name: "a", Config: map[string]string{"topics": "t"}, Target: TargetPaused}
	b := Connector{Name: "b", Config: map[string]string{"k": "${env:X}"}, Target: TargetStarted,
		Owner: "/p/b.yaml"}
	for _, c := range []Connector{b, a} {
		if err := s.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	a.Config["topics"] = "changed after Put"
	if err := s.Delete(ctx, "missing"); err != nil {
		t.Fatal(err)
	}

	s2, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s2.Connectors(ctx)
	a.Config["topics"] = "t"
	if want := []Connector{a, b}; !reflect.DeepEqual(got, want) {
		t.Fatalf("reopened: %+v, want %+v", got, want)
	}
	if err := s2.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	s3, _ := OpenFile(path)
	if got, _ := s3.Connectors(ctx); len(got) != 1 || got[0].Name != "b" {
		t.Fatalf("after delete: %+v", got)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("store directory mode: %v %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestFileRefusesCorruptContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connectors.json")
	for _, content := range []string{`{"version":1,"connectors":[`, `{"version":9}`} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenFile(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("OpenFile of %q: %v, want an error naming the file", content, err)
		}
	}
}

func TestMemory(t *testing.T) {
	ctx := context.Background()
	m := NewMemory()
	_ = m.Put(ctx, Connector{Name: "x", Config: map[string]string{"a": "1"}})
	_ = m.Put(ctx, Connector{Name: "w"})
	got, _ := m.Connectors(ctx)
	if len(got) != 2 || got[0].Name != "w" || got[1].Config["a"] != "1" {
		t.Fatalf("memory: %+v", got)
	}
	_ = m.Delete(ctx, "x")
	if got, _ := m.Connectors(ctx); len(got) != 1 {
		t.Fatalf("after delete: %+v", got)
	}
}

func TestDiff(t *testing.T) {
	owns := func(owner string) bool { return strings.HasPrefix(owner, "/dir/") }
	cfg := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		name             string
		desired, current []Connector
		want             []Change
	}{
		{"nothing", nil, nil, nil},
		{"create", []Connector{{Name: "a", Owner: "/dir/a.yaml"}}, nil,
			[]Change{{Action: ActionCreate, Name: "a", Owner: "/dir/a.yaml"}}},
		{"unchanged",
			[]Connector{{Name: "a", Config: cfg("k", "1"), Owner: "/dir/a.yaml"}},
			[]Connector{{Name: "a", Config: cfg("k", "1"), Owner: "/dir/a.yaml", Target: TargetPaused}},
			nil},
		{"update keys",
			[]Connector{{Name: "a", Config: cfg("k", "2", "new", "x"), Owner: "/dir/a.yaml"}},
			[]Connector{{Name: "a", Config: cfg("k", "1", "old", "y"), Owner: "/dir/a.yaml"}},
			[]Change{{Action: ActionUpdate, Name: "a", Owner: "/dir/a.yaml",
				Keys: []string{"k", "new", "old"}}}},
		{"a name in the config is the connector's",
			[]Connector{{Name: "a", Config: cfg("k", "1"), Owner: "/dir/a.yaml"}},
			[]Connector{{Name: "a", Config: cfg("k", "1", "name", "a"), Owner: "/dir/a.yaml"}},
			nil},
		{"a name in the config that differs",
			[]Connector{{Name: "a", Config: cfg("k", "1", "name", "b"), Owner: "/dir/a.yaml"}},
			[]Connector{{Name: "a", Config: cfg("k", "1"), Owner: "/dir/a.yaml"}},
			[]Change{{Action: ActionUpdate, Name: "a", Owner: "/dir/a.yaml", Keys: []string{"name"}}}},
		{"take over from the API",
			[]Connector{{Name: "a", Config: cfg("k", "1"), Owner: "/dir/a.yaml"}},
			[]Connector{{Name: "a", Config: cfg("k", "1")}},
			[]Change{{Action: ActionUpdate, Name: "a", Owner: "/dir/a.yaml", From: "api"}}},
		{"delete only what the directory owned", nil,
			[]Connector{{Name: "api"}, {Name: "gone", Owner: "/dir/gone.yaml"},
				{Name: "other", Owner: "/elsewhere/o.yaml"}},
			[]Change{{Action: ActionDelete, Name: "gone", Owner: "/dir/gone.yaml"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Diff(c.desired, c.current, owns); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}
