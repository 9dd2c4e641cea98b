"""Synthetic sirens and car horns (numpy), and sox-augmented variants of the few real dog barks.

Real recordings of sirens and car horns are nearly absent from the allowed packages, so they
are synthesised with random parameters. Sirens: wail (slow sweep), yelp (fast sweep), hi-lo
(two-tone) and a mechanical rise-and-fall, as harmonic-rich tones with a slow Doppler-like drift,
an approach/recede envelope, optional room echo and a noise bed. Horns: single and double honks,
chords of 2-3 detuned square/saw tones through a resonant "body" filter. Each clip is seeded by
its index, so the build is deterministic.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
from clips import SR, Piece, make_pieces, read_wav
from scipy.signal import butter, lfilter, sosfilt


def _tone(phase: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A harmonic tone from a phase track: sine-ish, square-ish or saw-ish."""
    shape = rng.choice(["sine", "square", "saw"])
    if shape == "sine":
        return np.sin(phase) + 0.3 * np.sin(2 * phase) + 0.15 * np.sin(3 * phase)
    if shape == "square":
        return np.tanh(4 * np.sin(phase))
    return sum(np.sin(k * phase) / k for k in range(1, 9))


def _noise_bed(n: int, rng: np.random.Generator) -> np.ndarray:
    """Brown-ish (traffic rumble) or pink-ish (wind) noise, unit RMS."""
    white = rng.standard_normal(n)
    pole = rng.uniform(0.9, 0.995)
    bed = lfilter([1.0], [1.0, -pole], white)
    return bed / (np.sqrt(np.mean(bed**2)) + 1e-9)


def _finish(x: np.ndarray, rng: np.random.Generator, snr_db: tuple[float, float]) -> np.ndarray:
    """Optional echo, then a noise bed at a random SNR."""
    if rng.random() < 0.5:
        delay = int(rng.uniform(0.03, 0.25) * SR)
        echo = np.zeros_like(x)
        echo[delay:] = x[:-delay] * rng.uniform(0.2, 0.5)
        x = x + echo
    rms = np.sqrt(np.mean(x**2)) + 1e-9
    snr = rng.uniform(*snr_db)
    return x + _noise_bed(len(x), rng) * rms * 10 ** (-snr / 20)


def _siren_freq(kind: str, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    lo, hi = rng.uniform(450, 800), rng.uniform(1100, 1800)
    if kind == "wail":
        period = rng.uniform(2.5, 6.0)
        sweep = 0.5 - 0.5 * np.cos(2 * np.pi * t / period)
    elif kind == "yelp":
        period = rng.uniform(0.12, 0.4)
        sweep = (t / period) % 1.0
    elif kind == "hilo":
        period = rng.uniform(0.8, 1.5)
        lo, hi = (lo, lo * rng.uniform(1.2, 1.45))
        sweep = ((t / period) % 1.0 > 0.5).astype(float)
    else:  # mechanical: one slow rise and fall
        sweep = np.sin(np.pi * np.clip(t / t[-1], 0, 1)) ** rng.uniform(0.5, 2.0)
    return lo + (hi - lo) * sweep


def siren(index: int) -> list[Piece]:
    """One random siren clip of 3-8 s."""
    rng = np.random.default_rng([1, index])
    kind = ["wail", "yelp", "hilo", "mechanical"][index % 4]
    t = np.arange(int(rng.uniform(3, 8) * SR)) / SR
    drift = 1 + rng.uniform(-0.06, 0.06) * np.linspace(-1, 1, len(t))
    phase = 2 * np.pi * np.cumsum(_siren_freq(kind, t, rng) * drift) / SR
    x = _tone(phase, rng)
    swell = np.exp(-(((t - rng.uniform(0, t[-1])) / rng.uniform(1.5, 6)) ** 2))
    x = x * (0.3 + 0.7 * swell)
    sos = butter(2, [300, 6000], btype="band", fs=SR, output="sos")
    return make_pieces(_finish(sosfilt(sos, x), rng, (3, 30))[:, None], SR)


def _honk(seconds: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    base = rng.uniform(280, 520)
    ratios = [1.0, rng.choice([1.19, 1.26, 1.33, 1.5])]
    if rng.random() < 0.4:
        ratios.append(rng.choice([1.5, 1.68, 2.0]))
    x = np.zeros_like(t)
    for ratio in ratios:
        f = base * ratio * (1 + rng.uniform(-0.015, 0.015))
        phase = 2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)
        x += np.tanh(5 * np.sin(phase)) if rng.random() < 0.5 else ((phase / np.pi) % 2 - 1)
    ramp = np.minimum(1, np.minimum(t / 0.01, (t[-1] - t) / 0.03))
    return x * np.clip(ramp, 0, 1)


def _body(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A resonant 'horn body': two band-passes plus some dry signal, then soft clipping."""
    y = 0.3 * x
    for centre in (rng.uniform(700, 1300), rng.uniform(1800, 3200)):
        sos = butter(2, [centre * 0.8, centre * 1.25], btype="band", fs=SR, output="sos")
        y = y + sosfilt(sos, x) * rng.uniform(0.6, 1.5)
    return np.tanh(y * rng.uniform(0.8, 2.0))


def car_horn(index: int) -> list[Piece]:
    """One random car-horn clip: one to three honks (single, double, long) with gaps."""
    rng = np.random.default_rng([2, index])
    parts = [np.zeros(int(rng.uniform(0.1, 0.6) * SR))]
    for _ in range(int(rng.choice([1, 2, 2, 3]))):
        parts.append(_honk(rng.uniform(0.15, 1.4), rng))
        parts.append(np.zeros(int(rng.uniform(0.08, 0.5) * SR)))
    x = _body(np.concatenate(parts), rng)
    return make_pieces(_finish(x, rng, (5, 35))[:, None], SR)


def dog_variant(wav: Path, index: int) -> list[Piece]:
    """A sox pitch/tempo/gain/EQ variant of one real bark clip (deterministic per index)."""
    rng = np.random.default_rng([3, index])
    effects = ["pitch", f"{rng.uniform(-500, 500):.0f}", "tempo", f"{rng.uniform(0.8, 1.25):.3f}"]
    effects += ["gain", f"{rng.uniform(-12, 0):.1f}"]
    if rng.random() < 0.5:
        effects += ["equalizer", f"{rng.uniform(300, 3000):.0f}", "1q", f"{rng.uniform(-6, 6):.1f}"]
    if rng.random() < 0.4:
        effects += ["reverb", f"{rng.uniform(10, 60):.0f}"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dog.wav"
        subprocess.run(["sox", str(wav), "-r", str(SR), str(out), *effects, "channels", "1"],
                       check=True, capture_output=True)  # fmt: skip
        x = read_wav(out)
    return make_pieces(_finish(x, rng, (10, 40))[:, None], SR)
