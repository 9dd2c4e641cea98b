"""The dream's speed beside the render loop, and how fast a class change reaches the screen.

    .venv/bin/python benchmarks/bench_dream.py [--seconds 10] [--switches 12] [--json]

Prints three tables:

1. the sampler alone at each prior size (the shipped bundle, and seeded random networks of its
   architecture at 64 and 128 px): ms per PPGN step, steps/s and keyframes/s;
2. the dream worker beside a headless render loop capped at 60 fps (1280×720), on a thread and
   in its own process: keyframes/s reached and the loop's frame times (median, p99, the longest
   stall), against the loop alone;
3. class-switch latency: the worker dreams class A, the target switches to B, and every third
   rendered frame is read back and judged (by the referee when ``priors/image/referee.pt`` is
   there, else by the condition net C, which is biased: it steers); the latency is the time
   until B ranks first on the shown frame. This is the dream's share of the slow path; the
   sound-to-screen figure adds hearing (``bench_hearing.py``).

One torch thread, as in ``live``. Run on an otherwise idle machine; quote medians.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import replace
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
import torch.nn.functional as F

from dreamengine.dream import DreamWorker, start_worker
from dreamengine.dream.process import DreamProcess
from dreamengine.dream.state import Dream
from dreamengine.engine import load_config
from dreamengine.engine.bench import bench_dream, median_ms
from dreamengine.engine.build import load_image_prior
from dreamengine.engine.config import EngineConfig
from dreamengine.models import ImagePrior, RefereeNet
from dreamengine.render import Renderer, create_headless_context, frame_params
from dreamengine.resources import priors_dir


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="per render-loop run")
    p.add_argument("--switches", type=int, default=12, help="class switches to time")
    p.add_argument("--timeout", type=float, default=5.0, help="a switch slower than this misses")
    p.add_argument("--json", action="store_true")
    return p.parse_args()


def sampler_alone(config: EngineConfig, prior: ImagePrior, trained: bool) -> list[dict]:
    rows = []
    if trained:
        one = replace(config.sampler, steps_per_keyframe=1)
        dream = Dream(prior, one, seed=0, device=torch.device("cpu"))
        target = {prior.labels[0]: 0.6, prior.labels[1]: 0.4}
        step = median_ms(lambda: dream.keyframe(target), 20)
        dream.params = config.sampler
        key = median_ms(lambda: dream.keyframe(target), 10)
        rows.append({"prior": f"shipped {prior.config.generator.size} px", "step_ms": step,
                     "steps_per_s": 1000 / step, "keyframes_per_s": 1000 / key})
    for size in (64, 128):  # the shipped architecture (or the config's) at both sizes
        fig = bench_dream(config, size, torch.device("cpu"), prior.config)
        rows.append({"prior": f"random {size} px", "step_ms": fig["dream_step_ms"],
                     "steps_per_s": 1000 / fig["dream_step_ms"],
                     "keyframes_per_s": fig["keyframes_per_s"]})
    return rows


class Loop:
    """A headless render loop at up to 60 fps that shows the worker's keyframes."""

    def __init__(self, config: EngineConfig, prior: ImagePrior, size: tuple[int, int]) -> None:
        self.config = config
        self.ctx = create_headless_context()
        self.renderer = Renderer(self.ctx, size, prior.config.generator.size, config.render)
        side = self.side = prior.config.generator.size
        self.renderer.push_keyframe(np.zeros((side, side, 3), np.uint8), 0.0)
        self.seq = 0
        self.keyframes = 0

    def frame(self, t: float, dt: float, worker: DreamWorker | DreamProcess | None) -> None:
        if worker is not None:
            published = worker.latest()
            if published is not None and published.seq != self.seq:
                self.seq = published.seq
                self.renderer.push_keyframe(published.keyframe.image, t)
                self.keyframes += 1
        self.renderer.render(frame_params(self.config.render, t, dt))

    def run(self, seconds: float, worker: DreamWorker | DreamProcess | None,
            on_frame: Any = None) -> list[float]:
        """Frame times (ms) of a run of ``seconds``, paced at 60 fps."""
        start = last = time.perf_counter()
        times = []
        index = 0
        while last - start < seconds:
            t0 = time.perf_counter()
            self.frame(t0 - start, t0 - last, worker)
            self.ctx.finish()
            if on_frame is not None:
                on_frame(index, t0 - start)
            index += 1
            spare = 1 / 60 - (time.perf_counter() - t0)
            if spare > 0:
                time.sleep(spare)
            times.append((time.perf_counter() - t0) * 1000)
            last = t0
        return times

    def release(self) -> None:
        self.renderer.release()
        self.ctx.release()


def beside_the_loop(config: EngineConfig, prior: ImagePrior, seconds: float) -> dict:
    """The loop alone, then beside the worker on a thread and in its own process, each asked
    for up to 240 keyframes/s (as fast as it can go); last, the process with random networks
    of the same architecture at 128 px (the size the target names)."""
    loop = Loop(config, prior, (1280, 720))
    out: dict[str, Any] = {"alone": stats(loop.run(seconds, None)),
                           "steps_per_keyframe": config.sampler.steps_per_keyframe}
    big = replace(prior.config, generator=replace(prior.config.generator, size=128))
    runs = {"thread": (prior, "thread"), "process": (prior, "process"),
            "process_128px": (ImagePrior.random(big, seed=0), "process")}
    try:
        for name, (net, mode) in runs.items():
            if net.config.generator.size != loop.side:
                loop.release()
                loop = Loop(config, net, (1280, 720))
            target = {net.labels[0]: 0.6, net.labels[1]: 0.4}
            dream = Dream(net, config.sampler, seed=0, device=torch.device("cpu"))
            worker = start_worker(dream, 240, mode)
            worker.request(target)
            try:
                loop.keyframes = 0
                t0 = time.perf_counter()
                out[name] = stats(loop.run(seconds, worker))
                out[name]["keyframes_per_s_shown"] = loop.keyframes / (time.perf_counter() - t0)
            finally:
                worker.stop()
    finally:
        loop.release()
    return out


