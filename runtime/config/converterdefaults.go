package config

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/tributary-io/tributary/connectors"
)

// converterClassKeys are the connector keys that name a converter. Each
// also prefixes that converter's own settings, as in
// value.converter.schemas.enable.
var converterClassKeys = []string{KeyKeyConverter, KeyValueConverter, KeyHeaderConverter}

// converterSettingKeys lists the keys a worker file may set as converter
// defaults: the class keys, and below key.converter. and value.converter.
// the settings some converter reads.
var converterSettingKeys = func() []string {
	out := slices.Clone(converterClassKeys)
	for _, keys := range converterKeys {
		for _, k := range keys {
			out = append(out, KeyKeyConverter+"."+k.Name, KeyValueConverter+"."+k.Name)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}()

// isConverterKey reports whether key names a converter or sits below one
// of the converter prefixes.
func isConverterKey(key string) bool {
	return slices.ContainsFunc(converterClassKeys, func(class string) bool {
		return ofConverter(key, class)
	})
}

// ofConverter reports whether key is the converter class key class or one
// of its converter's settings.
func ofConverter(key, class string) bool {
	return key == class || strings.HasPrefix(key, class+".")
}

// WithConverterDefaults returns cfg completed with a worker's converter
// settings, as Kafka Connect falls back on the worker's converters: for
// each of key.converter, value.converter and header.converter that cfg
// does not set, the worker's class and the worker's settings below it are
// added, except for settings cfg has itself. A converter cfg names is
// configured by cfg alone. cfg is returned unchanged when defaults is
// empty, and is never modified.
func WithConverterDefaults(cfg, defaults map[string]string) map[string]string {
	if len(defaults) == 0 {
		return cfg
	}
	out := maps.Clone(cfg)
	if out == nil {
		out = map[string]string{}
	}
	for _, class := range converterClassKeys {
		if _, set := cfg[class]; set {
			continue
		}
		for k, v := range defaults {
			if _, set := cfg[k]; ofConverter(k, class) && !set {
				out[k] = v
			}
		}
	}
	return out
}

// checkConverterDefaults checks the converter settings of a worker file,
// at path with the keys' lines, as a connector's would be checked, and
// reports keys no converter reads.
func checkConverterDefaults(path string, cfg map[string]string, lines map[string]int) []connectors.FieldError {
	var errs []connectors.FieldError
	for _, k := range sortedKeys(cfg) {
		if !slices.Contains(converterSettingKeys, k) {
			errs = append(errs, fieldErr(path, lines[k], k, "unknown converter setting%s",
				suggest(k, converterSettingKeys)))
		}
	}
	p := &commonParser{c: &Connector{Config: cfg}}
	var cm Common
	p.converters(&cm)
	for _, fe := range p.errs {
		errs = append(errs, fieldErr(path, lines[fe.Key], fe.Key, "%s", fe.Message))
	}
	return errs
}
