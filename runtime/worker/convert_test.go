package worker

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/connectors/transform"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/schemas"
)

// avroKeySchema is the registry's schema 7, the Avro key of the tests.
const avroKeySchema = `{"type":"record","name":"Key","fields":[{"name":"id","type":"long"}]}`

// idResolver is a registry holding one schema.
type idResolver struct{ s *schemas.Schema }

func (r idResolver) SchemaByID(_ context.Context, id int) (*schemas.Schema, error) {
	if id != r.s.ID {
		return nil, schemas.ErrUnknownSchema
	}
	return r.s, nil
}

func avroKeyConverter(t *testing.T) *schemas.Converter {
	t.Helper()
	a, err := avro.Parse(avroKeySchema)
	if err != nil {
		t.Fatal(err)
	}
	return schemas.NewConverter(idResolver{&schemas.Schema{ID: 7, Avro: a, Text: avroKeySchema}})
}

// testDecoders is a converter factory like the binary's: it picks the
// converter named by value.converter, and the test's values by default.
func testDecoders(t *testing.T) func(map[string]string) (Decoder, error) {
	return func(cfg map[string]string) (Decoder, error) {
		switch cfg[config.KeyValueConverter] {
		case schemas.ClassStringConverter:
			return schemas.StringConverter{}, nil
		case schemas.ClassByteArrayConverter:
			return schemas.ByteArrayConverter{}, nil
		case schemas.ClassJSONConverter:
			enable := cfg[config.KeyValueSchemasEnable] != "false"
			return &schemas.JSONConverter{SchemasEnable: enable}, nil
		case schemas.ClassAvroConverter:
			return avroKeyConverter(t), nil
		}
		return offsetDecoder{}, nil
	}
}

// keyTask is a delivering task of a connector with config cfg, its key
// converter and its transforms set up as the task's start does.
func keyTask(t *testing.T, sink connectors.SinkTask, tolerance string,
	cfg map[string]string,
) *task {
	t.Helper()
	w := New(Options{NewDecoder: testDecoders(t)})
	c := &connector{name: "t", config: cfg, common: Common{ErrorsTolerance: tolerance}}
	tk := newTask(w, c, 0, sink, nil, offsetDecoder{})
	if err := tk.newKeyConverter(); err != nil {
		t.Fatal(err)
	}
	chain, errs := transform.Parse(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tk.chain = chain
	return tk
}

// keyedRecord is the record at offset 0 of kafkaRecords with key k.
func keyedRecord(k []byte) *kgo.Record {
	kr := kafkaRecords(1)[0]
	kr.Key = k
	return kr
}

func TestConvertKey(t *testing.T) {
	avroKey, err := avroKeyConverter(t).Encode(
		&schemas.Schema{ID: 7, Avro: avro.MustParse(avroKeySchema)},
		map[string]any{"id": int64(5)})
	if err != nil {
		t.Fatal(err)
	}
	envelope := `{"schema":{"type":"struct","fields":[{"field":"id","type":"int64"}]},` +
		`"payload":{"id":5}}`
	tests := []struct {
		name       string
		cfg        map[string]string
		key        []byte
		converted  bool
		want       any
		wantSchema bool
	}{
		{"unset keeps bytes", nil, []byte(`{"id":5}`), false, nil, false},
		{"string", map[string]string{"key.converter": schemas.ClassStringConverter},
			[]byte(`{"id":5}`), true, `{"id":5}`, true},
		{"string null", map[string]string{"key.converter": schemas.ClassStringConverter},
			nil, true, nil, false},
		{"bytearray", map[string]string{"key.converter": schemas.ClassByteArrayConverter},
			[]byte("ab"), true, []byte("ab"), true},
		{"json schemaless", map[string]string{"key.converter": schemas.ClassJSONConverter,
			"key.converter.schemas.enable": "false"},
			[]byte(`{"id":5}`), true, map[string]any{"id": int64(5)}, false},
		// value.converter.schemas.enable does not leak into the key's.
		{"json envelope", map[string]string{"key.converter": schemas.ClassJSONConverter,
			"value.converter":                schemas.ClassJSONConverter,
			"value.converter.schemas.enable": "false"},
			[]byte(envelope), true, map[string]any{"id": int64(5)}, true},
		{"avro", map[string]string{"key.converter": "io.confluent.connect.avro.AvroConverter"},
			avroKey, true, map[string]any{"id": int64(5)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := keyTask(t, &recordingSink{}, config.ToleranceNone, tt.cfg)
			r, err := tk.convert(context.Background(), keyedRecord(tt.key))
			if err != nil {
				t.Fatal(err)
			}
			if r.KeyConverted != tt.converted || !reflect.DeepEqual(r.KeyData, tt.want) {
				t.Errorf("key converted %v data %#v, want %v %#v", r.KeyConverted, r.KeyData,
					tt.converted, tt.want)
			}
			if (r.KeySchema != nil) != tt.wantSchema {
				t.Errorf("key schema %v, want one: %v", r.KeySchema, tt.wantSchema)
			}
			if string(r.Key) != string(tt.key) {
				t.Errorf("key bytes %q, want %q", r.Key, tt.key)
			}
			if r.Value != int64(0) {
				t.Errorf("value %#v, want 0", r.Value)
			}
		})
	}
}

func TestConvertHeaders(t *testing.T) {
	tests := []struct {
		in   []byte
		want any
	}{
		{nil, nil},
		{[]byte("true"), true},
		{[]byte("42"), int64(42)},
		{[]byte("1.5"), 1.5},
		{[]byte(`{"a":1}`), map[string]any{"a": int64(1)}},
		{[]byte("web"), "web"},
	}
	kr := keyedRecord(nil)
	for _, tt := range tests {
		kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: "h", Value: tt.in})
	}
	tk := keyTask(t, &recordingSink{}, config.ToleranceNone, nil)
	r, err := tk.convert(context.Background(), kr)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Headers) != len(tests) {
		t.Fatalf("%d headers, want %d", len(r.Headers), len(tests))
	}
	for i, tt := range tests {
		h := r.Headers[i]
		if h.Key != "h" || string(h.Value) != string(tt.in) || !reflect.DeepEqual(h.Data, tt.want) {
			t.Errorf("header %d = %q %q %#v, want data %#v", i, h.Key, h.Value, h.Data, tt.want)
		}
	}
}

