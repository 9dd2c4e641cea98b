"""``live``: hear an input in real time and show the dream in a window (or headless), recording
on request. A thin driver of :class:`~dreamengine.engine.pipeline.Pipeline` on the wall clock:
the render loop runs at display rate, the dream process publishes keyframes beside it, and the
loop never waits for the networks. Keys, OSC and MIDI reach the show through the control bus.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from dreamengine.audio import FileSource
from dreamengine.audio.live import LiveSource, find_input_device
from dreamengine.clock import WallClock
from dreamengine.controls.bus import Controls
from dreamengine.controls.console import Console
from dreamengine.controls.midi import MidiInput, MidiMap
from dreamengine.controls.osc import OscServer
from dreamengine.controls.presets import presets_dir
from dreamengine.dream import Dream, Transport, start_worker
from dreamengine.engine.build import (
    Models,
    import_vision_backend,
    load_models,
    make_dream,
    resolve_device,
)
from dreamengine.engine.config import EngineConfig
from dreamengine.engine.devices import (
    open_midi,
    open_osc,
    open_source,
    start_player,
    stop_on_signals,
)
from dreamengine.engine.hearing import Hearing
from dreamengine.engine.offline import session_meta
from dreamengine.engine.pipeline import Listening, Pipeline, RunningDream
from dreamengine.engine.show import Show
from dreamengine.engine.stats import StatsLog, memory
from dreamengine.engine.surface import LiveRequest, Surface
from dreamengine.recording import RecordingSummary, SessionRecorder
from dreamengine.recording.camera import VirtualCamera
from dreamengine.render import Renderer


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
    already opened (and showing the start-up picture) by the caller; it is closed here.
    Everything opened is released in reverse order, however the show ends."""
    if surface is None:
        if request.input is None:
            find_input_device(request.device)  # a missing device fails now, listing them
        import_vision_backend(config)  # torchvision must load before GL does (see there)
        surface = Surface(request)  # the window comes before any EGL context (X BadAccess)
    closed: dict[str, RecordingSummary] = {}
    with contextlib.ExitStack() as stack:
        stack.callback(surface.close)
        surface.loading()
        source = None
        if request.input is not None:  # a file opens first: a bad one fails before the models
            source = stack.enter_context(contextlib.closing(open_source(config, request, say)))
        models, dream, transport = _start_dream(config, surface, say)
        stack.callback(transport.stop)
        recorder = None
        if request.record is not None:
            meta = session_meta(config, models, dream, request.size, request.record_fps,
                                request.input)
            recorder = SessionRecorder(request.record, config.recording, meta, live=True)
            stack.callback(lambda: closed.update(recording=recorder.close()))
        renderer = Renderer(surface.ctx, request.size, dream.key_size, config.render)
        stack.callback(renderer.release)
        # A live input opens after the dream process, so its ring does not fill meanwhile.
        if source is None:
            source = stack.enter_context(contextlib.closing(open_source(config, request, say)))
        camera = None
        if request.camera is not None:
            camera = VirtualCamera(request.camera, request.size, request.max_fps)
            stack.callback(camera.close)
        if request.play and isinstance(source, FileSource):
            stack.callback(start_player(request, source.sr).stop)
        loop = _Loop(config, request, source, models, surface, Show(renderer, recorder),
                     transport, camera, say)
        loop.osc, loop.midi = open_osc(request, say), open_midi(request, say)
        for endpoint in (loop.osc, loop.midi):
            if endpoint is not None:
                stack.callback(endpoint.close)
        with stop_on_signals(loop, say):
            loop.run()
    return loop.summary(closed.get("recording"))


def _start_dream(config: EngineConfig, surface: Surface, say: Callable[[str], None]
                 ) -> tuple[Models, Dream, Transport]:
    """The networks, and the dream started beside the loop. The dream process takes a few
    seconds (a fresh interpreter imports torch); the window shows the start-up picture."""
    torch.set_num_threads(config.dream.torch_threads)
    device = resolve_device(config.dream.device)
    models = load_models(config, device)
    for warning in models.warnings:
        say(f"note: {warning}")
    dream = make_dream(config, models, device)
    transport = start_worker(dream, config.dream.keyframes_per_s, config.dream.worker,
                             config.dream.torch_threads, idle=surface.loading)
    return models, dream, transport


