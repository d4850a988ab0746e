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

// configValue is the value of a CONFIG record, and the Config entity of
// the config endpoints. Fields this registry does not act on are kept as
// read, so that a record another registry wrote survives an update.
type configValue struct {
	Subject            *string         `json:"subject,omitempty"`
	Alias              string          `json:"alias,omitempty"`
	Normalize          *bool           `json:"normalize,omitempty"`
	ValidateFields     *bool           `json:"validateFields,omitempty"`
	CompatibilityLevel string          `json:"compatibilityLevel,omitempty"`
	CompatibilityGroup string          `json:"compatibilityGroup,omitempty"`
	DefaultMetadata    json.RawMessage `json:"defaultMetadata,omitempty"`
	OverrideMetadata   json.RawMessage `json:"overrideMetadata,omitempty"`
	DefaultRuleSet     json.RawMessage `json:"defaultRuleSet,omitempty"`
	OverrideRuleSet    json.RawMessage `json:"overrideRuleSet,omitempty"`
}

// mergedWith returns c with the fields set in over replacing its own.
func (c configValue) mergedWith(over configValue) configValue {
	if over.Alias != "" {
		c.Alias = over.Alias
	}
	if over.Normalize != nil {
		c.Normalize = over.Normalize
	}
	if over.ValidateFields != nil {
		c.ValidateFields = over.ValidateFields
	}
	if over.CompatibilityLevel != "" {
		c.CompatibilityLevel = over.CompatibilityLevel
	}
	if over.CompatibilityGroup != "" {
		c.CompatibilityGroup = over.CompatibilityGroup
	}
	for _, f := range []struct{ dst, src *json.RawMessage }{
		{&c.DefaultMetadata, &over.DefaultMetadata}, {&c.OverrideMetadata, &over.OverrideMetadata},
		{&c.DefaultRuleSet, &over.DefaultRuleSet}, {&c.OverrideRuleSet, &over.OverrideRuleSet},
	} {
		if len(*f.src) > 0 {
			*f.dst = *f.src
		}
	}
	return c
}

// modeValue is the value of a MODE record.
type modeValue struct {
	Subject *string `json:"subject,omitempty"`
	Mode    string  `json:"mode"`
}

// deleteSubjectValue is the value of a DELETE_SUBJECT record.
type deleteSubjectValue struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// record is one record to write to the topic; a nil value is a tombstone.
type record struct {
	key, value []byte
}

// schemaKey is the key of a subject-version's SCHEMA records.
func schemaKey(subject string, version int) []byte {
	return mustCompactJSON(recordKey{KeyType: keySchema, Subject: &subject, Version: version, Magic: 1})
}

// schemaRecord renders the record that registers or soft-deletes a
// subject-version.
func schemaRecord(v schemaValue) record {
	return record{schemaKey(v.Subject, v.Version), mustCompactJSON(v)}
}

// scopedKey is the key of CONFIG, MODE and DELETE_SUBJECT records; the
// global config and mode have no subject.
func scopedKey(keyType, subject string) []byte {
	k := recordKey{KeyType: keyType}
	if subject != "" {
		k.Subject = &subject
	}
	return mustCompactJSON(k)
}

// configRecord sets subject's config, or deletes it when c is nil.
func configRecord(subject string, c *configValue) record {
	r := record{key: scopedKey(keyConfig, subject)}
	if c != nil {
		v := *c
		v.Subject = nil
		if subject != "" {
			v.Subject = &subject
		}
		r.value = mustCompactJSON(v)
	}
	return r
}

// modeRecord sets subject's mode, or deletes it when mode is empty.
func modeRecord(subject, mode string) record {
	r := record{key: scopedKey(keyMode, subject)}
	if mode != "" {
		v := modeValue{Mode: mode}
		if subject != "" {
			v.Subject = &subject
		}
		r.value = mustCompactJSON(v)
	}
	return r
}

// deleteSubjectRecord soft-deletes versions 1 to upTo of subject.
func deleteSubjectRecord(subject string, upTo int) record {
	return record{scopedKey(keyDeleteSubject, subject),
		mustCompactJSON(deleteSubjectValue{Subject: subject, Version: upTo})}
}

// mustCompactJSON renders values whose types always encode.
func mustCompactJSON(v any) []byte {
	b, err := compactJSON(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err))
	}
	return b
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
		subject := deref0(k.Subject)
		var c configValue
		switch {
		case value == nil:
			delete(v.configs, subject)
		case json.Unmarshal(value, &c) == nil:
			c.Subject = nil
			v.configs[subject] = c
		default:
			v.log.Warn("skipping unreadable config record", "offset", offset)
		}
	case keyMode:
		subject := deref0(k.Subject)
		var m modeValue
		switch {
		case value == nil:
			delete(v.modes, subject)
		case json.Unmarshal(value, &m) == nil && m.Mode != "":
			v.modes[subject] = m.Mode
		default:
			v.log.Warn("skipping unreadable mode record", "offset", offset)
		}
	case keyDeleteSubject:
		var d deleteSubjectValue
		if value != nil && json.Unmarshal(value, &d) == nil {
			v.applyDeleteSubject(d.Subject, d.Version)
		}
	case keyNoop, keyClearSubject, keyContext:
	default:
		v.log.Debug("skipping schemas record of unknown type",
			"offset", offset, "keytype", k.KeyType)
	}
}

// deref0 reads an optional subject; the global entries have none (or, as
// older registries wrote them, a JSON null).
func deref0(s *string) string {
	if s == nil {
		return ""
	}
	return *s
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
	if len(sv.References) > 0 && string(sv.References) != "[]" && string(sv.References) != "null" {
		// Imports resolve against what the topic held before; a schema
		// whose imports are missing is served as text, identified by it.
		c.ident = "refs\x00" + string(sv.References) + "\x00" + sv.Schema
		if err := json.Unmarshal(sv.References, &c.references); err == nil && c.schemaType == typeAvro {
			ident, parsed, _, err := v.parseWithRefsLocked(sv.Schema, c.references, true)
			if err == nil {
				c.ident, c.avro = ident, parsed
			}
		}
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
