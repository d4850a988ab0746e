"""Drive Tributary's Schema Registry with Confluent's Python client.

Usage: confluent_client.py produce|consume REGISTRY_URL BROKERS TOPIC < job.json

produce registers job["schema"] under TOPIC-value, tests job["compatible"]
and job["incompatible"] against it, fetches the schema back by id, then
produces job["records"] to TOPIC with AvroSerializer. consume reads
job["count"] records from TOPIC with AvroDeserializer. Either prints one
JSON object with what it saw.
"""

import json
import sys
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def produce(registry, brokers, topic, job):
    subject = topic + "-value"
    schema_id = registry.register_schema(subject, Schema(job["schema"], "AVRO"))
    latest = registry.get_latest_version(subject)
    fetched = registry.get_schema(schema_id)
    compatible = registry.test_compatibility(subject, Schema(job["compatible"], "AVRO"))
    incompatible = registry.test_compatibility(subject, Schema(job["incompatible"], "AVRO"))

    # auto.register.schemas off: the serializer finds the id by looking the
    # schema up under the subject.
    serializer = AvroSerializer(registry, job["schema"], conf={"auto.register.schemas": False})
    producer = Producer({"bootstrap.servers": brokers, "enable.idempotence": True})
    ctx = SerializationContext(topic, MessageField.VALUE)
    failed = []

    def report(err, _msg):
        if err is not None:
            failed.append(str(err))

    for record in job["records"]:
        producer.produce(topic, value=serializer(record, ctx), on_delivery=report)
    if producer.flush(30) != 0 or failed:
        raise SystemExit("produce to %s: %d not delivered, %d failed, first: %s" % (
            topic, len(producer), len(failed), failed[:1]))
    return {
        "id": schema_id,
        "latest_id": latest.schema_id,
        "latest_version": latest.version,
        "fetched": fetched.schema_str,
        "compatible": compatible,
        "incompatible": incompatible,
        "produced": len(job["records"]),
    }


def consume(registry, brokers, topic, job):
    deserializer = AvroDeserializer(registry)
    consumer = Consumer({
        "bootstrap.servers": brokers,
        "group.id": topic + "-py",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    consumer.subscribe([topic])
    ctx = SerializationContext(topic, MessageField.VALUE)
    records = []
    deadline = time.monotonic() + 60
    try:
        while len(records) < job["count"] and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                raise SystemExit("consume %s: %s" % (topic, msg.error()))
            records.append(deserializer(msg.value(), ctx))
    finally:
        consumer.close()
    return {"records": records}


def main():
    mode, url, brokers, topic = sys.argv[1:5]
    job = json.load(sys.stdin)
    registry = SchemaRegistryClient({"url": url})
    run = {"produce": produce, "consume": consume}[mode]
    json.dump(run(registry, brokers, topic, job), sys.stdout)


if __name__ == "__main__":
    main()
