"""Video from a PNG sequence through ffmpeg, with the source audio muxed in when given."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from dreamengine.errors import DreamengineError


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def encode_video(frames_dir: Path, fps: float, out_path: Path,
                 audio: Path | None = None, seconds: float | None = None) -> Path:
    """Encode ``frames_dir/frame_*.png`` to H.264 MP4 at ``fps``; audio is trimmed to fit."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise DreamengineError("ffmpeg is not installed; cannot write a video")
    cmd = [ffmpeg, "-y", "-v", "error", "-framerate", f"{fps:g}", "-pattern_type", "glob",
           "-i", str(frames_dir / "frame_*.png")]  # a glob: frames dropped live leave gaps
    if audio is not None:
        cmd += ["-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-shortest"]
    if seconds is not None:
        cmd += ["-t", f"{seconds:g}"]
    partial = out_path.with_name(f".{out_path.stem}.partial{out_path.suffix}")
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",
            str(partial)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        raise DreamengineError(f"ffmpeg failed writing {out_path}: {proc.stderr.strip()[-500:]}")
    os.replace(partial, out_path)
    return out_path
