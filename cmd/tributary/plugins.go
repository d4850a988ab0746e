package main

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/file"
	"github.com/tributary-io/tributary/connectors/s3"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/runtime/worker"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/registry"
)

// keyRegistryURL is the AvroConverter's registry setting, as Kafka Connect
// spells it.
const keyRegistryURL = "value.converter.schema.registry.url"

// sinkPlugins lists the sink connectors this binary ships, by the short
// names config.CanonicalClass maps Kafka Connect's class names to.
func sinkPlugins() map[string]connectors.SinkConnector {
	return map[string]connectors.SinkConnector{
		"s3":   s3.NewConnector(),
		"file": file.NewConnector(),
	}
}

// registryAccess is the worker's schema registry: its URLs and how the
// converters reach them.
type registryAccess struct {
	urls []string
	auth config.RegistryAuth
}

// decoders returns the worker's converter factory. value.converter picks
// the converter; for the AvroConverter, a connector's
// value.converter.schema.registry.url wins over the worker's registry URLs.
// The worker's credentials go only to the worker's URLs; a connector's
// own credentials, when it sets any, replace them. The worker asks it for
// the key converter too, with the connector's key.converter.* keys in
// place of the value.converter.* ones.
func decoders(reg registryAccess) func(map[string]string) (worker.Decoder, error) {
	cache := map[string]*schemas.Converter{}
	return func(cfg map[string]string) (worker.Decoder, error) {
		cm, errs := (&config.Connector{Config: cfg}).Common()
		for _, e := range errs {
			if strings.HasPrefix(e.Key, "value.converter") {
				return nil, fmt.Errorf("value converter: %s", e.Error())
			}
		}
		switch cm.ValueConverter {
		case config.ConverterJSON:
			return &schemas.JSONConverter{SchemasEnable: cm.ValueSchemasEnable}, nil
		case config.ConverterString:
			return schemas.StringConverter{}, nil
		case config.ConverterByteArray:
			return schemas.ByteArrayConverter{}, nil
		}

		urls, auth := reg.urls, reg.auth
		if len(cm.SchemaRegistryURLs) > 0 {
			if !slices.Equal(cm.SchemaRegistryURLs, reg.urls) {
				auth = config.RegistryAuth{}
			}
			urls = cm.SchemaRegistryURLs
		}
		if !cm.RegistryAuth.IsZero() {
			auth = cm.RegistryAuth
		}
		if len(urls) == 0 {
			return nil, fmt.Errorf("no schema registry URL: set schema.registry.url or %s",
				keyRegistryURL)
		}
		urls, auth = credentialsFromURLs(urls, auth)
		key := strings.Join(urls, ",") + "\x00" + auth.UserInfo + "\x00" + auth.BearerToken +
			"\x00" + auth.CALocation
		if c, ok := cache[key]; ok {
			return c, nil
		}
		opts, err := registryOptions(auth)
		if err != nil {
			return nil, err
		}
		client, err := registry.NewClient(urls, opts...)
		if err != nil {
			return nil, err
		}
		c := schemas.NewConverter(client)
		cache[key] = c
		return c, nil
	}
}

// credentialsFromURLs moves the user info of the URLs into auth when auth
// says the credentials are in the URLs, so that no password travels in a
// URL that error messages quote.
func credentialsFromURLs(urls []string, auth config.RegistryAuth) ([]string, config.RegistryAuth) {
	if !auth.FromURL {
		return urls, auth
	}
	stripped := make([]string, len(urls))
	for i, s := range urls {
		stripped[i] = s
		u, err := url.Parse(s)
		if err != nil || u.User == nil {
			continue
		}
		if auth.UserInfo == "" {
			pass, _ := u.User.Password()
			auth.UserInfo = u.User.Username() + ":" + pass
		}
		u.User = nil
		stripped[i] = u.String()
	}
	return stripped, auth
}

// registryOptions turns auth into the registry client's options.
func registryOptions(auth config.RegistryAuth) ([]registry.ClientOption, error) {
	var opts []registry.ClientOption
	if auth.UserInfo != "" {
		user, pass, _ := strings.Cut(auth.UserInfo, ":")
		opts = append(opts, registry.WithBasicAuth(user, pass))
	}
	if auth.BearerToken != "" {
		opts = append(opts, registry.WithBearerToken(auth.BearerToken))
	}
	if auth.CALocation != "" {
		pool, err := certPool(auth.CALocation)
		if err != nil {
			return nil, fmt.Errorf("schema registry CAs: %w", err)
		}
		opts = append(opts, registry.WithRootCAs(pool))
	}
	return opts, nil
}

// certPool reads a PEM file of certificates into a pool.
func certPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificates: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("read certificates: %s holds no PEM certificate", path)
	}
	return pool, nil
}
