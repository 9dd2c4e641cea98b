"""Hearing figures: per-hop cost of the front end and classifier, and detection latency.

    .venv/bin/python benchmarks/bench_hearing.py [--data data/sound] [--per-class 12] \
        [--model CLASSIFIER.pt] [--set selection.attack_s=0.06] [--split val]

Per-hop costs run on one thread. Detection latency: real validation clips of each scene class
(from the data build, ``priors/sound/build_data.py``) are inserted 2 s into background ambience
(an ``other`` clip plus soft noise); the streaming path (log-mel, CNN every hop, attack/release
smoothing as in the engine) runs over the mix, and the latency is the time from the clip's onset
to its class first crossing 0.5 in the smoothed vector. Misses (never within 2 s) are counted.
False alarms: the same backgrounds alone, 4 s each; the share of hops on which some scene label
is above 0.5 in the smoothed vector, and how many backgrounds had one at all. ``--split train``
measures on training clips instead (the model has heard them: for choosing smoothing settings
without tuning on the validation clips).
"""

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from dreamengine.audio import read_audio
from dreamengine.classifier import StreamingClassifier
from dreamengine.config import parse_assignments
from dreamengine.engine import load_config
from dreamengine.engine.bench import bench_hearing
from dreamengine.engine.build import load_sound_model
from dreamengine.features import StreamingLogMel
from dreamengine.selection import ClassMap, Selector
from dreamengine.vocabulary import SCENE_LABELS

ONSET_S = 2.0
AFTER_S = 2.0
NAMED = [name for name in SCENE_LABELS if name not in ("other", "music")]  # inserted, counted

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", type=Path, default=Path("data/sound"))
parser.add_argument("--per-class", type=int, default=12)
parser.add_argument("--model", type=Path, help="sound classifier bundle (default: shipped)")
parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config override, as for the CLI (repeatable)")
parser.add_argument("--split", choices=("val", "train"), default="val",
                    help="whose real clips are inserted (default: validation)")
args = parser.parse_args()

torch.set_num_threads(1)
overrides = parse_assignments(args.set)
if args.model:
    overrides["paths.sound_classifier"] = str(args.model)
config = load_config(overrides=overrides)
warnings: list[str] = []
model = load_sound_model(config, warnings)
for w in warnings:
    print(f"note: {w}")
costs = bench_hearing(config, model)  # the bundle measured below, whatever its width
print(f"features per hop ({config.features.hop_length} samples): "
      f"{costs['features_hop_ms']:.3f} ms (median, one thread)")
print(f"classifier per hop ({config.classifier.hop_frames} frames): "
      f"{costs['classify_hop_ms']:.3f} ms (median, one thread; the training module's own "
      f"forward on the same window: {costs['module_hop_ms']:.3f} ms)")

manifest = args.data / "manifest.jsonl"
if not manifest.is_file():
    sys.exit(f"no {manifest}: build the data first (priors/sound/build_data.py) for latency")
rows = [json.loads(line) for line in manifest.read_text().splitlines()]
val = [r for r in rows if r["split"] == args.split and r["real"]]
backgrounds = [r for r in val if r["labels"] == ["other"]][:20]
rng = np.random.default_rng(0)
sr = config.audio.sr
labels = model.config.labels


def bed_for(background: np.ndarray, noise: np.random.Generator) -> np.ndarray:
    """The ambience a sound is inserted into: ``background`` looped to length, plus soft noise."""
    n = int((ONSET_S + AFTER_S) * sr)
    return np.resize(background, n) * 0.3 + 0.003 * noise.standard_normal(n)


def mix_for(event: np.ndarray, background: np.ndarray) -> np.ndarray:
    bed = bed_for(background, rng)
    n = len(bed)
    start = int(ONSET_S * sr)
    length = min(len(event), n - start)
    bed[start : start + length] += event[:length]
    return bed.astype(np.float32)


