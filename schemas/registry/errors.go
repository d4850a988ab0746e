package registry

import (
	"fmt"
	"net/http"
	"strings"
)

// apiError is an error answer: HTTP status, Schema Registry error code and
// message, rendered as {"error_code": ..., "message": ...}. The codes and
// messages are Confluent's, since clients branch on them.
type apiError struct {
	status int
	code   int
	msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("error code %d: %s", e.code, e.msg) }

func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	writeJSON(w, r, e.status, struct {
		Code    int    `json:"error_code"`
		Message string `json:"message"`
	}{e.code, e.msg})
}

// errStatus is a framework-level error whose code is its HTTP status.
func errStatus(status int) *apiError {
	return &apiError{status, status, fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))}
}

// The context every subject lives in; contexts are not implemented.
const defaultContext = "."

func errSubjectNotFound(subject string) *apiError {
	return &apiError{http.StatusNotFound, 40401, fmt.Sprintf("Subject '%s' not found.", subject)}
}

func errVersionNotFound(version int) *apiError {
	return &apiError{http.StatusNotFound, 40402, fmt.Sprintf("Version %d not found.", version)}
}

func errSchemaNotFound(id int) *apiError {
	return &apiError{http.StatusNotFound, 40403, fmt.Sprintf("Schema %d not found", id)}
}

var errLookupNotFound = &apiError{http.StatusNotFound, 40403, "Schema not found"}

func errSubjectSoftDeleted(subject string) *apiError {
	return &apiError{http.StatusNotFound, 40404, fmt.Sprintf(
		"Subject '%s' was soft deleted.Set permanent=true to delete permanently", subject)}
}

func errSubjectNotSoftDeleted(subject string) *apiError {
	return &apiError{http.StatusNotFound, 40405, fmt.Sprintf(
		"Subject '%s' was not deleted first before being permanently deleted", subject)}
}

func errVersionSoftDeleted(subject string, version int) *apiError {
	return &apiError{http.StatusNotFound, 40406, fmt.Sprintf(
		"Subject '%s' Version %d was soft deleted.Set permanent=true to delete permanently",
		subject, version)}
}

func errVersionNotSoftDeleted(subject string, version int) *apiError {
	return &apiError{http.StatusNotFound, 40407, fmt.Sprintf(
		"Subject '%s' Version %d was not deleted first before being permanently deleted",
		subject, version)}
}

func errNoSubjectConfig(subject string) *apiError {
	return &apiError{http.StatusNotFound, 40408, fmt.Sprintf(
		"Subject '%s' does not have subject-level compatibility configured", subject)}
}

func errNoSubjectMode(subject string) *apiError {
	return &apiError{http.StatusNotFound, 40409, fmt.Sprintf(
		"Subject '%s' does not have subject-level mode configured", subject)}
}

// errIncompatible is the answer to an incompatible registration. Its code
// is 409, as up to Confluent 7.9 (8.0 says 40901): the responses of this
// registry have the 7.x shape, and clients branch on the status alone.
func errIncompatible(subject string, msgs []string) *apiError {
	return &apiError{http.StatusConflict, 409, fmt.Sprintf(
		"Schema being registered is incompatible with an earlier schema for subject "+
			"\"%s\", details: [%s]", subject, strings.Join(msgs, ", "))}
}

func errInvalidSchema(msg string) *apiError {
	return &apiError{http.StatusUnprocessableEntity, 42201, msg}
}

func errInvalidVersion(raw string) *apiError {
	return &apiError{http.StatusUnprocessableEntity, 42202, fmt.Sprintf(
		"The specified version '%s' is not a valid version id. Allowed values are "+
			"between [1, 2^31-1] and the string \"latest\"", raw)}
}

var errInvalidLevel = &apiError{http.StatusUnprocessableEntity, 42203,
	"Invalid compatibility level. Valid values are none, backward, forward, full, " +
		"backward_transitive, forward_transitive, and full_transitive"}

var errInvalidMode = &apiError{http.StatusUnprocessableEntity, 42204,
	"Invalid mode. Valid values are READWRITE, READONLY, IMPORT and FORWARD."}

func errNotPermitted(msg string) *apiError {
	return &apiError{http.StatusUnprocessableEntity, 42205, msg}
}

func errReadOnly(subject string) *apiError {
	return errNotPermitted(fmt.Sprintf("Subject %s in context %s is in read-only mode",
		subject, defaultContext))
}

func errReferenceExists(subject string, version int) *apiError {
	return &apiError{http.StatusUnprocessableEntity, 42206, fmt.Sprintf(
		"One or more references exist to the schema "+
			"{magic=1,keytype=SCHEMA,subject=%s,version=%d}.", subject, version)}
}

func errInvalidSubject(subject string) *apiError {
	return &apiError{http.StatusUnprocessableEntity, 42208,
		fmt.Sprintf("The specified subject '%s' is not a valid.", subject)}
}

var errSchemaTooLarge = &apiError{http.StatusUnprocessableEntity, 42209,
	"Register operation failed because schema is too large"}

func errStore(err error) *apiError {
	return &apiError{http.StatusInternalServerError, 50001, "Error in the backend data store: " +
		err.Error()}
}

var errTimeout = &apiError{http.StatusInternalServerError, 50002,
	"Write to the Kafka store timed out while waiting for the write to be read back"}

func errForwarding(err error) *apiError {
	return &apiError{http.StatusInternalServerError, 50003,
		"Error while forwarding the request to the leader: " + err.Error()}
}

var errUnknownLeader = &apiError{http.StatusInternalServerError, 50004,
	"Leader not known; no registry instance is taking writes"}
