package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	yaml "go.yaml.in/yaml/v4"

	"github.com/tributary-io/tributary/connectors"
)

// MaxNameLength bounds a connector name. It matches the longest Kafka topic
// name, so that names can be used in topic names and paths.
const MaxNameLength = 249

// Connector is one connector as read from a config file.
type Connector struct {
	// Name identifies the connector in the worker, the REST API, logs and
	// metrics.
	Name string

	// Config holds the connector's keys as Kafka Connect strings, with
	// ${env:NAME} references still unresolved; see Resolve.
	Config map[string]string

	// Source is the file the connector was read from, or "" when it did not
	// come from a file.
	Source string

	// Lines maps each key of Config to its line in Source.
	Lines map[string]int

	nameLine   int // line of the top-level name key
	configLine int // line of the top-level config key
}

// connectorKeys are the keys allowed at the top level of a connector file.
var connectorKeys = []string{"name", "config"}

// LoadConnector reads one connector file and checks its syntax and the keys
// every sink shares (see Connector.Common). Files ending in .json are read as
// JSON, those ending in .properties as Kafka Connect standalone's Java
// properties (name=... among the config keys), others as YAML. Problems with
// the content are reported all at once in a *connectors.ConfigError; a file
// that cannot be read yields a plain wrapped error.
//
// Keys specific to the connector are not checked here: that is the job of
// the connector's SinkConnector.Validate, whose errors Locate places in the
// file.
func LoadConnector(path string) (*Connector, error) {
	c, errs, err := readConnector(path, true, nil)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, &connectors.ConfigError{Source: path, Errors: errs}
	}
	return c, nil
}

// Check validates a connector read from a file, returning field errors
// about its config keys, unplaced; see Worker.ReadConnectors.
type Check func(*Connector) []connectors.FieldError

// readConnector reads a connector file, checking the shared keys when
// common is set, and with check when it is not nil. It returns the
// connector when its config could be read, even with problems, and the
// problems of the file, sorted by line; err is for a file that cannot be
// read or is too large.
func readConnector(path string, common bool, check Check) (*Connector, []connectors.FieldError, error) {
	data, err := readFile(path)
	if errors.Is(err, errTooLarge) {
		return nil, nil, &connectors.ConfigError{
			Source: path,
			Errors: []connectors.FieldError{fieldErr(path, 0, "", "%v", err)},
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read connector config %s: %w", path, err)
	}

	d := &document{path: path}
	c := d.connector(data)
	if c != nil && common {
		_, errs := c.Common()
		d.errs = append(d.errs, errs...)
	}
	if c != nil && check != nil {
		errs := check(c)
		if c.Name == "" {
			// The file's missing or bad name is reported already.
			errs = slices.DeleteFunc(errs, func(fe connectors.FieldError) bool {
				return fe.Key == "name"
			})
		}
		d.errs = append(d.errs, c.Locate(errs)...)
	}
	sortByLine(path, d.errs)
	return c, d.errs, nil
}

// sortByLine puts errors about the file at path in file order, so that they
// read from top to bottom. Errors without a line come first.
func sortByLine(path string, errs []connectors.FieldError) {
	line := func(fe connectors.FieldError) int {
		rest, ok := strings.CutPrefix(fe.Key, path+":")
		if !ok {
			return 0
		}
		if end := strings.IndexFunc(rest, notDigit); end >= 0 {
			rest = rest[:end]
		}
		n, _ := strconv.Atoi(rest)
		return n
	}
	sort.SliceStable(errs, func(i, j int) bool { return line(errs[i]) < line(errs[j]) })
}

func notDigit(r rune) bool { return r < '0' || r > '9' }

// connector parses a connector document. It returns nil when the document
// has no usable config mapping.
func (d *document) connector(data []byte) *Connector {
	root := d.parse(data, false)
	if root == nil {
		return nil
	}
	if isProperties(d.path) {
		root = connectorFromProperties(root)
	}
	c := &Connector{Source: d.path}
	var configNode *yaml.Node
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind == yaml.AliasNode || v.Kind == yaml.AliasNode {
			continue // reported by checkAnchors
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, "", "keys must be plain strings")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k.Line, k.Value, "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line

		switch k.Value {
		case "name":
			c.nameLine = k.Line
			c.Name = d.name(v)
		case "config":
			c.configLine = k.Line
			if v.Kind != yaml.MappingNode {
				d.errorf(k.Line, "config", "must be a mapping of keys to values")
				continue
			}
			configNode = v
		default:
			d.errorf(k.Line, k.Value, "unknown key; a connector file holds name and config%s",
				suggest(k.Value, connectorKeys))
		}
	}
	if c.nameLine == 0 {
		d.errorf(0, "name", "required")
	}
	if configNode == nil {
		if c.configLine == 0 {
			d.errorf(0, "config", "required")
		}
		return nil
	}

	f := newFlattener(d, "config")
	f.add("", configNode)
	c.Config, c.Lines = f.out, f.lines

	// Kafka Connect allows the name inside config too, and then it must
	// agree with the top-level one.
	if inner, ok := c.Config["name"]; ok && c.Name != "" && inner != c.Name {
		d.errorf(c.Lines["name"], "config.name", "%q differs from the connector name %q",
			inner, c.Name)
	}
	return c
}

