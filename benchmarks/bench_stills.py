"""Stills for a blind judge: each candidate image class dreamed from noise, as ``sample`` does.

Every class of ``--classes`` (names on the vision networks, e.g. ``dog``, ``imagenet:umbrella``;
default: the candidates below, by sound label) is dreamed for each seed at ``--size`` px for
``--steps`` steps with the shipped networks and the sampler's defaults. The pictures are written
under anonymous names, shuffled, to ``OUT/judge/`` with contact sheets of eight
(``OUT/judge/sheet_N.png``); the key goes to ``OUT/key.json`` and a labelled sheet to
``OUT/labelled.png``. Show a judge ``OUT/judge`` only (DESIGN.md, "How we judge").

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_stills.py --out out/stills --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import replace
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from dreamengine.dream.state import Dream
from dreamengine.engine import load_config
from dreamengine.engine.build import load_vision
from dreamengine.sampler import SamplerConfig

CANDIDATES = {
    "engine / car_horn": ["car", "imagenet:sports_car", "imagenet:cab", "imagenet:jeep",
                          "imagenet:minivan", "imagenet:racer"],
    "siren": ["emergency_vehicle", "imagenet:fire_engine", "imagenet:ambulance",
              "imagenet:police_van"],
    "rain": ["umbrella", "imagenet:umbrella"],
    "tools": ["hand_tool", "imagenet:hammer", "imagenet:power_drill", "imagenet:chain_saw"],
    "explosion": ["fire", "imagenet:volcano"],
    "keys": ["keyboard_instrument", "imagenet:grand_piano", "imagenet:upright",
             "imagenet:organ", "imagenet:accordion"],
    "guitar": ["guitar", "imagenet:acoustic_guitar", "imagenet:electric_guitar"],
    "drums": ["drum", "imagenet:drum", "imagenet:steel_drum"],
    "strings": ["string_instrument", "imagenet:violin", "imagenet:cello", "imagenet:harp"],
    "brass": ["brass_instrument", "imagenet:cornet", "imagenet:trombone",
              "imagenet:french_horn"],
    "woodwind": ["woodwind_instrument", "imagenet:sax", "imagenet:flute", "imagenet:oboe"],
    "music": ["pattern_music", "imagenet:peacock", "imagenet:jellyfish", "imagenet:coral_reef",
              "imagenet:monarch", "imagenet:daisy", "imagenet:fountain"],
}


def dream_still(net: object, params: SamplerConfig, name: str, seed: int, size: int,
                steps: int) -> Image.Image:
    """``name`` dreamed from seed ``seed``'s noise for ``steps`` still keyframes of one step."""
    dream = Dream(net, params, seed, torch.device("cpu"), size)  # type: ignore[arg-type]
    for _ in range(steps):
        dream.keyframe({name: 1.0})
    return Image.fromarray(dream.image())


def sheets(paths: list[Path], out_dir: Path, side: int = 256, labels: list[str] | None = None,
           per: int = 8) -> None:
    """Contact sheets of ``per`` pictures (4 across), numbered by file, or labelled."""
    for s in range(0, len(paths), per):
        chunk = paths[s : s + per]
        canvas = Image.new("RGB", (4 * side, -(-len(chunk) // 4) * (side + 18)), "black")
        draw = ImageDraw.Draw(canvas)
        for i, path in enumerate(chunk):
            x, y = (i % 4) * side, (i // 4) * (side + 18)
            canvas.paste(Image.open(path).convert("RGB").resize((side, side)), (x, y + 18))
            text = labels[s + i] if labels else path.stem
            draw.text((x + 4, y + 3), text, fill="white")
        canvas.save(out_dir / (f"labelled_{s // per}.png" if labels else f"sheet_{s // per}.png"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--classes", nargs="*", help="image classes (default: the candidates)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--shuffle-seed", type=int, default=11)
    args = p.parse_args()
    torch.set_num_threads(1)
    names = args.classes or [c for group in CANDIDATES.values() for c in group]
    config = load_config()
    net, _ = load_vision(config, torch.device("cpu"))
    params = replace(config.sampler, steps_per_keyframe=1)
    raw = args.out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    made: list[tuple[str, int, Path]] = []
    for name in names:
        for seed in args.seeds:
            path = raw / f"{name.replace(':', '_')}_{seed}.png"
            if not path.exists():
                t0 = time.perf_counter()
                dream_still(net, params, name, seed, args.size, args.steps).save(path)
                print(f"{name} seed {seed}: {time.perf_counter() - t0:.1f} s", flush=True)
            made.append((name, seed, path))
    order = list(range(len(made)))
    random.Random(args.shuffle_seed).shuffle(order)
    judge = args.out / "judge"
    judge.mkdir(exist_ok=True)
    key, shown = {}, []
    for j, i in enumerate(order):
        target = judge / f"img_{j:03d}.png"
        Image.open(made[i][2]).save(target)
        key[target.name] = {"class": made[i][0], "seed": made[i][1]}
        shown.append(target)
    (args.out / "key.json").write_text(json.dumps(key, indent=1))
    sheets(shown, judge)
    sheets([m[2] for m in made], args.out, labels=[f"{m[0]} {m[1]}" for m in made])


if __name__ == "__main__":
    main()
