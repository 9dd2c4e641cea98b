"""Synthetic sounds for thin classes (numpy), and sox-augmented variants of the few real dog barks.

Real recordings of sirens and car horns are nearly absent from the allowed packages, and engines,
explosions and crowds have a few dozen at most, so they are synthesised with random parameters (the
real recordings are still drawn more often in training). Sirens: wail (slow sweep), yelp (fast
sweep), hi-lo (two-tone) and a mechanical rise-and-fall, as harmonic-rich tones with a slow
Doppler-like drift, an approach/recede envelope, optional room echo and a noise bed. Horns: single
and double honks, chords of 2-3 detuned square/saw tones through a resonant "body" filter. Each
clip is seeded by its index, so the build is deterministic. Explosions: a gunshot crack, a cannon
or a blast (broadband crack, low boom, long rumble, debris), near or distant. Engines: a
firing-rate harmonic series with combustion noise and a resonant body, revving, idling or passing
by. Crowds: a babble of many espeak-ng voices in a reverberant room, with applause or a cheer.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
from clips import SR, Piece, make_pieces, read_wav
from scipy.signal import butter, fftconvolve, lfilter, sosfilt


def _tone(phase: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A harmonic tone from a phase track: sine-ish, square-ish or saw-ish."""
    shape = rng.choice(["sine", "square", "saw"])
    if shape == "sine":
        return np.sin(phase) + 0.3 * np.sin(2 * phase) + 0.15 * np.sin(3 * phase)
    if shape == "square":
        return np.tanh(4 * np.sin(phase))
    return sum(np.sin(k * phase) / k for k in range(1, 9))


def _unit(x: np.ndarray) -> np.ndarray:
    """``x`` scaled to unit RMS."""
    return x / (np.sqrt(np.mean(x**2)) + 1e-9)


def _lowpass(x: np.ndarray, cutoff: float, order: int = 2) -> np.ndarray:
    return sosfilt(butter(order, min(cutoff, 0.45 * SR), fs=SR, output="sos"), x)


