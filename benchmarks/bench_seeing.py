"""Does the shown frame show what is heard? The continuous case, end to end, for a blind judge.

Builds a clip of real recordings with a new sound every ``--segment-s`` seconds (each segment
strings together several *validation* clips of one label from ``priors/sound/build_data.py``'s
build, never trained on, levelled to one loudness), renders it with ``dreamengine render`` at the
given settings, and takes the shown frame at the end of every segment. Those frames are copied
under anonymous names, shuffled, into ``OUT/judge/`` (the key goes to ``OUT/key.json``, the
labelled contact sheet to ``OUT/sheet.png``), ready for a judge who sees only the pictures and
names what each shows. Also prints, per segment, what the classifier heard and what the dream was
steered toward at that frame, so a miss can be told apart: heard wrong, or drawn wrong.

    .venv/bin/python benchmarks/bench_seeing.py --data data/sound --out out/seeing \\
        --labels dog bird engine farm_animal speech rain --seed 7 -- --set dream.seed=7
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw
from scipy.signal import resample_poly

SR = 32000
LABELS = ("dog", "bird", "engine", "farm_animal", "speech", "rain")


def val_clips(data: Path) -> dict[str, list[Path]]:
    """Real validation clips with one label each, by label."""
    out: dict[str, list[Path]] = {}
    for line in (data / "manifest.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["split"] == "val" and row["real"] and len(row["labels"]) == 1:
            out.setdefault(row["labels"][0], []).append(data / row["path"])
    return out


def read(path: Path) -> np.ndarray:
    """A clip as mono float32 at :data:`SR`, levelled to an RMS of 0.1."""
    x, sr = sf.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if sr != SR:
        x = resample_poly(x, SR, sr).astype(np.float32)
    rms = float(np.sqrt(np.mean(x**2))) or 1.0
    return np.clip(x * (0.1 / rms), -1, 1)


def segment(clips: list[Path], seconds: float, rng: random.Random) -> np.ndarray:
    """``seconds`` of one label: its clips in a random order, repeated as needed, with 50 ms
    fades so the joins do not click."""
    n, parts, have = round(seconds * SR), [], 0
    order: list[Path] = []
    fade = np.linspace(0, 1, SR // 20, dtype=np.float32)
    while have < n:
        if not order:
            order = rng.sample(clips, len(clips))
        x = read(order.pop())
        if len(x) > 2 * len(fade):
            x[: len(fade)] *= fade
            x[-len(fade):] *= fade[::-1]
        parts.append(x)
        have += len(x)
    return np.concatenate(parts)[:n]


def sheet(frames: list[Path], names: list[str], out: Path, side: int = 192) -> None:
    """The segment-end frames in order, each labelled with its segment's sound."""
    cols = min(6, len(frames))
    rows = -(-len(frames) // cols)
    canvas = Image.new("RGB", (cols * side, rows * (side + 16)), "black")
    draw = ImageDraw.Draw(canvas)
    for i, (path, name) in enumerate(zip(frames, names, strict=True)):
        x, y = (i % cols) * side, (i // cols) * (side + 16)
        canvas.paste(Image.open(path).convert("RGB").resize((side, side)), (x, y + 16))
        draw.text((x + 4, y + 2), f"{i}: {name}", fill="white")
    canvas.save(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/sound"))
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--labels", nargs="+", default=list(LABELS))
    p.add_argument("--segment-s", type=float, default=6.0)
    p.add_argument("--seed", type=int, default=7, help="order of the clips in each segment")
    p.add_argument("--size", default="384x384")
    p.add_argument("--fps", type=float, default=10.0)
    p.add_argument("render_args", nargs="*", help="after --: more `dreamengine render` options")
    args = p.parse_args()

    clips = val_clips(args.data)
    missing = [name for name in args.labels if name not in clips]
    if missing:
        sys.exit(f"no real validation clips for {', '.join(missing)} in {args.data}")
    rng = random.Random(args.seed)
    audio = np.concatenate([segment(clips[name], args.segment_s, rng) for name in args.labels])
    args.out.mkdir(parents=True, exist_ok=True)
    wav = args.out / "clip.wav"
    sf.write(wav, audio, SR)

    render = args.out / "render"
    cmd = [sys.executable, "-m", "dreamengine", "render", "--input", str(wav), "--out",
           str(render), "--size", args.size, "--fps", str(args.fps), *args.render_args]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)

    lines = [json.loads(x) for x in (render / "frames.jsonl").read_text().splitlines()]
    ends, rows = [], []
    for s, name in enumerate(args.labels):
        end = (s + 1) * args.segment_s
        line = max((x for x in lines if x["t"] < end - 1e-6), key=lambda x: x["t"])
        ends.append(render / line["file"])
        heard = max(line["probs"], key=lambda k: line["probs"][k])
        target = sorted(line["target"].items(), key=lambda kv: -kv[1])[:3]
        rows.append(f"| {s} | {name} | {heard} {line['probs'][heard]:.2f} | "
                    + ", ".join(f"{k} {v:.2f}" for k, v in target) + " |")
    judge = args.out / "judge"
    judge.mkdir(exist_ok=True)
    order = list(range(len(ends)))
    random.Random(args.seed + 1).shuffle(order)
    key = {}
    for j, i in enumerate(order):
        name = f"img_{j:02d}.png"
        Image.open(ends[i]).convert("RGB").save(judge / name)
        key[name] = args.labels[i]
    (args.out / "key.json").write_text(json.dumps(key, indent=1))
    sheet(ends, list(args.labels), args.out / "sheet.png")
    print("| segment | sound | heard (top) | target at the segment's end |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
