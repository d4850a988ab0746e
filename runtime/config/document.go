package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	yaml "go.yaml.in/yaml/v4"

	"github.com/tributary-io/tributary/connectors"
)

// document collects the problems found while reading one config file, so
// that all of them are reported together.
type document struct {
	path string
	errs []connectors.FieldError
}

func (d *document) errorf(line int, key, format string, args ...any) {
	d.errs = append(d.errs, fieldErr(d.path, line, key, format, args...))
}

// readFile reads a config file, refusing files over MaxFileSize.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, errTooLarge
	}
	return data, nil
}

// lineError is a syntax error at a line.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// parse reads data as JSON when the file name ends in .json, as a Java
// .properties file when it ends in .properties, and as YAML otherwise, and
// returns its top-level mapping. It returns nil when the
// document cannot be used; the reasons are in d.errs. An empty document is
// an error unless allowEmpty is set, and then yields an empty mapping.
func (d *document) parse(data []byte, allowEmpty bool) *yaml.Node {
	var (
		root *yaml.Node
		err  error
	)
	switch {
	case strings.EqualFold(filepath.Ext(d.path), ".json"):
		root, err = parseJSON(data)
	case isProperties(d.path):
		root, err = parseProperties(data)
	default:
		root, err = parseYAML(data)
	}
	if err != nil {
		d.syntaxError(err, data)
		return nil
	}
	if root == nil {
		if allowEmpty {
			return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		d.errorf(0, "", "empty document")
		return nil
	}
	d.checkAnchors(root)
	if root.Kind != yaml.MappingNode {
		d.errorf(root.Line, "", "the top level must be a mapping of keys to values")
		return nil
	}
	return root
}

func (d *document) syntaxError(err error, data []byte) {
	var le *lineError
	if errors.As(err, &le) {
		d.errorf(le.line, "", "%s", le.msg)
		return
	}
	var ye *yaml.LoadError
	if errors.As(err, &ye) {
		line, msg := describeYAMLError(ye, data)
		d.errorf(line, "", "%s", msg)
		return
	}
	d.errorf(0, "", "%s", err.Error())
}

// describeYAMLError turns a YAML syntax error into the line to report and a
// message for a person. An unclosed quote or bracket is reported where it
// opens, not at the end of the file where the parser gave up, and the
// mistakes that usually come from indentation say so.
func describeYAMLError(e *yaml.LoadError, data []byte) (int, string) {
	at, ctx := e.Mark, e.ContextMark
	if e.ContextMsg == "" || ctx.Line == 0 || ctx == at {
		if open, kind, ok := unclosedFlow(data, at); ok && open.Line < at.Line {
			return open.Line, fmt.Sprintf("%s that starts here%s is not closed: "+
				"%s at line %d; is a closing bracket missing?",
				kind, column(open), e.Message, at.Line)
		}
		return at.Line, e.Message + column(at) + yamlHint(e, data)
	}
	if strings.HasPrefix(e.ContextMsg, "while scanning") ||
		strings.Contains(e.ContextMsg, "flow") {
		return ctx.Line, fmt.Sprintf("%s that starts here%s: %s at line %d%s",
			strings.TrimPrefix(e.ContextMsg, "while "), column(ctx), e.Message, at.Line,
			yamlHint(e, data))
	}
	return at.Line, fmt.Sprintf("%s%s, %s that starts at line %d%s",
		e.Message, column(at), e.ContextMsg, ctx.Line, yamlHint(e, data))
}

// yamlHint returns the likely cause of common YAML mistakes, or "".
func yamlHint(e *yaml.LoadError, data []byte) string {
	switch {
	case strings.Contains(e.ContextMsg, "quoted scalar") &&
		strings.Contains(e.Message, "end of stream"):
		return "; is a closing quote missing?"
	case strings.Contains(e.ContextMsg, "flow") &&
		strings.HasPrefix(e.Message, "did not find expected"):
		return "; is a closing bracket missing?"
	case strings.Contains(e.Message, "cannot start any token") && tabAt(data, e.Mark):
		return "; indent with spaces, not tabs"
	case e.Message == "did not find expected key",
		strings.HasPrefix(e.Message, "mapping values are not allowed"):
		return "; check the indentation"
	}
	return ""
}

// unclosedFlow finds the innermost flow sequence ([) or mapping ({) still
// open at m, skipping quoted text and comments, and returns where it opens
// and its kind. The parser sometimes gives up on such a bracket at the line
// after it without naming it.
func unclosedFlow(data []byte, m yaml.Mark) (yaml.Mark, string, bool) {
	type open struct {
		at   yaml.Mark
		kind string
	}
	var stack []open
	line, col := 1, 0
	var quote byte
	comment := false
	for i, b := range data {
		if line > m.Line || (line == m.Line && col+1 >= m.Column) {
			break
		}
		col++
		switch {
		case b == '\n':
			line, col, comment = line+1, 0, false
			continue
		case comment:
		case quote != 0:
			if b == quote {
				quote = 0
			}
		case b == '\'' || b == '"':
			quote = b
		case b == '#' && (i == 0 || data[i-1] == ' ' || data[i-1] == '\t'):
			comment = true
		case b == '[':
			stack = append(stack, open{yaml.Mark{Line: line, Column: col}, "flow sequence"})
		case b == '{':
			stack = append(stack, open{yaml.Mark{Line: line, Column: col}, "flow mapping"})
		case (b == ']' || b == '}') && len(stack) > 0:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) == 0 {
		return yaml.Mark{}, "", false
	}
	top := stack[len(stack)-1]
	return top.at, top.kind, true
}

// tabAt reports whether the line of m holds a tab before m.
func tabAt(data []byte, m yaml.Mark) bool {
	lines := bytes.Split(data, []byte("\n"))
	if m.Line < 1 || m.Line > len(lines) {
		return false
	}
	l := lines[m.Line-1]
	return bytes.IndexByte(l[:min(len(l), max(m.Column, 1))], '\t') >= 0
}

// column renders the column of m, or "" when it is unknown.
func column(m yaml.Mark) string {
	if m.Column == 0 {
		return ""
	}
	return fmt.Sprintf(" (column %d)", m.Column)
}

// parseYAML returns the root node of the only document in data, or nil for
// a file with no document.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, err
	default:
		return nil, &lineError{line: next.Line, msg: "a file holds one document; found another"}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// checkAnchors reports every anchor and alias. Aliases let a small file
// expand into a huge one, and nothing in a config needs them.
func (d *document) checkAnchors(n *yaml.Node) {
	if n.Kind == yaml.AliasNode {
		d.errorf(n.Line, "", "aliases (*%s) are not allowed", n.Value)
		return
	}
	if n.Anchor != "" {
		d.errorf(n.Line, "", "anchors (&%s) are not allowed", n.Anchor)
	}
	for _, c := range n.Content {
		d.checkAnchors(c)
	}
}

// flattener turns a mapping into dotted keys with their lines.
type flattener struct {
	doc   *document
	scope string // prepended to keys in errors, e.g. "config"
	out   map[string]string
	lines map[string]int
}

func newFlattener(d *document, scope string) *flattener {
	return &flattener{doc: d, scope: scope, out: map[string]string{}, lines: map[string]int{}}
}

// add flattens mapping m, whose keys sit below prefix.
func (f *flattener) add(prefix string, m *yaml.Node) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind == yaml.AliasNode || v.Kind == yaml.AliasNode {
			continue // reported by checkAnchors
		}
		name, ok := f.keyName(prefix, k)
		if !ok {
			continue
		}
		full := joinKey(prefix, name)
		if first, dup := seen[name]; dup {
			f.errorf(k.Line, full, "duplicate key (first at line %d)", first)
			continue
		}
		seen[name] = k.Line

		if v.Kind == yaml.MappingNode {
			f.add(full, v)
			continue
		}
		val, ok := f.value(full, v)
		if !ok {
			continue
		}
		// The same key may also arrive through a different nesting, such as
		// a.b: 1 next to a: {b: 2}.
		if first, dup := f.lines[full]; dup {
			f.errorf(k.Line, full, "duplicate key (first at line %d)", first)
			continue
		}
		f.out[full] = val
		f.lines[full] = k.Line
	}
}

