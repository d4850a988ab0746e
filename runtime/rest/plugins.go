package rest

import (
	"net/http"
	"sort"
	"strings"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/schemas"
)

// configKeyInfo is Kafka Connect's ConfigKeyInfo.
type configKeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation string   `json:"documentation"`
	Group         string   `json:"group"`
	Order         int      `json:"order"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
}

// configValueInfo is Kafka Connect's ConfigValueInfo.
type configValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

type configInfo struct {
	Definition *configKeyInfo  `json:"definition"`
	Value      configValueInfo `json:"value"`
}

// configInfos is Kafka Connect's ConfigInfos, the validation result.
type configInfos struct {
	Name       string       `json:"name"`
	ErrorCount int          `json:"error_count"`
	Groups     []string     `json:"groups"`
	Configs    []configInfo `json:"configs"`
}

func ptr(s string) *string { return &s }

// frameworkKeys are the keys every sink shares, defined as Kafka Connect
// defines them.
var frameworkKeys = func() []configKeyInfo {
	keys := []configKeyInfo{
		{Name: "name", Type: "STRING", Required: true, Importance: "HIGH",
			Documentation: "Globally unique name to use for this connector.",
			DisplayName:   "Connector name", Width: "MEDIUM"},
		{Name: config.KeyConnectorClass, Type: "STRING", Required: true, Importance: "HIGH",
			Documentation: "Name or alias of the connector class.",
			DisplayName:   "Connector class", Width: "LONG"},
		{Name: config.KeyTasksMax, Type: "INT", DefaultValue: ptr("1"), Importance: "HIGH",
			Documentation: "Maximum number of tasks to use for this connector.",
			DisplayName:   "Tasks max", Width: "SHORT"},
		{Name: config.KeyTopics, Type: "LIST", DefaultValue: ptr(""), Importance: "HIGH",
			Documentation: "List of topics to consume, separated by commas.",
			DisplayName:   "Topics", Width: "LONG"},
		{Name: config.KeyTopicsRegex, Type: "STRING", DefaultValue: ptr(""),
			Importance:    "HIGH",
			Documentation: "Regular expression (RE2 syntax) of the topics to consume.",
			DisplayName:   "Topics regex", Width: "LONG"},
		{Name: config.KeyKeyConverter, Type: "CLASS", Importance: "LOW",
			Documentation: "Converter of record keys.", DisplayName: "Key converter class",
			Width: "SHORT"},
		{Name: config.KeyValueConverter, Type: "CLASS", Importance: "LOW",
			Documentation: "Converter of record values.", DisplayName: "Value converter class",
			Width: "SHORT"},
		{Name: config.KeyValueRegistryURL, Type: "LIST", Importance: "MEDIUM",
			Documentation: "Schema Registry URLs of the value converter.",
			DisplayName:   "Schema Registry URLs", Width: "LONG"},
		{Name: config.KeyErrorsTolerance, Type: "STRING", DefaultValue: ptr("none"),
			Importance:    "MEDIUM",
			Documentation: "none fails the task on a record it cannot convert; all skips it.",
			DisplayName:   "Error tolerance", Width: "SHORT", Group: "Error Handling"},
	}
	for i := range keys {
		if keys[i].Group == "" {
			keys[i].Group = "Common"
		}
		keys[i].Order = i + 1
		keys[i].Dependents = []string{}
	}
	return keys
}()

func (s *Server) listPlugins(r *http.Request) (int, any, error) {
	out := []pluginInfo{}
	for _, p := range s.opts.Herder.Plugins() {
		out = append(out, pluginInfo{Class: p, Type: "sink", Version: s.opts.Version})
	}
	if r.URL.Query().Get("connectorsOnly") == "false" {
		for _, class := range []string{schemas.ClassAvroConverter, schemas.ClassJSONConverter,
			schemas.ClassStringConverter, schemas.ClassByteArrayConverter} {
			out = append(out, pluginInfo{Class: class, Type: "converter", Version: s.opts.Version})
		}
		out = append(out, pluginInfo{Class: schemas.ClassSimpleHeader, Type: "header_converter",
			Version: s.opts.Version})
	}
	return http.StatusOK, out, nil
}

// plugin finds a connector plugin by class name or alias.
func (s *Server) plugin(name string) (string, bool) {
	short := config.CanonicalClass(strings.TrimSpace(name))
	for _, p := range s.opts.Herder.Plugins() {
		if p == short {
			return p, true
		}
	}
	return "", false
}

func (s *Server) pluginConfig(r *http.Request) (int, any, error) {
	name := r.PathValue("plugin")
	if _, ok := s.plugin(name); !ok {
		return 0, nil, errorf(http.StatusNotFound, "Unknown plugin %s.", name)
	}
	return http.StatusOK, frameworkKeys, nil
}

func (s *Server) validate(r *http.Request) (int, any, error) {
	pluginName := r.PathValue("plugin")
	var body map[string]any
	if err := decode(r, &body); err != nil {
		return 0, nil, err
	}
	cfg, nulls, err := stringMap(body)
	if err != nil {
		return 0, nil, err
	}
	class, ok := cfg[config.KeyConnectorClass]
	if !ok {
		return 0, nil, errorf(http.StatusBadRequest,
			"Connector config %v contains no connector type", config.Mask(cfg))
	}
	if !sameType(class, pluginName) {
		return 0, nil, errorf(http.StatusBadRequest,
			"Included connector type %s does not match request type %s", class, pluginName)
	}
	errs := s.opts.Herder.ValidateFields(cfg["name"], cfg)
	for _, k := range nulls {
		errs = append(errs, connectors.FieldError{Key: k,
			Message: "Null value can not be supplied as the configuration value."})
	}
	return http.StatusOK, validation(class, cfg, errs), nil
}

// sameType applies Kafka Connect's check of the path against
// connector.class, with Tributary's aliases understood too.
func sameType(class, plugin string) bool {
	if config.CanonicalClass(class) == config.CanonicalClass(plugin) {
		return true
	}
	trim := func(s string) string { return strings.TrimSuffix(s, "Connector") }
	return strings.HasSuffix(trim(class), trim(plugin))
}

// validation builds the ConfigInfos of cfg: the framework keys with their
// values, then every other key that has errors, without a definition.
func validation(class string, cfg map[string]string, errs []connectors.FieldError) configInfos {
	byKey := map[string][]string{}
	for _, fe := range errs {
		byKey[fe.Key] = append(byKey[fe.Key], fe.Message)
	}
	masked := config.Mask(cfg)
	value := func(key string) configValueInfo {
		v := configValueInfo{Name: key, RecommendedValues: []string{}, Visible: true,
			Errors: byKey[key]}
		if v.Errors == nil {
			v.Errors = []string{}
		}
		if s, ok := masked[key]; ok {
			v.Value = &s
		}
		return v
	}
	out := configInfos{Name: class, ErrorCount: len(errs),
		Groups: []string{"Common", "Error Handling"}, Configs: []configInfo{}}
	defined := map[string]bool{}
	for i := range frameworkKeys {
		k := frameworkKeys[i]
		defined[k.Name] = true
		out.Configs = append(out.Configs, configInfo{Definition: &k, Value: value(k.Name)})
	}
	var rest []string
	for k := range byKey {
		if !defined[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out.Configs = append(out.Configs, configInfo{Value: value(k)})
	}
	return out
}
