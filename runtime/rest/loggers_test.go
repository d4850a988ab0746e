package rest

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/runtime/config"
)

// The loggers' handler redacts known secrets and URL passwords from the
// message and from every kind of value a handler prints as text.
func TestLoggersRedact(t *testing.T) {
	var secrets config.Secrets
	secrets.Add(map[string]string{"ssl.key.password": "key-pw-3141"}, nil)
	var buf bytes.Buffer
	log := slog.New(NewLoggers(slog.LevelInfo, secrets.Redact).Handler(
		slog.NewJSONHandler(&buf, nil)))
	u, err := url.Parse("http://reader:url-pw-2718@registry:8081")
	if err != nil {
		t.Fatal(err)
	}
	log.With("endpoint", "http://a:url-pw-1618@h").Info("dial with key-pw-3141",
		"url", u, "err", errors.New("refused key-pw-3141"),
		"config", map[string]string{"store.url": "http://m:url-pw-0577@h"},
		slog.Group("registry", "url", "http://r:url-pw-1414@h"),
		"none", (*url.URL)(nil))

	out := buf.String()
	for _, secret := range []string{"key-pw-3141", "url-pw-2718", "url-pw-1618", "url-pw-0577",
		"url-pw-1414"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %s: %s", secret, out)
		}
	}
	for _, want := range []string{`"msg":"dial with [hidden]"`,
		`"url":"http://reader:[hidden]@registry:8081"`, `"err":"refused [hidden]"`,
		`"config":{"store.url":"http://m:[hidden]@h"}`, `"registry":{"url":"http://r:[hidden]@h"}`,
		`"endpoint":"http://a:[hidden]@h"`, `"none":null`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log has no %s: %s", want, out)
		}
	}
}