class _Loop:
    """The render loop's state; one :meth:`step` per displayed frame."""

    def __init__(self, config: EngineConfig, request: LiveRequest,
                 source: FileSource | LiveSource, models: Models, surface: Surface,
                 show: Show, transport: Transport, camera: VirtualCamera | None,
                 say: Callable[[str], None]) -> None:
        self.request, self.surface, self.transport = request, surface, transport
        self.camera, self.say, self.source = camera, say, source
        self.hearing = Hearing(source, config, models)
        self.listening = Listening(self.hearing, config.render, config.sampler)
        self.pipeline = Pipeline(self.listening, RunningDream(transport), show)
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
        self.stats = StatsLog(request.stats, say) if request.stats is not None else None
        self.worker_errors = 0
        self.slow_frames = 0
        self.clock = WallClock()
        self.last_t = 0.0
        self.next_record_t = 0.0
        self.recording = request.record is not None
        self.running = True
        self.stopped_said = False

    @property
    def show(self) -> Show:
        return self.pipeline.show

    def run(self) -> None:
        budget_ms = 1000.0 / self.request.max_fps
        while self.running:
            started = time.perf_counter()
            self.step()
            spare = 1.0 / self.request.max_fps - (time.perf_counter() - started)
            if spare > 0:
                time.sleep(spare)
            ms = (time.perf_counter() - started) * 1000.0
            self.pipeline.timer.add("frame", ms)
            self.slow_frames += ms > 2 * budget_ms
            if self.stats is not None:
                self.stats.add(ms, self.last_t, self._health)

    def _health(self) -> dict[str, object]:
        recorder = self.show.recorder
        return {**memory(self.transport.pid), "keyframes": self.show.keyframes,
                "overflows": self._overflows(), "nan_resets": self.transport.resets,
                "slow_frames": self.slow_frames,
                "dropped": recorder.dropped_frames if recorder else 0}

    def _overflows(self) -> int:
        return int(getattr(self.source, "overflows", 0))

    def step(self) -> None:
        t = self.clock.now()
        keys, closed = self.surface.poll()
        for name in keys:
            self.console.key(name, t)
        self._take_messages(t)
        self.console.frame(t)
        self._apply_controls()
        if closed or t >= self.duration:
            if self.surface.lost:
                self.say("warning: the display went away; ending the show")
            self.running = False
            return
        self._resize()
        write = self.recording and t >= self.next_record_t
        if write:
            self.next_record_t = max(self.next_record_t + 1 / self.request.record_fps, t)
        changes = tuple(self.controls.drain())
        if changes:
            self._send(self.console.change_replies(list(changes)))
        self.pipeline.step(t, t - self.last_t, save=write, read=self.camera is not None,
                           controls=changes, audio_overflows=self._overflows())
        if self.show.recorder is not None:
            self.show.recorder.audio(self.hearing.heard, self.hearing.source.sr)
        if self.surface.window is not None:
            self.surface.window.present(self.show.renderer.output)
        if self.camera is not None and self.pipeline.rgb is not None:
            self.camera.submit(self.pipeline.rgb)
        self._say_once_stopped()
        self._say_source_messages()
        self._say_worker_messages()
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
        """Hand what changed on the control bus to the renderer, the selector and the dream,
        and carry out the actions."""
        c = self.controls
        dirty = c.take_dirty()
        if "render" in dirty:
            self.listening.retune(render=c.render)
        if "selection" in dirty:
            self.hearing.retune(c.selection)
        if "sampler" in dirty:
            self.transport.set_params(c.sampler)
            self.listening.retune(sampler=c.sampler)
        if "dream" in dirty:
            self.transport.set_rate(c.keyframes_per_s)
        for action in c.take_actions():
            self._act(action)

    def _act(self, action: str) -> None:
        if action == "quit":
            self.running = False
        elif action == "fullscreen" and (failed := self.surface.toggle_fullscreen()):
            self.say(f"fullscreen: {failed}")
        elif action == "record" and self.show.recorder is not None:
            self.recording = not self.recording
            self.say(f"recording {'on' if self.recording else 'paused'}")
        elif action == "reset":
            self.transport.reset()
        elif action == "reseed":
            self.transport.reseed(self.controls.seed)

    def _say_worker_messages(self) -> None:
        while self.worker_errors < len(self.transport.errors):
            self.say(f"note: {self.transport.errors[self.worker_errors]}")
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
        if self.camera is not None and (stopped := self.camera.take_error()) is not None:
            self.say(f"warning: {stopped}; the show goes on")

    def summary(self, recording: RecordingSummary | None) -> LiveSummary:
        """The run's figures, once everything is closed (``recording``: the recorder's)."""
        frame = self.pipeline.timer.values("frame")
        pct = {f"p{q}": float(np.percentile(frame, q)) for q in (50, 90, 99)} if len(frame) else {}
        overflows = self._overflows()
        messages = [f"{overflows} audio input overflows (samples lost)"] if overflows else []
        if recording is not None and recording.stopped and not self.stopped_said:
            messages.append(recording.stopped)  # said once, not twice
        unsaid = self.transport.errors[self.worker_errors:]  # the rest were said as notes
        return LiveSummary(self.pipeline.index, self.show.keyframes, pct, recording,
                           messages + unsaid, self.transport.resets, self.slow_frames)
