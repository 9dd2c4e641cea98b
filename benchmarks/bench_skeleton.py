"""Per-stage milliseconds of the pipeline as it stands, printed as a table.

    .venv/bin/python benchmarks/bench_skeleton.py [--json]

Networks are untrained but of the shipped sizes, so the timings are those of the real thing.
Run on an otherwise idle machine and quote medians; compare ratios within one run.
"""

import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from dreamengine.engine import load_config
from dreamengine.engine.bench import format_table, run_all

figures = run_all(load_config())
print(json.dumps(figures) if "--json" in sys.argv else format_table(figures))
