package config

import (
	"slices"
	"strings"
	"testing"
)

func TestCommonRegistryAuth(t *testing.T) {
	base := func(kv ...string) map[string]string {
		cfg := map[string]string{"connector.class": "s3", "topics": "orders"}
		for i := 0; i < len(kv); i += 2 {
			cfg[kv[i]] = kv[i+1]
		}
		return cfg
	}
	tests := []struct {
		name   string
		config map[string]string
		want   RegistryAuth
		errs   []string
	}{
		{"none", base(), RegistryAuth{}, nil},
		{"user info", base(
			KeyValueBasicAuthSource, "USER_INFO",
			KeyValueBasicAuthUserInfo, "eng:pw:with:colons",
			KeyValueRegistryCALocation, "/etc/ca.pem",
		), RegistryAuth{UserInfo: "eng:pw:with:colons", CALocation: "/etc/ca.pem"}, nil},
		{"user info without its source", base(KeyValueBasicAuthUserInfo, "eng:pw"),
			RegistryAuth{UserInfo: "eng:pw"}, nil},
		{"url", base(
			KeyValueBasicAuthSource, "URL",
			KeyValueRegistryURL, "https://eng:pw@registry:8081",
		), RegistryAuth{FromURL: true}, nil},
		{"static token", base(
			KeyValueBearerAuthSource, "STATIC_TOKEN",
			KeyValueBearerAuthToken, "tok",
		), RegistryAuth{BearerToken: "tok"}, nil},
		{"problems", base(
			KeyValueBasicAuthSource, "SASL_INHERIT",
			KeyValueBasicAuthUserInfo, "secret-without-colon",
			KeyValueBearerAuthSource, "OAUTHBEARER",
			KeyValueBearerAuthToken, "tok",
		), RegistryAuth{}, []string{
			KeyValueBasicAuthUserInfo + ": want user:password",
			KeyValueBasicAuthSource + `: unsupported source "SASL_INHERIT"; use USER_INFO or URL`,
			KeyValueBearerAuthSource + `: unsupported source "OAUTHBEARER"; use STATIC_TOKEN`,
			KeyValueBearerAuthToken + ": set either basic or bearer credentials, not both",
		}},
		{"sources without values", base(
			KeyValueBasicAuthSource, "USER_INFO",
			KeyValueBearerAuthSource, "STATIC_TOKEN",
		), RegistryAuth{}, []string{
			KeyValueBasicAuthUserInfo + ": required when " + KeyValueBasicAuthSource +
				" is USER_INFO",
			KeyValueBearerAuthToken + ": required when " + KeyValueBearerAuthSource +
				" is STATIC_TOKEN",
		}},
		{"url without user info", base(
			KeyValueBasicAuthSource, "URL",
			KeyValueRegistryURL, "https://registry:8081",
		), RegistryAuth{}, []string{
			KeyValueRegistryURL + ": " + KeyValueBasicAuthSource +
				" is URL but a URL has no user:password@",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm, errs := (&Connector{Name: "a", Config: tt.config}).Common()
			got := make([]string, len(errs))
			for i, fe := range errs {
				got[i] = fe.Error()
				if strings.Contains(got[i], "secret-without-colon") {
					t.Errorf("error quotes the user info: %s", got[i])
				}
			}
			if !slices.Equal(got, tt.errs) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"),
					strings.Join(tt.errs, "\n"))
			}
			if tt.errs == nil && cm.RegistryAuth != tt.want {
				t.Errorf("RegistryAuth = %+v, want %+v", cm.RegistryAuth, tt.want)
			}
		})
	}
}
