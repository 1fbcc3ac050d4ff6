"""The Python client's exposition of a fixed set of metrics, for promkit-parse's tests.

Usage: golden.py text|openmetrics

Builds the metrics below on a fresh CollectorRegistry and prints
prometheus_client's text 0.0.4 or OpenMetrics exposition of them. The Rust test
(crates/promkit-parse/tests/it/oracles.rs) makes the same metrics with promkit
and requires both expositions to parse to the same model. `_created` series are
disabled (PROMETHEUS_DISABLE_CREATED_SERIES) since they carry the wall clock.

    jobs_total        counter, help "Jobs done.", labels (queue); fast +3, slow +1.5
    temperature       gauge, help "Temp \\ \"quoted\"\\nline.", labels (room); a -3, b 1e-05
    latency_seconds   histogram, help "Latency.", buckets 0.1, 1, 10;
                      observe 0.05, 0.5, 5, 50
    payload_bytes     summary, help "Payload."; observe 2.5, 4
"""
import os
import sys

os.environ["PROMETHEUS_DISABLE_CREATED_SERIES"] = "True"

try:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary
    from prometheus_client.exposition import generate_latest
    from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
except ImportError:
    sys.exit(77)

registry = CollectorRegistry()
jobs = Counter("jobs", "Jobs done.", ["queue"], registry=registry)
jobs.labels("fast").inc(3)
jobs.labels("slow").inc(1.5)
temp = Gauge("temperature", 'Temp \\ "quoted"\nline.', ["room"], registry=registry)
temp.labels("a").set(-3)
temp.labels("b").set(1e-05)
lat = Histogram("latency_seconds", "Latency.", buckets=(0.1, 1, 10), registry=registry)
for v in (0.05, 0.5, 5, 50):
    lat.observe(v)
payload = Summary("payload_bytes", "Payload.", registry=registry)
for v in (2.5, 4):
    payload.observe(v)

if sys.argv[1:] == ["text"]:
    sys.stdout.write(generate_latest(registry).decode())
elif sys.argv[1:] == ["openmetrics"]:
    sys.stdout.write(generate_openmetrics(registry).decode())
else:
    sys.exit(2)
