package transform

import (
	"slices"
	"strings"
	"testing"
)

func TestParseClassNames(t *testing.T) {
	for _, class := range append(TransformClasses(), PredicateClasses()...) {
		short := strings.TrimPrefix(strings.TrimPrefix(class, predicatesPackage), transformsPackage)
		for _, name := range []string{class, short} {
			if strings.HasPrefix(class, predicatesPackage) {
				if _, _, err := lookupPredicate(name); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				continue
			}
			_, _, canonical, err := lookupTransform(name)
			if err != nil || canonical != class {
				t.Errorf("%s: %s, %v", name, canonical, err)
			}
		}
	}
	if n := len(TransformClasses()); n != 16+10 {
		t.Errorf("%d transform classes, want 26 (16 transforms, 10 of them keyed)", n)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  map[string]string
		want []string // "key: message substring"
	}{
		{
			name: "every problem at once",
			cfg: map[string]string{
				"transforms":             "a,b,c,a",
				"transforms.a.type":      "InsertField$Value",
				"transforms.b.type":      "Nope",
				"transforms.c.type":      "MaskField",
				"transforms.c.predicate": "missing",
				"transforms.c.negate":    "maybe",
				"transforms.d.type":      "Filter",
			},
			want: []string{
				"transforms: Duplicate alias",
				"transforms.a.topic.field: no field insertion configured",
				`transforms.b.type: unknown transformation "Nope"`,
				`transforms.c.negate: want true or false`,
				`transforms.c.predicate: no predicate "missing"`,
				"transforms.c.type: use MaskField$Key or MaskField$Value",
				`transforms.d.type: alias "d" is not listed in transforms`,
			},
		},
		{
			name: "required keys and bad values",
			cfg: map[string]string{
				"transforms":                 "cast,ts,route,rf,hf",
				"transforms.cast.type":       "Cast$Value",
				"transforms.cast.spec":       "a:uuid",
				"transforms.ts.type":         "TimestampConverter$Value",
				"transforms.ts.target.type":  "string",
				"transforms.route.type":      "RegexRouter",
				"transforms.route.regex":     "(",
				"transforms.rf.type":         "ReplaceField$Value",
				"transforms.rf.renames":      "a:b:c",
				"transforms.rf.exclude":      "x",
				"transforms.rf.excludes":     "y",
				"transforms.hf.type":         "HeaderFrom$Value",
				"transforms.hf.fields":       "a,b",
				"transforms.hf.headers":      "a",
				"transforms.hf.operation":    "swap",
				"predicates":                 "p",
				"predicates.p.type":          "TopicNameMatches",
				"predicates.p.pattern.extra": "x",
			},
			want: []string{
				"transforms.cast.spec: Cast transformation does not support casting to uuid",
				"transforms.hf.headers: must name as many headers",
				"transforms.hf.operation: must be move or copy",
				"transforms.rf.excludes: unknown key",
				"transforms.rf.renames: want old:new pairs",
				"transforms.route.regex: invalid regex",
				"transforms.route.replacement: required",
				"transforms.ts.format: required when target.type is string",
				"predicates.p.pattern: required",
				"predicates.p.pattern.extra: unknown key",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, errs := Parse(tc.cfg)
			if c != nil {
				t.Error("chain returned with errors")
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			for _, w := range tc.want {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
					t.Errorf("missing %q in\n%s", w, strings.Join(got, "\n"))
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d errors, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
		})
	}
}

func TestParseEmpty(t *testing.T) {
	c, errs := Parse(map[string]string{"topics": "a", "transforms": " "})
	if c != nil || errs != nil || c.Len() != 0 {
		t.Errorf("chain %v, errors %v", c, errs)
	}
}
