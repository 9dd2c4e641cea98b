"""The fast path: loudness, a bass/mid/treble split and onsets from the log-mel frames.

These numbers skip the classifier and the dream: the render loop turns them into shader
parameters (a pulse on each onset, zoom speed from the bass, brightness from the loudness) in the
same display frame that heard the sound. Everything runs on audio time, one update per log-mel
frame, so the result does not depend on the display rate.

- Levels are energies in dB, mapped to 0..1 against a peak follower (instant attack, slow
  release) over ``range_db``, so a quiet microphone and a hot line-in both use the whole range;
  anything under ``gate_db`` is silence.
- Onsets: spectral flux (the mean rise of the log-mel bands since the last frame), measured in
  the bass, mid and treble bands separately so a kick drum counts as much as a hand clap; an
  onset is a band's flux above its own adaptive threshold (the running mean plus ``onset_k``
  running deviations, and at least ``onset_min_flux``), at most one per ``onset_gap_s``.
  Each onset sets the pulse envelope to 1; it decays with ``pulse_decay_s``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dreamengine.features.config import DynamicsConfig, MelConfig
from dreamengine.features.melspec import hz_to_mel, mel_to_hz


@dataclass(frozen=True)
class Drive:
    """The fast path's state after some audio: what the shaders follow this frame."""

    level: float = 0.0  # 0..1, overall loudness against the running peak
    bass: float = 0.0  # 0..1
    mid: float = 0.0  # 0..1
    treble: float = 0.0  # 0..1
    pulse: float = 0.0  # 0..1, the onset envelope
    onsets: int = 0  # onsets detected in the audio of this update
    flux: float = 0.0  # the last frame's largest band flux (nepers)


def band_masks(config: MelConfig, bass_hz: float, treble_hz: float) -> np.ndarray:
    """``[3, n_mels]`` booleans: which mel bands count as bass, mid and treble (by centre)."""
    edges = np.linspace(hz_to_mel(config.fmin), hz_to_mel(config.fmax), config.n_mels + 2)
    centres = mel_to_hz(edges[1:-1])
    bass = centres < bass_hz
    treble = centres >= treble_hz
    return np.stack([bass, ~bass & ~treble, treble])


class Dynamics:
    """Folds log-mel frames into a :class:`Drive`, one frame at a time."""

    def __init__(self, config: DynamicsConfig, mel: MelConfig) -> None:
        self.config = config
        self.frame_s = mel.hop_length / mel.sr
        self.masks = band_masks(mel, config.bass_hz, config.treble_hz)
        self.log_floor = mel.log_floor
        counts = np.maximum(self.masks.sum(axis=1), 1)
        self._band_mean = self.masks / counts[:, None]  # [3, n_mels] averaging matrix
        self._previous: np.ndarray | None = None
        self._peaks = np.full(4, config.gate_db + config.range_db)  # all, bass, mid, treble
        self._levels = np.zeros(4)
        self._flux_mean = np.zeros(3)  # per band: bass, mid, treble
        self._flux_dev = np.zeros(3)
        self._since_onset = math.inf
        self._frames = 0
        self._warmup = max(1, round(config.onset_stats_s / self.frame_s / 4))
        self._pulse = 0.0
        self._flux = 0.0
        a = self.frame_s
        self._peak_fall = math.exp(-a / config.peak_release_s)
        self._stats_alpha = 1.0 - math.exp(-a / config.onset_stats_s)
        self._pulse_fall = math.exp(-a / config.pulse_decay_s)

    def push(self, frames: np.ndarray) -> Drive:
        """Fold in ``[n, n_mels]`` log-mel frames; returns the state after the last one."""
        onsets = 0
        for frame in frames:
            onsets += self._step(frame)
        lv = self._levels
        return Drive(float(lv[0]), float(lv[1]), float(lv[2]), float(lv[3]),
                     self._pulse, onsets, self._flux)

    def _step(self, frame: np.ndarray) -> int:
        cfg = self.config
        power = np.exp(frame.astype(np.float64)) - self.log_floor
        bands = [power.mean(), *(power[m].mean() if m.any() else 0.0 for m in self.masks)]
        db = 10.0 * np.log10(np.maximum(bands, 1e-12))
        # peak follower: jump up, fall slowly (in dB), never below the gate's range
        self._peaks = np.maximum(db, cfg.gate_db + cfg.range_db
                                 + (self._peaks - cfg.gate_db - cfg.range_db) * self._peak_fall)
        levels = (db - (self._peaks - cfg.range_db)) / cfg.range_db
        self._levels = np.where(db > cfg.gate_db, np.clip(levels, 0.0, 1.0), 0.0)

        flux = np.zeros(3)
        if self._previous is not None:
            flux = self._band_mean @ np.maximum(frame - self._previous, 0.0)
        self._previous = frame.copy()
        if db[0] <= cfg.gate_db:
            flux = np.zeros(3)  # rises out of digital silence or hiss are not beats
        threshold = np.maximum(self._flux_mean + cfg.onset_k * self._flux_dev,
                               cfg.onset_min_flux)
        self._since_onset += self.frame_s
        self._pulse *= self._pulse_fall
        self._frames += 1
        warm = self._frames > self._warmup  # the flux statistics have settled
        onset = warm and bool((flux > threshold).any()) and self._since_onset >= cfg.onset_gap_s
        if onset:
            self._since_onset = 0.0
            self._pulse = 1.0
        a = self._stats_alpha if warm else 1.0 / self._frames
        self._flux_dev += a * (np.abs(flux - self._flux_mean) - self._flux_dev)
        self._flux_mean += a * (flux - self._flux_mean)
        self._flux = float(flux.max())
        return int(onset)
