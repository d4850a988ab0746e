package worker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tributary-io/tributary/connectors"
	"github.com/tributary-io/tributary/runtime/config"
	"github.com/tributary-io/tributary/schemas"
)

// headerConverter reads one header value, as a Kafka Connect
// HeaderConverter's toConnectHeader does.
type headerConverter func(value []byte) (any, error)

// simpleHeader is SimpleHeaderConverter, the default and only header
// converter: it reads any bytes, so it never fails.
func simpleHeader(b []byte) (any, error) { return schemas.ParseHeader(b), nil }

// newKeyConverter sets the task's key converter from the connector's
// key.converter, or the worker's, with references resolved. Without either
// the key stays bytes, as ByteArrayConverter leaves it; Kafka Connect's
// worker requires a key.converter instead.
//
// The key converter comes from the worker's value converter factory, given
// the key.converter.* keys in place of the value.converter.* ones, as Kafka
// Connect configures one converter class for either role. Decoding does not
// depend on the role: Confluent's wire format names the schema by id, and
// the other converters carry no subject at all.
func (t *task) newKeyConverter() error {
	resolved, err := t.w.opts.Providers.Resolve(t.w.runConfig(t.c.config))
	if err != nil {
		return fmt.Errorf("resolve config: %w", err)
	}
	class := strings.TrimSpace(resolved[config.KeyKeyConverter])
	if class == "" {
		return nil
	}
	dec, err := t.w.opts.NewDecoder(asValueConverter(resolved))
	if err != nil {
		return fmt.Errorf("key converter: %w", err)
	}
	t.keyDec, t.keyClass = dec, class
	return nil
}

// asValueConverter returns cfg with its key.converter.* keys renamed to
// value.converter.* and its own value.converter.* keys left out.
func asValueConverter(cfg map[string]string) map[string]string {
	const key, value = config.KeyKeyConverter, config.KeyValueConverter
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		if !strings.HasPrefix(k, value) {
			out[k] = v
		}
	}
	for k, v := range cfg {
		if rest, ok := strings.CutPrefix(k, key); ok {
			out[value+rest] = v
		}
	}
	return out
}

// convertKey decodes kr's key into r when the connector has a key
// converter. A null key stays null without reaching the converter.
func (t *task) convertKey(ctx context.Context, kr *kgo.Record, r *connectors.Record) error {
	if t.keyDec == nil {
		return nil
	}
	r.KeyConverted = true
	if kr.Key == nil {
		return nil
	}
	var err error
	var permanent bool
	r.KeySchema, r.KeyData, err, permanent = t.decode(ctx, kr, t.keyDec, kr.Key)
	if permanent {
		return skip(kr, stageKeyConverter, t.keyClass,
			fmt.Errorf("decode key of record %s: %w", r.Position(), err))
	}
	return err
}

// convertHeaders copies kr's headers into r, each value read by the
// header converter.
func (t *task) convertHeaders(kr *kgo.Record, r *connectors.Record) error {
	if len(kr.Headers) == 0 {
		return nil
	}
	r.Headers = make([]connectors.Header, len(kr.Headers))
	for i, h := range kr.Headers {
		r.Headers[i] = connectors.Header{Key: h.Key, Value: h.Value}
		if t.header == nil {
			continue
		}
		data, err := t.header(h.Value)
		if err != nil {
			return skip(kr, stageHeaderConverter, schemas.ClassSimpleHeader,
				fmt.Errorf("convert header %q of record %s: %w", h.Key, r.Position(), err))
		}
		r.Headers[i].Data = data
	}
	return nil
}

// decode runs dec on b, retrying transient faults (the registry down)
// within the retry budget. permanent is set when err is the decoder's own
// verdict on b; otherwise err is the budget's and ends the delivery.
func (t *task) decode(ctx context.Context, kr *kgo.Record, dec Decoder, b []byte) (
	s *schemas.Schema, v any, err error, permanent bool,
) {
	began := time.Now()
	for attempt := 1; ; attempt++ {
		s, v, err = dec.Decode(ctx, b)
		if err == nil || !isTransient(err) {
			return s, v, err, err != nil
		}
		pos := connectors.Record{Topic: kr.Topic, Partition: kr.Partition, Offset: kr.Offset}
		err = fmt.Errorf("decode record %s: %w", pos.Position(), err)
		if werr := t.retry.wait(ctx, kr, attempt, began, err); werr != nil {
			return nil, nil, werr, false
		}
		t.log.Warn("schema registry unavailable; retrying", "topic", kr.Topic,
			"partition", kr.Partition, "offset", kr.Offset, "attempt", attempt, "err", err)
	}
}
