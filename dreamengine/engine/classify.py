"""``classify``: whole-file and per-window sound probabilities through the streaming path.

A file is heard exactly as live audio is: log-mel hop by hop, the sound CNN every
``hop_frames`` frames on the newest window. The clip's vector is
:func:`dreamengine.classifier.clip_probs` over the windows (each label's mean over its top half
of them), with ``music`` kept at or above its children.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dreamengine.audio.file import AudioReader
from dreamengine.classifier import SoundModel, StreamingClassifier, clip_probs
from dreamengine.engine.config import EngineConfig
from dreamengine.features import MelConfig, StreamingLogMel


@dataclass(frozen=True)
class ClipProbs:
    labels: tuple[str, ...]
    probs: np.ndarray  # [n_labels] for the whole clip
    window_times: np.ndarray  # [n_windows] s, the end of each analysis window
    window_probs: np.ndarray  # [n_windows, n_labels]


def classify_file(path: Path, config: EngineConfig, model: SoundModel,
                  progress: Callable[[float, float | None], None] | None = None) -> ClipProbs:
    """Classify one audio file, decoded block by block (memory does not grow with its length);
    ``progress(seconds_heard, duration_or_None)`` after each block. Raises DreamengineError if
    it cannot be read."""
    reader = AudioReader(path, config.audio.sr)
    mel = StreamingLogMel(config.features)
    stream = StreamingClassifier(model, config.features.log_floor, torch.device("cpu"),
                                 config.classifier.hop_frames)
    vectors: list[np.ndarray] = []
    n_frames, heard, duration = 0, 0, reader.duration
    try:
        for block in reader.blocks():
            frames = mel.push(block)
            n_frames += len(frames)
            vectors += stream.push(frames)
            heard += len(block)
            if progress is not None:
                progress(heard / config.audio.sr, duration)
    finally:
        reader.close()
    if not vectors:  # shorter than one hop: classify what there is
        vectors = [stream.classify(stream.window)]
    window_probs, labels = np.stack(vectors), model.config.labels
    return ClipProbs(labels, clip_probs(window_probs, labels),
                     window_end_times(len(vectors), n_frames, stream.hop_frames, config.features),
                     window_probs)


def window_end_times(n_vectors: int, n_frames: int, hop_frames: int,
                     mel: MelConfig) -> np.ndarray:
    """``[n_vectors]`` s: when the newest sample of each classified window was heard.

    Frame ``j`` spans samples ``[j·hop_length, j·hop_length + n_fft)``; the ``k``-th vector is
    classified after frame ``(k + 1)·hop_frames − 1`` (or after the last frame of a clip shorter
    than one hop, its only vector)."""
    if n_frames >= hop_frames:
        last_frame = (np.arange(n_vectors) + 1) * hop_frames - 1
    else:
        last_frame = np.full(n_vectors, max(n_frames - 1, 0))
    return ((last_frame * mel.hop_length + mel.n_fft) / mel.sr).astype(np.float32)
