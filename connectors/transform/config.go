package transform

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tributary-io/tributary/connectors"
)

// Connector config keys of the chain, spelt as in Kafka Connect.
const (
	KeyTransforms = "transforms"
	KeyPredicates = "predicates"
	// KeyType, KeyPredicate and KeyNegate follow transforms.<alias>. (and
	// KeyType predicates.<alias>.).
	KeyType      = "type"
	KeyPredicate = "predicate"
	KeyNegate    = "negate"
)

// Package prefixes of Kafka Connect's built-in transforms and predicates.
const (
	transformsPackage = "org.apache.kafka.connect.transforms."
	predicatesPackage = "org.apache.kafka.connect.transforms.predicates."
)

// plugin describes one built-in transform or predicate.
type plugin struct {
	// name is the simple class name, such as InsertField.
	name string
	// variants is set for transforms with $Key and $Value classes.
	variants bool
	// transform builds the transform from its keys; key selects $Key.
	transform func(p *params, key bool) Transformation
	// predicate builds the predicate from its keys.
	predicate func(p *params) Predicate
}

// transforms lists the sixteen built-in transforms of Kafka Connect.
var transforms = []plugin{
	{name: "Cast", variants: true, transform: newCast},
	{name: "DropHeaders", transform: newDropHeaders},
	{name: "ExtractField", variants: true, transform: newExtractField},
	{name: "Filter", transform: newFilter},
	{name: "Flatten", variants: true, transform: newFlatten},
	{name: "HeaderFrom", variants: true, transform: newHeaderFrom},
	{name: "HoistField", variants: true, transform: newHoistField},
	{name: "InsertField", variants: true, transform: newInsertField},
	{name: "InsertHeader", transform: newInsertHeader},
	{name: "MaskField", variants: true, transform: newMaskField},
	{name: "RegexRouter", transform: newRegexRouter},
	{name: "ReplaceField", variants: true, transform: newReplaceField},
	{name: "SetSchemaMetadata", variants: true, transform: newSetSchemaMetadata},
	{name: "TimestampConverter", variants: true, transform: newTimestampConverter},
	{name: "TimestampRouter", transform: newTimestampRouter},
	{name: "ValueToKey", transform: newValueToKey},
}

// predicates lists the three built-in predicates of Kafka Connect.
var predicates = []plugin{
	{name: "HasHeaderKey", predicate: newHasHeaderKey},
	{name: "RecordIsTombstone", predicate: newRecordIsTombstone},
	{name: "TopicNameMatches", predicate: newTopicNameMatches},
}

// TransformClasses lists the full class names of the transforms, sorted.
func TransformClasses() []string {
	var out []string
	for _, p := range transforms {
		if p.variants {
			out = append(out, transformsPackage+p.name+"$Key", transformsPackage+p.name+"$Value")
			continue
		}
		out = append(out, transformsPackage+p.name)
	}
	sort.Strings(out)
	return out
}

// PredicateClasses lists the full class names of the predicates, sorted.
func PredicateClasses() []string {
	out := make([]string, 0, len(predicates))
	for _, p := range predicates {
		out = append(out, predicatesPackage+p.name)
	}
	return out
}

// lookupTransform finds a transform by its full class name or its simple
// name (InsertField$Value). It returns the canonical class name.
func lookupTransform(class string) (plugin, bool, string, error) {
	simple := strings.TrimPrefix(class, transformsPackage)
	name, variant, hasVariant := strings.Cut(simple, "$")
	for _, p := range transforms {
		if p.name != name {
			continue
		}
		switch {
		case !p.variants && hasVariant:
			return plugin{}, false, "", fmt.Errorf("%s has no $%s variant; use %s",
				name, variant, transformsPackage+name)
		case !p.variants:
			return p, false, transformsPackage + name, nil
		case variant == "Key" || variant == "Value":
			return p, variant == "Key", transformsPackage + simple, nil
		}
		return plugin{}, false, "", fmt.Errorf("use %s$Key or %s$Value", name, name)
	}
	return plugin{}, false, "", fmt.Errorf("unknown transformation %q; known: %s", class,
		strings.Join(simpleNames(transforms), ", "))
}

// lookupPredicate finds a predicate by its full or simple class name.
func lookupPredicate(class string) (plugin, string, error) {
	name := strings.TrimPrefix(class, predicatesPackage)
	for _, p := range predicates {
		if p.name == name {
			return p, predicatesPackage + name, nil
		}
	}
	return plugin{}, "", fmt.Errorf("unknown predicate %q; known: %s", class,
		strings.Join(simpleNames(predicates), ", "))
}

func simpleNames(ps []plugin) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.name
	}
	return out
}

