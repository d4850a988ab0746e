package cluster

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// units parses "c" (connector c) and "c/2" (task 2 of c).
func units(specs ...string) []Unit {
	var out []Unit
	for _, s := range specs {
		name, task, ok := strings.Cut(s, "/")
		u := Unit{Connector: name, Task: ConnectorUnit}
		if ok {
			fmt.Sscan(task, &u.Task)
		}
		out = append(out, u)
	}
	return out
}

func show(us []Unit) string {
	var s []string
	for _, u := range us {
		if u.IsConnector() {
			s = append(s, u.Connector)
		} else {
			s = append(s, fmt.Sprintf("%s/%d", u.Connector, u.Task))
		}
	}
	return strings.Join(s, " ")
}

func showMap(m map[string][]Unit) string {
	var s []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if len(m[k]) > 0 {
			s = append(s, k+"="+show(m[k]))
		}
	}
	return strings.Join(s, "; ")
}

var t0 = time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC)

func TestAssign(t *testing.T) {
	six := map[string]int{"a": 6}
	prev := func(pairs ...string) map[Unit]string {
		m := map[Unit]string{}
		for i := 0; i < len(pairs); i += 2 {
			for _, u := range units(strings.Fields(pairs[i+1])...) {
				m[u] = pairs[i]
			}
		}
		return m
	}
	tests := []struct {
		name     string
		members  []Owned
		work     map[string]int
		previous map[Unit]string
		held     map[Unit]time.Time
		now      time.Time
		assigned string
		revoked  string
		heldOut  int
		next     time.Duration
	}{
		{
			name:     "first assignment spreads evenly",
			members:  []Owned{{Member: "w1"}, {Member: "w2"}, {Member: "w3"}},
			work:     six,
			assigned: "w1=a a/0 a/3; w2=a/1 a/4; w3=a/2 a/5",
		},
		{
			name: "sticky: nothing moves when balanced",
			members: []Owned{
				{Member: "w1", Units: units("a/5", "a/4")},
				{Member: "w2", Units: units("a", "a/0", "a/1")},
				{Member: "w3", Units: units("a/2", "a/3")},
			},
			work:     six,
			previous: prev("w1", "a/4 a/5", "w2", "a a/0 a/1", "w3", "a/2 a/3"),
			assigned: "w1=a/4 a/5; w2=a a/0 a/1; w3=a/2 a/3",
		},
		{
			name: "join: owners revoke their excess first",
			members: []Owned{
				{Member: "w1", Units: units("a", "a/0", "a/1", "a/2")},
				{Member: "w2", Units: units("a/3", "a/4", "a/5")},
				{Member: "w3"},
			},
			work:     six,
			previous: prev("w1", "a a/0 a/1 a/2", "w2", "a/3 a/4 a/5"),
			assigned: "w1=a a/0 a/1; w2=a/3 a/4",
			revoked:  "w1=a/2; w2=a/5",
		},
		{
			name: "join: the follow-up gives the revoked units to the newcomer",
			members: []Owned{
				{Member: "w1", Units: units("a", "a/0", "a/1")},
				{Member: "w2", Units: units("a/3", "a/4")},
				{Member: "w3"},
			},
			work:     six,
			previous: prev("w1", "a a/0 a/1", "w2", "a/3 a/4"),
			assigned: "w1=a a/0 a/1; w2=a/3 a/4; w3=a/2 a/5",
		},
		{
			name: "leave: a departed member's units are held",
			members: []Owned{
				{Member: "w1", Units: units("a", "a/0", "a/3")},
				{Member: "w2", Units: units("a/1", "a/4")},
			},
			work:     six,
			previous: prev("w1", "a a/0 a/3", "w2", "a/1 a/4", "w3", "a/2 a/5"),
			now:      t0,
			assigned: "w1=a a/0 a/3; w2=a/1 a/4",
			heldOut:  2,
			next:     5 * time.Minute,
		},
		{
			name: "leave: held units stay held before the deadline",
			members: []Owned{
				{Member: "w1", Units: units("a", "a/0", "a/3")},
				{Member: "w2", Units: units("a/1", "a/4")},
			},
			work:     six,
			previous: prev("w1", "a a/0 a/3", "w2", "a/1 a/4", "w3", "a/2 a/5"),
			held:     map[Unit]time.Time{{"a", 2}: t0.Add(time.Minute), {"a", 5}: t0.Add(time.Minute)},
			now:      t0,
			assigned: "w1=a a/0 a/3; w2=a/1 a/4",
			heldOut:  2,
			next:     time.Minute,
		},
		{
			name: "leave: after the delay the held units are reassigned",
			members: []Owned{
				{Member: "w1", Units: units("a", "a/0", "a/3")},
				{Member: "w2", Units: units("a/1", "a/4")},
			},
			work:     six,
			previous: prev("w1", "a a/0 a/3", "w2", "a/1 a/4", "w3", "a/2 a/5"),
			held:     map[Unit]time.Time{{"a", 2}: t0, {"a", 5}: t0},
			now:      t0,
			assigned: "w1=a a/0 a/2 a/3; w2=a/1 a/4 a/5",
		},
		{
			name: "rejoin: a member with nothing takes the held units at once",
			members: []Owned{
				{Member: "w1", Units: units("a", "a/0", "a/3")},
				{Member: "w2", Units: units("a/1", "a/4")},
				{Member: "w4"},
			},
			work:     six,
			previous: prev("w1", "a a/0 a/3", "w2", "a/1 a/4", "w3", "a/2 a/5"),
			held:     map[Unit]time.Time{{"a", 2}: t0.Add(time.Minute), {"a", 5}: t0.Add(time.Minute)},
			now:      t0,
			assigned: "w1=a a/0 a/3; w2=a/1 a/4; w4=a/2 a/5",
		},
		{
			name: "a deleted connector and a shrunk task count are revoked",
			members: []Owned{
				{Member: "w1", Units: units("a", "a/0", "b", "b/0")},
				{Member: "w2", Units: units("a/1", "a/2", "b/1")},
			},
			work:     map[string]int{"a": 2},
			previous: prev("w1", "a a/0 b b/0", "w2", "a/1 a/2 b/1"),
			assigned: "w1=a a/0; w2=a/1",
			revoked:  "w1=b b/0; w2=a/2 b/1",
		},
		{
			name: "a unit two members claim stays with the first",
			members: []Owned{
				{Member: "w1", Units: units("a", "a/0")},
				{Member: "w2", Units: units("a/0", "a/1")},
			},
			work:     map[string]int{"a": 2},
			previous: prev("w1", "a a/0", "w2", "a/1"),
			assigned: "w1=a a/0; w2=a/1",
			revoked:  "w2=a/0",
		},
		{
			name: "connectors and tasks are balanced separately",
			members: []Owned{
				{Member: "w1", Units: units("a", "a/0")},
				{Member: "w2", Units: units("b/0")},
			},
			work:     map[string]int{"a": 1, "b": 1},
			previous: prev("w1", "a a/0", "w2", "b/0"),
			assigned: "w1=a a/0; w2=b b/0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Assign(Plan{
				Members: tt.members, Work: Units(tt.work), Previous: tt.previous,
				Held: tt.held, Now: tt.now, Delay: 5 * time.Minute,
			})
			if got := showMap(res.Assigned); got != tt.assigned {
				t.Errorf("assigned\n got %s\nwant %s", got, tt.assigned)
			}
			if got := showMap(res.Revoked); got != tt.revoked {
				t.Errorf("revoked\n got %s\nwant %s", got, tt.revoked)
			}
			if len(res.Held) != tt.heldOut || res.Next != tt.next {
				t.Errorf("held %d units, next %v; want %d, %v", len(res.Held), res.Next,
					tt.heldOut, tt.next)
			}
		})
	}
}

