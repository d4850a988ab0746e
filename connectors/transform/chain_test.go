package transform

import (
	"errors"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/connectors"
)

// kafkaChain is the example of Kafka Connect's documentation plus a mask
// and a rename, with a predicate on each.
var kafkaChain = map[string]string{
	"transforms":                          "dropTombstones,mask,rename",
	"transforms.dropTombstones.type":      "org.apache.kafka.connect.transforms.Filter",
	"transforms.dropTombstones.predicate": "isTombstone",
	"transforms.mask.type":                "org.apache.kafka.connect.transforms.MaskField$Value",
	"transforms.mask.fields":              "email",
	"transforms.mask.predicate":           "isAudit",
	"transforms.mask.negate":              "true",
	"transforms.rename.type":              "ReplaceField$Value",
	"transforms.rename.renames":           "qty:quantity",
	"transforms.rename.predicate":         "isAudit",
	"predicates":                          "isTombstone,isAudit",
	"predicates.isTombstone.type":         "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
	"predicates.isAudit.type":             "TopicNameMatches",
	"predicates.isAudit.pattern":          "audit-.*",
}

func TestChain(t *testing.T) {
	c, errs := Parse(kafkaChain)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if c.Len() != 3 {
		t.Fatalf("%d steps", c.Len())
	}

	// A tombstone is dropped and the rest of the chain does not run.
	if r, err := c.Apply(tombstone(t)); r != nil || err != nil {
		t.Errorf("tombstone: %v, %v", r, err)
	}

	// orders is not an audit topic: masked (negated predicate), not renamed.
	r, err := c.Apply(orderRecord(t))
	if err != nil {
		t.Fatal(err)
	}
	m := r.Value.(map[string]any)
	if m["email"] != "" || m["qty"] != 3 || r.ValueSchema.ID != 1 {
		t.Errorf("orders: %v (schema %d)", m, r.ValueSchema.ID)
	}

	// An audit topic is renamed, not masked.
	in := orderRecord(t)
	in.Topic = "audit-orders"
	r, err = c.Apply(in)
	if err != nil {
		t.Fatal(err)
	}
	m = r.Value.(map[string]any)
	if m["email"] != "ada@example.com" || m["quantity"] != 3 || r.ValueSchema.ID >= 0 {
		t.Errorf("audit: %v (schema %d)", m, r.ValueSchema.ID)
	}
}

func TestChainErrorNamesTransform(t *testing.T) {
	c := chainOf(t, "MaskField$Value", "fields", "nope")
	_, err := c.Apply(orderRecord(t))
	var te *Error
	if !errors.As(err, &te) || te.Alias != "t" ||
		te.Class != "org.apache.kafka.connect.transforms.MaskField$Value" ||
		!strings.Contains(err.Error(), "unknown field: nope") {
		t.Errorf("err = %v", err)
	}
}

// The derived schema of one input schema is one value with one ID, so
// that sinks keep one file per shape.
func TestDerivedSchemaStable(t *testing.T) {
	c := chainOf(t, "ReplaceField$Value", "exclude", "email")
	a, _ := c.Apply(orderRecord(t))
	in := orderRecord(t)
	b, _ := c.Apply(in)
	if a.ValueSchema.ID != b.ValueSchema.ID {
		t.Errorf("ids %d and %d", a.ValueSchema.ID, b.ValueSchema.ID)
	}
	other := chainOf(t, "ReplaceField$Value", "exclude", "qty")
	o, _ := other.Apply(orderRecord(t))
	if o.ValueSchema.ID == a.ValueSchema.ID {
		t.Error("two shapes share an id")
	}
}

// A record no transform applies to costs no allocation.
func TestChainUnchangedAllocatesNothing(t *testing.T) {
	c, errs := Parse(kafkaChain)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	r := orderRecord(t)
	r.Topic = "audit-orders"
	c = &Chain{steps: c.steps[:1]} // the filter, whose predicate does not match
	if n := testing.AllocsPerRun(1000, func() { _, _ = c.Apply(r) }); n != 0 {
		t.Errorf("%v allocations per record", n)
	}
}

func BenchmarkChainUnchanged(b *testing.B) {
	c, errs := Parse(map[string]string{
		"transforms":                 "mask,drop",
		"transforms.mask.type":       "MaskField$Value",
		"transforms.mask.fields":     "email",
		"transforms.mask.predicate":  "isAudit",
		"transforms.drop.type":       "Filter",
		"transforms.drop.predicate":  "isTest",
		"predicates":                 "isAudit,isTest",
		"predicates.isAudit.type":    "TopicNameMatches",
		"predicates.isAudit.pattern": "audit-.*",
		"predicates.isTest.type":     "HasHeaderKey",
		"predicates.isTest.name":     "test",
	})
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	r := orderRecord(b)
	b.ReportAllocs()
	for b.Loop() {
		out, err := c.Apply(r)
		if out != r || err != nil {
			b.Fatal(out, err)
		}
	}
}

// BenchmarkChainRename measures a transform that changes the shape: the
// derived schema comes from the cache, the value is rebuilt.
func BenchmarkChainRename(b *testing.B) {
	c := chainOf(b, "ReplaceField$Value", "renames", "email:mail")
	s := mustSchema(b, 1, orderSchema)
	b.ReportAllocs()
	for b.Loop() {
		r := &connectors.Record{Topic: "orders", ValueSchema: s, Value: order()}
		if _, err := c.Apply(r); err != nil {
			b.Fatal(err)
		}
	}
}
