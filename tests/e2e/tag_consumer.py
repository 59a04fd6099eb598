#!/usr/bin/env python3
"""Follow every newsline tag topic with confluent-kafka (the README's example).

    pip install confluent-kafka
    python3 tag_consumer.py --brokers 127.0.0.1:9092 '^newsline\\.tag\\..*'

Prints one JSON line per record: {"topic", "id", "title", "published"}.
The test (tests/e2e/python_consumer.sh) stops it with --max and --idle.
"""
import argparse
import json
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError

ap = argparse.ArgumentParser()
ap.add_argument("pattern", nargs="?", default=r"^newsline\.tag\..*")
ap.add_argument("--brokers", default="127.0.0.1:9092")
ap.add_argument("--max", type=int, default=0, help="stop after this many records (0: never)")
ap.add_argument("--idle", type=float, default=0, help="stop after this many idle seconds")
args = ap.parse_args()

consumer = Consumer({
    "bootstrap.servers": args.brokers,
    "group.id": "tag-reader-" + uuid.uuid4().hex,  # a fresh group: read everything...
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,                   # ...and leave no offsets behind
    "topic.metadata.refresh.interval.ms": 5000,    # tag topics appear as actors do
})
consumer.subscribe([args.pattern])  # a leading ^ makes it a regex
seen, last = 0, time.monotonic()
try:
    while not args.max or seen < args.max:
        msg = consumer.poll(0.5)
        if msg is None:
            if args.idle and time.monotonic() - last > args.idle:
                break
            continue
        if msg.error():
            if msg.error().code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                print("error:", msg.error(), file=sys.stderr)
            continue
        rec = json.loads(msg.value())  # a newsline.tagged/1 record
        print(json.dumps({"topic": msg.topic(), "id": rec["id"], "title": rec.get("title"),
                          "published": (rec.get("published") or {}).get("value")}), flush=True)
        seen, last = seen + 1, time.monotonic()
finally:
    consumer.close()
