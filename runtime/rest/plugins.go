package rest

import (
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/transform"
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
	Group         *string  `json:"group"`
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

// keyInfos describes keys in Kafka Connect's shape. A key's order is its
// place among the keys of its group, counted from 1, as Kafka Connect's
// order_in_group is; a key outside any group has a null group and order
// -1, as in Kafka Connect.
func keyInfos(keys []connectors.ConfigKey) []configKeyInfo {
	out := make([]configKeyInfo, len(keys))
	inGroup := map[string]int{}
	for i, k := range keys {
		info := configKeyInfo{Name: k.Name, Type: string(k.Type), Required: k.Required,
			Importance: string(k.Importance), Documentation: k.Documentation,
			Order: -1, Width: "NONE", DisplayName: k.DisplayName, Dependents: []string{}}
		if k.Group != "" {
			inGroup[k.Group]++
			info.Group, info.Order = &k.Group, inGroup[k.Group]
		}
		if !k.Required && !k.NoDefault {
			info.DefaultValue = &k.Default
		}
		if info.DisplayName == "" {
			info.DisplayName = k.Name
		}
		out[i] = info
	}
	return out
}

// pluginKeys returns the keys of a connector plugin: its own, then the
// framework's that it does not define itself, as Kafka Connect lists them
// for GET /connector-plugins/{plugin}/config. Validation lists the
// framework's first, as Kafka Connect does there.
func (s *Server) pluginKeys(class string, frameworkFirst bool) []connectors.ConfigKey {
	def, _ := s.opts.Herder.PluginConfigDef(class)
	own := map[string]bool{}
	for _, k := range def.Keys {
		own[k.Name] = true
	}
	framework := slices.DeleteFunc(config.FrameworkKeys(), func(k connectors.ConfigKey) bool {
		return own[k.Name]
	})
	if frameworkFirst {
		return slices.Concat(framework, def.Keys)
	}
	return slices.Concat(def.Keys, framework)
}

// Kafka Connect's plugin types.
const (
	typeSink            = "sink"
	typeTransformation  = "transformation"
	typePredicate       = "predicate"
	typeConverter       = config.PluginTypeConverter
	typeHeaderConverter = config.PluginTypeHeaderConverter
)

// listPlugins lists the connectors by class name and, when connectorsOnly
// is false, the transformations, predicates and converters too, in Kafka
// Connect's order. Kafka Connect reads any connectorsOnly value but true,
// in any case, as false.
func (s *Server) listPlugins(r *http.Request) (int, any, error) {
	out := []pluginInfo{}
	add := func(typ string, classes ...string) {
		for _, c := range classes {
			out = append(out, pluginInfo{Class: c, Type: typ, Version: s.opts.Version})
		}
	}
	var sinks []string
	for _, p := range s.opts.Herder.Plugins() {
		sinks = append(sinks, config.PluginClass(p))
	}
	slices.Sort(sinks)
	add(typeSink, sinks...)
	if only := r.URL.Query()["connectorsOnly"]; len(only) > 0 &&
		!strings.EqualFold(only[0], "true") {
		add(typeTransformation, transform.TransformClasses()...)
		add(typePredicate, transform.PredicateClasses()...)
		add(typeConverter, schemas.ClassAvroConverter, schemas.ClassJSONConverter,
			schemas.ClassStringConverter, schemas.ClassByteArrayConverter)
		add(typeHeaderConverter, schemas.ClassSimpleHeader)
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

// pluginConfig describes the keys of a plugin, found by class name or
// alias: for a connector its own keys and the framework's, for a
// transformation, predicate or converter its own only, as Kafka Connect
// does.
func (s *Server) pluginConfig(r *http.Request) (int, any, error) {
	name := r.PathValue("plugin")
	if class, ok := s.plugin(name); ok {
		return http.StatusOK, keyInfos(s.pluginKeys(class, false)), nil
	}
	if keys, _, ok := transform.TransformKeys(name); ok {
		return http.StatusOK, keyInfos(keys), nil
	}
	if keys, _, ok := transform.PredicateKeys(name); ok {
		return http.StatusOK, keyInfos(keys), nil
	}
	if keys, _, _, ok := config.ConverterKeys(name); ok {
		return http.StatusOK, keyInfos(keys), nil
	}
	return 0, nil, errorf(http.StatusNotFound, "Unknown plugin %s.", name)
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
			"Connector config %s contains no connector type", javaMap(config.Mask(cfg)))
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
	return http.StatusOK, validation(class, s.pluginKeys(class, true), cfg, errs), nil
}

// javaMap formats m as Java prints a map, {k1=v1, k2=v2}, keys sorted, as
// Kafka Connect's messages quote configs.
func javaMap(m map[string]string) string {
	var b strings.Builder
	b.WriteString("{")
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + m[k])
	}
	b.WriteString("}")
	return b.String()
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

// validation builds the ConfigInfos of cfg: every key of keys with its
// value and errors, then every other key that has errors, without a
// definition. Groups are listed in the order keys first name them.
func validation(class string, keys []connectors.ConfigKey, cfg map[string]string,
	errs []connectors.FieldError,
) configInfos {
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
	out := configInfos{Name: class, ErrorCount: len(errs), Groups: []string{},
		Configs: []configInfo{}}
	defined := map[string]bool{}
	for _, k := range keyInfos(keys) {
		defined[k.Name] = true
		if k.Group != nil && !slices.Contains(out.Groups, *k.Group) {
			out.Groups = append(out.Groups, *k.Group)
		}
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
