package transform

import (
	"fmt"

	"github.com/tributary-io/tributary/connectors"
)

// Transformation changes one record, as Kafka Connect's Transformation does.
//
// The runtime calls Apply once per record, from several goroutines at once,
// so an implementation holds no per-record state. Apply may change r in
// place (the runtime owns it and nothing else refers to it) and returns it,
// returns a new record, or returns nil to drop the record. An error is
// permanent for that record: the runtime follows errors.tolerance.
type Transformation interface {
	Apply(r *connectors.Record) (*connectors.Record, error)
}

// Predicate decides whether a transformation applies to a record, as Kafka
// Connect's Predicate does. Test is called concurrently and must not change
// r.
type Predicate interface {
	Test(r *connectors.Record) bool
}

// Chain is a connector's transforms in application order. The zero Chain
// and a nil *Chain pass every record unchanged. A Chain is immutable and
// safe for concurrent use.
type Chain struct {
	steps []step
}

// step is one configured transform with its optional predicate.
type step struct {
	alias  string
	class  string
	t      Transformation
	pred   Predicate
	negate bool
}

// Len returns the number of transforms in the chain.
func (c *Chain) Len() int {
	if c == nil {
		return 0
	}
	return len(c.steps)
}

// Apply runs the chain on r: each transform runs when it has no predicate
// or when its predicate's result differs from negate. It returns the
// transformed record, or nil when a transform dropped it, in which case the
// rest of the chain does not run. The error names the failing transform's
// alias and class. A record no transform applies to costs no allocation.
func (c *Chain) Apply(r *connectors.Record) (*connectors.Record, error) {
	if c == nil {
		return r, nil
	}
	for i := range c.steps {
		s := &c.steps[i]
		if s.pred != nil && s.pred.Test(r) == s.negate {
			continue
		}
		out, err := s.t.Apply(r)
		if err != nil {
			return nil, &Error{Alias: s.alias, Class: s.class, Err: err}
		}
		if out == nil {
			return nil, nil
		}
		r = out
	}
	return r, nil
}

// Error reports a transform that failed on a record.
type Error struct {
	// Alias is the transform's name in the transforms list.
	Alias string
	// Class is its Kafka Connect class name.
	Class string
	Err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("transform %s (%s): %v", e.Alias, e.Class, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
