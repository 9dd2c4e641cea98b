"""Incremental log-mel spectrogram.

Each hop of ``hop_length`` new samples yields one frame: the last ``n_fft`` samples under a
periodic Hann window, the power spectrum, a Slaney-style mel filterbank and ``log(x + floor)``.
Frames are not centred (a stream cannot look ahead), so frame ``i`` covers samples
``[i * hop_length, i * hop_length + n_fft)`` of the stream.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from numpy.typing import ArrayLike

from dreamengine.features.config import MelConfig


def hz_to_mel(f: ArrayLike) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
    lin = f / f_sp
    log = min_log_hz / f_sp + np.log(np.maximum(f, 1e-12) / min_log_hz) / logstep
    return np.where(f >= min_log_hz, log, lin)


def mel_to_hz(m: ArrayLike) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz, logstep = 1000.0, np.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), m * f_sp)


def mel_filterbank(config: MelConfig) -> np.ndarray:
    """Triangular, area-normalised filters: ``[n_mels, n_fft // 2 + 1]`` float32."""
    if not 0 <= config.fmin < config.fmax <= config.sr / 2:
        raise ValueError(f"need 0 <= fmin < fmax <= sr/2, got {config}")
    fft_freqs = np.linspace(0, config.sr / 2, config.n_fft // 2 + 1)
    mel_points = np.linspace(hz_to_mel(config.fmin), hz_to_mel(config.fmax), config.n_mels + 2)
    edges = mel_to_hz(mel_points)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (fft_freqs - lower) / (centre - lower)
    falling = (upper - fft_freqs) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (upper - lower))  # equal area per band
    return weights.astype(np.float32)


def hann_periodic(n: int) -> np.ndarray:
    """The periodic Hann window used for STFT analysis."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


class StreamingLogMel:
    """Turns a stream of mono samples into log-mel frames, one per hop.

    ``push`` keeps the tail of the stream it still needs, so any block size gives the same
    frames as processing the whole signal at once.
    """

    def __init__(self, config: MelConfig) -> None:
        self.config = config
        self._window = hann_periodic(config.n_fft)
        self._filters = mel_filterbank(config)
        self._buffer = np.zeros(0, dtype=np.float32)
        self.frames_out = 0  # frames produced so far

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Feed ``[n]`` float32 samples; returns the new frames ``[n_new, n_mels]`` float32."""
        if samples.ndim != 1:
            raise ValueError(f"expected mono samples [n], got shape {samples.shape}")
        buf = np.concatenate([self._buffer, samples.astype(np.float32, copy=False)])
        n_fft, hop = self.config.n_fft, self.config.hop_length
        n_frames = 0 if len(buf) < n_fft else 1 + (len(buf) - n_fft) // hop
        frames = self._frames(buf, n_frames)
        self._buffer = buf[n_frames * hop :]
        self.frames_out += n_frames
        return frames

    def _frames(self, buf: np.ndarray, n_frames: int) -> np.ndarray:
        n_fft, hop = self.config.n_fft, self.config.hop_length
        if n_frames == 0:
            return np.zeros((0, self.config.n_mels), dtype=np.float32)
        idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
        spectrum = scipy.fft.rfft(buf[idx] * self._window, axis=1)
        power = spectrum.real**2 + spectrum.imag**2
        mel = power.astype(np.float32) @ self._filters.T
        return np.log(mel + self.config.log_floor).astype(np.float32)
