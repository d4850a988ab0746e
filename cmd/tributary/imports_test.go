package main

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/tributary-io/tributary/"

// importRules says which of the module's packages a package may reach,
// directly or through others: connectors never reach the runtime, the
// runtime reaches no specific connector, schemas reach neither, and only
// this command wires them together.
var importRules = []struct {
	from    string // a package path prefix, relative to the module
	forbid  string // no package under this prefix may be reached
	allowed []string
}{
	{"connectors", "runtime", nil},
	{"runtime", "connectors/", []string{"connectors/transform"}},
	{"schemas", "connectors", nil},
	{"schemas", "runtime", nil},
	{"connectors", "cmd", nil},
	{"runtime", "cmd", nil},
	{"schemas", "cmd", nil},
	{"internal", "cmd", nil},
}

func TestImportRules(t *testing.T) {
	graph := moduleImports(t)
	if len(graph) < 10 {
		t.Fatalf("found only %d packages under the module root", len(graph))
	}
	for pkg := range graph {
		reached := reachable(graph, pkg)
		for _, r := range importRules {
			if !under(pkg, r.from) {
				continue
			}
			for _, dep := range reached {
				if under(dep, r.forbid) && !slices.Contains(r.allowed, dep) {
					t.Errorf("%s reaches %s: %s must not depend on %s", pkg, dep, r.from, r.forbid)
				}
			}
		}
	}
}

// under reports whether pkg is prefix or a package below it; a prefix that
// ends in a slash matches only the packages below it.
func under(pkg, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(pkg, prefix)
	}
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// moduleImports maps every non-test package of the module, relative to the
// module path, to the module packages it imports.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	graph := make(map[string][]string)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files here
		}
		rel, _ := filepath.Rel(root, path)
		var deps []string
		for _, imp := range p.Imports {
			if dep, ok := strings.CutPrefix(imp, module); ok {
				deps = append(deps, dep)
			}
		}
		graph[filepath.ToSlash(rel)] = deps
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return graph
}

// reachable lists every package pkg depends on, directly or not.
func reachable(graph map[string][]string, pkg string) []string {
	seen := map[string]bool{pkg: true}
	var out []string
	queue := slices.Clone(graph[pkg])
	for len(queue) > 0 {
		dep := queue[0]
		queue = queue[1:]
		if seen[dep] {
			continue
		}
		seen[dep] = true
		out = append(out, dep)
		queue = append(queue, graph[dep]...)
	}
	return out
}
