"""The dream worker: runs the PPGN sampler beside the render loop, newest request wins.

The render loop calls :meth:`DreamWorker.request` with the current selection every frame and
:meth:`DreamWorker.latest` to pick up a new keyframe; neither ever waits for the sampler. The
worker keeps stepping with the newest request it has, so the canvas evolves even while the
selection stands still. A failure inside a step is reported once and the dream goes on from its
last good latent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from dreamengine.engine.dream import Dream, Keyframe


@dataclass(frozen=True)
class Published:
    seq: int  # 1, 2, … in order of publication
    keyframe: Keyframe
    target: dict[str, float]  # the request it answered


class DreamWorker:
    def __init__(self, dream: Dream, max_keyframes_per_s: float) -> None:
        self.dream = dream
        self.min_interval = 1.0 / max_keyframes_per_s
        self.requests_seen = 0  # requests taken up by the worker (stale ones are skipped)
        self.errors: list[str] = []
        self._target: dict[str, float] = {}
        self._request_seq = 0
        self._published: Published | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dream", daemon=True)

    def start(self) -> DreamWorker:
        self._thread.start()
        return self

    def request(self, target: Mapping[str, float]) -> None:
        """Replace whatever request is pending with ``target`` (never blocks)."""
        with self._lock:
            self._target = dict(target)
            self._request_seq += 1

    def latest(self) -> Published | None:
        """The newest published keyframe (check ``seq`` to see whether it is new)."""
        with self._lock:
            return self._published

    def _run(self) -> None:
        seen = 0
        while not self._stop.is_set():
            started = time.perf_counter()
            with self._lock:
                target, seq = self._target, self._request_seq
            if seq != seen:
                self.requests_seen += 1
                seen = seq
            try:
                key = self.dream.keyframe(target)
            except Exception as exc:  # a broken step must not end the show
                self._report(f"dream step failed: {exc!r}; continuing from the last good latent")
                self.dream.h = self.dream._last_good.clone()
                self._stop.wait(self.min_interval)
                continue
            with self._lock:
                n = self._published.seq + 1 if self._published else 1
                self._published = Published(n, key, dict(target))
            self._stop.wait(max(0.0, self.min_interval - (time.perf_counter() - started)))

    def _report(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
