"""Audio files, resampling and the ring buffer."""

import itertools
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
    ring.write(np.arange(100, 113, dtype=np.float32))  # one block longer than the whole ring
    np.testing.assert_array_equal(ring.read(), np.arange(103, 113))  # its newest 10, in order
    assert ring.lost_samples == 5


@pytest.mark.parametrize(("from_sr", "to_sr"), [(44100, 16000), (48000, 16000), (8000, 16000),
                                                (22050, 16000), (16000, 16000)])
def test_block_resampling_equals_whole_file_resampling(from_sr: int, to_sr: int) -> None:
    from scipy.signal import resample_poly  # noqa: F401 - the reference below uses it

    from dreamengine.audio.file import BlockResampler, resample

    rng = np.random.default_rng(0)
    x = rng.standard_normal(int(from_sr * 3.3)).astype(np.float32)
    stream = BlockResampler(from_sr, to_sr, block=4000)
    pieces, start = [], 0
    while start < len(x):  # uneven pushes, as a decoder hands them out
        n = int(rng.integers(1, 9000))
        pieces.append(stream.push(x[start : start + n]))
        start += n
    pieces.append(stream.flush())
    whole = resample(x, from_sr, to_sr)
    got = np.concatenate(pieces)
    assert len(got) == len(whole)
    np.testing.assert_allclose(got, whole, atol=1e-5)


def test_file_source_decodes_only_what_it_is_asked_for(tmp_path: Path) -> None:
    """A long file starts at once: reading its first second decodes one block, not the file."""
    from dreamengine.audio.file import BLOCK_S

    path = tmp_path / "long.wav"
    seconds = 120
    with sf.SoundFile(path, "w", 44100, 1, "PCM_16") as f:
        for _ in range(seconds):
            f.write(sine(440, 1.0, 44100) * 0.5)
    src = FileSource(path, AudioConfig(sr=16000))
    assert src.duration == pytest.approx(seconds)
    first = src.read_until(1.0)
    assert len(first) == 16000
    assert src._reader._file is not None  # the decoder's position is the point
    assert src._reader._file.tell() <= 2 * BLOCK_S * 44100
    src.close()


def test_classify_reports_progress_over_a_file(tmp_path: Path) -> None:
    from dreamengine.classifier import SoundCNN
    from dreamengine.engine.classify import classify_file
    from dreamengine.engine.config import EngineConfig

    path = tmp_path / "twelve.wav"
    sf.write(path, sine(440, 12.0, 16000), 16000)
    config = EngineConfig()
    seen: list[tuple[float, float | None]] = []
    result = classify_file(path, config, SoundCNN(config.classifier).eval(),
                           lambda done, total: seen.append((done, total)))
    assert len(seen) >= 3 and seen[-1] == (pytest.approx(12.0), pytest.approx(12.0))
    assert all(a[0] < b[0] for a, b in itertools.pairwise(seen))
    assert result.window_times[-1] == pytest.approx(12.0, abs=0.2)


@pytest.mark.skipif(__import__("shutil").which("ffmpeg") is None, reason="needs ffmpeg")
def test_formats_soundfile_cannot_read_stream_through_ffmpeg(tmp_path: Path) -> None:
    import subprocess

    wav, m4a = tmp_path / "tone.wav", tmp_path / "tone.m4a"
    sf.write(wav, sine(440, 3.0, 44100), 44100)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "aac", str(m4a)],
                   check=True)
    src = FileSource(m4a, AudioConfig(sr=16000))
    assert src.duration == pytest.approx(3.0, abs=0.1)
    y = np.concatenate([src.read_until(t) for t in (0.5, 1.0, 2.5)])
    assert len(y) == 40000
    spectrum = np.abs(np.fft.rfft(y[8000:]))
    assert abs(np.argmax(spectrum) * 16000 / len(y[8000:]) - 440) < 2
    src.close()
