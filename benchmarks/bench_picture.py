"""Is the canvas dream a picture worth projecting? Contrast, colour and stability, next to photos.

Prints, for real photos (when a folder of them is given), for ``sample``-style still canvases
and for a long continuous chain (the canvas zooming into itself while the target changes every
``--segment-s`` seconds), the RMS contrast (standard deviation of luminance, 0..1), the mean
HSV saturation, the share of clipped pixels (a channel at 0 or 255) and, for the chain, how the
figures move over time and whether the state stayed finite.

    .venv/bin/python benchmarks/bench_picture.py --photos /usr/share/darknet/data --minutes 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from dreamengine.dream.state import Dream
from dreamengine.models.vision import VisionNet
from dreamengine.resources import priors_dir
from dreamengine.sampler import SamplerConfig

CLASSES = ("dog", "bird", "cow", "car", "person", "umbrella")


def figures(rgb: np.ndarray) -> tuple[float, float, float]:
    """(RMS contrast, mean saturation, clipped share) of ``[H, W, 3]`` uint8."""
    x = rgb.astype(np.float64) / 255.0
    luma = x @ np.array([0.299, 0.587, 0.114])
    top, low = x.max(axis=2), x.min(axis=2)
    saturation = np.where(top > 0, (top - low) / np.maximum(top, 1e-9), 0.0)
    clipped = float(((rgb == 0) | (rgb == 255)).any(axis=2).mean())
    return float(luma.std()), float(saturation.mean()), clipped


def row(name: str, images: list[np.ndarray]) -> str:
    f = np.array([figures(im) for im in images])
    return (f"| {name} | {len(images)} | {f[:, 0].mean():.3f} | {f[:, 1].mean():.3f} | "
            f"{f[:, 2].mean():.3f} |")


def photos(folder: Path, side: int) -> list[np.ndarray]:
    files = sorted(p for p in folder.glob("*.jpg"))
    return [np.asarray(Image.open(p).convert("RGB").resize((side, side), Image.BICUBIC))
            for p in files]


def stills(net: VisionNet, steps: int, side: int) -> list[np.ndarray]:
    out = []
    for i, name in enumerate(CLASSES):
        dream = Dream(net, SamplerConfig(), seed=100 + i, device=torch.device("cpu"),
                      canvas_px=side)
        for _ in range(steps):
            dream.keyframe({name: 1.0})
        out.append(dream.image())
    return out


def chain(net: VisionNet, minutes: float, segment_s: float, rate: float,
          side: int) -> list[tuple[float, np.ndarray, bool]]:
    """(dream time, keyframe, finite) at the end of every segment of a long zooming chain."""
    dream = Dream(net, SamplerConfig(), seed=7, device=torch.device("cpu"), canvas_px=side)
    per_segment = max(1, round(segment_s * rate))
    segments = max(1, round(minutes * 60 / segment_s))
    ends = []
    for s in range(segments):
        for _ in range(per_segment):
            key = dream.keyframe({CLASSES[s % len(CLASSES)]: 1.0}, 1.0 / rate)
        ends.append(((s + 1) * segment_s, key.image, bool(np.isfinite(key.latent).all())))
    if dream.resets:
        print(f"NaN resets: {dream.resets}")
    return ends


def write_sheet(path: Path, images: list[np.ndarray], columns: int = 10) -> None:
    """Up to 30 segment ends, evenly spaced over the chain, as one contact sheet."""
    pick = images[:: max(1, len(images) // 30)][:30]
    side = pick[0].shape[0]
    rows = (len(pick) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * side, rows * side))
    for i, im in enumerate(pick):
        sheet.paste(Image.fromarray(im), ((i % columns) * side, (i // columns) * side))
    sheet.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=Path, help="a folder of .jpg photos to compare with")
    parser.add_argument("--steps", type=int, default=150, help="still steps per sample")
    parser.add_argument("--minutes", type=float, default=3.0, help="dream time of the chain")
    parser.add_argument("--segment-s", type=float, default=6.0)
    parser.add_argument("--rate", type=float, default=12.0, help="keyframes per dream second")
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--sheet", type=Path, help="write the chain's segment ends here (PNG)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    net = VisionNet.load(priors_dir() / "vision" / "centernet.pt")
    print("| images | n | RMS contrast | mean saturation | clipped share |")
    print("| --- | ---: | ---: | ---: | ---: |")
    if args.photos is not None and args.photos.is_dir():
        print(row(f"photos ({args.photos})", photos(args.photos, args.size)))
    started = time.perf_counter()
    print(row(f"still canvases, {args.steps} steps", stills(net, args.steps, args.size)))
    ends = chain(net, args.minutes, args.segment_s, args.rate, args.size)
    third = max(1, len(ends) // 3)
    print(row("chain, first third", [im for _, im, _ in ends[:third]]))
    print(row("chain, last third", [im for _, im, _ in ends[-third:]]))
    if args.sheet is not None:
        write_sheet(args.sheet, [im for _, im, _ in ends])
    finite = all(ok for _, _, ok in ends)
    print(f"\nchain: {args.minutes:g} min of dream time, {len(ends)} segments, state finite "
          f"throughout: {finite}; wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
