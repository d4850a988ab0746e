package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/tributary-io/tributary/connectors"
)

// reference matches a Kafka Connect config provider reference,
// ${provider:argument}.
var reference = regexp.MustCompile(`\$\{([A-Za-z0-9_.-]+):([^}]*)\}`)

// Resolve returns a copy of cfg with every ${env:NAME} reference replaced by
// the value getenv returns for NAME; a nil getenv reads the process
// environment. References may sit anywhere in a value, several to a value.
// Text that is not a reference is kept as is.
//
// Resolve is meant to run just before a connector's tasks are configured, so
// that parsed configs, REST responses and logs only ever hold references.
// Every problem is reported, joined; each is a connectors.FieldError that
// names the key and the variable but never a value. Note that any variable
// of the worker's environment can be referenced; a caller accepting configs
// from untrusted users should pass a getenv that allows only some names.
//
// Only the env provider exists; others, such as file, are errors.
// TODO(#3): add the file provider, ${file:path:key}.
func Resolve(cfg map[string]string, getenv func(string) (string, bool)) (map[string]string, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	out := make(map[string]string, len(cfg))
	var errs []error
	for _, key := range sortedKeys(cfg) {
		value := cfg[key]
		if !strings.Contains(value, "${") {
			out[key] = value
			continue
		}
		out[key] = reference.ReplaceAllStringFunc(value, func(ref string) string {
			m := reference.FindStringSubmatch(ref)
			provider, name := m[1], m[2]
			if provider != "env" {
				errs = append(errs, connectors.FieldError{Key: key, Message: fmt.Sprintf(
					"config provider %q is not supported; use ${env:NAME}", provider)})
				return ref
			}
			if name == "" {
				errs = append(errs, connectors.FieldError{Key: key,
					Message: "empty environment variable name in ${env:}"})
				return ref
			}
			v, ok := getenv(name)
			if !ok {
				errs = append(errs, connectors.FieldError{Key: key, Message: fmt.Sprintf(
					"environment variable %s is not set", name)})
				return ref
			}
			return v
		})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