def _bandpass(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return sosfilt(butter(2, [low, high], btype="band", fs=SR, output="sos"), x)


def _firing(phase: np.ndarray, base: float, tilt: float, top: float, count: int,
            rng: np.random.Generator) -> np.ndarray:
    """An engine's harmonic series at the firing ``phase``: the first ``count`` harmonics below
    ``top`` Hz of the ``base`` rate, amplitude 1/k^tilt, random phases."""
    return sum(np.sin(k * phase + rng.uniform(0, 6.3)) / k**tilt
               for k in range(1, count + 1) if k * base < top)  # fmt: skip


def _noise_bed(n: int, rng: np.random.Generator) -> np.ndarray:
    """Brown-ish (traffic rumble) or pink-ish (wind) noise, unit RMS."""
    white = rng.standard_normal(n)
    pole = rng.uniform(0.9, 0.995)
    return _unit(lfilter([1.0], [1.0, -pole], white))


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
    return make_pieces(_finish(_bandpass(x, 300, 6000), rng, (3, 30))[:, None], SR)


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
        y = y + _bandpass(x, centre * 0.8, centre * 1.25) * rng.uniform(0.6, 1.5)
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


def _room(x: np.ndarray, rng: np.random.Generator, rt60: tuple[float, float]) -> np.ndarray:
    """Convolve with a decaying-noise impulse response and mix it with the dry sound."""
    rt = rng.uniform(*rt60)
    t = np.arange(int(rt * SR)) / SR
    ir = rng.standard_normal(len(t)) * np.exp(-6.91 * t / rt)
    wet = _unit(fftconvolve(x, _lowpass(ir, rng.uniform(2000, 7000)))[: len(x)])
    return x + wet * np.sqrt(np.mean(x**2)) * 10 ** (-rng.uniform(-3, 10) / 20)


def explosion(index: int) -> list[Piece]:
    """One gunshot burst, cannon shot or blast of 1.5-4 s."""
    rng = np.random.default_rng([5, index])
    kind = ("gunshot", "blast", "cannon", "blast")[index % 4]
    n = int(rng.uniform(1.5, 4.0) * SR)
    x = np.zeros(n)
    shots = int(rng.choice([1, 1, 2, 3, 6])) if kind == "gunshot" else 1
    start = int(rng.uniform(0.05, 0.4) * SR)
    for _ in range(shots):
        if start >= n:
            break
        tt = np.arange(n - start) / SR
        attack = np.minimum(1.0, tt / rng.uniform(0.0005, 0.006))
        crack = _unit(rng.standard_normal(len(tt))) * np.exp(-tt / rng.uniform(0.01, 0.06))
        decay = {"gunshot": (0.05, 0.2), "cannon": (0.2, 0.6), "blast": (0.4, 1.6)}[kind]
        boom = _unit(_lowpass(rng.standard_normal(len(tt)), rng.uniform(120, 700)))
        boom *= np.exp(-tt / rng.uniform(*decay))
        rumble = _unit(_lowpass(np.cumsum(rng.standard_normal(len(tt))), 150))
        rumble *= np.exp(-tt / (2.5 * decay[1])) * rng.uniform(0.1, 0.5)
        x[start:] += attack * (rng.uniform(0.3, 1.0) * crack + boom + rumble)
        if kind == "blast" and rng.random() < 0.5:  # debris: sparse clicks after the blast
            hits = rng.random(len(tt)) < rng.uniform(20, 200) / SR
            debris = lfilter([1.0], [1.0, -0.9], hits * rng.standard_normal(len(tt)))
            x[start:] += debris * np.exp(-tt / rng.uniform(0.5, 1.5)) * 0.3
        start += int(rng.uniform(0.07, 0.5) * SR)
    if rng.random() < 0.4:  # far away: the highs are gone
        x = _lowpass(x, rng.uniform(800, 3000))
    if rng.random() < 0.5:
        x = _room(x, rng, (0.3, 2.0))
    return make_pieces(_finish(x, rng, (12, 40))[:, None], SR)


def engine(index: int) -> list[Piece]:
    """One engine of 3-8 s: car, truck, motorbike or propeller; revving, idling or passing.
    Race cars, jets and helicopters are ``fast_engine``."""
    rng = np.random.default_rng([6, index])
    t = np.arange(int(rng.uniform(3, 8) * SR)) / SR
    base = rng.uniform(*((8, 25), (25, 60), (40, 110), (15, 40))[index % 4])  # firing rate, Hz
    motion = rng.choice(["steady", "rev", "slow", "pass"])
    f0 = base * (1 + 0.03 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t))
    if motion == "rev":
        f0 *= 1 + rng.uniform(0.5, 2.0) * np.clip((t - rng.uniform(0.3, 2)) / 1.5, 0, 1)
    elif motion == "slow":
        f0 *= 1 + rng.uniform(0.5, 1.5) * np.clip(1 - t / t[-1] * 1.5, 0, 1)
    elif motion == "pass":  # Doppler: pitch falls as it passes, loudest at the passing moment
        tc, width = rng.uniform(0.3, 0.7) * t[-1], rng.uniform(0.3, 1.2)
        f0 *= 1 - rng.uniform(0.03, 0.08) * np.tanh((t - tc) / width)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    tilt = rng.uniform(0.6, 1.6)
    tone = _firing(phase, base, tilt, 3000, 39, rng)
    pulse = (0.5 + 0.5 * np.sin(phase)) ** rng.uniform(1, 6)  # combustion noise at each firing
    top = rng.uniform(2000, 6000)
    hiss = _bandpass(rng.standard_normal(len(t)), 200, top)
    x = _unit(tone) + rng.uniform(0.3, 1.2) * _unit(hiss * pulse)
    x = 0.5 * x + _body(x, rng) * rng.uniform(0.2, 0.8)
    if motion == "pass":
        x *= 0.15 + np.exp(-(((t - tc) / (2 * width)) ** 2))
    return make_pieces(_finish(x, rng, (8, 35))[:, None], SR)


