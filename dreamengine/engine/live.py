"""``live``: hear an input in real time and show the dream in a window (or headless), recording
on request. The render loop runs at display rate; the dream worker publishes keyframes beside
it; the loop never waits for the networks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dreamengine.audio import FileSource
from dreamengine.audio.file import AudioReader
from dreamengine.audio.live import FilePlayer, LiveSource, find_input_device
from dreamengine.clock import WallClock
from dreamengine.engine.build import (
    import_vision_backend,
    load_models,
    make_dream,
    resolve_device,
)
from dreamengine.engine.config import EngineConfig
from dreamengine.engine.console import Console
from dreamengine.engine.control import Controls
from dreamengine.engine.dream_process import DreamProcess
from dreamengine.engine.midi import MidiInput, MidiMap
from dreamengine.engine.offline import Hearing, keyframe_record, session_meta
from dreamengine.engine.osc import OscServer
from dreamengine.engine.presets import presets_dir
from dreamengine.engine.show import Show
from dreamengine.engine.surface import LiveRequest, Surface
from dreamengine.engine.timing import StageTimer
from dreamengine.engine.worker import DreamWorker, start_worker
from dreamengine.errors import DreamengineError
from dreamengine.recording import RecordingSummary, SessionRecorder
from dreamengine.recording.camera import VirtualCamera
from dreamengine.render import Renderer, frame_params

STATS_EVERY_S = 10.0


def resident_mb(pid: int | str = "self") -> float | None:
    """A process's resident memory in MB (Linux), or None where it cannot be read."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


@dataclass
class LiveSummary:
    frames: int = 0
    keyframes: int = 0
    frame_ms: dict[str, float] = field(default_factory=dict)  # median, p90, p99
    recording: RecordingSummary | None = None
    messages: list[str] = field(default_factory=list)
    nan_resets: int = 0
    slow_frames: int = 0  # frames that took more than twice the frame budget


def run_live(config: EngineConfig, request: LiveRequest,
             say: Callable[[str], None] = print, surface: Surface | None = None) -> LiveSummary:
    """Run until the input ends, ``seconds`` pass, or the window is closed. ``surface``: one
    already opened (and showing the start-up picture) by the caller; it is closed here."""
    if surface is None:
        if request.input is None:
            find_input_device(request.device)  # a missing device fails now, listing them
        import_vision_backend(config)  # torchvision must load before GL does (see there)
        surface = Surface(request)  # the window comes before any EGL context (X BadAccess)
    surface.loading()
    source: FileSource | LiveSource | None = None
    try:
        if request.input is not None:
            source = open_source(config, request, say)
        torch.set_num_threads(config.dream.torch_threads)
        device = resolve_device(config.dream.device)
        models = load_models(config, device)
        for warning in models.warnings:
            say(f"note: {warning}")
        # The dream process takes a few seconds to start (a fresh interpreter imports torch); a
        # live input opens after it, so its ring does not fill before the loop reads it. The
        # window keeps showing the start-up picture meanwhile.
        dream = make_dream(config, models, device)
        worker = start_worker(dream, config.dream.keyframes_per_s, config.dream.worker,
                              config.dream.torch_threads, idle=surface.loading)
    except BaseException:
        if source is not None:
            source.close()
        surface.close()
        raise
    if source is None:
        try:
            source = open_source(config, request, say)
        except BaseException:
            worker.stop()
            surface.close()
            raise
    recorder = None
    if request.record is not None:
        meta = session_meta(config, models, dream, request.size, request.record_fps,
                            str(request.input))
        recorder = SessionRecorder(request.record, config.recording, meta, live=True)
    camera = None
    if request.camera is not None:
        camera = VirtualCamera(request.camera, request.size, request.max_fps)
    renderer = Renderer(surface.ctx, request.size, dream.key_size, config.render)
    show = Show(renderer, recorder, read_back=True)
    loop = _Loop(config, request, source, models, surface, show, worker, camera, say)
    osc, midi = open_surfaces(request, say)
    loop.osc, loop.midi = osc, midi
    player = None
    try:
        if request.play and isinstance(source, FileSource):
            player = start_player(request, source.sr)
        with stop_on_signals(loop, say):
            loop.run()
    finally:
        if osc is not None:
            osc.close()
        if midi is not None:
            midi.close()
        if player is not None:
            player.stop()
        source.close()
        worker.stop()
        if camera is not None:
            camera.close()
        summary = loop.summary()
        if recorder is not None:
            summary.recording = recorder.close()
            if summary.recording.stopped and not loop.stopped_said:  # said once, not twice
                summary.messages.append(summary.recording.stopped)
        renderer.release()
        surface.close()
    summary.messages += worker.errors
    summary.nan_resets = worker.resets
    return summary


