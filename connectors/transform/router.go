package transform

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/tributary-io/tributary/connectors"
)

// regexRouter is RegexRouter: it renames the topic of records whose topic
// the regex matches whole.
type regexRouter struct {
	re          *regexp.Regexp
	replacement string
}

func newRegexRouter(p *params, _ bool) Transformation {
	t := &regexRouter{}
	expr := p.required("regex")
	repl := p.str("replacement", "")
	if _, ok := p.cfg[p.prefix+"replacement"]; !ok {
		p.errorf("replacement", "required")
	}
	t.re = compileWhole(p, "regex", expr)
	t.replacement = javaReplacement(repl)
	return t
}

// compileWhole compiles a Java regex that must match a whole string, with
// Go's RE2 syntax.
func compileWhole(p *params, key, expr string) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		p.errorf(key, "invalid regex: %v", err)
		return nil
	}
	return re
}

// javaReplacement turns a Java replacement string ($1, \$) into the
// template regexp.Expand reads (${1}, $$).
func javaReplacement(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(s[i])
			}
		case c == '$' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			b.WriteString("${" + s[i+1:j] + "}")
			i = j - 1
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (t *regexRouter) Apply(r *connectors.Record) (*connectors.Record, error) {
	m := t.re.FindStringSubmatchIndex(r.Topic)
	if m == nil {
		return r, nil
	}
	r.Topic = string(t.re.ExpandString(nil, t.replacement, r.Topic, m))
	return r, nil
}

// timestampRouter is TimestampRouter: it renames the topic after the
// record's timestamp, so that a sink writes one table or directory per
// period.
type timestampRouter struct {
	topicFormat string
	layout      string
}

func newTimestampRouter(p *params, _ bool) Transformation {
	t := &timestampRouter{topicFormat: p.str("topic.format", "${topic}-${timestamp}")}
	pattern := p.str("timestamp.format", "yyyyMMdd")
	layout, err := javaLayout(pattern)
	if err != nil {
		p.errorf("timestamp.format", "%v", err)
	}
	t.layout = layout
	return t
}

func (t *timestampRouter) Apply(r *connectors.Record) (*connectors.Record, error) {
	if r.Timestamp.IsZero() {
		return nil, fmt.Errorf("timestamp missing on record %s", r.Position())
	}
	ts := r.Timestamp.UTC().Format(t.layout)
	topic := strings.ReplaceAll(t.topicFormat, "${topic}", r.Topic)
	r.Topic = strings.ReplaceAll(topic, "${timestamp}", ts)
	return r, nil
}
