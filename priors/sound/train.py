"""Training recipe for the embedded sound-event classifier (reads top to bottom).

    nice -n 5 .venv/bin/python priors/sound/train.py --minutes 32 --eval-every 8

Steps: (1) cache log-mel features of every clip in ``data/sound/features`` with the inference front
end (``StreamingLogMel`` with ``MelConfig()`` defaults), at three playback rates (waveform
resampling = pitch shift + time stretch); (2) train :class:`SoundCNN` on class-balanced random
crops, many of them "onset crops" where the event fills only the newest 120–300 ms of the window,
with gain, room reverb, equalisation, background ambience, mixup and SpecAugment; (3) checkpoint
every few minutes to ``data/sound/checkpoints`` and resume from there when restarted; (4) evaluate
with ``priors/sound/evaluate.py`` and write ``priors/sound/classifier.pt``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from scipy.signal import resample_poly
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluate import evaluate_all, scene_and_music_scores
from teacher import mix_soft
from widen import START_NOISE, widened

from dreamengine.checkpoint import save_checkpoint
from dreamengine.classifier import ClassifierConfig, SoundCNN, clip_probs
from dreamengine.features import MelConfig, StreamingLogMel
from dreamengine.vocabulary import LABELS, MUSIC_LABELS, SCENE_LABELS

RATES = ((1, 1), (8, 9), (9, 8))  # resample_poly (up, down): ±2 semitones and ±12 % tempo
MEL = MelConfig()
FLOOR = MEL.log_floor
REAL_SHARE = (0.4, 0.6)  # real clips' share of a label's draws: few real clips / 25 or more
OTHER_WEIGHT = 3.0  # `other` is drawn this many times as often as each named scene label


def teacher_labels(text: str) -> frozenset[str]:
    """``--teacher-on``: all, scene, or a comma-separated list of labels → the label set."""
    if text == "all":
        return frozenset(LABELS)
    if text == "scene":
        return frozenset(SCENE_LABELS)
    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    unknown = sorted(names - set(LABELS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown labels {unknown}; known: {', '.join(LABELS)}")
    return names


def snr_range(text: str) -> tuple[float, float]:
    """``"LOW,HIGH"`` in dB → ``(low, high)``; an error names the option for anything else."""
    try:
        low, high = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"wants LOW,HIGH in dB, got {text!r}") from None
    if low >= high:
        raise argparse.ArgumentTypeError(f"LOW must be below HIGH, got {text!r}")
    return low, high


def parse_args() -> argparse.Namespace:
    """Command-line options of the recipe."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("data/sound"))
    p.add_argument("--out", type=Path, default=Path("priors/sound/classifier.pt"))
    p.add_argument("--minutes", type=float, default=35.0, help="training wall-time budget")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--width", type=int, default=ClassifierConfig.width)
    p.add_argument("--window", type=int, default=ClassifierConfig.window_frames)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--init", type=Path, help="start from this model's weights (a checkpoint "
                   "or bundle); the optimiser and the schedule start fresh")
    p.add_argument("--ckpt-every", type=float, default=3.0, help="minutes between checkpoints")
    p.add_argument("--eval-every", type=float, default=6.0, help="minutes between val checks")
    p.add_argument("--eval-only", action="store_true", help="skip training; evaluate and ship")
    p.add_argument("--ship", choices=("best", "last", "ema"), default="best",
                   help="bundle the best quick-val checkpoint, the end of the schedule, or the "
                   "exponential moving average of the weights (needs --ema)")
    p.add_argument("--ema", type=float, default=0.0, help="decay per step of an exponential "
                   "moving average of the weights and batch-norm statistics (0: none; 0.999 "
                   "averages about the last 1,000 steps), checked beside the live weights")
    p.add_argument("--teacher", type=Path, help="teacher soft labels (teacher_labels.py's "
                   "clips.npz): adds a BCE term toward them beside the true labels")
    p.add_argument("--teacher-weight", type=float, default=0.5,
                   help="weight of the soft-label BCE term (the true-label term has weight 1)")
    p.add_argument("--teacher-on", type=teacher_labels, default="all",
                   help="labels the soft term covers: all, scene (the teacher's instrument "
                   "probabilities sit far below 0.5 on rendered music), or a comma-separated "
                   "list of labels (e.g. those where the teacher hears real recordings better)")
    p.add_argument("--snr", type=snr_range, default=(3.0, 30.0), metavar="LOW,HIGH",
                   help="range of the event-to-ambience ratio in dB when ambience is mixed in "
                   "(a negative LOW puts events under louder ambience, as in a busy room)")
    p.add_argument("--ambience", type=float, default=0.6,
                   help="share of training crops with ambience mixed under the event")
    p.add_argument("--ckpt-dir", type=Path, help="where the resumable training state lives "
                   "(default DATA/checkpoints); one directory per run")
    p.add_argument("--consistency", type=float, default=0.0,
                   help="weight of a term that makes the net say the same of a window and of "
                   "the window 1..--shift frames earlier (both also learn the labels): the "
                   "output's flicker from hop to hop (0: off)")
    p.add_argument("--shift", type=int, default=4, help="most frames between the two windows "
                   "of --consistency")
    args = p.parse_args()
    if args.consistency < 0 or not 1 <= args.shift <= 8:
        p.error(f"--consistency must be >= 0 and --shift within 1..8 (an onset crop's event "
                f"fills at least its newest 12 frames), got {args.consistency} and {args.shift}")
    return args


