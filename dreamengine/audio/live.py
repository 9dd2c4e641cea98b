"""Live capture through PortAudio: the only module that imports ``sounddevice``.

The capture callback only copies (and downmixes) each block into a ring buffer and counts
overflows; :meth:`LiveSource.read` resamples what arrived to the pipeline rate. If the device
vanishes mid-run, or the stream still claims to run but delivers nothing (an audio server killed
or frozen under it), ``read`` hands out silence at the wall-clock rate, says so once, and tries to
reopen the device every second from a background thread. Nothing here ever waits on PortAudio
for long: a stream that will not close is abandoned, and so is PortAudio's own clean-up at exit,
which would wait on it for ever.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import sounddevice as sd

from dreamengine.audio.config import AudioConfig
from dreamengine.audio.resample import StreamResampler
from dreamengine.audio.ring import RingBuffer
from dreamengine.errors import DreamengineError

RETRY_S = 1.0  # seconds between attempts to reopen a vanished device
STALL_S = 1.0  # s with no block from a running stream: dead (blocks come every ~20 ms)
FIRST_BLOCK_S = 5.0  # s a new stream may take for its first block (an audio server wakes in ~2 s)
CLOSE_WAIT_S = 1.0  # s to wait for a stream to close before it is abandoned
RING_S = 4.0  # seconds of audio the ring buffer holds


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_sr: float  # Hz


def list_input_devices() -> list[InputDevice]:
    """Every device PortAudio can record from."""
    return [InputDevice(i, d["name"], int(d["max_input_channels"]), float(d["default_samplerate"]))
            for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]


def describe_devices(devices: list[InputDevice]) -> str:
    if not devices:
        return "no input devices at all (no sound card, or no audio server running)"
    return "input devices: " + "; ".join(f"{d.index}: {d.name}" for d in devices)


def find_input_device(spec: str | None) -> InputDevice:
    """The device named by ``spec`` (an index or part of a name); the default one if None."""
    devices = list_input_devices()
    if spec is None:
        default = sd.default.device[0]
        matches = [d for d in devices if d.index == default] or devices[:1]
    elif spec.isdigit():
        matches = [d for d in devices if d.index == int(spec)]
    else:
        matches = [d for d in devices if spec.lower() in d.name.lower()]
    if not matches:
        wanted = "default input device" if spec is None else f"input device {spec!r}"
        raise DreamengineError(f"found no {wanted}; {describe_devices(devices)}")
    return matches[0]


class LiveSource:
    """Records one input device at the pipeline rate; ``read`` never blocks."""

    def __init__(self, config: AudioConfig, device: str | None = None) -> None:
        self.config = config
        self.spec = device
        self.device = find_input_device(device)
        self.messages: list[str] = []
        self.callback_overflows = 0
        # (device-rate samples captured so far, time.monotonic()) per block, for latency figures
        self.arrivals: deque[tuple[int, float]] = deque(maxlen=8192)
        self.captured = 0
        self._stream: Any = None
        self._lost_at: float | None = None
        self._next_retry = 0.0
        self._reconnector: threading.Thread | None = None
        self._reconnected = threading.Event()
        self._closing = False
        self._unclosed: list[threading.Event] = []  # closes still running (set when done)
        self._open()

    @property
    def sr(self) -> int:
        return self.config.sr

    @property
    def overflows(self) -> int:
        """Times audio was lost: the driver's overflows plus ring-buffer overruns."""
        return self.callback_overflows + self._ring.overflows

    def _open(self) -> None:
        device = self.device
        channels = min(2, device.channels)
        rate = self._negotiate_rate(device, channels)
        self._ring = RingBuffer(int(RING_S * rate))
        self._resample = StreamResampler(rate, self.config.sr)
        self._stream = sd.InputStream(device=device.index, channels=channels, samplerate=rate,
                                      dtype="float32", blocksize=0, callback=self._callback)
        self._opened_at = time.monotonic()
        self._last_block = -float("inf")
        self._stream.start()
        self.rate = rate
        self._last_read = time.monotonic()

    def _negotiate_rate(self, device: InputDevice, channels: int) -> float:
        for rate in (float(self.config.sr), device.default_sr, 48000.0, 44100.0):
            try:
                sd.check_input_settings(device=device.index, channels=channels, samplerate=rate,
                                        dtype="float32")
                return rate
            except Exception:  # PortAudio says no with several exception types
                continue
        raise DreamengineError(f"input device {device.name!r} accepts none of the sample rates "
                               f"{self.config.sr}, {device.default_sr:g}, 48000, 44100 Hz")

    def _callback(self, indata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
        if status.input_overflow:
            self.callback_overflows += 1
        self._ring.write(indata[:, 0] if indata.shape[1] == 1 else indata.mean(axis=1))
        self.captured += frames
        self._last_block = time.monotonic()
        self.arrivals.append((self.captured, self._last_block))

    def read_until(self, _t: float) -> np.ndarray:
        """Live audio has no future to wait for: everything that has arrived (see ``read``)."""
        return self.read()

    def read(self) -> np.ndarray:
        """Everything captured since the last call, mono float32 at ``config.sr``."""
        now = time.monotonic()
        if self._lost_at is None:
            reason = self._failure(now)
            if reason:
                self._lost(now, reason)
        if self._lost_at is not None:
            return self._silence(now)
        self._last_read = now
        return self._resample(self._ring.read())

    def _failure(self, now: float) -> str | None:
        """Why the stream is dead (stopped, or silent past the watchdog's limits); None if not."""
        try:
            if not self._stream.active:
                return "stopped"
        except Exception:
            return "stopped"
        if self._last_block < self._opened_at:
            waited = now - self._opened_at
            return f"sent no audio in {waited:.0f} s" if waited > FIRST_BLOCK_S else None
        quiet = now - self._last_block
        return f"sent no audio for {quiet:.1f} s" if quiet > STALL_S else None

    def _lost(self, now: float, reason: str) -> None:
        self._lost_at = now
        self.messages.append(f"input device {self.device.name!r} {reason}; continuing on "
                             "silence and trying to reconnect")
        self._close_stream()

    def _silence(self, now: float) -> np.ndarray:
        n = int((now - self._last_read) * self.config.sr)
        self._last_read += n / self.config.sr
        if self._reconnected.is_set():
            self._reconnected.clear()
            self._lost_at = None
            self.messages.append(f"input device {self.device.name!r} reconnected")
        elif now >= self._next_retry and not self._reconnecting():
            self._next_retry = now + RETRY_S
            self._reconnector = threading.Thread(target=self._reconnect, daemon=True,
                                                 name="dreamengine-input-reconnect")
            self._reconnector.start()
        return np.zeros(n, np.float32)

    def _reconnecting(self) -> bool:
        return self._reconnector is not None and self._reconnector.is_alive()

    def _reconnect(self) -> None:
        """One attempt to reopen the input, off the show's thread (it may hang on a frozen
        server). PortAudio is re-initialised to re-enumerate the devices (one may have come back
        under a new index), unless an abandoned stream is still closing: that would hang."""
        try:
            self._unclosed = [done for done in self._unclosed if not done.is_set()]
            if not self._unclosed:
                sd._terminate()
                sd._initialize()
            self.device = find_input_device(self.spec)
            self._open()
        except Exception:
            return
        if self._closing:
            self._close_stream()
        else:
            self._reconnected.set()

    def _close_stream(self) -> None:
        """Stop and close the stream from a helper thread; abandon it after
        :data:`CLOSE_WAIT_S` (PortAudio can wait for ever on a server that stopped answering)."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        done = threading.Event()

        def close() -> None:
            with contextlib.suppress(Exception):
                stream.abort()
                stream.close()
            done.set()

        threading.Thread(target=close, name="dreamengine-input-close", daemon=True).start()
        if not done.wait(CLOSE_WAIT_S):
            self._unclosed.append(done)
            self.messages.append(f"input device {self.device.name!r} did not close within "
                                 f"{CLOSE_WAIT_S:g} s; left behind")
            _skip_portaudio_exit_handler()

    def close(self) -> None:
        """Close the input; returns within about :data:`CLOSE_WAIT_S` whatever PortAudio does."""
        self._closing = True
        self._close_stream()


def _skip_portaudio_exit_handler() -> None:
    """sounddevice closes PortAudio at exit, which waits on every stream still open: with one
    abandoned, the process would never end. Let the operating system clean up instead."""
    handler = getattr(sd, "_exit_handler", None)
    if handler is not None:
        atexit.unregister(handler)


def open_output_stream(sr: int, callback: Any) -> Any:
    """A mono float32 stream to the default output device at ``sr`` Hz (not yet started)."""
    return sd.OutputStream(samplerate=sr, channels=1, dtype="float32", callback=callback)
