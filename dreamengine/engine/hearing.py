"""Hearing, advanced to a given time: audio → log-mel → sound CNN → selection (the slow path),
and log-mel → dynamics (the fast path). Live and offline runs hear through the same object."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import numpy as np
import torch

from dreamengine.classifier import StreamingClassifier
from dreamengine.engine.config import EngineConfig
from dreamengine.engine.timing import StageTimer
from dreamengine.features import Drive, Dynamics, StreamingLogMel
from dreamengine.selection import Selection, SelectionConfig, Selector


class AudioSource(Protocol):
    @property
    def sr(self) -> int:
        """Sample rate of what ``read_until`` returns (Hz)."""
        ...

    def read_until(self, t: float) -> np.ndarray:
        """Samples from the last read up to time ``t`` (s)."""
        ...


def level_db(samples: np.ndarray) -> float | None:
    """RMS level of ``samples`` in dBFS (−inf for digital silence); None for no samples."""
    if samples.size == 0:
        return None
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def finite(samples: np.ndarray) -> np.ndarray:
    """``samples`` with NaN and ±inf heard as silence: one such sample (a broken float file, a
    driver glitch) would otherwise stay in every running value — the smoothed probabilities,
    the loudness peak — for the rest of the show."""
    if np.isfinite(samples).all():
        return samples
    return np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)


class Hearing:
    """The slow and fast paths of one audio source, advanced by :meth:`until`."""

    def __init__(self, source: AudioSource, config: EngineConfig, models: Any) -> None:
        self.source = source
        self.mel = StreamingLogMel(config.features)
        self.dynamics = Dynamics(config.dynamics, config.features)
        self.drive = Drive()
        self.classifier = StreamingClassifier(models.sound, config.features.log_floor,
                                              torch.device("cpu"), config.classifier.hop_frames)
        self.selector = Selector(config.selection, models.sound.config.labels, models.class_map,
                                 seed=config.dream.seed)
        self.hop_s = self.classifier.hop_frames * config.features.hop_length / config.features.sr
        self.selection = Selection(np.zeros(len(self.selector.labels), np.float32))
        self.heard = np.zeros(0, np.float32)  # the samples the last ``until`` read

    def until(self, t: float, timer: StageTimer) -> Selection:
        """Hear everything up to ``t``; the new samples stay in :attr:`heard`."""
        self.heard = finite(self.source.read_until(t))
        with timer.stage("features"):
            frames = self.mel.push(self.heard)
            self.drive = self.dynamics.push(frames)
        with timer.stage("classify"):
            vectors = self.classifier.push(frames)
        level = level_db(self.heard)
        for probs in vectors:
            self.selection = self.selector.update(probs, self.hop_s, level)
        return self.selection

    def retune(self, selection: SelectionConfig) -> None:
        """New selection settings (a live control change) from the next hop on."""
        self.selector.retune(selection)

    @property
    def probs(self) -> dict[str, float]:
        """The smoothed sound probabilities by label."""
        return dict(zip(self.selector.labels, self.selection.probs, strict=True))

    def drive_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self.drive)
