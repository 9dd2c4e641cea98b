"""The AudioSet teacher beside our student on the same real validation clips, with bootstrap CIs.

    nice -n 19 .venv/bin/python priors/sound/teacher_vs_student.py \
        [--model priors/sound/classifier.pt [--model OTHER.pt ...]] [--data data/sound] \
        [--out data/sound/teacher]

Student: every real val clip and every held-out music clip streamed exactly as in
``evaluate.py`` (``StreamingLogMel`` → newest 64 frames every 3 → sigmoid → hierarchy), clip vector
``clip_probs`` (each label's mean over its top half of windows). Teacher: YAMNet's 0.96 s patches
every 0.24 s from ``teacher_labels.py``'s cache (computed here when missing), mapped onto our labels
by ``audioset_map.toml``, and the same clip vector over its patches. Both scored by
``evaluate.py``'s functions: top-1 of the 13 scene labels against the clip's scene label, macro-F1
over the labels present, music children at 0.5 (F1) and threshold-free (average precision, since
the teacher's instrument probabilities are not calibrated to 0.5). 95 % intervals: percentiles
of 2,000 bootstrap resamples of the clips (500 for music; the same resamples for every model,
so differences have their own CI).
The first ``--model`` is "student"; further ones are named by their file. Writes
``teacher_vs_student.json`` and the per-clip vectors ``teacher_vs_student_probs.npz`` into
``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import teacher as yamnet
import torch
from evaluate import (
    confusion,
    music_figures,
    predict_scene,
    scene_figures,
    scene_of,
    stream_features,
    targets_of,
    window_probs,
)

from dreamengine.classifier import SoundModel, clip_probs, load_sound_bundle
from dreamengine.vocabulary import LABELS, MUSIC_LABELS, SCENE_LABELS


def teacher_clip_probs(data: Path, rows: list[dict], idx: list[int], cache: Path) -> dict:
    """Teacher clip vectors for ``idx``, from the label cache or computed now (hop 24)."""
    if (cache / "clips.npz").is_file():
        z = np.load(cache / "clips.npz")
        assert list(z["paths"]) == [r["path"] for r in rows], "teacher cache is stale"
        ours, off = z["ours"].astype(np.float32), z["offsets"]
        return {i: clip_probs(ours[off[i]:off[i + 1]], LABELS) for i in idx}
    model = yamnet.Teacher()
    out = {}
    for i in idx:
        wave, _ = sf.read(data / rows[i]["path"], dtype="float32")
        out[i] = clip_probs(model.ours(wave, 24)[0], LABELS)
    return out


def student_clip_probs(model: SoundModel, data: Path, rows: list[dict], idx: list[int]) -> dict:
    """Student clip vectors, streamed as at run time."""
    return {i: clip_probs(window_probs(model, stream_features(data / rows[i]["path"])),
                          model.config.labels) for i in idx}


def scene_scores(truth: list[str], probs: list[np.ndarray]) -> dict:
    return scene_figures(confusion(truth, [predict_scene(p) for p in probs]))


def bootstrap(idx: list[int], score, n: int = 2000, seed: int = 0) -> np.ndarray:
    """``[n, ...]`` scores of ``score(resampled positions)`` over clip resamples."""
    rng = np.random.default_rng(seed)
    return np.stack([score(rng.integers(0, len(idx), len(idx))) for _ in range(n)])


def ci(samples: np.ndarray) -> list[float]:
    lo, hi = np.nanpercentile(samples, [2.5, 97.5], axis=0)
    return [round(float(lo), 3), round(float(hi), 3)]


def scene_report(truth: list[str], prob: dict[str, list[np.ndarray]], idx: list[int]) -> dict:
    """Figures per model with CIs: macro-F1, top-1, per-class n / recall / F1; paired deltas."""
    def figs(name: str, pos: np.ndarray) -> np.ndarray:
        f = scene_scores([truth[k] for k in pos], [prob[name][k] for k in pos])
        rec = [f["per_class"][lb]["recall"] for lb in SCENE_LABELS]
        return np.array([f["macro_f1"], f["top1_acc"], *[np.nan if r is None else r
                                                          for r in rec]], float)
    all_pos = np.arange(len(idx))
    report: dict = {"clips": len(idx)}
    boots = {name: bootstrap(idx, lambda pos, name=name: figs(name, pos)) for name in prob}
    for name in prob:
        full = scene_scores(truth, prob[name])
        b = boots[name]
        report[name] = {
            "macro_f1": full["macro_f1"], "macro_f1_ci": ci(b[:, 0]),
            "top1_acc": full["top1_acc"], "top1_acc_ci": ci(b[:, 1]),
            "per_class": {lb: {**full["per_class"][lb], "recall_ci": ci(b[:, 2 + k])
                               if full["per_class"][lb]["n"] else None}
                          for k, lb in enumerate(SCENE_LABELS)}}
        report[name]["confusions"] = confusions(truth, prob[name])
    for name in prob:
        if name == "student" or "student" not in prob:
            continue
        d = boots["student"][:, :2] - boots[name][:, :2]
        report[f"student_minus_{name}"] = {
            "macro_f1": round(float(figs("student", all_pos)[0] - figs(name, all_pos)[0]), 3),
            "macro_f1_ci": ci(d[:, 0]), "top1_acc_ci": ci(d[:, 1])}
    return report


def confusions(truth: list[str], probs: list[np.ndarray]) -> dict[str, dict[str, int]]:
    """``{true label: {predicted: count}}`` for the wrongly predicted clips."""
    out: dict[str, dict[str, int]] = {}
    for t, p in zip(truth, probs, strict=True):
        pred = predict_scene(p)
        if pred != t:
            out.setdefault(t, {})[pred] = out.setdefault(t, {}).get(pred, 0) + 1
    return out


def average_precision(target: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision-recall steps (scikit-learn's definition), ``[n]`` each."""
    order = np.argsort(-score, kind="stable")
    hits = target[order] > 0
    if not hits.any():
        return float("nan")
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def music_ap(targets: np.ndarray, probs: np.ndarray) -> float:
    """Macro average precision over the music children with support."""
    aps = [average_precision(targets[:, LABELS.index(c)], probs[:, LABELS.index(c)])
           for c in MUSIC_LABELS if targets[:, LABELS.index(c)].any()]
    return float(np.mean(aps))


