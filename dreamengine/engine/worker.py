"""The dream worker: runs the PPGN sampler beside the render loop, newest request wins.

The render loop calls :meth:`DreamWorker.request` with the current selection every frame and
:meth:`DreamWorker.latest` to pick up a new keyframe; neither ever waits for the sampler. The
worker keeps stepping with the newest request it has, so the canvas evolves even while the
selection stands still. Live parameter changes (step sizes, rate, reset, re-seed) queue as
commands applied between keyframes. A failed step or a non-finite latent is reported once and
the dream goes on from its last good latent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from dreamengine.engine.dream import Dream, Keyframe
from dreamengine.sampler import SamplerConfig


@dataclass(frozen=True)
class Published:
    seq: int  # 1, 2, … in order of publication
    time: float  # time.monotonic() at publication
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
        self._commands: list[tuple[str, object]] = []  # applied between keyframes, in order
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

    def _command(self, name: str, value: object) -> None:
        with self._lock:
            self._commands.append((name, value))

    def _apply_commands(self) -> None:
        with self._lock:
            commands, self._commands = self._commands, []
        for name, value in commands:
            if name == "params" and isinstance(value, SamplerConfig):
                self.dream.params = value
            elif name == "rate" and isinstance(value, (int, float)) and value > 0:
                self.min_interval = 1.0 / value
            elif name == "reset":
                self.dream.reset()
            elif name == "reseed" and isinstance(value, int):
                self.dream.reseed(value)

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
            self._apply_commands()
            try:
                key = self.dream.keyframe(target)
            except Exception as exc:  # a broken step must not end the show
                self._report(f"dream step failed: {exc!r}; continuing from the last good latent")
                self.dream.h = self.dream._last_good.clone()
                self._stop.wait(self.min_interval)
                continue
            if key.reset:
                self._report("the dream's latent went non-finite; reset to the last good one "
                             "(reported once; the count is in the summary)")
            with self._lock:
                n = self._published.seq + 1 if self._published else 1
                self._published = Published(n, time.monotonic(), key, dict(target))
            self._stop.wait(max(0.0, self.min_interval - (time.perf_counter() - started)))

    def _report(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
