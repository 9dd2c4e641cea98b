"""Video from a PNG sequence through ffmpeg, with the source audio muxed in when given.

A session folder's ``frames.jsonl`` says when each frame was shown and which PNG holds it, so
the video is built from that timeline: each PNG lasts until the next one written (a frame
dropped live, or a paused recording, holds the picture instead of pulling every later frame
earlier, so the picture stays in time with the sound), and PNGs left in the folder by an
earlier session are not mixed in. A folder without a log is a plain numbered sequence.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from dreamengine.errors import DreamengineError
from dreamengine.recording.session import FRAMES_FILE, read_jsonl


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def frame_timeline(frames_dir: Path) -> list[tuple[str, float]]:
    """``[(png name, t in s)]`` of the frames ``frames.jsonl`` names as written, in order.
    Empty when there is no log."""
    path = frames_dir / FRAMES_FILE
    if not path.is_file():
        return []
    try:
        records = read_jsonl(path)
    except (OSError, ValueError) as exc:
        raise DreamengineError(f"cannot read {path}: {exc}") from None
    return [(str(r["file"]), float(r["t"])) for r in records
            if r.get("file") and (frames_dir / r["file"]).is_file()]


def concat_list(timeline: list[tuple[str, float]], fps: float) -> str:
    """An ffmpeg concat-demuxer script: each PNG until the next one's time, the last for one
    frame (listed twice: the demuxer ignores the last entry's duration)."""
    lines = ["ffconcat version 1.0"]
    ends = [t for _, t in timeline[1:]] + [timeline[-1][1] + 1 / fps]
    for (name, t), t_next in zip(timeline, ends, strict=True):
        lines += [f"file '{name}'", f"duration {max(t_next - t, 1e-3):.6f}"]
    lines.append(f"file '{timeline[-1][0]}'")
    return "\n".join(lines) + "\n"


def encode_video(frames_dir: Path, fps: float, out_path: Path,
                 audio: Path | None = None, seconds: float | None = None) -> Path:
    """Encode the folder's frames to H.264 MP4 at a constant ``fps``; the video runs for every
    frame, the audio (from the first frame's time, when the folder has a timeline) is trimmed to
    fit or padded with silence where it ends first."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise DreamengineError("ffmpeg is not installed; cannot write a video")
    timeline = frame_timeline(frames_dir)
    script = frames_dir / ".frames.ffconcat"
    if timeline:
        script.write_text(concat_list(timeline, fps), encoding="utf-8")
        cmd = [ffmpeg, "-y", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(script)]
        start, seconds = timeline[0][1], timeline[-1][1] - timeline[0][1] + 1 / fps
    else:
        cmd = [ffmpeg, "-y", "-v", "error", "-framerate", f"{fps:g}", "-pattern_type", "glob",
               "-i", str(frames_dir / "frame_*.png")]
        start = 0.0
    if audio is not None:
        cmd += ["-ss", f"{start:.6f}", "-i", str(audio), "-map", "0:v", "-map", "1:a",
                "-c:a", "aac", "-af", "apad", "-shortest"]  # padded: the video sets the end
    if seconds is not None:
        cmd += ["-t", f"{seconds:g}"]
    partial = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix}")
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p",  # the fps filter repeats held frames
            "-vf", f"fps={fps:g},pad=ceil(iw/2)*2:ceil(ih/2)*2", str(partial)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    finally:
        script.unlink(missing_ok=True)
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        raise DreamengineError(f"ffmpeg failed writing {out_path}: {proc.stderr.strip()[-500:]}")
    os.replace(partial, out_path)
    return out_path