def music_report(targets: np.ndarray, prob: dict[str, np.ndarray]) -> dict:
    """Held-out music macro-F1 per model with a bootstrap CI, per-child F1, and the paired
    difference of the first student against each other model (the same resamples)."""
    report: dict = {"clips": len(targets)}
    boots = {}
    for name, p in prob.items():
        b = boots[name] = bootstrap(
            list(range(len(targets))),
            lambda pos, p=p: np.array([music_figures(targets[pos], p[pos])["macro_f1"],
                                       music_ap(targets[pos], p[pos])]), n=500)
        report[name] = {**music_figures(targets, p), "macro_f1_ci": ci(b[:, 0]),
                        "macro_ap": round(music_ap(targets, p), 4), "macro_ap_ci": ci(b[:, 1])}
    for name in prob:
        if name != "student" and "student" in prob:
            report[f"student_minus_{name}"] = {
                "macro_f1": round(report["student"]["macro_f1"] - report[name]["macro_f1"], 3),
                "macro_f1_ci": ci(boots["student"][:, 0] - boots[name][:, 0])}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append",
                        help="student bundle(s); default priors/sound/classifier.pt")
    parser.add_argument("--data", type=Path, default=Path("data/sound"))
    parser.add_argument("--out", type=Path, default=Path("data/sound/teacher"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    with open(args.data / "manifest.jsonl") as f:
        rows = [json.loads(line) for line in f]
    real = [i for i, r in enumerate(rows) if r["split"] == "val" and r["real"]]
    held = [i for i, r in enumerate(rows) if r["split"] == "music_heldout"]
    models = args.model or [Path("priors/sound/classifier.pt")]
    names = ["student"] + [m.stem for m in models[1:]]  # the report's keys
    if len({*names, "teacher"}) != len(names) + 1:
        sys.exit(f"--model files need distinct names, none of them 'student' or 'teacher': {names}")
    clip: dict[str, dict] = {}
    for name, path in zip(names, models, strict=True):
        student = load_sound_bundle(path)
        clip[name] = student_clip_probs(student, args.data, rows, real + held)
    clip["teacher"] = teacher_clip_probs(args.data, rows, real + held, args.out)
    truth = [scene_of(rows[i]["labels"]) for i in real]
    report = {
        "models": [str(m) for m in models],
        "real_val_scene": scene_report(truth, {n: [c[i] for i in real] for n, c in clip.items()},
                                       real),
        "music_heldout": music_report(targets_of([rows[i] for i in held]),
                                      {n: np.stack([c[i] for i in held])
                                       for n, c in clip.items()}),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "teacher_vs_student.json").write_text(json.dumps(report, indent=1))
    np.savez(args.out / "teacher_vs_student_probs.npz", clips=np.asarray(real + held),
             **{n: np.stack([c[i] for i in real + held]) for n, c in clip.items()})
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
