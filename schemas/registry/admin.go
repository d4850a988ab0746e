package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/sr"
)

// The calls below administer a registry rather than resolve schemas: they
// serve the schemas command and are not cached.

// Version numbers with a meaning of their own, as Confluent's API spells
// them in a path.
const (
	// VersionLatest is the newest live version of a subject.
	VersionLatest = -1
	// VersionAll, for CheckCompatibility, checks against every version
	// the subject's compatibility level asks for.
	VersionAll = -2
)

// SchemaVersion is one version of a subject and the schema it carries.
type SchemaVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
	ID      int    `json:"id"`
	// Type is AVRO, JSON or PROTOBUF.
	Type   string `json:"schemaType"`
	Schema string `json:"schema"`
	// References are the schemas this one imports, by subject and version.
	References []sr.SchemaReference `json:"references,omitempty"`
}

func schemaVersion(ss sr.SubjectSchema) SchemaVersion {
	return SchemaVersion{Subject: ss.Subject, Version: ss.Version, ID: ss.ID,
		Type: ss.Type.String(), Schema: ss.Schema.Schema, References: ss.References}
}

// RegisterVersion registers the Avro schema text under subject, or finds
// it there, and returns the version that carries it. Unlike Register, it
// does not parse text itself: the registry's verdict is what a person
// running the command wants to see.
func (c *Client) RegisterVersion(ctx context.Context, subject, text string) (SchemaVersion, error) {
	ss, err := c.sr.CreateSchema(ctx, subject, sr.Schema{Schema: text, Type: sr.TypeAvro})
	if err != nil {
		return SchemaVersion{}, classify("register "+subject, err)
	}
	if ss.Schema.Schema == "" {
		ss.Schema.Schema = text
	}
	return schemaVersion(ss), nil
}

// SchemaText returns the schema registered under id, without parsing it,
// and its type.
func (c *Client) SchemaText(ctx context.Context, id int) (SchemaVersion, error) {
	s, err := c.sr.SchemaByID(ctx, id)
	if err != nil {
		return SchemaVersion{}, classify(fmt.Sprintf("get schema %d", id), err)
	}
	return SchemaVersion{ID: id, Type: s.Type.String(), Schema: s.Schema,
		References: s.References}, nil
}

// Version returns subject's version (VersionLatest for the newest).
func (c *Client) Version(ctx context.Context, subject string, version int) (SchemaVersion, error) {
	ss, err := c.sr.SchemaByVersion(ctx, subject, version)
	if err != nil {
		return SchemaVersion{}, classify("get "+subject+" "+versionName(version), err)
	}
	return schemaVersion(ss), nil
}

// versionName names a version for messages: "version 3", "latest version".
func versionName(version int) string {
	switch version {
	case VersionLatest:
		return "latest version"
	case VersionAll:
		return "all versions"
	}
	return fmt.Sprintf("version %d", version)
}

// Subjects lists the subjects with live versions, and with deleted set
// those whose versions are all soft-deleted too.
func (c *Client) Subjects(ctx context.Context, deleted bool) ([]string, error) {
	if deleted {
		ctx = sr.WithParams(ctx, sr.ShowDeleted)
	}
	subjects, err := c.sr.Subjects(ctx)
	if err != nil {
		return nil, classify("list subjects", err)
	}
	return subjects, nil
}

// Versions lists subject's live versions.
func (c *Client) Versions(ctx context.Context, subject string) ([]int, error) {
	versions, err := c.sr.SubjectVersions(ctx, subject)
	if err != nil {
		return nil, classify("list versions of "+subject, err)
	}
	return versions, nil
}

// CheckCompatibility reports whether the Avro schema text could be
// registered under subject as far as version is concerned (a number,
// VersionLatest or VersionAll), and when it could not, the registry's
// reasons.
func (c *Client) CheckCompatibility(ctx context.Context, subject, text string, version int) (
	compatible bool, reasons []string, err error,
) {
	res, err := c.sr.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subject, version,
		sr.Schema{Schema: text, Type: sr.TypeAvro})
	if err != nil {
		return false, nil, classify("check compatibility with "+subject, err)
	}
	return res.Is, res.Messages, nil
}

// Delete deletes subject's version, or all its versions when version is
// 0, and returns the versions deleted. A permanent delete soft-deletes
// first what is still live, since the registry only lets soft-deleted
// versions go for good.
func (c *Client) Delete(ctx context.Context, subject string, version int, permanent bool) (
	[]int, error,
) {
	op := "delete " + subject
	if version == 0 {
		deleted, err := c.sr.DeleteSubject(ctx, subject, sr.SoftDelete)
		if permanent && (err == nil || isCode(err, 40404)) {
			deleted, err = c.sr.DeleteSubject(ctx, subject, sr.HardDelete)
		}
		if err != nil {
			return nil, classify(op, err)
		}
		return deleted, nil
	}
	op = fmt.Sprintf("delete %s version %d", subject, version)
	err := c.sr.DeleteSchema(ctx, subject, version, sr.SoftDelete)
	if permanent && (err == nil || isCode(err, 40406)) {
		err = c.sr.DeleteSchema(ctx, subject, version, sr.HardDelete)
	}
	if err != nil {
		return nil, classify(op, err)
	}
	return []int{version}, nil
}

// isCode reports whether err is a registry answer with error code code.
func isCode(err error, code int) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && re.ErrorCode == code
}

// Compatibility returns the compatibility level that applies to subject
// (its own or the global one), or the global level when subject is "".
func (c *Client) Compatibility(ctx context.Context, subject string) (string, error) {
	subjects := []string{}
	if subject != "" {
		subjects = append(subjects, subject)
		ctx = sr.WithParams(ctx, sr.DefaultToGlobal)
	}
	res := c.sr.Compatibility(ctx, subjects...)[0]
	if res.Err != nil {
		return "", classify("get compatibility of "+scopeName(subject), res.Err)
	}
	return res.Level.String(), nil
}

// SetCompatibility sets subject's compatibility level, or the global one
// when subject is "", and returns the level now set.
func (c *Client) SetCompatibility(ctx context.Context, subject, level string) (string, error) {
	var lvl sr.CompatibilityLevel
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return "", fmt.Errorf("set compatibility of %s: %w", scopeName(subject), err)
	}
	subjects := []string{}
	if subject != "" {
		subjects = append(subjects, subject)
	}
	res := c.sr.SetCompatibility(ctx, sr.SetCompatibility{Level: lvl}, subjects...)[0]
	if res.Err != nil {
		return "", classify("set compatibility of "+scopeName(subject), res.Err)
	}
	return res.Level.String(), nil
}

func scopeName(subject string) string {
	if subject == "" {
		return "the registry"
	}
	return subject
}