func TestConvertHeaderFailure(t *testing.T) {
	kr := keyedRecord(nil)
	kr.Offset = 4
	kr.Headers = []kgo.RecordHeader{{Key: "trace", Value: []byte("x")}}
	tk := keyTask(t, &recordingSink{}, config.ToleranceNone, nil)
	tk.header = func([]byte) (any, error) { return nil, schemas.ErrMalformed }
	_, err := tk.convert(context.Background(), kr)
	var re *recordError
	if !errors.As(err, &re) || re.stage != stageHeaderConverter ||
		re.class != schemas.ClassSimpleHeader {
		t.Fatalf("err = %#v, want a HEADER_CONVERTER record error", err)
	}
	if want := `convert header "trace" of record actions/3@4: `; !strings.HasPrefix(
		err.Error(), want) {
		t.Errorf("err = %q, want it to start with %q", err, want)
	}
}

func TestKeyTransformChain(t *testing.T) {
	extractID := map[string]string{"transforms": "id",
		"transforms.id.type":  "org.apache.kafka.connect.transforms.ExtractField$Key",
		"transforms.id.field": "id"}
	valueToKey := map[string]string{"transforms": "vk,user",
		"transforms.vk.type":    "org.apache.kafka.connect.transforms.ValueToKey",
		"transforms.vk.fields":  "user",
		"transforms.user.type":  "ExtractField$Key",
		"transforms.user.field": "user"}
	with := func(cfg map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range cfg {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	jsonKey := []string{"key.converter", schemas.ClassJSONConverter,
		"key.converter.schemas.enable", "false"}
	stringKey := []string{"key.converter", schemas.ClassStringConverter}
	tests := []struct {
		name      string
		cfg       map[string]string
		key       string
		wantData  any
		wantBytes string
		wantErr   string
	}{
		{"json key, ExtractField$Key", with(extractID, jsonKey...), `{"id":5,"r":"eu"}`,
			int64(5), "5", ""},
		{"string key, ExtractField$Key", with(extractID, stringKey...), `{"id":5}`,
			nil, "", "transform id (org.apache.kafka.connect.transforms.ExtractField$Key)"},
		{"string key, ValueToKey", with(valueToKey, stringKey...), "old", "u1", "u1", ""},
		{"json key, ValueToKey", with(valueToKey, jsonKey...), `{"id":5}`, "u1", "u1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recordingSink{}
			tk := keyTask(t, sink, config.ToleranceNone, tt.cfg)
			tk.dec = &schemas.JSONConverter{} // schemaless JSON values
			kr := keyedRecord([]byte(tt.key))
			kr.Value = []byte(`{"user":"u1","n":2}`)
			err := tk.deliver(context.Background(), []*kgo.Record{kr})
			if tt.wantErr != "" {
				var re *recordError
				if !errors.As(err, &re) || re.stage != stageTransformation ||
					!strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a transformation error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(sink.got) != 1 {
				t.Fatalf("err %v, %d records", err, len(sink.got))
			}
			r := sink.got[0]
			if !reflect.DeepEqual(r.KeyData, tt.wantData) || string(r.Key) != tt.wantBytes {
				t.Errorf("key %#v (bytes %q), want %#v (%q)", r.KeyData, r.Key, tt.wantData,
					tt.wantBytes)
			}
		})
	}
}

func TestKeyConverterFailure(t *testing.T) {
	sink := &recordingSink{}
	cfg := map[string]string{"key.converter": schemas.ClassJSONConverter}
	tk := keyTask(t, sink, config.ToleranceNone, cfg)
	krs := kafkaRecords(4)
	for _, kr := range krs {
		kr.Key = []byte(`{"schema":{"type":"string"},"payload":"k"}`)
	}
	krs[2].Key = []byte("not json")
	err := tk.deliver(context.Background(), krs)
	var re *recordError
	if !errors.As(err, &re) || re.stage != stageKeyConverter ||
		re.class != schemas.ClassJSONConverter || !errors.Is(err, schemas.ErrMalformed) {
		t.Fatalf("err = %v, want a KEY_CONVERTER error wrapping ErrMalformed", err)
	}
	if want := "decode key of record actions/3@2: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want it to name the record: %q", err, want)
	}
	if len(sink.got) != 2 || sink.got[1].KeyData != "k" {
		t.Errorf("sink got %d records, want the 2 before the bad key", len(sink.got))
	}
}

