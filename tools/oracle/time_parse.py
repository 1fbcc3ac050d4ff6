"""Times prometheus_client's parsers on a file, for the parser benchmark.

Usage: time_parse.py text|openmetrics FILE

Parses the whole file (text_string_to_metric_families, consuming every family) again and
again for at least five seconds (two runs at least) and prints
"runs=N ns_per_run=MEAN ns_min=FASTEST cpu_ns_per_run=CPU bytes=B samples=S".
"""
import sys
import time

try:
    from prometheus_client.parser import text_string_to_metric_families as parse_text
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
except ImportError:
    sys.exit(77)

fmt, path = sys.argv[1], sys.argv[2]
parse = {"text": parse_text, "openmetrics": parse_om}[fmt]
with open(path, encoding="utf-8") as f:
    data = f.read()
runs = 0
samples = 0
best = float("inf")
cpu0 = time.process_time()
start = time.perf_counter()
while runs < 2 or time.perf_counter() - start < 5:
    t = time.perf_counter()
    n = 0
    for family in parse(data):
        n += len(family.samples)
    best = min(best, time.perf_counter() - t)
    samples = n
    runs += 1
elapsed = time.perf_counter() - start
cpu = time.process_time() - cpu0
print(f"runs={runs} ns_per_run={int(elapsed * 1e9 / runs)} ns_min={int(best * 1e9)} cpu_ns_per_run={int(cpu * 1e9 / runs)} bytes={len(data.encode())} samples={samples}")