// TestAssignConverges replays rebalances, members dropping what they are
// told to revoke, until nothing is revoked, and checks every unit runs
// exactly once with shares that differ by at most one.
func TestAssignConverges(t *testing.T) {
	work := Units(map[string]int{"a": 6, "b": 3, "c": 1})
	owned := map[string][]Unit{"w1": nil}
	var previous map[Unit]string
	run := func(t *testing.T) {
		for round := range 5 {
			var members []Owned
			for _, m := range slices.Sorted(maps.Keys(owned)) {
				members = append(members, Owned{Member: m, Units: owned[m]})
			}
			res := Assign(Plan{Members: members, Work: work, Previous: previous, Now: t0})
			previous = map[Unit]string{}
			revoked := 0
			for m, us := range res.Assigned {
				owned[m] = us
				for _, u := range us {
					previous[u] = m
				}
			}
			for _, us := range res.Revoked {
				revoked += len(us)
			}
			if revoked == 0 {
				break
			}
			if round == 4 {
				t.Fatalf("still revoking after %d rounds", round+1)
			}
		}
		if len(previous) != len(work) {
			t.Fatalf("%d units run, want %d", len(previous), len(work))
		}
		lo, hi := len(work), 0
		for _, us := range owned {
			n := 0
			for _, u := range us {
				if !u.IsConnector() {
					n++
				}
			}
			lo, hi = min(lo, n), max(hi, n)
		}
		if hi-lo > 1 {
			t.Fatalf("task shares range from %d to %d: %s", lo, hi, showMap(owned))
		}
	}
	run(t)
	for _, m := range []string{"w2", "w3", "w4"} {
		owned[m] = nil
		t.Run("join "+m, run)
	}
	delete(owned, "w2")
	for u, m := range previous {
		if m == "w2" {
			delete(previous, u)
		}
	}
	t.Run("leave w2", run)
}