// connectorFromProperties gives the flat mapping of a Kafka Connect
// standalone connector file, name=... among the config keys, the shape of
// the other formats: the name at the top and the other keys in config.
func connectorFromProperties(flat *yaml.Node) *yaml.Node {
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: flat.Line}
	config := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: flat.Line}
	for i := 0; i+1 < len(flat.Content); i += 2 {
		k, v := flat.Content[i], flat.Content[i+1]
		if k.Value == "name" {
			root.Content = append(root.Content, k, v) // twice is a duplicate
			continue
		}
		config.Content = append(config.Content, k, v)
	}
	key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "config", Line: flat.Line}
	root.Content = append(root.Content, key, config)
	return root
}

// name reads and checks the top-level name.
func (d *document) name(v *yaml.Node) string {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
		d.errorf(v.Line, "name", "must be a string")
		return ""
	}
	if err := ValidateName(v.Value); err != nil {
		d.errorf(v.Line, "name", "%v", err)
		return ""
	}
	return v.Value
}

// ValidateName checks a connector name: it must be non-empty, at most
// MaxNameLength bytes, and free of '/' and control characters, because names
// appear in REST paths, file paths and log lines.
func ValidateName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("must not be empty")
	case len(name) > MaxNameLength:
		return fmt.Errorf("is %d bytes long; the limit is %d", len(name), MaxNameLength)
	case strings.Contains(name, "/"):
		return fmt.Errorf("%q must not contain '/'", name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("%q must not contain control characters", name)
	}
	return nil
}

// LoadConnectorDir loads every connector file (*.yaml, *.yml, *.json,
// *.properties) in dir, in name order, skipping hidden files and
// subdirectories. It reports the problems of all files at once, joined,
// plus connector names used twice.
// An empty directory yields no connectors and no error.
func LoadConnectorDir(dir string) ([]*Connector, error) {
	paths, err := connectorFiles(dir)
	if err != nil {
		return nil, err
	}
	return allOrNothing(loadConnectors(paths, true, nil))
}

// ConnectorFileExts are the name endings of the files of a connectors
// directory that are read as connectors.
var ConnectorFileExts = []string{".yaml", ".yml", ".json", ".properties"}

// connectorFiles lists the connector files in dir.
func connectorFiles(dir string) ([]string, error) {
	paths, _, err := listConnectorDir(dir)
	return paths, err
}

// IgnoredConnectorFiles lists the files of dir that are not read as
// connectors because of how their names end, such as orders.yml.bak or
// orders.ymal, so that a caller can say so rather than skip them unseen.
// Directories and hidden files are left out.
func IgnoredConnectorFiles(dir string) ([]string, error) {
	_, ignored, err := listConnectorDir(dir)
	return ignored, err
}

func listConnectorDir(dir string) (paths, ignored []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read connector dir %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		if slices.Contains(ConnectorFileExts, strings.ToLower(filepath.Ext(name))) {
			paths = append(paths, path)
		} else {
			ignored = append(ignored, path)
		}
	}
	sort.Strings(paths)
	sort.Strings(ignored)
	return paths, ignored, nil
}

// loadConnectors loads each path and checks that names are unique; common
// is as for loadConnector. It returns the connectors of the files that read
// well along with the problems of the others, joined.
func loadConnectors(paths []string, common bool, check Check) ([]*Connector, error) {
	var (
		out   []*Connector
		errs  []error
		names = map[string]*Connector{}
	)
	for _, p := range paths {
		c, fes, err := readConnector(p, common, check)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if c != nil && c.Name != "" {
			if first, dup := names[c.Name]; dup {
				fes = append(fes, fieldErr(p, c.nameLine, "name",
					"connector %q is also defined at %s", c.Name,
					position(first.Source, first.nameLine, "")))
				sortByLine(p, fes)
			} else {
				names[c.Name] = c
			}
		}
		if len(fes) > 0 {
			errs = append(errs, &connectors.ConfigError{Source: p, Errors: fes})
			continue
		}
		if c != nil {
			out = append(out, c)
		}
	}
	return out, errors.Join(errs...)
}

// allOrNothing drops the connectors read when any file had a problem.
func allOrNothing(conns []*Connector, err error) ([]*Connector, error) {
	if err != nil {
		return nil, err
	}
	return conns, nil
}

// Locate adds c's file and line to field errors about c's config keys, such
// as those returned by a connector's SinkConnector.Validate, so that they
// read like the errors of LoadConnector. Errors are returned unchanged when
// c did not come from a file.
func (c *Connector) Locate(errs []connectors.FieldError) []connectors.FieldError {
	if c.Source == "" || len(errs) == 0 {
		return errs
	}
	out := make([]connectors.FieldError, len(errs))
	for i, fe := range errs {
		out[i] = connectors.FieldError{Key: c.keyPosition(fe.Key), Message: fe.Message}
	}
	return out
}

// keyPosition renders where a config key sits: the key alone for a
// connector not read from a file, else path:line: config.key, with the line
// of the config mapping for keys the file lacks.
func (c *Connector) keyPosition(key string) string {
	if c.Source == "" {
		return key
	}
	line, ok := c.Lines[key]
	if !ok {
		line = c.configLine
	}
	return position(c.Source, line, joinKey("config", key))
}

// fieldError builds an error about a config key of c.
func (c *Connector) fieldError(key, format string, args ...any) connectors.FieldError {
	return connectors.FieldError{Key: c.keyPosition(key), Message: fmt.Sprintf(format, args...)}
}
