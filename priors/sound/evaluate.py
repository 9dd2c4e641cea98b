"""Evaluation of the sound classifier through the streaming inference path.

    .venv/bin/python priors/sound/evaluate.py [--model priors/sound/classifier.pt] [--out DIR]

Each clip is streamed as at run time: audio → ``StreamingLogMel`` (1,600-sample blocks) → the
newest ``window_frames`` frames every ``hop_frames`` frames, the window pre-filled with the log
floor. The windows are batched for speed; :func:`check_stream_parity` proves that batching gives
what ``StreamingClassifier.push`` gives. A clip's vector is the product's
(``dreamengine.classifier.clip_probs``, as in ``classify``: each label's mean over its top half
of windows). Scene figures use the top-1 of the 13 scene labels; music figures threshold at 0.5.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dreamengine.classifier import SoundModel, StreamingClassifier, clip_probs, load_sound_bundle
from dreamengine.features import MelConfig, StreamingLogMel
from dreamengine.selection import ClassMap, SelectionConfig, Selector
from dreamengine.vocabulary import LABELS, MUSIC_LABELS, SCENE_LABELS, enforce_hierarchy

MEL = MelConfig()


@torch.inference_mode()
def window_probs(model: SoundModel, frames: np.ndarray, max_frames: int | None = None,
                 hop: int | None = None) -> np.ndarray:
    """``[n, n_mels]`` log-mel → ``[n // hop, n_labels]`` probabilities, as streamed.

    ``hop`` (default the config's ``hop_frames``) may be raised for quick checks in training.
    """
    cfg = model.config
    hop = hop or cfg.hop_frames
    frames = np.asarray(frames[:max_frames], np.float32)
    padded = np.concatenate([np.full((cfg.window_frames, cfg.n_mels), math.log(MEL.log_floor),
                                     np.float32), frames])
    ends = np.arange(hop, len(frames) + 1, hop)
    if len(ends) == 0:
        ends = np.array([len(frames)])
    windows = np.stack([padded[e:e + cfg.window_frames].T for e in ends])[:, None]
    device = next(model.parameters()).device
    logits = torch.cat([model(torch.from_numpy(windows[i:i + 512]).to(device))
                        for i in range(0, len(windows), 512)])
    return enforce_hierarchy(torch.sigmoid(logits).float().cpu().numpy(), model.config.labels)


def scene_of(labels: list[str]) -> str:
    """The clip's scene label (the first scene label in vocabulary order)."""
    return next(name for name in SCENE_LABELS if name in labels)


def stream_features(path: Path) -> np.ndarray:
    """Float32 log-mel of a WAV pushed through ``StreamingLogMel`` in 100 ms blocks."""
    wave, sr = sf.read(path, dtype="float32")
    assert sr == MEL.sr, path
    mel = StreamingLogMel(MEL)
    blocks = [mel.push(wave[i:i + 1600]) for i in range(0, len(wave), 1600)]
    return np.concatenate(blocks)


def check_stream_parity(model: SoundModel, frames: np.ndarray) -> float:
    """Max |difference| between batched windows and ``StreamingClassifier.push``."""
    stream = StreamingClassifier(model, MEL.log_floor, torch.device("cpu"))
    pushed = np.stack(stream.push(frames))
    return float(np.abs(pushed - window_probs(model.cpu(), frames)).max())


# --------------------------------------------------------------------------- metrics


def confusion(truth: list[str], pred: list[str]) -> np.ndarray:
    """``[13, 13]`` counts, rows = true scene label, columns = predicted."""
    m = np.zeros((len(SCENE_LABELS), len(SCENE_LABELS)), int)
    for t, p in zip(truth, pred, strict=True):
        m[SCENE_LABELS.index(t), SCENE_LABELS.index(p)] += 1
    return m


def scene_figures(m: np.ndarray) -> dict:
    """Top-1 accuracy, macro-F1 over labels present in the truth, per-class recall and F1."""
    tp, support, predicted = np.diag(m), m.sum(1), m.sum(0)
    recall = np.where(support > 0, tp / np.maximum(support, 1), np.nan)
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
    f1 = np.where(tp > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    present = support > 0
    return {"clips": int(m.sum()), "top1_acc": round(float(tp.sum() / max(m.sum(), 1)), 4),
            "macro_f1": round(float(f1[present].mean()), 4),
            "per_class": {name: {"n": int(support[i]),
                                 "recall": None if not present[i] else round(float(recall[i]), 3),
                                 "f1": None if not present[i] else round(float(f1[i]), 3)}
                          for i, name in enumerate(SCENE_LABELS)}}


def music_figures(targets: np.ndarray, probs: np.ndarray) -> dict:
    """Per-child F1 at 0.5 and their macro mean over children with support (``[clips, 20]``)."""
    per = {}
    for name in MUSIC_LABELS:
        i = LABELS.index(name)
        t, p = targets[:, i] > 0, probs[:, i] > 0.5
        tp, fp, fn = int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum())
        if t.any():
            per[name] = {"n": int(t.sum()), "f1": round(2 * tp / max(2 * tp + fp + fn, 1), 3)}
    macro = float(np.mean([v["f1"] for v in per.values()])) if per else float("nan")
    return {"clips": len(targets), "macro_f1": round(macro, 4), "per_label": per}


def targets_of(rows: list[dict]) -> np.ndarray:
    """Multi-hot ``[clips, n_labels]``."""
    y = np.zeros((len(rows), len(LABELS)), np.float32)
    for k, r in enumerate(rows):
        y[k, [LABELS.index(name) for name in r["labels"]]] = 1
    return y


def predict_scene(probs: np.ndarray) -> str:
    """Top-1 scene label of one clip's ``[n_labels]`` probabilities."""
    return SCENE_LABELS[int(np.argmax(probs[: len(SCENE_LABELS)]))]


def scene_and_music_scores(model: SoundModel, rows: list[dict], feats: list[np.ndarray],
                           max_frames: int) -> dict:
    """Quick val check in training (cached features, hop 6): real scene / val music macro-F1."""
    val = [i for i, r in enumerate(rows) if r["split"] == "val" and (r["real"] or i % 3 == 0)]
    labels = model.config.labels
    probs = {i: clip_probs(window_probs(model, feats[i], max_frames, hop=6), labels) for i in val}
    real = [i for i in val if rows[i]["real"]]
    m = confusion([scene_of(rows[i]["labels"]) for i in real], [predict_scene(probs[i])
                                                                for i in real])
    music = music_figures(targets_of([rows[i] for i in val]), np.stack([probs[i] for i in val]))
    return {"real_scene_macro_f1": scene_figures(m)["macro_f1"],
            "real_scene_acc": scene_figures(m)["top1_acc"], "val_music_macro_f1": music["macro_f1"]}


# --------------------------------------------------------------------------- latency, cost


def onset_latency_ms(model: SoundModel, frames: np.ndarray, label: str) -> float:
    """Stream 1 s of silence then the clip; ms from onset until the smoothed prob passes 0.5.

    Smoothing is the engine's selection stage with its defaults (``SelectionConfig()``: attack,
    release and confirmation). A window is timed when its newest frame ends, ``n_fft`` after
    that frame starts (as ``bench_hearing.py`` times it on the audio clock). Returns ``inf``
    when the clip ends first.
    """
    lead = 99  # frames of silence, a multiple of hop_frames
    silence = np.full((lead, MEL.n_mels), math.log(MEL.log_floor), np.float32)
    probs = window_probs(model, np.concatenate([silence, frames]))
    hop_s = model.config.hop_frames * MEL.hop_length / MEL.sr
    selector = Selector(SelectionConfig(), model.config.labels, ClassMap({}))
    index = model.config.labels.index(label)
    for k, p in enumerate(probs):
        smoothed = selector.update(p, hop_s).probs[index]
        newest = (k + 1) * model.config.hop_frames - 1 - lead  # the clip's frame, from 0
        if newest >= 0 and smoothed > 0.5:
            return 1e3 * (newest * MEL.hop_length + MEL.n_fft) / MEL.sr
    return math.inf


def hop_cost_ms(model: SoundModel, calls: int = 200) -> float:
    """Median ms of ``StreamingClassifier.classify`` on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    stream = StreamingClassifier(model.cpu(), MEL.log_floor, torch.device("cpu"))
    window = np.random.default_rng(0).standard_normal(
        (model.config.n_mels, model.config.window_frames)).astype(np.float32)
    for _ in range(20):
        stream.classify(window)
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        stream.classify(window)
        times.append(time.perf_counter() - t0)
    torch.set_num_threads(threads)
    return round(float(np.median(times)) * 1e3, 3)


# --------------------------------------------------------------------------- picture


def draw_confusion(m: np.ndarray, title: str, path: Path) -> None:
    """Row-normalised confusion matrix as a PNG (Pillow; counts written in the cells)."""
    cell, left, top = 44, 110, 150
    n = len(SCENE_LABELS)
    img = Image.new("RGB", (left + n * cell + 20, top + n * cell + 40), "white")
    draw = ImageDraw.Draw(img)
    draw.text((10, 8), title, fill="black")
    draw.text((10, top - 18), "predicted ->", fill="black")
    rows = np.maximum(m.sum(1, keepdims=True), 1)
    for i, name in enumerate(SCENE_LABELS):
        draw.text((8, top + i * cell + cell // 2 - 6), f"{name} ({m[i].sum()})", fill="black")
        label = Image.new("RGB", (90, 14), "white")
        ImageDraw.Draw(label).text((0, 0), name, fill="black")
        img.paste(label.rotate(90, expand=True), (left + i * cell + cell // 2 - 7, top - 110))
        for j in range(n):
            v = m[i, j] / rows[i, 0]
            shade = int(255 * (1 - v))
            box = (left + j * cell, top + i * cell, left + (j + 1) * cell - 1,
                   top + (i + 1) * cell - 1)
            draw.rectangle(box, fill=(shade, shade, 255), outline=(200, 200, 200))
            if m[i, j]:
                draw.text((box[0] + 6, box[1] + 15), str(m[i, j]),
                          fill="white" if v > 0.5 else "black")
    img.save(path)


# --------------------------------------------------------------------------- everything


def stream_all(model: SoundModel, data: Path, rows: list[dict]) -> dict[int, np.ndarray]:
    """Clip probabilities of every val and held-out clip, from freshly streamed features."""
    return {i: clip_probs(window_probs(model, stream_features(data / r["path"])),
                          model.config.labels)
            for i, r in enumerate(rows) if r["split"] in ("val", "music_heldout")}


def latency_figures(model: SoundModel, data: Path, rows: list[dict]) -> dict:
    """Median onset → smoothed > 0.5 latency over real val clips with a named scene label."""
    lat = [onset_latency_ms(model, stream_features(data / r["path"]), scene_of(r["labels"]))
           for r in rows if r["split"] == "val" and r["real"] and "other" not in r["labels"]]
    finite = [x for x in lat if math.isfinite(x)]
    return {"clips": len(lat), "detected": len(finite),
            "median_ms_all": float(np.median(lat)) if lat else None,
            "median_ms_detected": float(np.median(finite)) if finite else None}


def evaluate_all(model: SoundModel, data: Path, rows: list[dict], out_dir: Path) -> dict:
    """All figures of the model card; writes ``confusion.png`` into ``out_dir``."""
    model = model.cpu().eval()
    parity = check_stream_parity(model, stream_features(data / rows[0]["path"]))
    assert parity < 1e-5, f"batched windows differ from the stream by {parity}"
    probs = stream_all(model, data, rows)
    figs: dict = {"stream_parity_max_abs": parity}
    for name, keep in (("real_val", lambda r: r["real"]), ("all_val_incl_synthetic", None)):
        idx = [i for i in probs if rows[i]["split"] == "val" and (keep is None or keep(rows[i]))]
        m = confusion([scene_of(rows[i]["labels"]) for i in idx],
                      [predict_scene(probs[i]) for i in idx])
        figs[name] = {**scene_figures(m), "confusion": m.tolist()}
        if name == "real_val":
            draw_confusion(m, "sound classifier, REAL validation clips (rows: truth)",
                           out_dir / "confusion.png")
    for name, keep in (("music_heldout_timidity", lambda r: r["split"] == "music_heldout"),
                       ("music_real_val", lambda r: r["split"] == "val" and r["real"]
                        and "music" in r["labels"]),
                       ("music_val_incl_synthetic", lambda r: r["split"] == "val")):
        idx = [i for i in probs if keep(rows[i])]
        figs[name] = music_figures(targets_of([rows[i] for i in idx]),
                                   np.stack([probs[i] for i in idx]))
    figs["latency"] = latency_figures(model, data, rows)
    figs["hop_ms_one_thread"] = hop_cost_ms(model)
    return figs


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("priors/sound/classifier.pt"))
    parser.add_argument("--data", type=Path, default=Path("data/sound"))
    parser.add_argument("--out", type=Path, default=Path("priors/sound"),
                        help="folder for confusion.png")
    args = parser.parse_args()
    torch.set_num_threads(2)
    with open(args.data / "manifest.jsonl") as f:
        manifest = [json.loads(line) for line in f]
    args.out.mkdir(parents=True, exist_ok=True)
    figures = evaluate_all(load_sound_bundle(args.model), args.data, manifest, args.out)
    print(json.dumps({k: v for k, v in figures.items() if "confusion" not in str(k)}, indent=1))
