package config

import (
	"net/url"
	"slices"
	"strings"
)

// Keys of the AvroConverter's registry credentials, spelt as in Confluent's
// converters.
const (
	KeyValueBasicAuthSource    = "value.converter.basic.auth.credentials.source"
	KeyValueBasicAuthUserInfo  = "value.converter.basic.auth.user.info"
	KeyValueBearerAuthSource   = "value.converter.bearer.auth.credentials.source"
	KeyValueBearerAuthToken    = "value.converter.bearer.auth.token"
	KeyValueRegistryCALocation = "value.converter.schema.registry.ssl.ca.location"
)

// Values of the credentials sources Tributary supports.
const (
	// SourceUserInfo takes basic credentials from basic.auth.user.info.
	SourceUserInfo = "USER_INFO"
	// SourceURL takes basic credentials from the user info of the registry
	// URLs, as in https://user:password@registry:8081.
	SourceURL = "URL"
	// SourceStaticToken takes a bearer token from bearer.auth.token.
	SourceStaticToken = "STATIC_TOKEN"
)

// RegistryAuth is how a converter reaches its schema registry: the
// credentials it presents and the CAs it trusts. The zero value sends no
// credentials and trusts the system's CAs.
type RegistryAuth struct {
	// UserInfo is user:password for HTTP basic auth.
	UserInfo string
	// FromURL says the basic credentials are in the registry URLs.
	FromURL bool
	// BearerToken is sent as "Authorization: Bearer <token>".
	BearerToken string
	// CALocation is a PEM file of the CAs to trust; empty trusts the
	// system's.
	CALocation string
}

// IsZero reports whether a holds no setting.
func (a RegistryAuth) IsZero() bool { return a == RegistryAuth{} }

// registryAuth parses the converter's registry credentials. A user info or
// token set without its source is used, where Confluent's converter would
// silently ignore it.
func (p *commonParser) registryAuth(urls []string) RegistryAuth {
	cfg := p.c.Config
	a := RegistryAuth{
		UserInfo:    cfg[KeyValueBasicAuthUserInfo],
		BearerToken: strings.TrimSpace(cfg[KeyValueBearerAuthToken]),
		CALocation:  strings.TrimSpace(cfg[KeyValueRegistryCALocation]),
	}
	if msg := UserInfo(a.UserInfo); msg != "" {
		p.errorf(KeyValueBasicAuthUserInfo, "%s", msg)
	}
	basic := p.source(KeyValueBasicAuthSource, SourceUserInfo, SourceURL)
	if basic == SourceUserInfo && a.UserInfo == "" {
		p.errorf(KeyValueBasicAuthUserInfo, "required when %s is %s",
			KeyValueBasicAuthSource, SourceUserInfo)
	}
	if basic == SourceURL {
		a.FromURL, a.UserInfo = true, ""
		p.userInfoInURLs(urls)
	}
	bearer := p.source(KeyValueBearerAuthSource, SourceStaticToken)
	if bearer == SourceStaticToken && a.BearerToken == "" {
		p.errorf(KeyValueBearerAuthToken, "required when %s is %s",
			KeyValueBearerAuthSource, SourceStaticToken)
	}
	if a.BearerToken != "" && (a.UserInfo != "" || a.FromURL) {
		p.errorf(KeyValueBearerAuthToken, "set either basic or bearer credentials, not both")
	}
	return a
}

// source parses a credentials source key, which must be empty or one of
// allowed, in any case.
func (p *commonParser) source(key string, allowed ...string) string {
	src := strings.ToUpper(strings.TrimSpace(p.c.Config[key]))
	if src != "" && !slices.Contains(allowed, src) {
		p.errorf(key, "unsupported source %q; use %s", src, strings.Join(allowed, " or "))
		return ""
	}
	return src
}

// userInfoInURLs checks that the connector's registry URLs carry the
// credentials, for the URL source.
func (p *commonParser) userInfoInURLs(urls []string) {
	if len(urls) == 0 {
		p.errorf(KeyValueBasicAuthSource, "%s needs %s with user:password@ in it",
			SourceURL, KeyValueRegistryURL)
	}
	for _, u := range urls {
		if parsed, err := url.Parse(u); err == nil && parsed.User == nil {
			p.errorf(KeyValueRegistryURL, "%s is %s but a URL has no user:password@",
				KeyValueBasicAuthSource, SourceURL)
		}
	}
}

// UserInfo checks a basic.auth.user.info value, user:password, and returns
// what is wrong with it, never the value itself. References to config
// providers are checked once resolved.
func UserInfo(s string) string {
	if s == "" || strings.Contains(s, "${") {
		return ""
	}
	if user, _, ok := strings.Cut(s, ":"); !ok || user == "" {
		return "want user:password"
	}
	return ""
}
