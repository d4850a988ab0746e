package schemas

import "errors"

// The errors below classify why a record value could not be turned into a
// schema and a value. All of them are permanent for the record at hand
// (retrying the same bytes gives the same answer) except ErrTransient and
// what wraps it: the runtime sends permanent failures to the error handling
// policy (fail, skip or dead letter queue) and retries transient ones with
// backoff. Test with errors.Is.
var (
	// ErrBadMagic reports a value whose first byte is not the wire format's
	// magic byte 0. The wrapping error names the byte found.
	ErrBadMagic = errors.New("bad magic byte")

	// ErrTruncated reports a value shorter than the 5-byte wire header, or an
	// Avro body that ends before the schema says it should.
	ErrTruncated = errors.New("truncated value")

	// ErrTrailingBytes reports an Avro body with bytes left over after the
	// value the schema describes (the writer used another schema than the
	// one its id names), or a JSON value followed by more data.
	ErrTrailingBytes = errors.New("trailing bytes after the value")

	// ErrMalformed reports a value that cannot be read in its format: an
	// Avro body that cannot be a value of its schema (a union or enum index
	// out of range, a negative length, an integer that overflows its type),
	// or JSON that does not parse or does not fit its envelope. The
	// wrapping error names the format.
	ErrMalformed = errors.New("malformed value")

	// ErrTooLarge reports a value that exceeds a decoding limit (string or
	// bytes length, element count, nesting depth). Limits protect the
	// process from hostile or corrupt input; see the Converter options.
	ErrTooLarge = errors.New("value exceeds decoding limits")

	// ErrUnknownSchema reports a schema id the registry does not know
	// (HTTP 404 with error code 40403).
	ErrUnknownSchema = errors.New("unknown schema id")

	// ErrTransient marks a failure that may go away on its own: a registry
	// that is unreachable, times out or answers 5xx. The runtime maps it to
	// its own retriable error; package schemas cannot import the connectors
	// package, which imports this one.
	ErrTransient = errors.New("transient")

	// ErrRegistryUnavailable reports a registry that could not answer. It
	// wraps ErrTransient.
	ErrRegistryUnavailable = &wrapped{msg: "schema registry unavailable", err: ErrTransient}
)

// IsTransient reports whether err is worth retrying later with the same
// input.
func IsTransient(err error) bool { return errors.Is(err, ErrTransient) }

// wrapped is a sentinel that wraps another sentinel, so that errors.Is
// matches both.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }
