"""``classify``: whole-file and per-window sound probabilities through the streaming path.

A file is heard exactly as live audio is: log-mel hop by hop, the sound CNN every
``hop_frames`` frames on the newest window. The clip's vector is
:func:`dreamengine.classifier.clip_probs` over the windows (each label's mean over its top half
of them), with ``music`` kept at or above its children.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dreamengine.audio import read_audio
from dreamengine.classifier import SoundCNN, StreamingClassifier, clip_probs
from dreamengine.engine.config import EngineConfig
from dreamengine.features import StreamingLogMel


@dataclass(frozen=True)
class ClipProbs:
    labels: tuple[str, ...]
    probs: np.ndarray  # [n_labels] for the whole clip
    window_times: np.ndarray  # [n_windows] s, the end of each analysis window
    window_probs: np.ndarray  # [n_windows, n_labels]


def classify_file(path: Path, config: EngineConfig, model: SoundCNN) -> ClipProbs:
    """Classify one audio file; raises DreamengineError if it cannot be read."""
    samples = read_audio(path, config.audio.sr)
    mel = StreamingLogMel(config.features)
    stream = StreamingClassifier(model, config.features.log_floor, torch.device("cpu"))
    frames = mel.push(samples)
    vectors = stream.push(frames)
    if not vectors:  # shorter than one hop: classify what there is
        vectors = [stream.classify(stream.window)]
    hop_s = config.features.hop_length / config.features.sr
    first = config.classifier.hop_frames if len(frames) >= config.classifier.hop_frames else 0
    times = (first + np.arange(len(vectors)) * config.classifier.hop_frames) * hop_s
    times = times + config.features.n_fft / config.features.sr  # a frame ends n_fft after it starts
    window_probs = np.stack(vectors)
    labels = model.config.labels
    return ClipProbs(labels, clip_probs(window_probs, labels), times.astype(np.float32),
                     window_probs)