@contextlib.contextmanager
def stop_on_signals(loop: _Loop, say: Callable[[str], None]) -> Iterator[None]:
    """Ctrl-C and SIGTERM end the show as ``/dreamengine/quit`` does: the loop finishes its
    frame, then the recording (video included) and the summary are completed. A second Ctrl-C
    while that happens interrupts at once."""

    def stop(signum: int, frame: object) -> None:
        if not loop.running:
            raise KeyboardInterrupt
        loop.running = False
        say(f"{signal.Signals(signum).name}: finishing the show (Ctrl-C again to abort)")

    try:
        old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave the signals alone
        old = {}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def open_surfaces(request: LiveRequest, say: Callable[[str], None]
                  ) -> tuple[OscServer | None, MidiInput | None]:
    """The OSC endpoint and the MIDI input asked for; one that cannot open is reported and
    left out (the show runs without it)."""
    osc = midi = None
    if request.osc is not None:
        try:
            osc = OscServer(*request.osc)
            say(f"OSC: listening on {osc.host}:{osc.port} (/dreamengine/...)")
        except DreamengineError as exc:
            say(f"note: {exc}; going on without OSC")
    if request.midi is not None:
        try:
            midi = MidiInput(request.midi)
            say(f"MIDI: listening to {midi.name!r}")
        except DreamengineError as exc:
            say(f"note: {exc}; going on without MIDI")
    return osc, midi


def start_player(request: LiveRequest, sr: int) -> FilePlayer:
    """``--play``: the input file on the speakers, decoded as it plays (flat memory), behind
    the picture by ``av_offset_ms``."""
    assert request.input is not None
    reader = AudioReader(request.input, sr)
    return FilePlayer(reader, max(request.av_offset_ms, 0.0) / 1000).start()


def open_source(config: EngineConfig, request: LiveRequest,
                say: Callable[[str], None]) -> FileSource | LiveSource:
    """The file to play, or the input device to record."""
    if request.input is not None:
        return FileSource(request.input, config.audio)
    from dreamengine.audio.live import LiveSource

    source = LiveSource(config.audio, request.device)
    say(f"listening to {source.device.name!r} at {source.rate:g} Hz")
    return source


