package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Record key types of the _schemas topic. Readers dispatch on the key type
// and skip the ones they do not know.
const (
	keySchema        = "SCHEMA"
	keyConfig        = "CONFIG"
	keyMode          = "MODE"
	keyNoop          = "NOOP"
	keyDeleteSubject = "DELETE_SUBJECT"
	keyClearSubject  = "CLEAR_SUBJECT"
	keyContext       = "CONTEXT"
)

// recordKey is the JSON key of every record in the topic. The field order
// is Confluent's: compaction compares key bytes, so a key written here must
// equal the one Confluent's registry writes for the same subject-version.
type recordKey struct {
	KeyType string  `json:"keytype"`
	Subject *string `json:"subject,omitempty"`
	Version int     `json:"version,omitempty"`
	Magic   int     `json:"magic"`
}

// schemaValue is the value of a SCHEMA record.
type schemaValue struct {
	Subject    string          `json:"subject"`
	Version    int             `json:"version"`
	ID         int             `json:"id"`
	SchemaType string          `json:"schemaType,omitempty"`
	References json.RawMessage `json:"references,omitempty"`
	Schema     string          `json:"schema"`
	Deleted    bool            `json:"deleted"`
}

// configValue is the value of a CONFIG record.
type configValue struct {
	Subject            *string `json:"subject,omitempty"`
	CompatibilityLevel string  `json:"compatibilityLevel"`
}

// deleteSubjectValue is the value of a DELETE_SUBJECT record.
type deleteSubjectValue struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// schemaRecord renders the key and value that register a subject-version.
func schemaRecord(subject string, version, id int, text string) (key, value []byte, err error) {
	key, err = compactJSON(recordKey{
		KeyType: keySchema, Subject: &subject, Version: version, Magic: 1,
	})
	if err != nil {
		return nil, nil, err
	}
	value, err = compactJSON(schemaValue{
		Subject: subject, Version: version, ID: id, Schema: text,
	})
	return key, value, err
}

// compactJSON renders v as compact JSON without escaping <, > and &, as
// Confluent's registry writes it: keys must match byte for byte.
func compactJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// noopKey is the key of the record an instance writes to find the end of
// the topic: once it has read its own NOOP back, it has read everything
// written before.
var noopKey = []byte(`{"keytype":"NOOP","magic":0}`)

// apply decodes one record of the topic into the view. Records it cannot
// read are logged and skipped: one bad record must not stop the registry
// from serving the others.
func (v *view) apply(key, value []byte, offset int64) {
	var k recordKey
	if err := json.Unmarshal(key, &k); err != nil {
		v.log.Warn("skipping schemas record with unreadable key", "offset", offset, "err", err)
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	switch k.KeyType {
	case keySchema:
		if k.Magic != 0 && k.Magic != 1 {
			v.log.Warn("skipping schema record with unknown magic",
				"offset", offset, "magic", k.Magic)
			return
		}
		if err := v.applySchemaRecord(k, value); err != nil {
			v.log.Warn("skipping unreadable schema record", "offset", offset, "err", err)
		}
	case keyConfig:
		if k.Subject != nil {
			return // subject-level config is not served
		}
		var c configValue
		if value == nil {
			v.compat = ""
		} else if err := json.Unmarshal(value, &c); err == nil {
			v.compat = c.CompatibilityLevel
		}
	case keyDeleteSubject:
		var d deleteSubjectValue
		if value != nil && json.Unmarshal(value, &d) == nil {
			v.applyDeleteSubject(d.Subject, d.Version)
		}
	case keyNoop, keyMode, keyClearSubject, keyContext:
	default:
		v.log.Debug("skipping schemas record of unknown type",
			"offset", offset, "keytype", k.KeyType)
	}
}

func (v *view) applySchemaRecord(k recordKey, value []byte) error {
	if k.Subject == nil {
		return fmt.Errorf("schema key without subject")
	}
	if value == nil {
		v.applySchema(*k.Subject, k.Version, nil, false)
		return nil
	}
	var sv schemaValue
	if err := json.Unmarshal(value, &sv); err != nil {
		return fmt.Errorf("decode value: %w", err)
	}
	c := &content{id: sv.ID, text: sv.Schema, schemaType: sv.SchemaType, refs: sv.References}
	if c.schemaType == "" {
		c.schemaType = typeAvro
	}
	if len(sv.References) > 0 && string(sv.References) != "[]" {
		// Without the referenced texts the schema cannot be parsed; it is
		// served as text and identified by it.
		c.ident = "refs\x00" + string(sv.References) + "\x00" + sv.Schema
	} else {
		ident, parsed, err := identify(c.schemaType, sv.Schema)
		if err != nil {
			ident = "unparsed\x00" + sv.Schema
		}
		c.ident, c.avro = ident, parsed
	}
	v.applySchema(*k.Subject, k.Version, c, sv.Deleted)
	return nil
}
