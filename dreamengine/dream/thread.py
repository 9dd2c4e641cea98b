"""The dream on a thread of this process (see :mod:`.transport`): cheap to start, what tests
and offline tools use."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import numpy as np

from dreamengine.dream.state import Dream, Keyframe
from dreamengine.dream.transport import Commands, Published, as_target, request_vector, serve


class DreamWorker(Commands):
    """The sampler on a thread; the render loop's side never waits for it."""

    def __init__(self, dream: Dream, max_keyframes_per_s: float) -> None:
        self.dream = dream
        self.labels = dream.labels
        self.requests_seen = 0  # requests taken up by the worker (stale ones are skipped)
        self.errors: list[str] = []
        self._target = np.zeros(len(self.labels))
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
        """Replace whatever request is pending with ``target`` (never blocks); an unknown
        image class is reported and left out."""
        vector = request_vector(target, self.labels, self.report)
        with self._lock:
            self._target = vector
            self._request_seq += 1

    def _command(self, name: str, value: object) -> None:
        with self._lock:
            self._commands.append((name, value))

    def latest(self) -> Published | None:
        """The newest published keyframe (check ``seq`` to see whether it is new)."""
        with self._lock:
            return self._published

    def take(self) -> tuple[np.ndarray, int, list[tuple[str, object]]]:
        with self._lock:
            commands, self._commands = self._commands, []
            return self._target, self._request_seq, commands

    def publish(self, key: Keyframe, target: np.ndarray, taken: int) -> None:
        answered = as_target(target, self.labels)
        with self._lock:
            self.requests_seen = taken
            n = self._published.seq + 1 if self._published else 1
            self._published = Published(n, time.monotonic(), key, answered)

    def report(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

