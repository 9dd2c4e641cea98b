"""The dream worker: runs the PPGN sampler beside the render loop, newest request wins.

The render loop calls ``request`` with the current selection every frame and ``latest`` to pick
up a new keyframe; neither ever waits for the sampler. The worker keeps stepping with the newest
request it has, so the canvas evolves even while the selection stands still. Live parameter
changes (step sizes, rate, reset, re-seed) queue as commands applied between keyframes, in
order. A failed step or a non-finite latent is reported once and the dream goes on from its last
good latent.

Two transports run the same loop (:func:`serve`):

- :class:`DreamWorker` (here), a thread. Cheap to start; what tests and offline tools use. On a
  small CPU the render thread's GL calls hold the GIL and starve it.
- :class:`~dreamengine.engine.dream_process.DreamProcess`, its own process (own interpreter, own
  GIL), talking through shared memory. ``live`` uses it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dreamengine.engine.dream import Dream, Keyframe
from dreamengine.errors import DreamengineError
from dreamengine.sampler import SamplerConfig

MAX_MOTION_S = 0.5  # a stalled worker's canvas moves at most this much time at once

if TYPE_CHECKING:
    from dreamengine.engine.dream_process import DreamProcess


@dataclass(frozen=True)
class Published:
    seq: int  # 1, 2, … in order of publication
    time: float  # time.monotonic() at publication (system-wide, so comparable across processes)
    keyframe: Keyframe
    target: dict[str, float]  # the request it answered


class _Stop(Protocol):
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class _Side(Protocol):
    """What the sampler loop sees of its transport."""

    def take(self) -> tuple[dict[str, float], int, list[tuple[str, object]]]: ...
    def publish(self, key: Keyframe, target: dict[str, float], taken: int) -> None: ...
    def report(self, message: str) -> None: ...


def serve(dream: Dream, side: _Side, stop: _Stop, min_interval: float) -> None:
    """Step ``dream`` toward the newest request until ``stop`` is set (the worker's loop)."""
    seen = 0
    taken = 0  # requests taken up (a burst between two keyframes counts once)
    last: float | None = None  # when the last keyframe's steps began
    while not stop.is_set():
        started = time.perf_counter()
        dt = 0.0 if last is None else min(started - last, MAX_MOTION_S)
        last = started
        target, seq, commands = side.take()
        if seq != seen:
            taken, seen = taken + 1, seq
        for name, value in commands:
            min_interval = _apply(dream, name, value, min_interval)
        try:
            key = dream.keyframe(target, dt)
        except Exception as exc:  # a broken step must not end the show
            side.report(f"dream step failed: {exc!r}; continuing from the last good latent")
            dream.h = dream._last_good.clone()
            stop.wait(min_interval)
            continue
        if key.reset:
            side.report("the dream's latent went non-finite; reset to the last good one "
                        "(reported once; the count is in the summary)")
        side.publish(key, target, taken)
        stop.wait(max(0.0, min_interval - (time.perf_counter() - started)))


def _apply(dream: Dream, name: str, value: object, min_interval: float) -> float:
    if name == "params" and isinstance(value, SamplerConfig):
        dream.params = value
    elif name == "rate" and isinstance(value, (int, float)) and value > 0:
        return 1.0 / value
    elif name == "reset":
        dream.reset()
    elif name == "reseed" and isinstance(value, int):
        dream.reseed(value)
    return min_interval


class Commands:
    """The shared command surface of both transports."""

    def _command(self, name: str, value: object) -> None:
        raise NotImplementedError

    def set_params(self, params: SamplerConfig) -> None:
        """New step sizes from the next keyframe on (never blocks)."""
        self._command("params", params)

    def set_rate(self, keyframes_per_s: float) -> None:
        self._command("rate", keyframes_per_s)

    def reset(self) -> None:
        """Back to the current seed's first latent."""
        self._command("reset", None)

    def reseed(self, seed: int) -> None:
        """A fresh latent from ``seed``."""
        self._command("reseed", seed)


class DreamWorker(Commands):
    """The sampler on a thread of this process."""

    def __init__(self, dream: Dream, max_keyframes_per_s: float) -> None:
        self.dream = dream
        self.requests_seen = 0  # requests taken up by the worker (stale ones are skipped)
        self.errors: list[str] = []
        self._target: dict[str, float] = {}
        self._request_seq = 0
        self._published: Published | None = None
        self._commands: list[tuple[str, object]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=serve, name="dream", daemon=True,
                                        args=(dream, self, self._stop, 1.0 / max_keyframes_per_s))

    def start(self) -> DreamWorker:
        self._thread.start()
        return self

    @property
    def resets(self) -> int:
        return self.dream.resets

    @property
    def pid(self) -> None:
        """No process of its own (the dream process has one)."""
        return None

    def request(self, target: Mapping[str, float]) -> None:
        """Replace whatever request is pending with ``target`` (never blocks)."""
        with self._lock:
            self._target = dict(target)
            self._request_seq += 1

    def _command(self, name: str, value: object) -> None:
        with self._lock:
            self._commands.append((name, value))

    def latest(self) -> Published | None:
        """The newest published keyframe (check ``seq`` to see whether it is new)."""
        with self._lock:
            return self._published

    def take(self) -> tuple[dict[str, float], int, list[tuple[str, object]]]:
        with self._lock:
            commands, self._commands = self._commands, []
            return self._target, self._request_seq, commands

    def publish(self, key: Keyframe, target: dict[str, float], taken: int) -> None:
        with self._lock:
            self.requests_seen = taken
            n = self._published.seq + 1 if self._published else 1
            self._published = Published(n, time.monotonic(), key, dict(target))

    def report(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def start_worker(dream: Dream, max_keyframes_per_s: float, mode: str,
                 threads: int = 1, idle: Callable[[], None] | None = None,
                 ) -> DreamWorker | DreamProcess:
    """The worker ``mode`` names (``"process"`` or ``"thread"``), started; a process is waited
    for until its first keyframe is out, calling ``idle`` (the start-up picture) meanwhile."""
    from dreamengine.engine.dream_process import DreamProcess

    if mode == "process":
        return DreamProcess(dream, max_keyframes_per_s, threads).start(idle)
    if mode == "thread":
        return DreamWorker(dream, max_keyframes_per_s).start()
    raise DreamengineError(f"dream.worker must be process or thread, got {mode!r}")
