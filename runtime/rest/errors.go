package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/worker"
)

// Error is an API error: Kafka Connect's error body, whose error_code is
// the HTTP status.
type Error struct {
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Message) }

func errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// apiError classifies a Herder error about connector name into its status
// and Kafka Connect's message for it. notFound is the message for an
// unknown connector, which differs between endpoints in Kafka Connect.
func apiError(err error, name, notFound string) *Error {
	var (
		ae    *Error
		ce    *connectors.ConfigError
		owned *worker.OwnedError
		oe    *worker.OffsetsError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, worker.ErrNotFound):
		return errorf(http.StatusNotFound, "%s", notFound)
	case errors.Is(err, worker.ErrExists):
		return errorf(http.StatusConflict, "Connector %s already exists", name)
	case errors.As(err, &owned):
		return errorf(http.StatusConflict, "%s", owned.Error())
	case errors.As(err, &ce):
		return invalidConfig(ce.Errors)
	case errors.Is(err, worker.ErrNotStopped):
		return errorf(http.StatusBadRequest, "Connectors must be in the STOPPED state "+
			"before their offsets can be modified. This can be done for the specified "+
			"connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	case errors.As(err, &oe):
		return errorf(http.StatusBadRequest, "%s", oe.Error())
	case errors.Is(err, worker.ErrClosed):
		return errorf(http.StatusServiceUnavailable, "%s", err.Error())
	}
	return errorf(http.StatusInternalServerError, "%s", err.Error())
}

// invalidConfig is Kafka Connect's 400 for an invalid config, one error a
// line, each as key: message.
func invalidConfig(errs []connectors.FieldError) *Error {
	var b strings.Builder
	fmt.Fprintf(&b, "Connector configuration is invalid and contains the following %d error(s):",
		len(errs))
	for _, fe := range errs {
		b.WriteString("\n")
		b.WriteString(fe.Error())
	}
	b.WriteString("\nYou can also find the above list of errors at the endpoint " +
		"`/connector-plugins/{connectorType}/config/validate`")
	return &Error{Code: http.StatusBadRequest, Message: b.String()}
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// errorWriter turns the plain-text 404 and 405 answers of http.ServeMux
// into Kafka Connect's JSON error body.
type errorWriter struct {
	http.ResponseWriter
	rewrote bool
}

func (w *errorWriter) WriteHeader(status int) {
	ct := w.Header().Get("Content-Type")
	if (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) &&
		strings.HasPrefix(ct, "text/plain") {
		w.rewrote = true
		w.Header().Del("X-Content-Type-Options")
		writeJSON(w.ResponseWriter, status, &Error{Code: status,
			Message: fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))})
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *errorWriter) Write(p []byte) (int, error) {
	if w.rewrote {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}
