package rest

import (
	"net/http"
	"strings"
	"testing"
)

// The converter's registry credentials are password-typed: no response
// about a connector shows them, and a config read, edited and written back
// keeps them.
func TestRegistryCredentialsMasked(t *testing.T) {
	f := newFixture(t, Options{})
	configs := map[string]map[string]any{
		"basic": sinkConfig("value.converter.basic.auth.credentials.source", "USER_INFO",
			"value.converter.basic.auth.user.info", "reader:reader-pw-1234"),
		"bearer": sinkConfig("value.converter.bearer.auth.credentials.source", "STATIC_TOKEN",
			"value.converter.bearer.auth.token", "bearer-tok-5678"),
	}
	for name, cfg := range configs {
		f.expect(http.StatusCreated, "POST", "/connectors",
			map[string]any{"name": name, "config": cfg}, nil)
		f.waitState(name, "RUNNING", 2)
		for _, path := range []string{"/connectors/" + name, "/connectors/" + name + "/config",
			"/connectors/" + name + "/tasks", "/connectors?expand=info"} {
			body := string(f.expect(http.StatusOK, "GET", path, nil, nil))
			if strings.Contains(body, "reader-pw-1234") || strings.Contains(body, "bearer-tok-5678") {
				t.Errorf("GET %s shows a registry secret: %s", path, body)
			}
			if !strings.Contains(body, `"[hidden]"`) {
				t.Errorf("GET %s: no [hidden] value in %s", path, body)
			}
		}
	}

	var cfg map[string]string
	f.expect(http.StatusOK, "GET", "/connectors/basic/config", nil, &cfg)
	cfg["flush.size"] = "3"
	f.expect(http.StatusOK, "PUT", "/connectors/basic/config", cfg, nil)
	if got, _ := f.w.Info("basic"); got.Config["value.converter.basic.auth.user.info"] !=
		"reader:reader-pw-1234" {
		t.Errorf("a PUT of the masked config changed the user info to %q",
			got.Config["value.converter.basic.auth.user.info"])
	}
}