def fast_engine(index: int) -> list[Piece]:
    """One engine of 3-8 s that ``engine`` does not cover: a race car or kart (high firing
    rate, gear changes, hard-driven), a jet (turbine whine over a broadband roar, spooling up
    or down) or a rotor (helicopter blade chop over a turbine); some pass by."""
    rng = np.random.default_rng([8, index])
    t = np.arange(int(rng.uniform(3, 8) * SR)) / SR
    kind = ("race", "jet", "rotor")[index % 3]
    noise = rng.standard_normal(len(t))
    if kind == "race":
        base = rng.uniform(60, 200)
        if rng.random() < 0.6:  # accelerating through the gears: saw-tooth revs
            gear = rng.uniform(0.8, 2.5)
            f0 = base * (1 + rng.uniform(0.6, 1.5) * ((t + rng.uniform(0, gear)) % gear) / gear)
        else:  # cruising
            f0 = base * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(0.1, 0.6) * t))
        phase = 2 * np.pi * np.cumsum(f0) / SR
        tilt = rng.uniform(0.5, 1.2)
        tone = _firing(phase, base, tilt, 5000, 29, rng)
        pulse = (0.5 + 0.5 * np.sin(phase)) ** rng.uniform(1, 4)
        x = _unit(tone) + rng.uniform(0.2, 0.8) * _unit(_bandpass(noise, 300, 6000) * pulse)
        x = np.tanh(x * rng.uniform(1.0, 3.0))  # a hard-driven exhaust
    else:
        spool = np.clip(t / rng.uniform(1, 4), 0, 1)
        spool = spool if rng.random() < 0.5 else (1 - 0.5 * spool if rng.random() < 0.5
                                                  else np.ones_like(t))
        whine_f = rng.uniform(1500, 6000) * (0.6 + 0.4 * spool)
        phase = 2 * np.pi * np.cumsum(whine_f) / SR
        whine = np.sin(phase) + 0.5 * np.sin(rng.uniform(1.3, 1.7) * phase)
        roar = _lowpass(noise, rng.uniform(300, 1500)) + 0.3 * _bandpass(noise, 1000, 5000)
        if kind == "rotor":  # blade chop: the roar pulses at the blade rate
            chop = (0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(12, 30) * t)) ** rng.uniform(2, 8)
            roar = roar * (0.15 + chop)
        x = _unit(roar) * (0.4 + 0.6 * spool) + rng.uniform(0.05, 0.4) * _unit(whine) * spool
    if rng.random() < 0.35:  # passing by: loudest at the passing moment
        tc, width = rng.uniform(0.3, 0.7) * t[-1], rng.uniform(0.3, 1.2)
        x = x * (0.1 + np.exp(-(((t - tc) / (2 * width)) ** 2)))
    return make_pieces(_finish(x, rng, (8, 35))[:, None], SR)


def _claps(n: int, rng: np.random.Generator) -> np.ndarray:
    """Applause: many hand claps (short band-passed noise bursts) at random times."""
    x = np.zeros(n)
    count = int(rng.uniform(30, 300) * n / SR)
    clap = np.arange(int(0.012 * SR))
    for at in rng.integers(0, n - len(clap), count):
        x[at:at + len(clap)] += rng.standard_normal(len(clap)) * np.exp(-clap / (
            rng.uniform(0.002, 0.006) * SR)) * rng.uniform(0.2, 1.0)
    return _unit(_bandpass(x, rng.uniform(500, 1200), rng.uniform(2500, 6000)))


def crowd(index: int, voices: list[np.ndarray]) -> list[Piece]:
    """One crowd of 3-7 s: 6-30 overlapping voices in a room, with applause or a cheer."""
    rng = np.random.default_rng([7, index])
    n = int(rng.uniform(3, 7) * SR)
    x = np.zeros(n)
    for _ in range(int(rng.integers(6, 31))):
        voice = voices[rng.integers(len(voices))]
        rate = rng.uniform(0.85, 1.2)  # another speaker: pitch and tempo
        voice = np.interp(np.arange(0, len(voice) - 1, rate), np.arange(len(voice)), voice)
        gain = 10 ** (rng.uniform(-15, 0) / 20) / (np.sqrt(np.mean(voice**2)) + 1e-9)  # unit RMS
        at = int(rng.uniform(-len(voice), n))
        while at < n:
            a, b = max(at, 0), min(at + len(voice), n)
            x[a:b] += voice[a - at:b - at] * gain
            at += len(voice) + int(rng.uniform(0.1, 1.0) * SR)
    x = _lowpass(x, rng.uniform(1500, 6000))
    if rng.random() < 0.3:  # a cheer: the crowd swells
        t = np.arange(n) / SR
        x *= 1 + 2.5 * np.exp(-(((t - rng.uniform(0.3, 0.8) * t[-1]) / rng.uniform(0.4, 1.5)) ** 2))
    x = _room(x, rng, (0.4, 1.8))
    if rng.random() < 0.35:
        x = _unit(x) + _claps(n, rng) * 10 ** (rng.uniform(-6, 6) / 20)
    return make_pieces(_finish(x, rng, (10, 35))[:, None], SR)