func (f *flattener) errorf(line int, key, format string, args ...any) {
	f.doc.errorf(line, joinKey(f.scope, key), format, args...)
}

func (f *flattener) keyName(prefix string, k *yaml.Node) (string, bool) {
	switch {
	case k.Kind != yaml.ScalarNode:
		f.errorf(k.Line, prefix, "keys must be plain strings")
	case k.Tag == "!!merge":
		f.errorf(k.Line, prefix, "merge keys (<<) are not allowed")
	case k.Value == "":
		f.errorf(k.Line, prefix, "empty key")
	case strings.TrimSpace(k.Value) != k.Value:
		f.errorf(k.Line, joinKey(prefix, k.Value), "key has leading or trailing spaces")
	case strings.IndexFunc(k.Value, unicode.IsControl) >= 0:
		f.errorf(k.Line, prefix, "key %q holds control characters", k.Value)
	default:
		return k.Value, true
	}
	return "", false
}

// value renders a scalar or a list of scalars as a Kafka Connect string.
func (f *flattener) value(key string, v *yaml.Node) (string, bool) {
	if v.Kind == yaml.ScalarNode {
		s, err := scalarString(v)
		if err != nil {
			f.errorf(v.Line, key, "%v", err)
			return "", false
		}
		return s, true
	}
	if v.Kind != yaml.SequenceNode {
		f.errorf(v.Line, key, "unsupported value")
		return "", false
	}
	items := make([]string, 0, len(v.Content))
	for _, it := range v.Content {
		if it.Kind == yaml.AliasNode {
			return "", false // reported by checkAnchors
		}
		if it.Kind != yaml.ScalarNode {
			f.errorf(it.Line, key, "a list may hold only plain values")
			return "", false
		}
		s, err := scalarString(it)
		if err != nil {
			f.errorf(it.Line, key, "%v", err)
			return "", false
		}
		// Kafka Connect splits lists on commas, so such an item would
		// silently become two.
		if strings.Contains(s, ",") {
			f.errorf(it.Line, key, "list item %q holds a comma", s)
			return "", false
		}
		items = append(items, s)
	}
	return strings.Join(items, ","), true
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	if key == "" {
		return prefix
	}
	return prefix + "." + key
}

