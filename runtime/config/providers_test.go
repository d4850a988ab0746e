package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestProviders(t *testing.T) {
	dir := t.TempDir()
	allowed := filepath.Join(dir, "allowed")
	outside := filepath.Join(dir, "outside")
	for _, d := range []string{allowed, outside} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(allowed, "creds.properties"), "# comment\nsecret.key = file-s3cr3t\nuser: bob\n")
	write(filepath.Join(outside, "creds.properties"), "secret.key=outside-s3cr3t\n")
	// A link inside the allowed directory that leads out of it.
	if err := os.Symlink(filepath.Join(outside, "creds.properties"),
		filepath.Join(allowed, "link.properties")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"AWS_SECRET": "env-s3cr3t", "HOME": "/root"}
	p := &Providers{
		Enabled:     []string{ProviderEnv, ProviderFile},
		EnvAllow:    regexp.MustCompile(`^AWS_.*$`),
		FileAllowed: []string{allowed},
		Getenv:      func(n string) (string, bool) { v, ok := env[n]; return v, ok },
	}

	got, err := p.Resolve(map[string]string{
		"a": "${env:AWS_SECRET}",
		"b": "${file:" + filepath.Join(allowed, "creds.properties") + ":secret.key}",
		"c": "user=${file:" + filepath.Join(allowed, "creds.properties") + ":user}",
		"d": "plain",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != "env-s3cr3t" || got["b"] != "file-s3cr3t" || got["c"] != "user=bob" || got["d"] != "plain" {
		t.Errorf("resolved: %v", got)
	}

	cases := []struct {
		value, want string
	}{
		{"${env:HOME}", "HOME is not allowed by config.providers.env.param.allowlist.pattern"},
		{"${env:AWS_NONE}", "environment variable AWS_NONE is not set"},
		{"${file:" + filepath.Join(outside, "creds.properties") + ":secret.key}", "is outside config.providers.file.param.allowed.paths"},
		{"${file:" + filepath.Join(allowed, "link.properties") + ":secret.key}", "is outside config.providers.file.param.allowed.paths"},
		{"${file:" + filepath.Join(allowed, "..", "outside", "creds.properties") + ":secret.key}", "is outside"},
		{"${file:relative/creds:secret.key}", "the path must be absolute"},
		{"${file:" + filepath.Join(allowed, "creds.properties") + ":missing}", "has no key missing"},
		{"${vault:secret/x}", `config provider "vault" is not enabled`},
	}
	for _, c := range cases {
		errs := p.Check(map[string]string{"k": c.value})
		if len(errs) != 1 || errs[0].Key != "k" || !strings.Contains(errs[0].Message, c.want) {
			t.Errorf("%s: %v, want one error on k containing %q", c.value, errs, c.want)
		}
		for _, e := range errs {
			for _, secret := range []string{"outside-s3cr3t", "file-s3cr3t", "/root"} {
				if strings.Contains(e.Message, secret) {
					t.Errorf("%s: error %q reveals %q", c.value, e.Message, secret)
				}
			}
		}
	}

	envOnly := &Providers{Enabled: []string{ProviderEnv}}
	if errs := envOnly.Check(map[string]string{"k": "${file:/etc/passwd:root}"}); len(errs) != 1 ||
		!strings.Contains(errs[0].Message, `"file" is not enabled`) {
		t.Errorf("file provider disabled: %v", errs)
	}
}

func TestMaskAndSecrets(t *testing.T) {
	cfg := map[string]string{
		"aws.secret.access.key":                "AKIAsecret",
		"ssl.key.password":                     "pw-1234",
		"consumer.override.sasl.jaas.config":   "org.Login required;",
		"value.converter.basic.auth.user.info": "u:p-1234",
		"value.converter.bearer.auth.token":    "tok-5678",
		"other.password":                       "${env:PW}",
		"aws.access.key.id":                    "${env:KEY_ID}",
		"topics":                               "orders",
		"empty.password":                       "",
	}
	m := Mask(cfg)
	for k, want := range map[string]string{
		"aws.secret.access.key": Hidden, "ssl.key.password": Hidden,
		"consumer.override.sasl.jaas.config": Hidden, "value.converter.basic.auth.user.info": Hidden,
		"value.converter.bearer.auth.token": Hidden,
		"other.password":                    "${env:PW}", "topics": "orders", "empty.password": "",
	} {
		if m[k] != want {
			t.Errorf("Mask %s = %q, want %q", k, m[k], want)
		}
	}
	back := Unmask(map[string]string{"aws.secret.access.key": Hidden, "topics": Hidden}, cfg)
	if back["aws.secret.access.key"] != "AKIAsecret" || back["topics"] != Hidden {
		t.Errorf("Unmask: %v", back)
	}

	var s Secrets
	s.Add(cfg, map[string]string{"other.password": "resolved-pw", "aws.access.key.id": "tributary"})
	got := s.Redact("dial with AKIAsecret and resolved-pw failed; topics orders; tributary")
	if got != "dial with [hidden] and [hidden] failed; topics orders; tributary" {
		t.Errorf("Redact: %q", got)
	}
}
