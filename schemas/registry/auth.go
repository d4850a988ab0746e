package registry

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"net/http"
	"strings"
)

// Auth is what a Server requires of every request. With neither basic
// credentials nor a token set, it requires nothing; with both, either
// passes.
type Auth struct {
	// BasicUser and BasicPassword are the HTTP basic credentials.
	BasicUser, BasicPassword string
	// BearerToken is a token accepted as "Authorization: Bearer <token>".
	BearerToken string
}

// enabled reports whether a requires credentials.
func (a Auth) enabled() bool { return a.BasicUser != "" || a.BearerToken != "" }

// errUnauthorized is Confluent's answer to missing or wrong credentials.
var errUnauthorized = &apiError{http.StatusUnauthorized, 401, "Unauthorized"}

// sameSecret compares a and b in constant time. Hashing first makes the
// time independent of their lengths too.
func sameSecret(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// allows reports whether r carries credentials a accepts. Every configured
// credential is compared, whatever the outcome of the others, so that the
// time taken tells nothing about which part was wrong.
func (a Auth) allows(r *http.Request) bool {
	if !a.enabled() {
		return true
	}
	ok := false
	if a.BasicUser != "" {
		u, p, has := r.BasicAuth()
		okUser, okPass := sameSecret(u, a.BasicUser), sameSecret(p, a.BasicPassword)
		ok = has && okUser && okPass
	}
	if a.BearerToken != "" {
		tok, has := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if sameSecret(tok, a.BearerToken) && has {
			ok = true
		}
	}
	return ok
}

// forwardTLS is the client side of tls for forwarding writes to another
// instance: it trusts the roots the listener's config names (the system's
// when none) and presents the listener's certificates, for mTLS.
func forwardTLS(listener *tls.Config) *tls.Config {
	if listener == nil {
		return nil
	}
	return &tls.Config{RootCAs: listener.ClientCAs, Certificates: listener.Certificates,
		MinVersion: tls.VersionTLS12}
}
