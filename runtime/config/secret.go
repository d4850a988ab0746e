package config

import (
	"sort"
	"strings"
	"sync"
)

// Hidden is what a password-typed value reads as outside the worker, as in
// Kafka Connect's responses.
const Hidden = "[hidden]"

// secretSuffixes end the keys whose values are credentials. The list follows
// the password-typed keys of Kafka, Kafka Connect and the Confluent sinks
// (ssl.key.password, sasl.jaas.config, aws.secret.access.key, ...).
var secretSuffixes = []string{
	"password", "secret", "secret.key", "secret.access.key", "session.token",
	"jaas.config", "token", "credentials", "credentials.json", "api.key", "private.key",
	"basic.auth.user.info", "bearer.auth.token",
}

// IsSecretKey reports whether key is password-typed: its value is masked as
// Hidden in every REST response, log line and error.
func IsSecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range secretSuffixes {
		if k == s || strings.HasSuffix(k, "."+s) || strings.HasSuffix(k, "_"+s) {
			return true
		}
	}
	return false
}

// IsReference reports whether v consists of config provider references
// only, such as ${env:AWS_SECRET_ACCESS_KEY}. A reference names where a
// secret is, not the secret, so it is shown as submitted.
func IsReference(v string) bool {
	v = strings.TrimSpace(v)
	return v != "" && reference.ReplaceAllString(v, "") == ""
}

// Mask returns a copy of cfg in which each password-typed value that is not
// a reference reads Hidden.
func Mask(cfg map[string]string) map[string]string {
	if cfg == nil {
		return nil
	}
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		if IsSecretKey(k) && v != "" && !IsReference(v) {
			v = Hidden
		}
		out[k] = v
	}
	return out
}

// Unmask returns update with each password-typed value that reads Hidden
// replaced by the value stored in prev, so that a config read through the
// REST API, edited and written back keeps its secrets.
func Unmask(update, prev map[string]string) map[string]string {
	out := make(map[string]string, len(update))
	for k, v := range update {
		if v == Hidden && IsSecretKey(k) {
			if old, ok := prev[k]; ok {
				v = old
			}
		}
		out[k] = v
	}
	return out
}

// Secrets is the set of secret values a process has seen: password-typed
// values of configs and what references resolved to. Redact removes them
// from text bound for a log line, an error or a response. It is safe for
// concurrent use; the zero value is empty.
type Secrets struct {
	mu     sync.RWMutex
	values map[string]bool
	sorted []string // longest first, so that no secret is half replaced
}

// minSecretLen keeps very short values (a "1", a "true") out of the set:
// redacting them would garble text and protect nothing.
const minSecretLen = 4

// Add records the password-typed values of cfg and, when resolved is not
// nil, what their references resolved to. Other keys are not secrets even
// when they reference one (an access key id, a bucket name read from the
// environment): redacting their values would garble every line that names
// them, as Kafka Connect does not.
func (s *Secrets) Add(cfg, resolved map[string]string) {
	var add []string
	for k, v := range cfg {
		if !IsSecretKey(k) {
			continue
		}
		if !IsReference(v) {
			add = append(add, v)
		}
		if r, ok := resolved[k]; ok && r != v && strings.Contains(v, "${") {
			add = append(add, r)
		}
	}
	s.add(add...)
}

func (s *Secrets) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, v := range values {
		if len(v) < minSecretLen || s.values[v] {
			continue
		}
		if s.values == nil {
			s.values = map[string]bool{}
		}
		s.values[v] = true
		changed = true
	}
	if !changed {
		return
	}
	s.sorted = s.sorted[:0]
	for v := range s.values {
		s.sorted = append(s.sorted, v)
	}
	sort.Slice(s.sorted, func(i, j int) bool { return len(s.sorted[i]) > len(s.sorted[j]) })
}

// Redact returns text with every known secret replaced by Hidden.
func (s *Secrets) Redact(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.sorted {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, Hidden)
		}
	}
	return text
}
