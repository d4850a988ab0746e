//go:build integration

package pipeline

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/tributary-io/tributary/integration/registrytest"
	"github.com/tributary-io/tributary/integration/services"
	"github.com/tributary-io/tributary/schemas"
)

// jsonClicks is how many envelope values TestJSONConverterToParquet sinks.
const jsonClicks = 200

// TestJSONConverterToParquet produces values as Kafka Connect's
// JsonConverter writes them with schemas.enable=true, with a Timestamp and
// a Decimal, and sinks them into Parquet on MinIO through the JSON
// converter, named by the connector or, for a connector that names none,
// by the worker file as Kafka Connect's worker files do (the connector
// would otherwise read Avro and fail on the first record). DuckDB reads
// every row back with the decimal and timestamp types and the exact sum of
// the prices.
func TestJSONConverterToParquet(t *testing.T) {
	env = services.Require(t)
	for _, c := range []struct {
		name string
		run  func(t *testing.T, ctx context.Context, topic string, cfg map[string]string)
	}{
		{"connector", func(t *testing.T, ctx context.Context, topic string, cfg map[string]string) {
			cfg["value.converter"] = "org.apache.kafka.connect.json.JsonConverter"
			cfg["value.converter.schemas.enable"] = "true"
			w := newWorkerWith(t, &schemas.JSONConverter{SchemasEnable: true})
			runToEnd(t, ctx, w, connectorName("jsonconv", topic), topic, cfg)
		}},
		{"worker default", func(t *testing.T, ctx context.Context, topic string, cfg map[string]string) {
			p := startWorkerProcWith(t, "worker", registrytest.Start(t, env), cfg, time.Second, `
key.converter: org.apache.kafka.connect.json.JsonConverter
value.converter: org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable: "true"
value.converter.schemas.enable: "true"
`)
			waitCommitted(t, p.group, topic, 3*time.Minute)
			p.stop()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			topic, bucket := newTopic(t, 1), newBucket(t)
			produce(t, ctx, topic, jsonClickValues()...)
			c.run(t, ctx, topic, sinkConfig(topic, bucket, map[string]string{
				"tasks.max": "1", "flush.size": "100", "timestamp.field": "event_time",
			}))
			verifyBucket(t, topic, bucket)
			checkJSONClicks(t, bucket, topic)
		})
	}
}

// jsonClickValues returns jsonClicks values as Kafka Connect's
// JsonConverter writes them with schemas.enable=true, with a Timestamp and
// a Decimal.
func jsonClickValues() [][]byte {
	const schema = `{"type":"struct","name":"io.tributary.actions.JsonClick","fields":[
		{"field":"page","type":"string"},
		{"field":"event_time","type":"int64","name":"org.apache.kafka.connect.data.Timestamp"},
		{"field":"price","type":"bytes","name":"org.apache.kafka.connect.data.Decimal",
		 "parameters":{"scale":"2","connect.decimal.precision":"10"}},
		{"field":"user_id","type":"string","optional":true}]}`
	base := time.Date(2026, 7, 14, 9, 0, 0, 0, time.UTC).UnixMilli()
	var values [][]byte
	for i := range jsonClicks {
		// The price is i cents minus one euro, as Connect's Decimal writes
		// it: the big-endian two's complement of the unscaled value.
		cents := int16(i - 100)
		price := []byte{byte(uint16(cents) >> 8), byte(cents)}
		values = append(values, fmt.Appendf(nil,
			`{"schema":%s,"payload":{"page":"/p/%d","event_time":%d,"price":"%s","user_id":null}}`,
			schema, i, base+int64(i)*1000, base64.StdEncoding.EncodeToString(price)))
	}
	return values
}

// checkJSONClicks reads the Parquet files of jsonClickValues back with
// DuckDB: every row, the decimal and timestamp types, and the exact sum of
// the prices.
func checkJSONClicks(t *testing.T, bucket, topic string) {
	t.Helper()
	var got struct {
		Rows      int    `json:"rows"`
		Sum       string `json:"sum"`
		PriceType string `json:"price_type"`
		TimeType  string `json:"time_type"`
		NullUsers int    `json:"null_users"`
	}
	runDuckDB(t, duckdbJSONScript, downloadParquet(t, bucket, "topics/"+topic+"/"), &got)
	// Sum of (i-100)/100 for i in [0, 200): -100 cents in all.
	if got.Rows != jsonClicks || got.Sum != "-1.00" || got.PriceType != "DECIMAL(10,2)" ||
		got.TimeType != "TIMESTAMP WITH TIME ZONE" || got.NullUsers != jsonClicks {
		t.Errorf("duckdb: %+v", got)
	}
}

const duckdbJSONScript = `
import duckdb, json, sys
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
src = "read_parquet('%s/**/*.parquet', hive_partitioning=true)" % sys.argv[1]
q = lambda s: con.execute(s.replace("SRC", src)).fetchall()
types = dict(q("select column_name, column_type from (describe select * from SRC)"))
print(json.dumps({
    "rows": q("select count(*) from SRC")[0][0],
    "sum": str(q("select sum(price) from SRC")[0][0]),
    "price_type": types.get("price", ""),
    "time_type": types.get("event_time", ""),
    "null_users": q("select count(*) from SRC where user_id is null")[0][0],
}))
`
