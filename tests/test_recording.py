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
    SessionRecorder,
    atomic_write_bytes,
    claim_session_dir,
    encode_png,
    encode_video,
    ffmpeg_available,
    prepare_output_dir,
    read_session,
)


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    import os
    import stat

    target = tmp_path / "frame.png"
    atomic_write_bytes(target, b"x")
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


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
                                               {"index": 1, "t": 1 / 3}]  # exact, for replay


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


def test_a_folder_holding_a_session_is_refused_written_beside_or_replaced(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "notes.txt").write_text("mine")
    assert claim_session_dir(fresh, "refuse") == fresh  # other files are no session
    set_ = tmp_path / "set"
    set_.mkdir()
    for name in ("session.json", "frames.jsonl", "frame_000000.png", "audio.wav", "notes.txt"):
        (set_ / name).write_text(name)
    with pytest.raises(DreamengineError, match=r"set already holds a recorded session.*--force"):
        claim_session_dir(set_, "refuse")
    assert claim_session_dir(set_, "beside") == tmp_path / "set-2"
    (tmp_path / "set-2").mkdir()
    assert claim_session_dir(set_, "beside") == tmp_path / "set-2"  # empty: free
    (tmp_path / "set-2" / "frame_000000.png").write_text("x")
    assert claim_session_dir(set_, "beside") == tmp_path / "set-3"
    assert sorted(p.name for p in set_.iterdir()) == ["audio.wav", "frame_000000.png",
                                                      "frames.jsonl", "notes.txt", "session.json"]
    assert claim_session_dir(set_, "replace") == set_
    assert [p.name for p in set_.iterdir()] == ["notes.txt"]  # only the session's files go


@pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg not installed")
def test_video_from_png_sequence(tmp_path: Path) -> None:
    writer = PngSequenceWriter(tmp_path, RecordingConfig())
    for i in range(6):
        writer.submit(i, np.full((32, 48, 3), 40 * i, np.uint8))
    writer.close()
    video = encode_video(tmp_path, 12, tmp_path / "v.mp4")
    assert video.stat().st_size > 0
    assert not list(tmp_path.glob(".v.partial*"))


@pytest.mark.skipif(__import__("shutil").which("ffmpeg") is None, reason="needs ffmpeg")
def test_video_keeps_the_frames_times_and_only_this_sessions_frames(tmp_path: Path) -> None:
    """A frame dropped live holds the picture (it does not pull later frames earlier), and a
    PNG an earlier session left in the folder is not shown."""
    import subprocess

    writer = PngSequenceWriter(tmp_path, RecordingConfig())
    writer.submit(0, np.full((16, 16, 3), 0, np.uint8))
    writer.submit(1, np.full((16, 16, 3), 200, np.uint8))
    writer.submit(99, np.full((16, 16, 3), 120, np.uint8))  # stale, not in the log
    writer.close()
    log = [{"index": 0, "t": 0.0, "file": "frame_000000.png"},
           {"index": 1, "t": 0.1, "file": None},  # dropped
           {"index": 2, "t": 0.2, "file": "frame_000001.png"}]
    (tmp_path / "frames.jsonl").write_text("".join(json.dumps(x) + "\n" for x in log)
                                           + '{"index": 3, "t"')  # cut off by a crash
    video = encode_video(tmp_path, 10, tmp_path / "v.mp4")
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-f", "rawvideo",
                          "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    means = np.frombuffer(raw, np.uint8).reshape(-1, 16 * 16).mean(axis=1)
    assert len(means) == 3 and means[0] < 20 and means[1] < 20 and means[2] > 180
    assert not list(tmp_path.glob(".frames.ffconcat"))


@pytest.mark.skipif(__import__("shutil").which("ffmpeg") is None, reason="needs ffmpeg")
def test_a_video_runs_for_every_frame_when_the_audio_ends_first(tmp_path: Path) -> None:
    import subprocess

    import soundfile as sf

    writer = PngSequenceWriter(tmp_path, RecordingConfig())
    for i in range(40):  # 4 s at 10 fps
        writer.submit(i, np.full((16, 16, 3), 5 * i, np.uint8))
    writer.close()
    sf.write(tmp_path / "a.wav", np.full(8000, 0.1, np.float32), 16000)  # 0.5 s of audio
    video = encode_video(tmp_path, 10, tmp_path / "v.mp4", audio=tmp_path / "a.wav", seconds=4)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,"
                            "duration", "-of", "json", str(video)], capture_output=True,
                           text=True, check=True)
    streams = {s["codec_type"]: float(s["duration"]) for s in json.loads(probe.stdout)["streams"]}
    assert streams["video"] == pytest.approx(4.0, abs=0.15)
    assert streams["audio"] == pytest.approx(4.0, abs=0.15)  # padded with silence


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (64, 48)])
def test_png_encoder_round_trips_through_pillow(shape: tuple[int, int]) -> None:
    import io

    rng = np.random.default_rng(3)
    noisy = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    smooth = np.broadcast_to(np.arange(shape[1], dtype=np.uint8)[None, :, None] * 3,
                             (*shape, 3)).copy()
    for rgb in (noisy, smooth):
        decoded = np.asarray(Image.open(io.BytesIO(encode_png(rgb))).convert("RGB"))
        np.testing.assert_array_equal(decoded, rgb)
    with pytest.raises(ValueError, match="uint8"):
        encode_png(noisy.astype(np.float32))


