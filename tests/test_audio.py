"""Audio files, resampling and the ring buffer."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dreamengine.audio import AudioConfig, FileSource, RingBuffer, read_audio
from dreamengine.audio.synthetic import sine
from dreamengine.errors import DreamengineError


@pytest.mark.parametrize(("fmt", "subtype"), [("WAV", "PCM_16"), ("FLAC", "PCM_16"),
                                              ("OGG", "VORBIS")])
def test_reads_formats_resampled_to_mono(tmp_path: Path, fmt: str, subtype: str) -> None:
    x = sine(440, 1.0, 44100)
    path = tmp_path / f"tone.{fmt.lower()}"
    sf.write(path, np.stack([x, x], axis=1), 44100, format=fmt, subtype=subtype)
    y = read_audio(path, 16000)
    assert y.dtype == np.float32 and y.ndim == 1 and abs(len(y) - 16000) <= 1
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spectrum) * 16000 / len(y) - 440) < 2


def test_missing_and_unreadable_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DreamengineError, match="audio file not found: .*absent.wav"):
        read_audio(tmp_path / "absent.wav", 16000)
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(DreamengineError, match="cannot read audio file .*garbage.wav"):
        read_audio(garbage, 16000)
    with pytest.raises(DreamengineError, match="folder"):
        read_audio(tmp_path, 16000)


def test_file_source_hands_out_time_slices(clip: Path) -> None:
    src = FileSource(clip, AudioConfig(sr=16000))
    assert src.duration == pytest.approx(1.5, abs=1e-3)
    a, b = src.read_until(0.5), src.read_until(1.0)
    assert len(a) == len(b) == 8000
    tail = src.read_until(2.0)  # past the end: zero padding
    assert len(tail) == 16000 and not tail[-100:].any()


def test_ring_buffer_round_trip_and_overflow_accounting() -> None:
    ring = RingBuffer(10)
    ring.write(np.arange(6, dtype=np.float32))
    np.testing.assert_array_equal(ring.read(4), [0, 1, 2, 3])
    ring.write(np.arange(6, 16, dtype=np.float32))  # 12 unread > capacity 10
    assert ring.overflows == 1 and ring.lost_samples == 2
    np.testing.assert_array_equal(ring.read(), np.arange(6, 16))
    assert ring.available() == 0