// decimal matches integers written in plain decimal.
var decimal = regexp.MustCompile(`^[-+]?[0-9]+$`)

// scalarString renders a scalar the way it would be written as a string in
// Kafka Connect's JSON.
func scalarString(n *yaml.Node) (string, error) {
	switch n.Tag {
	case "!!str", "!!timestamp":
		return n.Value, nil
	case "!!bool":
		return strings.ToLower(n.Value), nil
	case "!!int", "!!float":
		return numberString(n)
	case "!!null":
		return "", errors.New(`null value; write "" for an empty string`)
	default:
		return "", fmt.Errorf("unsupported tag %s", n.Tag)
	}
}

func numberString(n *yaml.Node) (string, error) {
	raw := strings.ReplaceAll(n.Value, "_", "")
	if decimal.MatchString(raw) {
		digits := strings.TrimLeft(raw, "+-")
		if len(digits) > 1 && digits[0] == '0' {
			return "", fmt.Errorf("%s has a leading zero, which YAML reads as octal; quote it",
				n.Value)
		}
		// Kept as written, so integers beyond 64 bits lose nothing.
		return strings.TrimPrefix(raw, "+"), nil
	}
	if n.Tag == "!!int" { // hexadecimal, octal or binary
		var i int64
		if err := n.Decode(&i); err != nil {
			return "", fmt.Errorf("integer %s is out of range", n.Value)
		}
		return strconv.FormatInt(i, 10), nil
	}
	var x float64
	if err := n.Decode(&x); err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return "", fmt.Errorf("%s is not a finite number", n.Value)
	}
	return strconv.FormatFloat(x, 'f', -1, 64), nil
}

// parseJSON parses a JSON document into the node tree yaml.v3 builds, with
// lines, so that JSON and YAML files share one strict walker. YAML's parser
// cannot read every JSON file (it rejects the escape \/, for one).
func parseJSON(data []byte) (*yaml.Node, error) {
	p := &jsonParser{dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	for i, b := range data {
		if b == '\n' {
			p.newlines = append(p.newlines, i)
		}
	}
	root, err := p.value()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &lineError{line: p.line(), msg: "unexpected data after the top-level value"}
	}
	return root, nil
}

type jsonParser struct {
	dec      *json.Decoder
	newlines []int // offsets of '\n' in the input
	depth    int   // objects and arrays open
}

// line returns the line of the token the decoder returned last. Tokens never
// span lines, so the line of their last byte is theirs.
func (p *jsonParser) line() int {
	end := int(p.dec.InputOffset()) - 1
	return sort.SearchInts(p.newlines, end) + 1
}

func (p *jsonParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		line := sort.SearchInts(p.newlines, int(se.Offset)-1) + 1
		return nil, &lineError{line: line, msg: se.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF) && p.depth > 0:
		return nil, &lineError{line: len(p.newlines) + 1, msg: "unexpected end of file"}
	}
	return tok, err
}

func (p *jsonParser) value() (*yaml.Node, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	line := p.line()
	scalar := func(tag, value string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value, Line: line}
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return p.object(line)
		}
		return p.array(line) // the decoder returns no other opening delimiter
	case string:
		return scalar("!!str", t), nil
	case json.Number:
		if strings.ContainsAny(string(t), ".eE") {
			return scalar("!!float", string(t)), nil
		}
		return scalar("!!int", string(t)), nil
	case bool:
		return scalar("!!bool", strconv.FormatBool(t)), nil
	default:
		return scalar("!!null", "null"), nil
	}
}

func (p *jsonParser) object(line int) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
	p.depth++
	defer func() { p.depth-- }()
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: tok.(string), Line: p.line()}
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, key, val)
	}
	_, err := p.token() // '}'
	return n, err
}

func (p *jsonParser) array(line int) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
	p.depth++
	defer func() { p.depth-- }()
	for p.dec.More() {
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, val)
	}
	_, err := p.token() // ']'
	return n, err
}
