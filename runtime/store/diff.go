package store

import (
	"maps"
	"sort"
)

// Actions of a Change.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// Change is one step of applying a pipelines directory.
type Change struct {
	Action string
	Name   string
	// Owner is the file that declares the connector; for a delete, the file
	// that declared it.
	Owner string
	// Keys lists the config keys an update adds, changes or removes.
	Keys []string
	// From names the previous owner when an update moves a connector to
	// another file, or takes over one created through the REST API ("api").
	From string
}

// Diff returns what applying desired, the connectors of a pipelines
// directory, to current, the stored connectors, changes, sorted by name.
// A stored connector missing from desired is deleted only when owns reports
// that its owner file belongs to the directory; connectors created through
// the REST API are never deleted by a directory. A desired connector wins
// over a stored one of the same name, whoever owned it.
func Diff(desired, current []Connector, owns func(owner string) bool) []Change {
	cur := make(map[string]Connector, len(current))
	for _, c := range current {
		cur[c.Name] = c
	}
	want := make(map[string]bool, len(desired))
	var out []Change
	for _, d := range desired {
		want[d.Name] = true
		c, ok := cur[d.Name]
		if !ok {
			out = append(out, Change{Action: ActionCreate, Name: d.Name, Owner: d.Owner})
			continue
		}
		keys := changedKeys(withoutName(c.Config, d.Name), withoutName(d.Config, d.Name))
		if len(keys) == 0 && c.Owner == d.Owner {
			continue
		}
		ch := Change{Action: ActionUpdate, Name: d.Name, Owner: d.Owner, Keys: keys}
		if c.Owner != d.Owner {
			ch.From = c.Owner
			if ch.From == "" {
				ch.From = "api"
			}
		}
		out = append(out, ch)
	}
	for _, c := range current {
		if !want[c.Name] && c.Owner != "" && owns(c.Owner) {
			out = append(out, Change{Action: ActionDelete, Name: c.Name, Owner: c.Owner})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// withoutName returns cfg without its name key when that key holds name:
// a config sent through the REST API carries the connector's name, one
// read from a file need not, and both mean the same.
func withoutName(cfg map[string]string, name string) map[string]string {
	if v, ok := cfg["name"]; !ok || v != name {
		return cfg
	}
	out := maps.Clone(cfg)
	delete(out, "name")
	return out
}

// changedKeys lists the keys whose values differ between a and b, sorted.
func changedKeys(a, b map[string]string) []string {
	if maps.Equal(a, b) {
		return nil
	}
	var keys []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			keys = append(keys, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
