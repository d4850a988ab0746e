package rest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Headers of a request one worker forwards to the cluster's leader.
const (
	HeaderForwardedAt = "X-Tributary-Forwarded-At"
	HeaderSignature   = "X-Tributary-Signature"
)

// signatureWindow bounds the age of a signed request, so that a captured
// one cannot be replayed later.
const signatureWindow = time.Minute

// Sign returns the signature of a forwarded request: HMAC-SHA256, keyed
// with inter.worker.key, over the method, the path with its query, the
// time it was forwarded (Unix milliseconds) and the body.
func Sign(key []byte, method, uri, at string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s\n%s\n%s\n", method, uri, at)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// verify checks a forwarded request's signature in constant time and its
// age, and puts the body it read back.
func verify(key []byte, r *http.Request, now time.Time) bool {
	at := r.Header.Get(HeaderForwardedAt)
	ms, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.UnixMilli(ms)); d > signatureWindow || d < -signatureWindow {
		return false
	}
	var body []byte
	if r.Body != nil {
		if body, err = io.ReadAll(r.Body); err != nil {
			return false
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	want := Sign(key, r.Method, r.URL.RequestURI(), at, body)
	return hmac.Equal([]byte(want), []byte(r.Header.Get(HeaderSignature)))
}

// forwards reports whether r changes the cluster and this worker is not its
// leader, so that the leader must serve it.
func (s *Server) forwards(r *http.Request) bool {
	if s.opts.Leader == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return false
	}
	_, self := s.opts.Leader()
	return !self
}

// forward sends r, signed, to the leader and copies its answer back. The
// caller's credentials go along, so the leader checks them too.
func (s *Server) forward(w http.ResponseWriter, r *http.Request) {
	leader, _ := s.opts.Leader()
	if leader == "" {
		writeJSON(w, http.StatusConflict, errorf(http.StatusConflict,
			"cannot complete request because of a conflicting operation (e.g. worker rebalance)"))
		return
	}
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorf(
				http.StatusRequestEntityTooLarge, "request body too large"))
			return
		}
	}
	uri := r.URL.RequestURI()
	req, err := http.NewRequestWithContext(r.Context(), r.Method, leader+uri,
		bytes.NewReader(body))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorf(http.StatusInternalServerError,
			"forward to the leader: %v", err))
		return
	}
	at := strconv.FormatInt(time.Now().UnixMilli(), 10)
	for _, h := range []string{"Authorization", "Content-Type", "Accept"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set(HeaderForwardedAt, at)
	req.Header.Set(HeaderSignature, Sign(s.opts.InterWorkerKey, r.Method, uri, at, body))
	resp, err := s.forwarder().Do(req)
	if err != nil {
		s.log.Warn("forward to the leader", "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, errorf(http.StatusServiceUnavailable,
			"the cluster's leader did not answer"))
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Location"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// forwarder returns the client that forwards requests to the leader.
func (s *Server) forwarder() *http.Client {
	if s.opts.ForwardClient != nil {
		return s.opts.ForwardClient
	}
	return &http.Client{Timeout: 100 * time.Second}
}