# --------------------------------------------------------------------------- features


def read_manifest(data: Path) -> list[dict]:
    """Rows of ``manifest.jsonl``."""
    with open(data / "manifest.jsonl") as f:
        return [json.loads(line) for line in f]


def log_mel(wave: np.ndarray) -> np.ndarray:
    """``[n]`` float32 samples → ``[frames, n_mels]`` log-mel, exactly the inference front end."""
    return StreamingLogMel(MEL).push(wave.astype(np.float32))


def resampled(wave: np.ndarray, rate: tuple[int, int]) -> np.ndarray:
    """Play ``wave`` back faster/slower by resampling (pitch and tempo move together)."""
    return wave if rate == (1, 1) else resample_poly(wave, *rate).astype(np.float32)


def build_feature_cache(data: Path, rows: list[dict]) -> None:
    """Write ``features/r{k}.npy`` (float16 ``[all frames, n_mels]``) and ``index.json``."""
    out = data / "features"
    if (out / "index.json").is_file():
        return
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    per_rate: list[list[np.ndarray]] = [[] for _ in RATES]
    for i, row in enumerate(rows):
        wave, sr = sf.read(data / row["path"], dtype="float32")
        assert sr == MEL.sr and wave.ndim == 1, row["path"]
        for k, rate in enumerate(RATES):
            per_rate[k].append(log_mel(resampled(wave, rate)).astype(np.float16))
        if i % 1000 == 0:
            print(f"features {i}/{len(rows)} {time.time() - t0:.0f}s", flush=True)
    index = {"paths": [r["path"] for r in rows], "lengths": []}
    for k, feats in enumerate(per_rate):
        np.save(out / f"r{k}.npy", np.concatenate(feats))
        index["lengths"].append([len(f) for f in feats])
    (out / "index.json").write_text(json.dumps(index))
    print(f"feature cache written in {time.time() - t0:.0f}s", flush=True)


def load_feature_cache(data: Path, rows: list[dict]) -> list[list[np.ndarray]]:
    """``feats[k][i]``: clip ``i`` at rate ``k``, ``[frames, n_mels]`` float16 (views)."""
    index = json.loads((data / "features" / "index.json").read_text())
    assert index["paths"] == [r["path"] for r in rows], "feature cache is stale: delete it"
    feats = []
    for k in range(len(RATES)):
        big = np.load(data / "features" / f"r{k}.npy")
        bounds = np.cumsum([0, *index["lengths"][k]])
        feats.append([big[a:b] for a, b in itertools.pairwise(bounds)])
    return feats


def noise_bank(rng: np.random.Generator, n: int = 24) -> list[np.ndarray]:
    """White, pink and brown noise (3 s each) as log-mel: label-free background."""
    bank = []
    for i in range(n):
        spectrum = np.fft.rfft(rng.standard_normal(3 * MEL.sr))
        freqs = np.maximum(np.fft.rfftfreq(3 * MEL.sr, 1 / MEL.sr), 20.0)
        tilt = (i % 3) * 0.5  # 0 white, 0.5 pink, 1 brown (amplitude ∝ f^-tilt)
        wave = np.fft.irfft(spectrum * freqs**-tilt).astype(np.float32)
        bank.append(log_mel(0.3 * wave / np.abs(wave).max()).astype(np.float16))
    return bank


