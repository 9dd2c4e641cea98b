"""The streaming log-mel against a plain scipy STFT reference."""

import numpy as np
import pytest
import scipy.signal

from dreamengine.audio.synthetic import noise, sine
from dreamengine.features import MelConfig, StreamingLogMel, mel_filterbank
from dreamengine.features.melspec import hz_to_mel, mel_to_hz


def reference_log_mel(x: np.ndarray, cfg: MelConfig) -> np.ndarray:
    """Whole-signal log-mel with scipy's STFT (uncentred frames, periodic Hann)."""
    win = scipy.signal.get_window("hann", cfg.n_fft, fftbins=True)
    _, _, z = scipy.signal.stft(x.astype(np.float64), window=win, nperseg=cfg.n_fft,
                                noverlap=cfg.n_fft - cfg.hop_length, boundary=None,
                                padded=False, scaling="spectrum")
    power = np.abs(z * win.sum()) ** 2  # undo scipy's 1/sum(win) scaling
    return np.log(mel_filterbank(cfg).astype(np.float64) @ power + cfg.log_floor).T


@pytest.mark.parametrize("block", [1, 7, 160, 333, 4096])
def test_streaming_matches_scipy_for_any_block_size(block: int) -> None:
    cfg = MelConfig()
    x = sine(440, 1.0, cfg.sr) + noise(1.0, cfg.sr, 0.05)
    mel = StreamingLogMel(cfg)
    frames = np.concatenate([mel.push(x[i : i + block]) for i in range(0, len(x), block)])
    ref = reference_log_mel(x, cfg)
    assert frames.shape == ref.shape == (1 + (len(x) - cfg.n_fft) // cfg.hop_length, cfg.n_mels)
    np.testing.assert_allclose(frames, ref, atol=2e-3, rtol=1e-4)


def test_tone_peaks_in_its_mel_band() -> None:
    cfg = MelConfig()
    frames = StreamingLogMel(cfg).push(sine(1000, 0.5, cfg.sr))
    edges = mel_to_hz(np.linspace(hz_to_mel(cfg.fmin), hz_to_mel(cfg.fmax), cfg.n_mels + 2))
    expected = int(np.argmin(np.abs(edges[1:-1] - 1000)))
    assert abs(int(frames.mean(axis=0).argmax()) - expected) <= 1


def test_filterbank_shape_and_coverage() -> None:
    cfg = MelConfig()
    fb = mel_filterbank(cfg)
    assert fb.shape == (cfg.n_mels, cfg.n_fft // 2 + 1)
    assert (fb >= 0).all() and (fb.sum(axis=1) > 0).all()  # no empty band
    assert np.allclose(hz_to_mel(mel_to_hz(np.array([3.0, 20.0, 40.0]))), [3.0, 20.0, 40.0])


def test_rejects_multichannel_input() -> None:
    with pytest.raises(ValueError, match="mono"):
        StreamingLogMel(MelConfig()).push(np.zeros((10, 2), np.float32))