def disk_fills_after(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make PNG writes fail with ENOSPC after ``n`` successful ones."""
    from dreamengine.recording import png

    real, calls = png.atomic_write_bytes, {"n": 0}

    def write(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] > n:
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(png, "atomic_write_bytes", write)


def test_live_recording_stops_cleanly_when_the_disk_fills(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    disk_fills_after(2, monkeypatch)
    rec = SessionRecorder(tmp_path / "s", RecordingConfig(max_pending=1), {"latent_dim": 4},
                          live=True)
    names = []
    for i in range(6):
        rec.keyframe({"index": i, "t": i / 10}, np.full(4, i, np.float32))
        names.append(rec.frame({"index": i, "t": i / 10}, np.zeros((4, 4, 3), np.uint8)))
        rec._writer._pool.submit(lambda: None).result()  # let the encoder catch up
    summary = rec.close()
    assert summary.stopped is not None and "No space left" in summary.stopped
    assert summary.written == 2 and summary.frames >= 3
    assert names[:2] == ["frame_000000.png", "frame_000001.png"] and names[-1] is None
    assert sorted(p.name for p in (tmp_path / "s").glob("*.png")) == names[:2]
    lines = [json.loads(line) for line in (tmp_path / "s" / "frames.jsonl").open()]
    on_disk = {p.name for p in (tmp_path / "s").glob("*.png")}
    assert all(line["file"] is None or line["file"] in on_disk for line in lines)
    assert lines[2]["file"] is None  # its PNG hit the full disk: logged, but not named


def test_offline_recording_fails_loudly_when_the_disk_fills(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disk_fills_after(1, monkeypatch)
    rec = SessionRecorder(tmp_path / "s", RecordingConfig(), {"latent_dim": 4}, live=False)
    for i in range(3):
        rec.frame({"index": i, "t": 0.0}, np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(DreamengineError, match="No space left"):
        rec.close()


def test_an_offline_frame_that_failed_while_nobody_waited_still_fails_the_render(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disk_fills_after(1, monkeypatch)
    rec = SessionRecorder(tmp_path / "s", RecordingConfig(), {"latent_dim": 4}, live=False)
    with pytest.raises(DreamengineError, match="No space left"):
        for i in range(3):
            rec.frame({"index": i, "t": 0.0}, np.zeros((4, 4, 3), np.uint8))
            rec._writer._pool.submit(lambda: None).result()  # the failed PNG finishes unseen
    monkeypatch.undo()
    disk_fills_after(1, monkeypatch)
    rec = SessionRecorder(tmp_path / "t", RecordingConfig(), {"latent_dim": 4}, live=False)
    rec.frame({"index": 0, "t": 0.0}, np.zeros((4, 4, 3), np.uint8))
    rec.frame({"index": 1, "t": 0.0}, np.zeros((4, 4, 3), np.uint8))  # the last one fails
    rec._writer._pool.submit(lambda: None).result()
    rec._writer._futures.clear()  # as if every future had been let go of
    with pytest.raises(DreamengineError, match="No space left"):
        rec.close()


def test_a_disk_full_before_the_first_frame_is_one_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from dreamengine.recording import session

    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(session, "atomic_write_bytes", full)
    with pytest.raises(DreamengineError, match=r"cannot start a session in .*No space left"):
        SessionRecorder(tmp_path / "s", RecordingConfig(), {"latent_dim": 4}, live=False)


def test_session_files_read_back(tmp_path: Path) -> None:
    rec = SessionRecorder(tmp_path, RecordingConfig(), {"latent_dim": 3, "size": [4, 4]},
                          live=False)
    for i in range(3):
        rec.keyframe({"index": i, "t": i * 0.1, "target": {"dog": 1.0}},
                     np.arange(3, dtype=np.float32) + i)
        rec.frame({"index": i, "t": i / 30, "keyframe": i}, np.zeros((4, 4, 3), np.uint8))
    assert rec.close().written == 3
    with open(tmp_path / "frames.jsonl", "a") as f:
        f.write('{"index": 3, "t"')  # a run cut off mid-line
    meta, frames, keyframes, latents = read_session(tmp_path)
    assert meta["size"] == [4, 4] and len(frames) == 3 and frames[2]["file"] == "frame_000002.png"
    assert [k["latent_row"] for k in keyframes] == [0, 1, 2]
    np.testing.assert_array_equal(latents[2], [2, 3, 4])
    with pytest.raises(DreamengineError, match="not a recorded session"):
        read_session(tmp_path / "nowhere")


def test_a_frame_record_writes_and_reads_its_line() -> None:
    from dreamengine.recording.frame import FrameRecord

    live = {"file": "frame_000003.png", "index": 3, "t": 0.1, "probs": {"dog": 0.5},
            "target": {"dog": 1.0}, "drive": {"pulse": 0.25}, "sampler": {"lr": 0.1},
            "audio_overflows": 0, "controls": [{"t": 0.1, "control": "reset", "value": None,
                                                "source": "osc"}],
            "record": True, "render": {"t": 0.1, "drift": [0.0, 0.0]}, "keyframe": 2}
    record = FrameRecord.from_line(live)
    assert record.line() == live and list(record.line()) == list(live)  # order kept too
    offline = {k: v for k, v in live.items() if k not in ("audio_overflows", "controls")}
    assert list(FrameRecord.from_line(offline).line()) == list(offline)
    other = {**offline, "future_field": [1, 2]}  # a newer version's field survives
    assert FrameRecord.from_line(other).line()["future_field"] == [1, 2]
    for needed in ("index", "t", "render", "keyframe"):
        with pytest.raises(KeyError, match=needed):
            FrameRecord.from_line({k: v for k, v in live.items() if k != needed})
