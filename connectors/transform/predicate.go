package transform

import (
	"regexp"

	"github.com/tributary-io/tributary/connectors"
)

// filter is Filter: it drops every record it is applied to. With a
// predicate, it drops the records the predicate selects.
type filter struct{}

func newFilter(*params, bool) Transformation { return filter{} }

func (filter) Apply(*connectors.Record) (*connectors.Record, error) { return nil, nil }

// topicNameMatches is TopicNameMatches: true when the regex matches the
// whole topic name.
type topicNameMatches struct {
	re *regexp.Regexp
}

func newTopicNameMatches(p *params) Predicate {
	return &topicNameMatches{re: compileWhole(p, "pattern", p.required("pattern"))}
}

func (t *topicNameMatches) Test(r *connectors.Record) bool {
	return t.re != nil && r.Topic != "" && t.re.MatchString(r.Topic)
}

// hasHeaderKey is HasHeaderKey: true when a header has the name.
type hasHeaderKey struct {
	name string
}

func newHasHeaderKey(p *params) Predicate {
	return &hasHeaderKey{name: p.required("name")}
}

func (t *hasHeaderKey) Test(r *connectors.Record) bool {
	for _, h := range r.Headers {
		if h.Key == t.name {
			return true
		}
	}
	return false
}

// recordIsTombstone is RecordIsTombstone: true when the value is null.
type recordIsTombstone struct{}

func newRecordIsTombstone(*params) Predicate { return recordIsTombstone{} }

func (recordIsTombstone) Test(r *connectors.Record) bool { return r.Value == nil }
