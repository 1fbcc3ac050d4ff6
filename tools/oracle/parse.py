#!/usr/bin/env python3
"""Usage: parse.py text|openmetrics < exposition

Parses a Prometheus exposition from stdin with the official Python client's parser
and prints what it understood as JSON, for promkit's tests (crates/promkit-oracle):
  text         prometheus_client.parser.text_string_to_metric_families (text 0.0.4; lenient)
  openmetrics  prometheus_client.openmetrics.parser.text_string_to_metric_families
Output: a JSON list of families
  {"name", "type", "help", "unit", "samples": [{"name", "labels": {..}, "value",
   "timestamp", "exemplar": null | {"labels": {..}, "value", "timestamp"}}]}
Numbers are strings so NaN and the infinities survive: values are Python's repr
("1.0", "nan", "inf", "-inf", "1e-05"); timestamps are seconds ("1.5", or
"1.500000000" for OpenMetrics' nanosecond timestamps) or null.
Exit status: 0 parsed; 1 parse error (the error is on stderr); 2 usage;
77 prometheus_client is not installed (run scripts/install-deps).
Env: PROMKIT_VENV, the venv with prometheus-client (default ~/.cache/promkit/venv);
this script re-runs itself under that venv's python when its own lacks the package.
"""
import json
import os
import sys

try:
    import prometheus_client  # noqa: F401
except ImportError:
    venv = os.environ.get("PROMKIT_VENV") or os.path.expanduser("~/.cache/promkit/venv")
    py = os.path.join(venv, "bin", "python")
    # Compare prefixes, not executables: a venv's python is a symlink to the system one.
    if os.path.exists(py) and os.path.realpath(sys.prefix) != os.path.realpath(venv):
        os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])
    print(f"parse.py: prometheus_client not installed (looked in {venv}); run scripts/install-deps",
          file=sys.stderr)
    sys.exit(77)

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text
from prometheus_client.samples import Timestamp

PARSERS = {"text": parse_text, "openmetrics": parse_openmetrics}


def number(v):
    """A float (or an OpenMetrics int) as a string that Rust's f64::from_str reads back exactly."""
    return repr(float(v)) if isinstance(v, float) else str(v)


def timestamp(ts):
    if ts is None:
        return None
    if isinstance(ts, Timestamp):
        # str(Timestamp) misprints negative times ("-1.-500000000"); keep the sign in front.
        sign = "-" if ts.sec < 0 or ts.nsec < 0 else ""
        return f"{sign}{abs(ts.sec)}.{abs(ts.nsec):09d}"
    return number(ts)


def sample(s):
    ex = s.exemplar
    return {
        "name": s.name,
        "labels": dict(s.labels),
        "value": number(s.value),
        "timestamp": timestamp(s.timestamp),
        "exemplar": None if ex is None else {
            "labels": dict(ex.labels),
            "value": number(ex.value),
            "timestamp": timestamp(ex.timestamp),
        },
    }


def main(argv):
    if len(argv) != 1 or argv[0] not in PARSERS:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    body = sys.stdin.buffer.read()
    try:
        families = [
            {
                "name": f.name,
                "type": f.type,
                "help": f.documentation,
                "unit": f.unit,
                "samples": [sample(s) for s in f.samples],
            }
            # The parsers are generators: errors surface while iterating.
            for f in PARSERS[argv[0]](body.decode("utf-8"))
        ]
    except Exception as e:  # ValueError mostly; any exception means "rejected"
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump(families, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
