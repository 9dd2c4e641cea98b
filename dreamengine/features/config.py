"""Log-mel and dynamics parameters (no scipy: ``dreamengine config`` reads them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MelConfig:
    """Log-mel parameters (librosa's names)."""

    sr: int = 16000  # Hz
    n_fft: int = 512  # samples per analysis window (32 ms at 16 kHz)
    hop_length: int = 160  # samples between frames (10 ms at 16 kHz)
    n_mels: int = 64  # mel bands
    fmin: float = 50.0  # Hz, lowest band edge
    fmax: float = 8000.0  # Hz, highest band edge (≤ sr / 2)
    log_floor: float = 1e-6  # added to mel power before the log


@dataclass(frozen=True)
class DynamicsConfig:
    """How loudness and onsets are measured."""

    bass_hz: float = 250.0  # Hz, top of the bass band
    treble_hz: float = 2000.0  # Hz, bottom of the treble band
    range_db: float = 40.0  # dB below the running peak that maps to level 0
    gate_db: float = -50.0  # dB (of mean mel power); quieter is silence
    peak_release_s: float = 8.0  # s, time constant with which the peak follower falls
    onset_k: float = 6.5  # running deviations above the running mean that make an onset
    onset_min_flux: float = 0.2  # mean log-power rise (nepers) an onset needs at least
    onset_gap_s: float = 0.08  # s, shortest time between two onsets
    onset_stats_s: float = 1.0  # s, time constant of the flux mean and deviation
    pulse_decay_s: float = 0.15  # s, time constant of the pulse envelope
