"""Drive a Kafka Connect REST API with kafka-connect-py, a client written
for Apache Kafka Connect, and print what it saw as one JSON document.

Usage: client.py URL NAME CONFIG_JSON
"""

import json
import sys
import time

from kafka_connect import KafkaConnect


def wait_state(kc, name, want):
    deadline = time.time() + 30
    while True:
        st = kc.get_connector_status(name)
        states = [st["connector"]["state"]] + [t["state"] for t in st["tasks"]]
        if st["tasks"] and all(s == want for s in states):
            return st
        if time.time() > deadline:
            raise SystemExit(f"{name} did not reach {want}: {st}")
        time.sleep(0.1)


def main():
    url, name, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    kc = KafkaConnect(url=url)
    seen = {"cluster": kc.get_cluster_info()}
    seen["created"] = kc.create_connector({"name": name, "config": config})
    seen["listed"] = kc.list_connectors()
    seen["expanded"] = kc.list_connectors(expand="status")
    seen["info"] = kc.get_connector(name)
    seen["config"] = kc.get_connector_config(name)
    seen["running"] = wait_state(kc, name, "RUNNING")
    seen["tasks"] = kc.list_connector_tasks(name)
    seen["task0"] = kc.get_connector_task_status(name, 0)
    seen["plugins"] = kc.list_connector_plugins()
    seen["validated"] = kc.validate_connector_config(config["connector.class"],
                                                     dict(config, name=name))
    kc.pause_connector(name)
    seen["paused"] = wait_state(kc, name, "PAUSED")
    kc.resume_connector(name)
    seen["resumed"] = wait_state(kc, name, "RUNNING")
    kc.delete_connector(name)
    seen["after_delete"] = kc.list_connectors()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