# --------------------------------------------------------------------------- batches


def teacher_soft_labels(path: Path, rows: list[dict]) -> dict[int, np.ndarray]:
    """Clip-level teacher soft labels ``{clip: [n_labels]}`` from ``teacher_labels.py``'s cache.

    Each label's mean over its top half of the clip's 0.96 s patches (``clip_probs``, the same
    clip vector as ``classify``), so a long piece is labelled by what it mostly contains.
    """
    z = np.load(path)
    assert list(z["paths"]) == [r["path"] for r in rows], "teacher labels are stale: rerun"
    ours, off = z["ours"].astype(np.float32), z["offsets"]
    return {i: clip_probs(ours[off[i]:off[i + 1]], LABELS) for i in range(len(rows))}


def label_vector(labels: list[str]) -> np.ndarray:
    """Multi-hot ``[n_labels]`` float32."""
    y = np.zeros(len(LABELS), np.float32)
    y[[LABELS.index(name) for name in labels]] = 1.0
    return y


def union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Label union of two mixed sounds; ``other`` yields to any named label."""
    y = np.maximum(a, b)
    other = LABELS.index("other")
    if y.sum() > y[other]:
        y[other] = 0.0
    return y


class CropSampler:
    """Builds augmented, class-balanced ``[B, 1, n_mels, T]`` log-mel batches with targets."""

    def __init__(self, rows, feats, noise, window: int, rng: np.random.Generator,
                 soft: dict[int, np.ndarray] | None = None, snr_db: tuple[float, float] = (3, 30),
                 ambience: float = 0.6) -> None:
        self.feats, self.noise, self.T, self.rng = feats, noise, window, rng
        self.snr_db, self.ambience = snr_db, ambience  # event over ambience, dB; share of crops
        self.soft = soft  # teacher clip labels; None trains on the true labels alone
        train = [i for i, r in enumerate(rows) if r["split"] == "train"]
        self.targets = {i: label_vector(rows[i]["labels"]) for i in train}
        self.by_label = {name: ([i for i in train if name in rows[i]["labels"] and rows[i]["real"]],
                                [i for i in train if name in rows[i]["labels"]
                                 and not rows[i]["real"]]) for name in LABELS}
        self.rain = [i for i in train if rows[i]["labels"] == ["rain"]]
        self.other = [i for i in train if rows[i]["labels"] == ["other"]]
        self.real_share = {name: REAL_SHARE[len(real) >= 25] for name, (real, _) in
                           self.by_label.items()}  # fmt: skip
        weights = np.array([OTHER_WEIGHT if name == "other" else 1.0 for name in SCENE_LABELS])
        self.scene_p = weights / weights.sum()

    def pick_clip(self) -> int:
        """A label (scene 75 %, music child 25 %), then a clip; real clips 40 % (60 % for labels
        with at least 25 real training clips) when a label has both.

        Scene labels are drawn uniformly except ``other``, drawn ``OTHER_WEIGHT`` times as
        often: it is the largest real class (everything unnamed) and the one most confused.
        """
        if self.rng.random() < 0.75:
            name = SCENE_LABELS[self.rng.choice(len(SCENE_LABELS), p=self.scene_p)]
        else:
            name = MUSIC_LABELS[self.rng.integers(len(MUSIC_LABELS))]
        real, synth = self.by_label[name]
        use_real = real and (not synth or self.rng.random() < self.real_share[name])
        group = real if use_real else synth
        return group[self.rng.integers(len(group))]

    def power(self, i: int) -> np.ndarray:
        """Mel power ``[frames, n_mels]`` of clip ``i`` at a random playback rate."""
        k = self.rng.integers(len(RATES)) if self.rng.random() < 0.6 else 0
        return np.maximum(np.exp(self.feats[k][i].astype(np.float32)) - FLOOR, 0.0)

    def place(self, p: np.ndarray, onset: bool) -> np.ndarray:
        """Put clip power into a ``[T, n_mels]`` canvas: an onset at the end, or a random crop."""
        canvas = np.zeros((self.T, p.shape[1]), np.float32)
        if onset:  # the event's first 120–300 ms fill the newest frames
            k = min(int(self.rng.integers(12, 31)), len(p))
            canvas[self.T - k:] = p[:k]
        elif len(p) >= self.T:
            start = self.rng.integers(len(p) - self.T + 1)
            canvas[:] = p[start:start + self.T]
        else:
            end = self.T - self.rng.integers(0, self.T - len(p) + 1) if self.rng.random() < 0.5 \
                else self.T
            canvas[end - len(p):end] = p
        return canvas

    def background(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Ambience ``[T, n_mels]`` scaled to mean power ``level``, with its labels."""
        u = self.rng.random()
        if u < 0.5:
            bank, y = self.noise, np.zeros(len(LABELS), np.float32)
            p = np.exp(bank[self.rng.integers(len(bank))].astype(np.float32))
        else:
            i = (self.rain if u < 0.7 else self.other)[self.rng.integers(
                len(self.rain if u < 0.7 else self.other))]
            p, y = self.power(i), self.targets[i].copy()
        p = self.place(p, onset=False)
        p *= level / max(float(p.mean()), 1e-12)
        return p, y

    def soft_of(self, i: int) -> np.ndarray:
        """The teacher's clip label of clip ``i``; the true labels when there is no teacher."""
        return self.targets[i] if self.soft is None else self.soft[i]

    def item(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One augmented ``[T, n_mels]`` log-mel crop, its ``[n_labels]`` target and the
        teacher's ``[n_labels]`` soft target (mixtures: ``teacher.mix_soft``)."""
        rng = self.rng
        if rng.random() < 0.04:  # pure ambience: only its own labels
            p, y = self.background(10 ** rng.uniform(-6, -2))
            y = y if y[LABELS.index("rain")] else np.zeros_like(y)
            return self.finish(p), y, y
        i = self.pick_clip()
        p, y = self.place(self.power(i), onset=rng.random() < 0.4), self.targets[i].copy()
        soft = self.soft_of(i)
        if rng.random() < 0.25:  # mixup of two events at ±6 dB, label union
            j = self.pick_clip()
            q = self.place(self.power(j), onset=False)
            p = p + q * 10 ** (rng.uniform(-6, 6) / 10) * p.mean() / max(q.mean(), 1e-12)
            y = union(y, self.targets[j])
            soft = mix_soft(soft, self.soft_of(j))
        if rng.random() < 0.3:  # both events in one room
            p = self.reverb(p)
        if rng.random() < 0.5:  # another microphone, another speaker
            p = self.equalise(p)
        if rng.random() < self.ambience:  # ambience under the event (default 3–30 dB below)
            snr = rng.uniform(*self.snr_db)
            event_level = p[p.sum(1) > 0].mean() if (p.sum(1) > 0).any() else 1e-4
            bg, y_bg = self.background(event_level * 10 ** (-snr / 10))
            p = p + bg
            if snr < 15 and y_bg.any():
                y = union(y, y_bg)
                soft = mix_soft(soft, y_bg)
        return self.finish(p * 10 ** (rng.uniform(-35, 5) / 10)), y, soft

    def reverb(self, p: np.ndarray) -> np.ndarray:
        """Room reverb on mel power: an exponential tail per band (RT60 0.2–1.5 s, highs decay
        faster), mixed at a direct-to-reverberant ratio of −3…+12 dB."""
        bands = np.linspace(0.0, 1.0, p.shape[1])
        rt60 = self.rng.uniform(0.2, 1.5) * (1.0 - 0.4 * bands)
        decay = np.exp(-6.91 * (MEL.hop_length / MEL.sr) / rt60).astype(np.float32)
        tail = np.zeros_like(p)
        for t in range(1, len(p)):  # tail[t] = decay * (tail[t-1] + p[t-1])
            tail[t] = decay * (tail[t - 1] + p[t - 1])
        scale = p.sum() / max(float(tail.sum()), 1e-12) * 10 ** (-self.rng.uniform(-3, 12) / 10)
        return p + tail * scale

    def equalise(self, p: np.ndarray) -> np.ndarray:
        """A random spectral tilt (±6 dB across the bands) and one bell (±9 dB) on mel power."""
        bands = np.linspace(-1.0, 1.0, p.shape[1])
        centre, width = self.rng.uniform(-1, 1), self.rng.uniform(0.1, 0.5)
        db = self.rng.uniform(-6, 6) * bands + self.rng.uniform(-9, 9) * np.exp(
            -0.5 * ((bands - centre) / width) ** 2)
        return p * (10 ** (db / 10)).astype(np.float32)

    def finish(self, p: np.ndarray) -> np.ndarray:
        """Power → log-mel with the floor, then SpecAugment masks (frequency ≤ 8, time ≤ 6)."""
        x = np.log(p + FLOOR).T  # [n_mels, T]
        fill = float(x.mean())
        if self.rng.random() < 0.5:
            f = self.rng.integers(1, 9)
            f0 = self.rng.integers(0, x.shape[0] - f)
            x[f0:f0 + f] = fill
        if self.rng.random() < 0.5:
            t = self.rng.integers(1, 7)
            t0 = self.rng.integers(0, self.T - t)
            x[:, t0:t0 + t] = fill
        return x

    def batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``[B, 1, n_mels, T]`` float32 inputs, ``[B, n_labels]`` targets and soft targets."""
        xs, ys, soft = zip(*(self.item() for _ in range(size)), strict=True)
        return (torch.from_numpy(np.stack(xs)[:, None]), torch.from_numpy(np.stack(ys)),
                torch.from_numpy(np.stack(soft).astype(np.float32)))


# --------------------------------------------------------------------------- training


def lr_at(base: float, fraction: float) -> float:
    """Linear warm-up over the first 3 % of the budget, then cosine decay to 2 % of ``base``."""
    if fraction < 0.03:
        return base * max(fraction / 0.03, 0.05)
    return base * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(fraction, 1.0))))


def weight_average(model, decay: float):
    """An exponential moving average of ``model``'s weights and buffers (``decay`` per step),
    or None when ``decay`` is 0: the end of a schedule without one lucky step's wander."""
    if decay <= 0:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def averaged_weights(ema_state: dict) -> dict:
    """A weight average's ``state_dict`` (keys ``module.<name>`` and ``n_averaged``) as the
    plain model's."""
    return {k.removeprefix("module."): v for k, v in ema_state.items() if k.startswith("module.")}


def resume(ckpt_dir: Path, model, opt, ema=None) -> dict:
    """Load ``last.pt`` into model, optimiser (and average) if present; returns the state."""
    path = ckpt_dir / "last.pt"
    if not path.is_file():
        return {"step": 0, "elapsed_s": 0.0, "best_score": -1.0, "history": []}
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optimizer"])
    if ema is not None and "ema" in ckpt:
        ema.load_state_dict(ckpt["ema"])
    print(f"resumed at step {ckpt['state']['step']}", flush=True)
    state = ckpt["state"]
    best = ckpt_dir / "best.pt"  # may be newer than last.pt: a better one must beat its score
    if best.is_file():
        meta = torch.load(best, map_location="cpu", weights_only=True)["meta"]
        state["best_score"] = max(state["best_score"], float(meta.get("score", -1.0)))
    return state


def save_training_state(ckpt_dir: Path, model, opt, state: dict, ema=None) -> None:
    """Atomically write ``last.pt`` (model, optimiser, weight average, counters)."""
    extra = {} if ema is None else {"ema": ema.state_dict()}
    save_checkpoint({"model": model.state_dict(), "optimizer": opt.state_dict(), **extra,
                     "state": state, "config": {k: _plain(v) for k, v in vars(ARGS).items()}},
                    ckpt_dir / "last.pt")


def _plain(value):
    """An option's value as a type ``weights_only`` loading accepts."""
    if isinstance(value, Path):
        return str(value)
    return sorted(value) if isinstance(value, frozenset) else value


def validate(model, rows, feats, state, ckpt_dir: Path, ema=None) -> None:
    """Quick val check (see ``scene_and_music_scores``); keep the best model as ``best.pt``.
    The weight average, when kept, is checked too (its figures prefixed ``ema_``)."""
    model.eval()
    scores = scene_and_music_scores(model, rows, feats[0], max_frames=300)
    if ema is not None:
        averaged = scene_and_music_scores(ema.module.eval(), rows, feats[0], max_frames=300)
        scores.update({f"ema_{k}": v for k, v in averaged.items()})
    model.train()
    score = scores["real_scene_macro_f1"] + 0.5 * scores["val_music_macro_f1"]
    state["history"].append({"step": state["step"], **scores})
    print(f"val step {state['step']}: {scores} score {score:.3f}", flush=True)
    if score > state["best_score"]:
        state["best_score"] = score
        save_checkpoint(model.checkpoint({"step": state["step"], "score": score, **scores}),
                        ckpt_dir / "best.pt")


def shifted_pair(x: torch.Tensor, shift: int, rng: np.random.Generator) -> torch.Tensor:
    """``[B, 1, n_mels, T + shift]`` crops → ``[2B, 1, n_mels, T]``: each crop's newest ``T``
    frames, then the same crop's window ending 1..``shift`` frames earlier (one draw per batch),
    as the stream sees one sound a hop or so apart."""
    s = int(rng.integers(1, shift + 1))
    width = x.shape[-1] - shift
    return torch.cat([x[..., shift:], x[..., shift - s:shift - s + width]])


def flicker_loss(logits: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of the probabilities of :func:`shifted_pair`'s two halves."""
    now, before = torch.sigmoid(logits).chunk(2)
    return (now - before).square().mean()


def train(model, sampler, rows, feats, device, ckpt_dir: Path) -> dict:
    """Run until the wall-time budget (summed over restarts) is spent."""
    opt = torch.optim.AdamW(model.parameters(), lr=ARGS.lr, weight_decay=1e-3)
    if ARGS.init and not (ckpt_dir / "last.pt").is_file():
        ckpt = torch.load(ARGS.init, map_location="cpu", weights_only=True)
        if "members" in ckpt.get("config", {}):
            sys.exit(f"--init {ARGS.init} holds {len(ckpt['config']['members'])} nets (an "
                     "ensemble); start from one of the bundles it was built from")
        weights = ckpt["model"] if "model" in ckpt else ckpt["state_dict"]
        width = int(weights["features.0.0.weight"].shape[0])
        if width == model.config.width:
            model.load_state_dict(weights)
        else:  # a narrower trained net: copy its channels, the same function to start from
            narrow = SoundCNN(dataclasses.replace(model.config, width=width))
            narrow.load_state_dict(weights)
            widened(narrow, model, noise=START_NOISE, seed=ARGS.seed)
        print(f"initialised from {ARGS.init} (width {width} → {model.config.width})", flush=True)
    elif ARGS.init:
        print(f"--init {ARGS.init} not used: continuing the run in {ckpt_dir}", flush=True)
    ema = weight_average(model, ARGS.ema)
    state = resume(ckpt_dir, model, opt, ema)
    if state["elapsed_s"] < ARGS.minutes * 60:
        state.pop("finished", None)  # a larger budget continues a finished run (warm restart)
    sampler.rng = np.random.default_rng([ARGS.seed, state["step"]])
    loss_fn = torch.nn.BCEWithLogitsLoss()
    soft_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    covered = torch.tensor([name in ARGS.teacher_on for name in LABELS], dtype=torch.float32,
                           device=device)
    budget, t_start, run_loss = ARGS.minutes * 60, time.time() - state["elapsed_s"], 0.0
    last_ckpt = last_eval = time.time()
    model.train()
    while (elapsed := time.time() - t_start) < budget:
        for group in opt.param_groups:
            group["lr"] = lr_at(ARGS.lr, elapsed / budget)
        x, y, soft = sampler.batch(ARGS.batch)
        if ARGS.consistency:  # both windows learn the labels; the term ties them together
            both = model(shifted_pair(x, ARGS.shift, sampler.rng).to(device))
            logits = both[:len(x)]
            loss = loss_fn(both, y.repeat(2, 1).to(device))
            loss = loss + ARGS.consistency * flicker_loss(both)
        else:
            logits = model(x.to(device))
            loss = loss_fn(logits, y.to(device))
        if ARGS.teacher:  # distillation: BCE toward the teacher's soft labels beside the truth
            soft_loss = (soft_fn(logits, soft.to(device)) * covered).sum(1) / covered.sum()
            loss = loss + ARGS.teacher_weight * soft_loss.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if ema is not None:
            ema.update_parameters(model)
        state["step"] += 1
        run_loss = 0.98 * run_loss + 0.02 * loss.item() if state["step"] > 1 else loss.item()
        if state["step"] % 100 == 0:
            print(f"step {state['step']} {elapsed / 60:.1f}/{ARGS.minutes:.0f} min "
                  f"loss {run_loss:.4f} lr {opt.param_groups[0]['lr']:.2e}", flush=True)
        state["elapsed_s"] = time.time() - t_start
        if time.time() - last_eval > ARGS.eval_every * 60:
            validate(model, rows, feats, state, ckpt_dir, ema)
            last_eval = time.time()
        if time.time() - last_ckpt > ARGS.ckpt_every * 60:
            save_training_state(ckpt_dir, model, opt, state, ema)
            last_ckpt = time.time()
    if not state.get("finished"):
        validate(model, rows, feats, state, ckpt_dir, ema)
        state["finished"] = True
    save_training_state(ckpt_dir, model, opt, state, ema)
    return state


def data_summary(rows: list[dict]) -> dict:
    """Clip counts per label, split and real/synthetic."""
    summary: dict = {}
    for r in rows:
        for name in r["labels"]:
            entry = summary.setdefault(name, {"train": 0, "val": 0, "music_heldout": 0,
                                              "real": 0, "synthetic": 0})
            entry[r["split"]] += 1
            entry["real" if r["real"] else "synthetic"] += 1
    return summary


if __name__ == "__main__":
    ARGS = parse_args()
    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(ARGS.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = read_manifest(ARGS.data)
    build_feature_cache(ARGS.data, rows)
    feats = load_feature_cache(ARGS.data, rows)
    config = ClassifierConfig(width=ARGS.width, window_frames=ARGS.window)
    model = SoundCNN(config).to(device)
    print(f"{sum(p.numel() for p in model.parameters())} params, device {device}", flush=True)
    ckpt_dir = ARGS.ckpt_dir or ARGS.data / "checkpoints"
    state = {"step": 0, "elapsed_s": 0.0, "history": []}
    if not ARGS.eval_only:
        soft = teacher_soft_labels(ARGS.teacher, rows) if ARGS.teacher else None
        extra = ARGS.shift if ARGS.consistency else 0  # the earlier window's frames
        sampler = CropSampler(rows, feats, noise_bank(np.random.default_rng(ARGS.seed)),
                              config.window_frames + extra, np.random.default_rng(ARGS.seed),
                              soft, ARGS.snr, ARGS.ambience)
        state = train(model, sampler, rows, feats, device, ckpt_dir)
    last_ckpt = torch.load(ckpt_dir / "last.pt", map_location="cpu", weights_only=True)
    last = last_ckpt["state"]
    if ARGS.ship in ("last", "ema"):
        if ARGS.ship == "ema" and "ema" not in last_ckpt:
            sys.exit(f"--ship ema: {ckpt_dir / 'last.pt'} holds no weight average "
                     "(train with --ema)")
        shipped = SoundCNN(config)
        if ARGS.ship == "ema":
            shipped.load_state_dict(averaged_weights(last_ckpt["ema"]))
        else:
            shipped.load_state_dict(last_ckpt["model"])
        shipped.eval()
    else:
        shipped = SoundCNN.from_checkpoint(ckpt_dir / "best.pt")
    figures = evaluate_all(shipped, ARGS.data, rows, ARGS.out.parent)  # confusion.png beside
    meta = {"command": " ".join(["python", *sys.argv]), "trained_at": time.strftime("%F %T %Z"),
            "train_wall_s": round(last["elapsed_s"]), "steps": last["step"],
            "best_step": torch.load(ckpt_dir / "best.pt", weights_only=True)["meta"]["step"],
            "shipped": ARGS.ship,
            "hardware": f"{torch.get_num_threads()} CPU threads, torch {torch.__version__}",
            "init": str(ARGS.init) if ARGS.init else None,
            "mel": dataclasses.asdict(MEL),
            "data": data_summary(rows), "figures": figures, "val_history": last["history"]}
    save_checkpoint(shipped.checkpoint(meta), ARGS.out)  # atomic: the shipped file is never half
    print(json.dumps(figures, indent=1), flush=True)
