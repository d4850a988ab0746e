package config

import (
	"strings"
	"testing"
)

func TestMaskURLPasswords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://user:s3cret@host:8081", "http://user:[hidden]@host:8081"},
		{"https://u:p%40ss@reg/path?q=1", "https://u:[hidden]@reg/path?q=1"},
		{"http://u:p@ss@host:8081/x", "http://u:[hidden]@host:8081/x"},
		{"http://a:pw-one@h1:8081,http://b:pw-two@h2:8081",
			"http://a:[hidden]@h1:8081,http://b:[hidden]@h2:8081"},
		{`Get "http://reader:pw-1234@127.0.0.1:1/schemas/ids/1": dial tcp: refused`,
			`Get "http://reader:[hidden]@127.0.0.1:1/schemas/ids/1": dial tcp: refused`},
		{"http://:only-pw@host", "http://:[hidden]@host"},
		{"http://user:${env:REGISTRY_PW}@host", "http://user:${env:REGISTRY_PW}@host"},
		{"http://user@host:8081", "http://user@host:8081"},
		{"http://host:8081/a:b@c", "http://host:8081/a:b@c"},
		{"mail me at a:b@c", "mail me at a:b@c"},
		{"s3://orders", "s3://orders"},
	} {
		if got := MaskURLPasswords(tc.in); got != tc.want {
			t.Errorf("MaskURLPasswords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSecretKeys(t *testing.T) {
	for _, k := range []string{
		"basic.auth.user.info", "schema.registry.basic.auth.user.info",
		"value.converter.basic.auth.user.info", "aws.secret.access.key",
		"aws_secret_access_key", "s3.secret.key", "ssl.key.password", "ssl-key-password",
		"store.password", "oauth.client.secret", "secret", "PASSWORD", "s3.sse.customer.key",
		"ssl.keystore.key", "ssl.keystore.certificate.chain", "ssl.truststore.certificates",
		"sasl.oauthbearer.assertion.private.key.passphrase",
		"sasl.oauthbearer.client.credentials.client.secret",
	} {
		if !IsSecretKey(k) {
			t.Errorf("%s is not password-typed", k)
		}
	}
	for _, k := range []string{"aws.access.key.id", "s3.bucket.name", "store.url",
		"value.converter.schema.registry.url", "secretary", "password.policy.name",
		"s3.sse.kms.key.id", "ssl.keystore.location", "ssl.truststore.type"} {
		if IsSecretKey(k) {
			t.Errorf("%s is password-typed", k)
		}
	}
}

// A URL's password is masked in the config the API shows, kept when the
// masked config is written back, and redacted from text once seen, also
// when a reference resolved to it.
func TestURLPasswordSecrets(t *testing.T) {
	cfg := map[string]string{
		"value.converter.schema.registry.url": "http://reader:reg-pw-1234@registry:8081",
		"store.url":                           "http://minio:${env:STORE_PW}@minio:9000",
		"topics":                              "orders",
	}
	m := Mask(cfg)
	if m["value.converter.schema.registry.url"] != "http://reader:[hidden]@registry:8081" ||
		m["store.url"] != cfg["store.url"] || m["topics"] != "orders" {
		t.Errorf("Mask: %v", m)
	}

	m["topics"] = "orders,clicks"
	back := Unmask(m, cfg)
	if back["value.converter.schema.registry.url"] != cfg["value.converter.schema.registry.url"] ||
		back["topics"] != "orders,clicks" {
		t.Errorf("Unmask: %v", back)
	}
	changed := Unmask(map[string]string{
		"value.converter.schema.registry.url": "http://writer:[hidden]@registry:8081",
	}, cfg)
	if changed["value.converter.schema.registry.url"] != "http://writer:[hidden]@registry:8081" {
		t.Errorf("Unmask kept the old password for a new user: %v", changed)
	}

	var s Secrets
	s.Add(cfg, map[string]string{"store.url": "http://minio:store-pw%2F5678@minio:9000"})
	got := s.Redact("registry reg-pw-1234 refused; store store-pw/5678 and store-pw%2F5678")
	if strings.Contains(got, "reg-pw-1234") || strings.Contains(got, "store-pw") {
		t.Errorf("Redact: %q", got)
	}
	if got := (*Secrets)(nil).Redact("http://u:pw-99@h"); got != "http://u:[hidden]@h" {
		t.Errorf("nil Redact: %q", got)
	}
}

// A registry URL the config check refuses is quoted without its password.
func TestBadURLMasked(t *testing.T) {
	for _, u := range []string{
		"ftp://u:pw-7777@registry", "http://u:pw-7777@", "http://u:pw-7777@h\x7f",
	} {
		_, errs := (&Connector{Config: map[string]string{
			KeyConnectorClass: "s3", KeyValueRegistryURL: u,
		}}).Common()
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Message)
		}
		all := strings.Join(msgs, "; ")
		if !strings.Contains(all, "u:[hidden]@") || strings.Contains(all, "pw-7777") {
			t.Errorf("%q: errors %q", u, all)
		}
	}
}
