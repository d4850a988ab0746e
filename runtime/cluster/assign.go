package cluster

import (
	"cmp"
	"slices"
	"time"
)

// Unit is one piece of work a worker runs: a connector (Task is
// ConnectorUnit) or one of its tasks.
type Unit struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// ConnectorUnit is the Task of a Unit that stands for the connector itself.
const ConnectorUnit = -1

// IsConnector reports whether u is a connector rather than a task.
func (u Unit) IsConnector() bool { return u.Task == ConnectorUnit }

func compareUnits(a, b Unit) int {
	if c := cmp.Compare(a.Connector, b.Connector); c != 0 {
		return c
	}
	return cmp.Compare(a.Task, b.Task)
}

// Units lists the units of the connectors in work, which maps each
// connector to its number of tasks, sorted.
func Units(work map[string]int) []Unit {
	var out []Unit
	for name, n := range work {
		out = append(out, Unit{Connector: name, Task: ConnectorUnit})
		for i := range n {
			out = append(out, Unit{Connector: name, Task: i})
		}
	}
	slices.SortFunc(out, compareUnits)
	return out
}

// Owned is what a member reports it runs when it joins.
type Owned struct {
	Member string
	Units  []Unit
}

// Plan is what the leader knows when it assigns.
type Plan struct {
	// Members lists the group's members and what each runs now.
	Members []Owned
	// Work lists every unit that should run.
	Work []Unit
	// Previous is the leader's last assignment, unit to member; nil when
	// this leader has not assigned before.
	Previous map[Unit]string
	// Held maps units of departed members to the time they may be given to
	// another member, as returned by the previous Assign.
	Held map[Unit]time.Time
	// Now is the time of the assignment.
	Now time.Time
	// Delay is scheduled.rebalance.max.delay.ms.
	Delay time.Duration
}

// Result is the leader's decision.
type Result struct {
	// Assigned maps each member to what it runs after this rebalance: what
	// it owned, minus what is revoked, plus what is new to it.
	Assigned map[string][]Unit
	// Revoked maps members to what they must stop; a member that stops
	// something rejoins, so that the next rebalance can give it away.
	Revoked map[string][]Unit
	// Held is the units held back for departed members, with their
	// deadlines; pass it to the next Assign.
	Held map[Unit]time.Time
	// Next is how long until a held unit's deadline, when the leader must
	// rebalance again; zero when nothing is held.
	Next time.Duration
}

// Assign computes an incremental, cooperative and sticky assignment:
//
//   - a member keeps what it owns unless the unit no longer exists, another
//     member owns it too, or the member holds more than its fair share;
//   - a unit revoked from a member is not given to another one in the same
//     rebalance: the owner stops it first and rejoins;
//   - a unit nobody owns that a departed member had (Previous) is held
//     until Delay after it was first found missing, unless a member that
//     owns nothing joined, which then takes it at once;
//   - new units, and held units whose time has come, go to the members
//     with the fewest units, connectors and tasks balanced separately.
//
// Assign is deterministic: the same Plan gives the same Result.
func Assign(p Plan) Result {
	res := Result{
		Assigned: map[string][]Unit{},
		Revoked:  map[string][]Unit{},
		Held:     map[Unit]time.Time{},
	}
	members := slices.Clone(p.Members)
	slices.SortFunc(members, func(a, b Owned) int { return cmp.Compare(a.Member, b.Member) })
	if len(members) == 0 {
		return res
	}
	live := map[string]bool{}
	for _, m := range members {
		live[m.Member] = true
	}
	work := map[Unit]bool{}
	for _, u := range p.Work {
		work[u] = true
	}

	// Keep what each member owns that still exists and no earlier member
	// claimed; revoke the rest.
	owner := map[Unit]string{}
	owns := map[string][]Unit{}
	newcomer := false
	for _, m := range members {
		units := slices.Clone(m.Units)
		slices.SortFunc(units, compareUnits)
		units = slices.Compact(units)
		for _, u := range units {
			if _, taken := owner[u]; !work[u] || taken {
				res.Revoked[m.Member] = append(res.Revoked[m.Member], u)
				continue
			}
			owner[u] = m.Member
			owns[m.Member] = append(owns[m.Member], u)
		}
		if len(units) == 0 && !wasMember(p.Previous, m.Member) {
			newcomer = true
		}
	}

	// Sort out the units nobody owns: held for a departed member, or free.
	var free []Unit
	for _, u := range p.Work {
		if _, ok := owner[u]; ok {
			continue
		}
		prev, had := p.Previous[u]
		if !had || live[prev] || newcomer {
			free = append(free, u)
			continue
		}
		deadline, ok := p.Held[u]
		if !ok {
			deadline = p.Now.Add(p.Delay)
		}
		if !p.Now.Before(deadline) {
			free = append(free, u)
			continue
		}
		res.Held[u] = deadline
		if d := deadline.Sub(p.Now); res.Next == 0 || d < res.Next {
			res.Next = d
		}
	}

	for _, connectors := range []bool{true, false} {
		balance(&res, members, owns, free, p.Work, connectors)
	}
	for _, m := range members {
		slices.SortFunc(res.Assigned[m.Member], compareUnits)
		slices.SortFunc(res.Revoked[m.Member], compareUnits)
	}
	return res
}

// balance gives one kind of units (connectors or tasks) fair shares: it
// revokes what members hold above their quota and hands free units to
// members below it.
func balance(res *Result, members []Owned, owns map[string][]Unit, free, work []Unit,
	connectors bool,
) {
	kind := func(u Unit) bool { return u.IsConnector() == connectors }
	total := 0
	for _, u := range work {
		if kind(u) {
			total++
		}
	}
	have := map[string][]Unit{}
	for _, m := range members {
		for _, u := range owns[m.Member] {
			if kind(u) {
				have[m.Member] = append(have[m.Member], u)
			}
		}
	}

	// Quotas: total/n each, and one more for the total%n members that
	// already hold the most, so that as few units as possible move.
	n := len(members)
	order := slices.Clone(members)
	slices.SortStableFunc(order, func(a, b Owned) int {
		return cmp.Compare(len(have[b.Member]), len(have[a.Member]))
	})
	quota := map[string]int{}
	for i, m := range order {
		quota[m.Member] = total / n
		if i < total%n {
			quota[m.Member]++
		}
	}

	for _, m := range members {
		units := have[m.Member]
		if extra := len(units) - quota[m.Member]; extra > 0 {
			keep := len(units) - extra
			res.Revoked[m.Member] = append(res.Revoked[m.Member], units[keep:]...)
			units = units[:keep]
		}
		res.Assigned[m.Member] = append(res.Assigned[m.Member], units...)
		have[m.Member] = units
	}

	// Hand out free units, each to the member furthest below its quota,
	// then to the one with the fewest units.
	for _, u := range free {
		if !kind(u) {
			continue
		}
		best := ""
		for _, m := range members {
			if best == "" || fewer(m.Member, best, have, quota) {
				best = m.Member
			}
		}
		have[best] = append(have[best], u)
		res.Assigned[best] = append(res.Assigned[best], u)
	}
}

// fewer reports whether member a should get the next unit before b.
func fewer(a, b string, have map[string][]Unit, quota map[string]int) bool {
	da, db := quota[a]-len(have[a]), quota[b]-len(have[b])
	if da != db {
		return da > db
	}
	return len(have[a]) < len(have[b])
}

func wasMember(prev map[Unit]string, member string) bool {
	for _, m := range prev {
		if m == member {
			return true
		}
	}
	return false
}