def smoothed_stream(mix: np.ndarray):
    """Yields (seconds at the hop's end, smoothed vector) along ``mix``, as the engine hears it."""
    mel = StreamingLogMel(config.features)
    stream = StreamingClassifier(model, config.features.log_floor, torch.device("cpu"),
                                 hop_frames=config.classifier.hop_frames)
    selector = Selector(config.selection, labels, ClassMap({}))
    hop_s = config.classifier.hop_frames * config.features.hop_length / sr
    block = config.features.hop_length
    for i in range(0, len(mix), block):
        for probs in stream.push(mel.push(mix[i : i + block])):
            yield (i + block) / sr, selector.update(probs, hop_s).probs


def latency(mix: np.ndarray, label: str) -> float | str | None:
    """Seconds from onset to detection; None if missed; "early" if on before the onset."""
    index = labels.index(label)
    for t, smoothed in smoothed_stream(mix):
        if smoothed[index] > 0.5:
            return t - ONSET_S if t >= ONSET_S else "early"
    return None


def false_alarms(bed: np.ndarray) -> tuple[int, int]:
    """Hops of ``bed`` (ambience alone) with a scene label above 0.5, and all its hops."""
    scene = [labels.index(name) for name in NAMED]
    hits = hops = 0
    for _, smoothed in smoothed_stream(bed):
        hops += 1
        hits += bool((smoothed[scene] > 0.5).any())
    return hits, hops


found: dict[str, list[float]] = defaultdict(list)
missed: dict[str, int] = defaultdict(int)
early: dict[str, int] = defaultdict(int)
by_label = defaultdict(list)
for r in val:
    scene = [x for x in r["labels"] if x in NAMED]
    if len(scene) == 1:
        by_label[scene[0]].append(r)
for label, clips in sorted(by_label.items()):
    for r in clips[: args.per_class]:
        event = read_audio(args.data / r["path"], sr)
        bg = read_audio(args.data / backgrounds[rng.integers(len(backgrounds))]["path"], sr)
        result = latency(mix_for(event, bg), label)
        if result is None:
            missed[label] += 1
        elif isinstance(result, str):
            early[label] += 1
        else:
            found[label].append(result)

print(f"\ndetection latency, onset to smoothed p > 0.5 (attack {config.selection.attack_s} s, "
      f"confirm {config.selection.confirm_s} s, hits {config.selection.confirm_hits}):")
print(f"{'class':>12}  {'n':>3}  {'detected':>8}  {'early':>5}  {'median ms':>9}  {'p90 ms':>7}")
everything: list[float] = []
for label in sorted(set(found) | set(missed) | set(early)):
    times = found[label]
    everything += times
    n = len(times) + missed[label] + early[label]
    med = f"{1000 * np.median(times):9.0f}" if times else f"{'-':>9}"
    p90 = f"{1000 * np.percentile(times, 90):7.0f}" if times else f"{'-':>7}"
    print(f"{label:>12}  {n:3d}  {len(times):8d}  {early[label]:5d}  {med}  {p90}")
total = len(everything) + sum(missed.values()) + sum(early.values())
if everything:
    print(f"{'all':>12}  {total:3d}  {len(everything):8d}  {sum(early.values()):5d}  "
          f"{1000 * np.median(everything):9.0f}  {1000 * np.percentile(everything, 90):7.0f}")
print("(early: the class was already above 0.5 in the background before the onset)")
# The rows above describe the detected clips. Counting each miss as never detected (and leaving
# out the early ones) gives the figure a listener would feel:
with_misses = np.array(everything + [np.inf] * sum(missed.values()))
if len(with_misses):
    med, p90 = (np.percentile(with_misses, q, method="inverted_cdf") for q in (50, 90))
    print("misses counted as never: median " + (f"{1000 * med:.0f} ms" if np.isfinite(med)
          else "never") + ", p90 " + (f"{1000 * p90:.0f} ms" if np.isfinite(p90) else "never"))

alarm_rng = np.random.default_rng(1)
alarms = [false_alarms(bed_for(read_audio(args.data / r["path"], sr), alarm_rng).astype(np.float32))
          for r in backgrounds]
hit_hops, all_hops = sum(h for h, _ in alarms), sum(n for _, n in alarms)
print(f"false alarms on the {len(alarms)} backgrounds alone: "
      f"{100 * hit_hops / max(all_hops, 1):.1f} % of hops, "
      f"{sum(h > 0 for h, _ in alarms)} backgrounds with any")
