package config

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Hidden is what a password-typed value reads as outside the worker, as in
// Kafka Connect's responses.
const Hidden = "[hidden]"

// secretSuffixes end the keys whose values are credentials. The list follows
// the password-typed keys of Kafka, Kafka Connect and the Confluent sinks
// (ssl.key.password, ssl.keystore.key, sasl.jaas.config,
// aws.secret.access.key, s3.sse.customer.key, ...).
var secretSuffixes = []string{
	"password", "passphrase", "secret", "secret.key", "secret.access.key", "session.token",
	"jaas.config", "token", "credentials", "credentials.json", "api.key", "private.key",
	"basic.auth.user.info", "bearer.auth.token", "sse.customer.key", "keystore.key",
	"keystore.certificate.chain", "truststore.certificates",
}

// keySeparators spells every key with dots, so that aws_secret_access_key
// and ssl-key-password are password-typed as their dotted forms are.
var keySeparators = strings.NewReplacer("_", ".", "-", ".")

// IsSecretKey reports whether key is password-typed: its value is masked as
// Hidden in every REST response, log line and error.
func IsSecretKey(key string) bool {
	k := keySeparators.Replace(strings.ToLower(key))
	for _, s := range secretSuffixes {
		if k == s || strings.HasSuffix(k, "."+s) {
			return true
		}
	}
	return false
}

// urlPassword matches the user info of a URL that carries a password, as in
// https://user:password@registry:8081: group 1 is the scheme and the user,
// group 2 the password, up to the last @ before the host. A text may hold
// several URLs, as a comma-separated list does.
var urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^:@/\s"']*):([^/\s"']*)@`)

// MaskURLPasswords returns text with the password of every URL in it
// replaced by Hidden; the user name stays, as in
// https://user:[hidden]@registry:8081. A password that is a reference is
// kept: it names where the secret is, not the secret.
func MaskURLPasswords(text string) string {
	if !strings.Contains(text, "://") {
		return text
	}
	return urlPassword.ReplaceAllStringFunc(text, func(m string) string {
		sub := urlPassword.FindStringSubmatch(m)
		if IsReference(sub[2]) {
			return m
		}
		return sub[1] + ":" + Hidden + "@"
	})
}

// urlPasswords returns the passwords of the URLs in text, as written and
// percent-decoded, references left out.
func urlPasswords(text string) []string {
	if !strings.Contains(text, "://") {
		return nil
	}
	var out []string
	for _, sub := range urlPassword.FindAllStringSubmatch(text, -1) {
		if IsReference(sub[2]) {
			continue
		}
		out = append(out, sub[2])
		if dec, err := url.PathUnescape(sub[2]); err == nil && dec != sub[2] {
			out = append(out, dec)
		}
	}
	return out
}

// IsReference reports whether v consists of config provider references
// only, such as ${env:AWS_SECRET_ACCESS_KEY}. A reference names where a
// secret is, not the secret, so it is shown as submitted.
func IsReference(v string) bool {
	v = strings.TrimSpace(v)
	return v != "" && reference.ReplaceAllString(v, "") == ""
}

// Mask returns a copy of cfg in which each password-typed value that is not
// a reference reads Hidden, and every other value has the passwords of its
// URLs masked.
func Mask(cfg map[string]string) map[string]string {
	if cfg == nil {
		return nil
	}
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		switch {
		case IsSecretKey(k) && v != "" && !IsReference(v):
			v = Hidden
		case !IsSecretKey(k):
			v = MaskURLPasswords(v)
		}
		out[k] = v
	}
	return out
}

// Unmask returns update with each value that reads as Mask shows the value
// stored in prev replaced by the stored one, so that a config read through
// the REST API, edited and written back keeps its secrets, URL passwords
// included.
func Unmask(update, prev map[string]string) map[string]string {
	out := make(map[string]string, len(update))
	for k, v := range update {
		old, ok := prev[k]
		switch {
		case !ok:
		case v == Hidden && IsSecretKey(k):
			v = old
		case strings.Contains(v, Hidden) && !IsSecretKey(k) && MaskURLPasswords(old) == v:
			v = old
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

// Add records the password-typed values of cfg, the passwords of the URLs
// in any value and, when resolved is not nil, what their references
// resolved to. Other keys are not secrets even when they reference one (an
// access key id, a bucket name read from the environment): redacting their
// values would garble every line that names them, as Kafka Connect does
// not.
func (s *Secrets) Add(cfg, resolved map[string]string) {
	var add []string
	for k, v := range cfg {
		r, refs := resolved[k]
		refs = refs && r != v && strings.Contains(v, "${")
		if !IsSecretKey(k) {
			add = append(add, urlPasswords(v)...)
			if refs {
				add = append(add, urlPasswords(r)...)
			}
			continue
		}
		if !IsReference(v) {
			add = append(add, v)
		}
		if refs {
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

// Redact returns text with every known secret, and the password of every
// URL, replaced by Hidden.
func (s *Secrets) Redact(text string) string {
	if s == nil {
		return MaskURLPasswords(text)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.sorted {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, Hidden)
		}
	}
	return MaskURLPasswords(text)
}
