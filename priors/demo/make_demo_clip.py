"""Build the bundled demo clip ``demo.ogg`` (12 s, mono, 22.05 kHz) from synthesis and espeak-ng.

Run on demand (``python priors/demo/make_demo_clip.py``); the result is committed. Everything in
it is made here: a drum loop, rain-like noise, a two-tone siren sweep, a keys melody and a
sentence spoken by espeak-ng, so the demo exercises several classes with no third-party audio.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import lfilter, resample_poly

SR = 22050
SECONDS = 12.0
rng = np.random.default_rng(7)
n = int(SR * SECONDS)
t = np.arange(n) / SR
mix = np.zeros(n)


def place(signal: np.ndarray, start_s: float, gain: float) -> None:
    i = int(start_s * SR)
    seg = mix[i : i + len(signal)]
    seg += gain * signal[: len(seg)]


def envelope(length_s: float, attack_s: float, release_s: float) -> np.ndarray:
    m = int(length_s * SR)
    env = np.ones(m)
    a, r = int(attack_s * SR), int(release_s * SR)
    env[:a] = np.linspace(0, 1, a)
    env[m - r :] = np.linspace(1, 0, r)
    return env


# Drums: 120 bpm kick on the beat, hats on the off-beats, whole clip.
kick_t = np.arange(int(0.25 * SR)) / SR
kick = np.sin(2 * np.pi * (50 + 90 * np.exp(-kick_t * 30)) * kick_t) * np.exp(-kick_t * 12)
hat_n = int(0.05 * SR)
hat = lfilter([1, -1], [1], rng.standard_normal(hat_n)) * np.exp(-np.arange(hat_n) / (0.008 * SR))
for beat in np.arange(0, SECONDS, 0.5):
    place(kick, beat, 0.6)
    place(hat, beat + 0.25, 0.12)

# Rain: low-passed noise with random droplets, 0–4.5 s.
rain = lfilter([0.2], [1, -0.8], rng.standard_normal(int(4.5 * SR)))
drops = (rng.random(len(rain)) < 0.002) * rng.standard_normal(len(rain))
place((rain + lfilter([1], [1, -0.95], drops) * 0.3) * envelope(4.5, 0.5, 1.0), 0.0, 0.5)

# Siren: a two-tone wail between 650 and 1300 Hz, 3–7 s.
st = np.arange(int(4.0 * SR)) / SR
freq = 975 + 325 * np.sin(2 * np.pi * 0.5 * st)
phase = 2 * np.pi * np.cumsum(freq) / SR
siren = (np.sin(phase) + 0.3 * np.sin(2 * phase)) * envelope(4.0, 0.3, 0.6)
place(siren, 3.0, 0.25)

# Keys: a plucked melody with harmonics, 7.5–12 s.
notes = [60, 64, 67, 72, 71, 67, 64, 62, 60]
for k, note in enumerate(notes):
    f0 = 440 * 2 ** ((note - 69) / 12)
    nt = np.arange(int(0.6 * SR)) / SR
    tone = sum(np.sin(2 * np.pi * f0 * h * nt) / h for h in (1, 2, 3, 4)) * np.exp(-nt * 5)
    place(tone, 7.5 + 0.5 * k, 0.15)

# Speech: espeak-ng, 6–8.5 s.
espeak = shutil.which("espeak-ng")
if espeak is None:
    raise SystemExit("espeak-ng is needed: apt-get install espeak-ng")
with tempfile.TemporaryDirectory() as tmp:
    wav = Path(tmp) / "speech.wav"
    subprocess.run([espeak, "-v", "en", "-s", "150", "-w", str(wav),
                    "Listen. The engine is dreaming what it hears."], check=True)
    speech, speech_sr = sf.read(wav)
speech = resample_poly(speech, SR, speech_sr)
place(speech, 5.6, 0.9)

mix *= 0.8 / np.max(np.abs(mix))
out = Path(__file__).with_name("demo.ogg")
sf.write(out, mix.astype(np.float32), SR, format="OGG", subtype="VORBIS")
print(f"wrote {out} ({out.stat().st_size // 1024} KiB, {SECONDS:g} s)")