def stats(times: list[float]) -> dict:
    return {"fps": 1000 / float(np.median(times)), "frame_ms_p50": float(np.median(times)),
            "frame_ms_p99": float(np.percentile(times, 99)), "frame_ms_max": max(times)}


def judge_of(prior: ImagePrior) -> tuple[Any, str, int]:
    path = priors_dir() / "image" / "referee.pt"
    if path.is_file():
        referee = RefereeNet.from_checkpoint(path)
        return referee, "referee", int(referee.meta.get("input_size", 64))
    return prior.condition, "condition net (biased: it steers)", prior.config.condition.input_size


@torch.no_grad()
def ranks_first(judge: Any, rgb: np.ndarray, side: int, index: int) -> bool:
    h, w = rgb.shape[:2]
    s = min(h, w)
    square = rgb[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    x = torch.from_numpy(np.ascontiguousarray(square)).permute(2, 0, 1)[None].float() / 127.5 - 1
    x = F.interpolate(x, size=(side, side), mode="area")
    return int(judge(x).argmax(1)) == index


def class_switches(config: EngineConfig, prior: ImagePrior, n: int, timeout: float) -> dict:
    judge, judge_name, side = judge_of(prior)
    classes = [c for c in prior.labels if c != "other"]
    rng = np.random.default_rng(0)
    loop = Loop(config, prior, (640, 360))
    dream = Dream(prior, config.sampler, seed=0, device=torch.device("cpu"))
    worker = start_worker(dream, config.dream.keyframes_per_s, config.dream.worker)
    latencies: list[float] = []
    misses = 0
    try:
        for _ in range(n):
            a, b = rng.choice(len(classes), size=2, replace=False)
            worker.request({classes[a]: 1.0})
            loop.run(2.0, worker)  # settle on A
            worker.request({classes[b]: 1.0})
            hit: list[float] = []
            labels = judge.labels if judge_name == "referee" else prior.labels
            index_b = labels.index(classes[b])

            def check(i: int, t: float, index_b: int = index_b, hit: list[float] = hit) -> None:
                if not hit and i % 3 == 0 and ranks_first(judge, loop.renderer.read(), side,
                                                          index_b):
                    hit.append(t)

            loop.run(timeout, worker, check)
            if hit:
                latencies.append(hit[0])
            else:
                misses += 1
    finally:
        worker.stop()
        loop.release()
    out: dict[str, Any] = {"judge": judge_name, "switches": n, "misses": misses,
                           "keyframes_per_s": config.dream.keyframes_per_s,
                           "worker": config.dream.worker}
    # a miss counts as the timeout (censored), so the median cannot hide the misses
    censored = latencies + [math.inf] * misses
    out |= {"median_s": float(np.percentile(censored, 50, method="inverted_cdf")),
            "p90_s": float(np.percentile(censored, 90, method="inverted_cdf")),
            "median_hits_s": float(np.median(latencies)) if latencies else math.nan}
    return out


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    config = load_config()
    warnings: list[str] = []
    prior, _ = load_image_prior(config, torch.device("cpu"), warnings)
    trained = prior.trained and not warnings
    figures: dict[str, Any] = {"sampler": sampler_alone(config, prior, trained)}
    figures["beside_loop"] = beside_the_loop(config, prior, args.seconds)
    if trained:
        figures["class_switch"] = class_switches(config, prior, args.switches, args.timeout)
    else:
        figures["class_switch"] = {"skipped": "no trained image prior is shipped"}
    if args.json:
        print(json.dumps(figures))
        return
    rows = [("prior", "ms/step", "steps/s", "keyframes/s")]
    rows += [(r["prior"], f"{r['step_ms']:.1f}", f"{r['steps_per_s']:.1f}",
              f"{r['keyframes_per_s']:.1f}") for r in figures["sampler"]]
    print(table(rows), end="\n\n")
    b = figures["beside_loop"]
    rows = [("1280x720 loop", "fps", "ms p50", "ms p99", "ms max", "keyframes/s shown")]
    names = {"alone": "alone", "thread": "beside a thread worker",
             "process": "beside a process worker", "process_128px": "... 128 px (random nets)"}
    for name, title in names.items():
        s = b[name]
        rows.append((title, f"{s['fps']:.1f}",
                     f"{s['frame_ms_p50']:.1f}", f"{s['frame_ms_p99']:.1f}",
                     f"{s['frame_ms_max']:.1f}", f"{s.get('keyframes_per_s_shown', 0):.1f}"))
    print(table(rows))
    print(f"({b['steps_per_keyframe']} steps per keyframe, prior "
          f"{'shipped' if trained else 'random'} {prior.config.generator.size} px)\n")
    c = figures["class_switch"]
    if "skipped" in c:
        print(f"class switch: skipped ({c['skipped']})")
    else:
        print(f"class switch ({c['judge']}, {c['switches']} switches at "
              f"{c['keyframes_per_s']:g} keyframes/s, {c['worker']} worker): "
              f"median {c['median_s']:.2f} s, p90 {c['p90_s']:.2f} s "
              f"(a miss counts as inf), {c['misses']} missed (> timeout); "
              f"median of the hits {c['median_hits_s']:.2f} s")


if __name__ == "__main__":
    main()