// Parse builds the chain a connector config describes with Kafka Connect's
// keys: transforms, transforms.<alias>.type and the transform's own keys,
// transforms.<alias>.predicate and .negate, predicates and
// predicates.<alias>.type and keys. It returns every problem found, each
// naming its key; the chain is nil when there is any. A config without
// transforms yields a nil chain and no error.
func Parse(cfg map[string]string) (*Chain, []connectors.FieldError) {
	var errs []connectors.FieldError
	fail := func(key, format string, args ...any) {
		errs = append(errs, connectors.FieldError{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	preds := map[string]Predicate{}
	predAliases := aliases(cfg, KeyPredicates, fail)
	for _, a := range predAliases {
		p := newParams(cfg, KeyPredicates+"."+a+".", &errs)
		class := p.required(KeyType)
		if class == "" {
			continue
		}
		pl, _, err := lookupPredicate(class)
		if err != nil {
			p.errorf(KeyType, "%v", err)
			continue
		}
		preds[a] = pl.predicate(p)
		p.checkUnknown()
	}

	chain := &Chain{}
	for _, a := range aliases(cfg, KeyTransforms, fail) {
		p := newParams(cfg, KeyTransforms+"."+a+".", &errs)
		s := step{alias: a}
		if name := p.str(KeyPredicate, ""); name != "" {
			if _, ok := preds[name]; !ok && !contains(predAliases, name) {
				p.errorf(KeyPredicate, "no predicate %q in %s", name, KeyPredicates)
			}
			s.pred = preds[name]
		}
		s.negate = p.boolean(KeyNegate, false)
		class := p.required(KeyType)
		if class == "" {
			continue
		}
		pl, key, canonical, err := lookupTransform(class)
		if err != nil {
			p.errorf(KeyType, "%v", err)
			continue
		}
		s.class, s.t = canonical, pl.transform(p, key)
		p.checkUnknown()
		chain.steps = append(chain.steps, s)
	}
	errs = append(errs, strayKeys(cfg)...)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Key < errs[j].Key })
		return nil, errs
	}
	if len(chain.steps) == 0 {
		return nil, nil
	}
	return chain, nil
}

// aliases reads a list of aliases and rejects duplicates as Kafka Connect
// does.
func aliases(cfg map[string]string, key string, fail func(string, string, ...any)) []string {
	var out []string
	for _, a := range splitList(cfg[key]) {
		if contains(out, a) {
			fail(key, "Duplicate alias provided: %q", a)
			continue
		}
		out = append(out, a)
	}
	return out
}

// strayKeys reports transforms.* and predicates.* keys of aliases that are
// not listed, which are most likely typos.
func strayKeys(cfg map[string]string) []connectors.FieldError {
	var errs []connectors.FieldError
	for _, list := range []string{KeyTransforms, KeyPredicates} {
		listed := splitList(cfg[list])
		for k := range cfg {
			rest, ok := strings.CutPrefix(k, list+".")
			if !ok {
				continue
			}
			alias, _, _ := strings.Cut(rest, ".")
			if !contains(listed, alias) {
				errs = append(errs, connectors.FieldError{Key: k,
					Message: fmt.Sprintf("alias %q is not listed in %s", alias, list)})
			}
		}
	}
	return errs
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// params reads the keys of one transform or predicate, below prefix, and
// collects the problems.
type params struct {
	cfg    map[string]string
	prefix string
	known  []string
	errs   *[]connectors.FieldError
}

func newParams(cfg map[string]string, prefix string, errs *[]connectors.FieldError) *params {
	return &params{cfg: cfg, prefix: prefix, errs: errs, known: []string{KeyType}}
}

func (p *params) errorf(key, format string, args ...any) {
	*p.errs = append(*p.errs, connectors.FieldError{Key: p.prefix + key,
		Message: fmt.Sprintf(format, args...)})
}

func (p *params) lookup(key string) (string, bool) {
	if !contains(p.known, key) {
		p.known = append(p.known, key)
	}
	v, ok := p.cfg[p.prefix+key]
	return v, ok
}

// str returns the key's value, or def when it is not set.
func (p *params) str(key, def string) string {
	if v, ok := p.lookup(key); ok {
		return v
	}
	return def
}

// required returns the key's value and reports it when missing or empty.
func (p *params) required(key string) string {
	v := strings.TrimSpace(p.str(key, ""))
	if v == "" {
		p.errorf(key, "required")
	}
	return v
}

// list returns the key's comma-separated values.
func (p *params) list(key string) []string {
	return splitList(p.str(key, ""))
}

// requiredList returns the key's values and reports an empty list.
func (p *params) requiredList(key string) []string {
	l := p.list(key)
	if len(l) == 0 {
		p.errorf(key, "required: a comma-separated list")
	}
	return l
}

func (p *params) boolean(key string, def bool) bool {
	v, ok := p.lookup(key)
	if !ok {
		return def
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true
	case "false":
		return false
	}
	p.errorf(key, "want true or false, got %q", v)
	return def
}

// optionalInt returns the key's integer value, or nil when it is not set.
func (p *params) optionalInt(key string) *int {
	v, ok := p.lookup(key)
	if !ok || strings.TrimSpace(v) == "" {
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		p.errorf(key, "want an integer, got %q", v)
		return nil
	}
	return &n
}

// oneOf returns the key's value, which must be one of values.
func (p *params) oneOf(key, def string, values ...string) string {
	v := p.str(key, def)
	if !contains(values, v) {
		p.errorf(key, "must be one of %s; got %q", strings.Join(values, ", "), v)
		return def
	}
	return v
}

// checkUnknown reports keys below the prefix that the plugin does not read.
func (p *params) checkUnknown() {
	var keys []string
	for k := range p.cfg {
		if rest, ok := strings.CutPrefix(k, p.prefix); ok && !contains(p.known, rest) {
			keys = append(keys, rest)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.errorf(k, "unknown key; %s takes %s", strings.TrimSuffix(p.prefix, "."),
			strings.Join(p.known, ", "))
	}
}
