"""A virtual camera: frames to a v4l2loopback device through ffmpeg, for OBS, Zoom and friends.

Load the kernel module once (``sudo modprobe v4l2loopback devices=1 video_nr=10
card_label=dreamengine exclusive_caps=1``), then ``dreamengine live --camera /dev/video10``.
Frames are handed to ffmpeg by a feeder thread through a one-slot mailbox, so a slow consumer
drops frames (counted) instead of slowing the show.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from dreamengine.errors import DreamengineError


def loopback_devices() -> list[Path]:
    """``/dev/video*`` nodes that belong to v4l2loopback."""
    found = []
    for node in sorted(Path("/sys/devices/virtual/video4linux").glob("video*")):
        found.append(Path("/dev") / node.name)
    return [d for d in found if d.exists()]


class VirtualCamera:
    def __init__(self, device: Path, size: tuple[int, int], fps: float) -> None:
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise DreamengineError("the virtual camera needs ffmpeg")
        if not device.exists():
            raise DreamengineError(f"no video device {device}; load v4l2loopback first "
                                   "(see README, 'Virtual camera')")
        w, h = size
        cmd = [ffmpeg, "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
               "-r", f"{fps:g}", "-i", "-", "-f", "v4l2", "-pix_fmt", "yuv420p", str(device)]
        self.device = device
        self.dropped = 0
        self.sent = 0
        self.error: str | None = None
        # ffmpeg's messages to a file: a pipe nobody reads fills and stalls it mid-show
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=self._errors)
        self._said_error = False
        self._slot: np.ndarray | None = None
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._feed, name="camera", daemon=True)
        self._thread.start()

    def submit(self, rgb: np.ndarray) -> None:
        """Offer a frame ``[H, W, 3]`` uint8; replaces (and counts) one not yet sent."""
        with self._cond:
            if self._slot is not None:
                self.dropped += 1
            self._slot = rgb
            self._cond.notify()

    def _feed(self) -> None:
        assert self._proc.stdin is not None
        while True:
            with self._cond:
                while self._slot is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                frame, self._slot = self._slot, None
            try:
                self._proc.stdin.write(np.ascontiguousarray(frame).tobytes())
                self.sent += 1
            except (BrokenPipeError, OSError, ValueError) as exc:
                self.error = f"virtual camera {self.device} stopped: {self._last_message(exc)}"
                return

    def _last_message(self, exc: Exception) -> str:
        """ffmpeg's last line, else the write's error."""
        with contextlib.suppress(OSError, ValueError):
            self._proc.wait(timeout=1)
            self._errors.seek(0)
            lines = self._errors.read().decode(errors="replace").strip().splitlines()
            if lines:
                return lines[-1]
        return str(exc)

    def take_error(self) -> str | None:
        """The reason the camera stopped, once (None while it runs, and after it was said)."""
        if self.error is None or self._said_error:
            return None
        self._said_error = True
        return self.error

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=2)
        if self._thread.is_alive():  # stuck in a write ffmpeg does not read: end it first
            self._proc.kill()
            self._thread.join(timeout=2)
        with contextlib.suppress(OSError, ValueError):
            if self._proc.stdin:
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._errors.close()
