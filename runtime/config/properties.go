package config

import (
	"fmt"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// isProperties reports whether path names a Java .properties file, the
// format of Kafka Connect's standalone worker and connector files.
func isProperties(path string) bool {
	return strings.HasSuffix(strings.ToLower(path), ".properties")
}

// parseProperties parses a Java .properties file into the node tree the
// YAML parser builds: one flat mapping of string keys to string values,
// each node at the line where its logical line starts. It follows
// java.util.Properties.load: # and ! start comments, a key ends at the
// first unescaped '=', ':' or white space, a line ending in an odd number
// of backslashes continues on the next one, and \t, \n, \r, \f and \uXXXX
// are escapes. The text is read as UTF-8. A key given twice stays in the
// mapping twice, so that it is reported as a duplicate, where Java would
// silently keep the last value.
func parseProperties(data []byte) (*yaml.Node, error) {
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.Split(strings.ReplaceAll(text, "\r", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimLeft(lines[i], propertiesSpace)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// Join the continuation lines, dropping their leading white space.
		for continues(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], propertiesSpace)
		}
		if continues(line) {
			line = line[:len(line)-1] // Java drops a backslash at the end of the file
		}
		rawKey, rawValue := splitProperty(line)
		key, err := unescapeProperty(rawKey)
		if err != nil {
			return nil, &lineError{line: start, msg: err.Error()}
		}
		value, err := unescapeProperty(rawValue)
		if err != nil {
			return nil, &lineError{line: start, msg: fmt.Sprintf("%s: %v", key, err)}
		}
		root.Content = append(root.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: start},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Line: start})
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	return root, nil
}

// propertiesSpace is the white space of a .properties file.
const propertiesSpace = " \t\f"

// continues reports whether a line ends in an odd number of backslashes.
func continues(line string) bool {
	n := len(line) - len(strings.TrimRight(line, `\`))
	return n%2 == 1
}

// splitProperty splits a logical line, which starts with its key, into the
// key and the value, both still escaped.
func splitProperty(line string) (key, value string) {
	end := len(line)
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' {
			i++ // the escaped character belongs to the key
			continue
		}
		if line[i] == '=' || line[i] == ':' || strings.IndexByte(propertiesSpace, line[i]) >= 0 {
			end = i
			break
		}
	}
	rest := strings.TrimLeft(line[end:], propertiesSpace)
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], propertiesSpace)
	}
	return line[:end], rest
}

// unescapeProperty resolves the escapes of a key or a value.
func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf(`malformed \u escape %q`, s[i-1:])
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf(`malformed \u escape %q`, s[i-1:i+5])
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
