"""How soon does ``live`` put a picture in its window? Time from the command's start to the
start-up picture and to the first dreamed frame, over a few runs (needs a display: run it under
Xvfb, e.g. ``xvfb-run -a``).

    xvfb-run -a .venv/bin/python benchmarks/bench_startup.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CHILD = """
import json, sys, time
from dreamengine.render import window

marks = {}
show_image = window.Window.show_image

def first(name):
    marks.setdefault(name, time.time())

def spy_show(self, rgb):
    first("picture")
    return show_image(self, rgb)

window.Window.show_image = spy_show
from dreamengine.cli import main
from dreamengine.engine import surface
from dreamengine.resources import demo_clip

poll = surface.Surface.poll

def spy_poll(self):  # the render loop's first step polls the surface first
    first("dream")
    return poll(self)

surface.Surface.poll = spy_poll
rc = main(["live", "--input", str(demo_clip()), "--seconds", "1", "--osc", "off", "--quiet"])
print("MARKS", json.dumps(marks))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("needs a display: run under xvfb-run -a")
    picture, dream = [], []
    for _ in range(args.runs):
        t0 = time.time()
        proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                              timeout=300, check=True)
        marks = json.loads(proc.stdout.split("MARKS ")[1])
        picture.append(marks["picture"] - t0)
        dream.append(marks["dream"] - t0)
    print("| from the command's start to | median s | min s | max s |")
    print("|---|---:|---:|---:|")
    for name, xs in (("the start-up picture", picture), ("the first dreamed frame", dream)):
        print(f"| {name} | {statistics.median(xs):.2f} | {min(xs):.2f} | {max(xs):.2f} |")


if __name__ == "__main__":
    main()
