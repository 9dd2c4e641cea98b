"""Recording: atomic writes, the PNG pool's accounting, output-folder checks, video."""

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dreamengine.errors import DreamengineError
from dreamengine.recording import (
    FrameLog,
    PngSequenceWriter,
    RecordingConfig,
    atomic_write_bytes,
    encode_video,
    ffmpeg_available,
    prepare_output_dir,
)


def test_atomic_write_leaves_no_partial_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"first")

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("dreamengine.recording.files.os.replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_png_writer_writes_every_frame_in_order(tmp_path: Path) -> None:
    writer = PngSequenceWriter(tmp_path, RecordingConfig(encoder_threads=2, max_pending=2))
    frames = [np.full((6, 10, 3), i * 20, np.uint8) for i in range(8)]
    names = [writer.submit(i, f) for i, f in enumerate(frames)]
    writer.close()
    assert names == [f"frame_{i:06d}.png" for i in range(8)]
    assert writer.written == 8 and writer.dropped == 0
    for i, name in enumerate(names):
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / name)), frames[i])
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_non_blocking_writer_counts_drops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    writer = PngSequenceWriter(tmp_path, RecordingConfig(max_pending=2), block=False)
    original = writer._encode

    def slow_encode(path: Path, rgb: np.ndarray) -> None:
        gate.wait(5)
        original(path, rgb)

    monkeypatch.setattr(writer, "_encode", slow_encode)
    results = [writer.submit(i, np.zeros((4, 4, 3), np.uint8)) for i in range(5)]
    gate.set()
    writer.close()
    assert results[:2] == ["frame_000000.png", "frame_000001.png"]
    assert results[2:] == [None, None, None]
    assert writer.dropped == 3 and writer.written == 2


def test_frame_log_writes_one_complete_json_line_per_record(tmp_path: Path) -> None:
    with FrameLog(tmp_path / "frames.jsonl") as log:
        log.write({"index": 0, "p": np.float32(0.25), "v": np.arange(2)})
        log.write({"index": 1, "t": 1 / 3})
    lines = (tmp_path / "frames.jsonl").read_text().splitlines()
    assert [json.loads(x) for x in lines] == [{"index": 0, "p": 0.25, "v": [0, 1]},
                                               {"index": 1, "t": 0.333333}]


def test_output_dir_is_created_or_refused(tmp_path: Path) -> None:
    assert prepare_output_dir(tmp_path / "a" / "b").is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DreamengineError, match="output path exists and is not a folder"):
        prepare_output_dir(blocker)
    with pytest.raises(DreamengineError, match="cannot write to output folder"):
        prepare_output_dir(blocker / "sub")
    with pytest.raises(DreamengineError, match="cannot write to output folder /proc"):
        prepare_output_dir(Path("/proc/dreamengine-test"))


@pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg not installed")
def test_video_from_png_sequence(tmp_path: Path) -> None:
    writer = PngSequenceWriter(tmp_path, RecordingConfig())
    for i in range(6):
        writer.submit(i, np.full((32, 48, 3), 40 * i, np.uint8))
    writer.close()
    video = encode_video(tmp_path, 12, tmp_path / "v.mp4")
    assert video.stat().st_size > 0
    assert not list(tmp_path.glob(".v.partial*"))
