package connectors

import (
	"errors"
	"fmt"
	"strings"
)

// ErrRetriable marks a transient failure: the runtime backs off and retries
// the call with the same input. Wrap it: fmt.Errorf("upload %s: %w: %w",
// key, ErrRetriable, err).
var ErrRetriable = errors.New("retriable")

// ErrFenced reports that another owner has taken over a partition. The task
// drops its state for that partition; the runtime does not retry.
var ErrFenced = errors.New("fenced by a newer owner")

// IsRetriable reports whether err is worth retrying.
func IsRetriable(err error) bool { return errors.Is(err, ErrRetriable) }

// FieldError is one problem with one config key.
type FieldError struct {
	Key     string
	Message string
}

func (e FieldError) Error() string { return e.Key + ": " + e.Message }

// ConfigError carries every problem found in one config, so that a user
// fixes them all in one go.
type ConfigError struct {
	// Source names where the config came from: a file path, or a connector name.
	Source string
	Errors []FieldError
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid config %s: %d error(s)", e.Source, len(e.Errors))
	for _, fe := range e.Errors {
		b.WriteString("\n  ")
		b.WriteString(fe.Error())
	}
	return b.String()
}