func TestKeyConverterDeadLetter(t *testing.T) {
	kc := newCluster(t)
	sink := &recordingSink{}
	tk := dlqTask(t, kc, sink, "keys-dlq")
	tk.keyDec = &schemas.JSONConverter{SchemasEnable: false}
	tk.keyClass = schemas.ClassJSONConverter

	krs := kafkaRecords(4)
	for _, kr := range krs {
		kr.Key = []byte(`"k"`)
	}
	krs[3].Key = []byte("{bad")
	if err := tk.deliver(context.Background(), krs); err != nil {
		t.Fatal(err)
	}
	if len(sink.got) != 3 {
		t.Fatalf("sink got %d records, want 3", len(sink.got))
	}
	if err := settleDLQ(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	got := readTopic(t, kc, "keys-dlq", 1)
	dl := got[0]
	if string(dl.Key) != "{bad" {
		t.Errorf("dead letter key %q, want the original", dl.Key)
	}
	want := map[string]string{
		"__connect.errors.offset":     "3",
		"__connect.errors.stage":      "KEY_CONVERTER",
		"__connect.errors.class.name": schemas.ClassJSONConverter,
	}
	for k, v := range want {
		if h := headerOf(dl, k); h != v {
			t.Errorf("header %s = %q, want %q", k, h, v)
		}
	}
	msg := headerOf(dl, "__connect.errors.exception.message")
	if !strings.HasPrefix(msg, "decode key of record actions/3@3: ") {
		t.Errorf("exception message %q", msg)
	}
}
