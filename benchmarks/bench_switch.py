"""Class switch on the shown frame, for the canvas dream: how long after the target changes does
the picture on screen show the new class more than the old one?

Offline and deterministic: the dream makes ``--rate`` keyframes per second of show time (set it
to what the dream reaches beside the render loop on the machine in question), the renderer
cross-fades and zooms them at 30 fps with the default render settings, and every third frame
is scored. The judge is the vision network itself (each candidate class's strongest 1/16 of
heatmap places on the shown frame's centre square) — the network that steers, so an optimistic
judge; blind human-style judging is in ``priors/vision/MODEL_CARD.md``. A switch that does not
happen within ``--timeout`` counts as never.

    .venv/bin/python benchmarks/bench_switch.py --switches 12 --rate 12
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F

from dreamengine.dream.state import Dream
from dreamengine.engine.config import EngineConfig
from dreamengine.models.vision import VisionNet
from dreamengine.render import Renderer, create_headless_context, frame_params
from dreamengine.resources import priors_dir
from dreamengine.sampler.objectives import top_mean

CLASSES = ("dog", "bird", "cow", "car", "person", "umbrella", "horse", "sheep")
FPS = 30.0


@torch.no_grad()
def leader(net: VisionNet, rgb: np.ndarray, candidates: list[int]) -> int:
    """The candidate class strongest on the centre square of the shown frame."""
    h, w = rgb.shape[:2]
    s = min(h, w)
    square = rgb[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    x = torch.from_numpy(np.ascontiguousarray(square)).permute(2, 0, 1)[None].float() / 255
    x = F.interpolate(x, size=(128, 128), mode="bilinear", antialias=True, align_corners=False)
    maps = net.heatmaps(x)[0, candidates]
    scores = [float(top_mean(m[None], 1 / 16)) for m in maps]
    return candidates[int(np.argmax(scores))]


def switches(net: VisionNet, n: int, rate: float, settle_s: float, timeout: float) -> list[float]:
    config = EngineConfig()
    rng = np.random.default_rng(0)
    ctx = create_headless_context()
    dream = Dream(net, config.sampler, seed=0, device=torch.device("cpu"),
                  canvas_px=config.dream.canvas_px)
    renderer = Renderer(ctx, (320, 180), dream.key_size, config.render)
    candidates = [net.labels.index(c) for c in CLASSES]
    t, next_key, out = 0.0, 0.0, []

    def show(target: dict[str, float], seconds: float, want: int | None) -> float | None:
        nonlocal t, next_key
        end, frame = t + seconds, 0
        while t < end:
            while next_key <= t:
                renderer.push_keyframe(dream.keyframe(target, 1 / rate).image, next_key)
                next_key += 1 / rate
            renderer.render(frame_params(config.render, t, 1 / FPS))
            frame += 1
            if want is not None and frame % 3 == 0 and leader(
                    net, renderer.read(), candidates) == want:
                return t
            t += 1 / FPS
        return None

    try:
        for _ in range(n):
            a, b = rng.choice(len(CLASSES), size=2, replace=False)
            show({CLASSES[a]: 1.0}, settle_s, None)
            start = t
            hit = show({CLASSES[b]: 1.0}, timeout, candidates[b])
            out.append(math.inf if hit is None else hit - start)
            print(f"{CLASSES[a]:>9} -> {CLASSES[b]:<9} "
                  f"{'never' if hit is None else f'{hit - start:.2f} s'}", flush=True)
    finally:
        renderer.release()
        ctx.release()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--switches", type=int, default=12)
    parser.add_argument("--rate", type=float, default=12.0, help="keyframes per second")
    parser.add_argument("--settle", type=float, default=4.0, help="s on the first class")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    net = VisionNet.load(priors_dir() / "vision" / "centernet.pt")
    times = switches(net, args.switches, args.rate, args.settle, args.timeout)
    hits = [x for x in times if math.isfinite(x)]
    median = float(np.percentile(times, 50, method="inverted_cdf"))
    print(f"\n| keyframes/s | switches | within {args.timeout:g} s | median (misses = never) "
          f"| median of hits |\n| ---: | ---: | ---: | ---: | ---: |\n"
          f"| {args.rate:g} | {len(times)} | {len(hits)} | "
          f"{'never' if math.isinf(median) else f'{median:.2f} s'} | "
          f"{np.median(hits) if hits else math.nan:.2f} s |")


if __name__ == "__main__":
    main()