class _Loop:
    """The render loop's state; one :meth:`step` per displayed frame."""

    def __init__(self, config: EngineConfig, request: LiveRequest,
                 source: FileSource | LiveSource,
                 models: Any, surface: Surface, show: Show, worker: DreamWorker | DreamProcess,
                 camera: VirtualCamera | None, say: Callable[[str], None]) -> None:
        self.config, self.request, self.surface, self.show = config, request, surface, show
        self.worker, self.camera, self.say = worker, camera, say
        self.hearing = Hearing(source, config, models)
        self.source = source
        self.duration = request.seconds or (
            source.duration if isinstance(source, FileSource) else float("inf"))
        classes = tuple(dict.fromkeys(models.image.labels + models.sound.config.labels))
        self.controls = Controls(config, classes)
        midi_map = MidiMap()
        if request.midi_map is not None and request.midi_map.is_file():
            midi_map = MidiMap.load(request.midi_map)
        self.console = Console(self.controls, request.presets or presets_dir(), midi_map,
                               request.midi_map, request.preset_fade_s, say)
        self.osc: OscServer | None = None
        self.midi: MidiInput | None = None
        self.render_cfg = config.render
        self.sampler = dataclasses.asdict(config.sampler)
        self.worker_errors = 0
        self.slow_frames = 0
        self._stats_window: list[float] = []
        self._next_stats = STATS_EVERY_S
        self.timer = StageTimer()
        self.clock = WallClock()
        self.index = 0
        self.last_t = 0.0
        self.next_record_t = 0.0
        self.recording = request.record is not None
        self.key_seq = 0
        self.running = True
        self.stopped_said = False

    def run(self) -> None:
        budget_ms = 1000.0 / self.request.max_fps
        while self.running:
            started = time.perf_counter()
            self.step()
            spare = 1.0 / self.request.max_fps - (time.perf_counter() - started)
            if spare > 0:
                time.sleep(spare)
            ms = (time.perf_counter() - started) * 1000.0
            self.timer.add("frame", ms)
            self.slow_frames += ms > 2 * budget_ms
            if self.request.stats is not None:
                self._stats_window.append(ms)
                if self.last_t >= self._next_stats:
                    self._write_stats()

    def _write_stats(self) -> None:
        """One JSON line of health figures for the last window (for soak runs and monitoring);
        a write that fails stops the stats with one message, never the show."""
        self._next_stats += STATS_EVERY_S
        w = np.asarray(self._stats_window)
        self._stats_window = []
        line = {"t": round(self.last_t, 3), "frames": len(w),
                "frame_ms_p50": float(np.median(w)) if len(w) else None,
                "frame_ms_p99": float(np.percentile(w, 99)) if len(w) else None,
                "frame_ms_max": float(w.max()) if len(w) else None,
                **self._memory(), "keyframes": self.show.keyframes,
                "overflows": int(getattr(self.source, "overflows", 0)),
                "nan_resets": self.worker.resets, "slow_frames": self.slow_frames,
                "dropped": self.show.recorder.dropped_frames if self.show.recorder else 0}
        path = self.request.stats
        assert path is not None
        try:
            with path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")
        except OSError as exc:
            self.say(f"warning: cannot write stats to {path}: {exc.strerror or exc}; stats off")
            self.request = dataclasses.replace(self.request, stats=None)

    def _memory(self) -> dict[str, float | None]:
        """Resident MB of the engine: this process plus the dream process when there is one."""
        main = resident_mb()
        pid = self.worker.pid
        dream = resident_mb(pid) if pid is not None else None
        total = None if main is None else main + (dream or 0.0)
        return {"rss_mb": total, "dream_rss_mb": dream}

    def step(self) -> None:
        t = self.clock.now()
        keys, closed = self.surface.poll()
        for name in keys:
            self.console.key(name, t)
        self._take_messages(t)
        self.console.frame(t)
        self._apply_controls()
        if closed or t >= self.duration:
            self.running = False
            return
        self._resize()
        selection = self.hearing.until(t, self.timer)
        if self.show.recorder is not None:
            self.show.recorder.audio(self.hearing.heard, self.hearing.source.sr)
        self.worker.request(selection.target)
        published = self.worker.latest()
        if published is not None and published.seq != self.key_seq:
            self.key_seq = published.seq
            key = published.keyframe
            self.show.keyframe(key.image, t, key.latent,
                               keyframe_record(key, published.target, self.sampler))
        params = frame_params(self.render_cfg, t, t - self.last_t, self.hearing.drive)
        write = self.recording and t >= self.next_record_t
        if write:
            self.next_record_t = max(self.next_record_t + 1 / self.request.record_fps, t)
        record = {**self.hearing.record(), "sampler": self.sampler,
                  "audio_overflows": int(getattr(self.source, "overflows", 0))}
        changes = self.controls.drain()
        if changes:
            record["controls"] = changes
            self._send(self.console.change_replies(changes))
        rgb = self.show.frame(self.index, params, record, save=write,
                              read=self.camera is not None)
        if self.surface.window is not None:
            self.surface.window.present(self.show.renderer.output)
        if self.camera is not None and rgb is not None:
            self.camera.submit(rgb)
        self._say_once_stopped()
        self._say_source_messages()
        self._say_worker_messages()
        self.index += 1
        self.last_t = t

    def _take_messages(self, t: float) -> None:
        """A bounded number of OSC messages and every MIDI change, onto the control bus."""
        if self.osc is not None:
            for m in self.osc.drain(limit=256):
                self._send(self.console.osc(m.address, m.args, m.sender, t))
        if self.midi is not None:
            for channel, control, value in self.midi.drain():
                self.console.midi(channel, control, value, t)

    def _send(self, replies: list) -> None:
        if self.osc is not None:
            for to, address, args in replies:
                self.osc.send(to, address, *args)

    def _apply_controls(self) -> None:
        """Hand what changed on the control bus to the renderer, the selector and the worker,
        and carry out the actions."""
        c = self.controls
        dirty = c.take_dirty()
        if "render" in dirty:
            self.render_cfg = c.render
        if "selection" in dirty:
            self.hearing.selector.config = c.selection
        if "sampler" in dirty:
            self.worker.set_params(c.sampler)
            self.sampler = dataclasses.asdict(c.sampler)
        if "dream" in dirty:
            self.worker.set_rate(c.keyframes_per_s)
        for action in c.take_actions():
            if action == "quit":
                self.running = False
            elif action == "fullscreen" and self.surface.window is not None:
                self.surface.window.toggle_fullscreen()
            elif action == "record" and self.show.recorder is not None:
                self.recording = not self.recording
                self.say(f"recording {'on' if self.recording else 'paused'}")
            elif action == "reset":
                self.worker.reset()
            elif action == "reseed":
                self.worker.reseed(c.seed)

    def _say_worker_messages(self) -> None:
        while self.worker_errors < len(self.worker.errors):
            self.say(f"note: {self.worker.errors[self.worker_errors]}")
            self.worker_errors += 1

    def _resize(self) -> None:
        """Follow the window's size, unless recording or feeding a camera: those keep the
        size they started with (the window then shows the frame scaled to fit)."""
        size = self.surface.size
        fixed = self.show.recorder is not None or self.camera is not None
        if size is not None and not fixed and size != self.show.renderer.out_size:
            self.show.renderer.resize(size)

    def _say_source_messages(self) -> None:
        messages = getattr(self.source, "messages", None)
        while messages:
            self.say(f"note: {messages.pop(0)}")

    def _say_once_stopped(self) -> None:
        recorder = self.show.recorder
        if recorder is not None and recorder.stopped and not self.stopped_said:
            self.stopped_said = True
            self.recording = False
            self.say(f"warning: {recorder.stopped}; the show goes on")

    def summary(self) -> LiveSummary:
        frame = self.timer.values("frame")
        pct = {f"p{q}": float(np.percentile(frame, q)) for q in (50, 90, 99)} if len(frame) else {}
        overflows = int(getattr(self.source, "overflows", 0))
        messages = [f"{overflows} audio input overflows (samples lost)"] if overflows else []
        return LiveSummary(self.index, self.show.keyframes, pct, messages=messages,
                           slow_frames=self.slow_frames)
