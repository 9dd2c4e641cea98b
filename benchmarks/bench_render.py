"""Display and recording throughput of the render pipeline, printed as a table.

    .venv/bin/python benchmarks/bench_render.py [--live-seconds 10] [--skip-live]

Part 1, per output size (640×360 … 3840×2160), each frame drawing the full pass chain
(cross-fade, feedback zoom, colour, bicubic upscale): frames/s drawn only, with read-back, and
with read-back plus PNG encoding on the same thread.
Part 2, a headless ``live`` run at 1280×720 with the dream worker stepping beside it and PNG
recording at 30 fps through the encoder pool: display frames/s, frames written, frames dropped.
Quote medians from an otherwise idle machine; compare ratios within one run.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from dreamengine.engine import load_config
from dreamengine.engine.bench import RENDER_SIZES, bench_render
from dreamengine.engine.live import LiveRequest, run_live
from dreamengine.resources import demo_clip

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--live-seconds", type=float, default=10.0)
parser.add_argument("--skip-live", action="store_true")
parser.add_argument("--upscale", default="catmull-rom", choices=["catmull-rom", "b-spline"])
args = parser.parse_args()
config = load_config(None, {"render.upscale": args.upscale})

print(f"upscale filter: {args.upscale}")
print(f"{'size':>10}  {'drawn fps':>9}  {'+read-back':>10}  {'+PNG fps':>8}")
for w, h in RENDER_SIZES:
    f = bench_render(config, (w, h))
    print(f"{f'{w}x{h}':>10}  {f['render_fps']:9.1f}  {f['render_readback_fps']:10.1f}  "
          f"{f['render_png_fps']:8.1f}")
sys.stdout.flush()

if not args.skip_live:
    with tempfile.TemporaryDirectory() as tmp:
        request = LiveRequest(demo_clip(), (1280, 720), headless=True, record=Path(tmp) / "rec",
                              seconds=args.live_seconds, max_fps=60.0, record_fps=30.0)
        summary = run_live(config, request, say=lambda message: None)
    rec = summary.recording
    assert rec is not None
    seconds = args.live_seconds
    print(f"\nlive 1280x720, recording at 30 fps for {seconds:g} s, dream worker running:")
    print(f"  display {summary.frames / seconds:.1f} fps (frame time median "
          f"{summary.frame_ms['p50']:.1f} ms, p99 {summary.frame_ms['p99']:.1f} ms), "
          f"{summary.keyframes / seconds:.1f} keyframes/s")
    print(f"  written {rec.written / seconds:.1f} fps, dropped {rec.dropped}")
