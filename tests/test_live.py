"""The live loop's parts: the dream worker, the keyboard shortcuts, headless live recording."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from dreamengine.controls.bus import Controls
from dreamengine.controls.keys import apply_key, help_text
from dreamengine.dream.process import DreamProcess
from dreamengine.dream.state import Dream
from dreamengine.dream.thread import DreamWorker
from dreamengine.engine.config import EngineConfig
from dreamengine.models import (
    ConditionConfig,
    GeneratorConfig,
    ImagePrior,
    ImagePriorConfig,
    LatentPriorConfig,
)
from dreamengine.recording.camera import loopback_devices
from dreamengine.render import RenderConfig
from dreamengine.sampler import SamplerConfig


def tiny_dream() -> Dream:
    config = ImagePriorConfig(GeneratorConfig(latent_dim=16, size=16, width=32),
                              LatentPriorConfig(latent_dim=16, hidden=32),
                              ConditionConfig(width=8, blocks=2))
    return Dream(ImagePrior.random(config, 0), SamplerConfig(steps_per_keyframe=1), 0,
                 torch.device("cpu"))


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_worker_publishes_in_order_and_newest_request_wins() -> None:
    worker = DreamWorker(tiny_dream(), max_keyframes_per_s=200).start()
    try:
        wait_for(lambda: worker.latest() is not None)
        for name in ("dog", "bird", "rain", "siren"):  # a burst: only the last one matters
            worker.request({name: 1.0})
        wait_for(lambda: worker.latest().target == {"siren": 1.0})
        first = worker.latest().seq
        wait_for(lambda: worker.latest().seq > first + 2)
        assert worker.latest().target == {"siren": 1.0}
        assert worker.requests_seen < 5  # the burst was not worked through one by one
        assert worker.latest().keyframe.image.shape == (16, 16, 3)
    finally:
        worker.stop()


def test_worker_survives_a_failing_step() -> None:
    dream = tiny_dream()
    calls = {"n": 0}
    real = dream.keyframe

    def flaky(target, dt=0.0):
        calls["n"] += 1
        if 2 <= calls["n"] <= 40:  # a message that differs every time, like an OOM's size
            raise RuntimeError(f"boom after {calls['n']} calls")
        return real(target, dt)

    dream.keyframe = flaky  # type: ignore[method-assign]
    worker = DreamWorker(dream, max_keyframes_per_s=200).start()
    try:
        wait_for(lambda: worker.latest() is not None and worker.latest().seq >= 3)
    finally:
        worker.stop()
    assert len(worker.errors) == 1 and "boom after 2 calls" in worker.errors[0]


def test_dream_process_serves_like_the_thread_and_comes_back_after_a_crash() -> None:
    """The sampler in its own process: newest request wins, commands arrive in order, an
    unknown class is reported rather than raised, and a killed process is restarted from the
    last keyframe's latent while the render side keeps its last keyframe."""
    worker = DreamProcess(tiny_dream(), max_keyframes_per_s=200).start()
    try:
        assert worker.latest() is not None  # start() waits for the first keyframe
        for name in ("dog", "bird", "rain", "siren"):
            worker.request({name: 1.0})
        wait_for(lambda: worker.latest().target == {"siren": 1.0})
        assert worker.requests_seen < 5
        assert worker.latest().keyframe.image.shape == (16, 16, 3)
        worker.request({"unicorn": 1.0})
        assert any("unicorn" in e for e in worker.errors)

        # with no prior, class or noise term the latent stands still at the new seed's start
        worker.request({})
        worker.set_params(SamplerConfig(eps1=0.0, eps3=0.0, steps_per_keyframe=1))
        worker.reseed(7)
        fresh = Dream(tiny_dream().prior, SamplerConfig(), seed=7, device=torch.device("cpu"))
        wait_for(lambda: np.array_equal(worker.latest().keyframe.latent, fresh.h[0].numpy()))

        held = worker.latest()
        worker._process.kill()
        wait_for(lambda: worker.latest() and any("restarted" in e for e in worker.errors),
                 timeout=30)
        assert worker.latest().seq >= held.seq  # the render side never lost its keyframe
        wait_for(lambda: worker.latest().seq > held.seq + 3, timeout=60)
        # the restarted process carried the settings and the latent over
        assert np.array_equal(worker.latest().keyframe.latent, fresh.h[0].numpy())

        worker._shared.lock.acquire()  # as if the child died in the middle of a copy
        worker._process.kill()
        asking = threading.Thread(target=worker.request, args=({"dog": 1.0},), daemon=True)
        asking.start()
        asking.join(timeout=2)
        assert not asking.is_alive()  # the render side did not wait on the dead child's lock
        wait_for(lambda: worker.request({"dog": 1.0}) or worker.latest().target == {"dog": 1.0},
                 timeout=60)
    finally:
        worker.stop()
    assert not worker._process.is_alive()


def test_dream_process_ends_with_a_killed_show() -> None:
    """A show killed outright (SIGKILL: no clean-up runs) leaves no dream process burning."""
    code = textwrap.dedent("""
        import os, signal, torch
        from dreamengine.dream.state import Dream
        from dreamengine.dream.process import DreamProcess
        from dreamengine.models import (ConditionConfig, GeneratorConfig, ImagePrior,
                                        ImagePriorConfig, LatentPriorConfig)
        from dreamengine.sampler import SamplerConfig
        config = ImagePriorConfig(GeneratorConfig(latent_dim=16, size=16, width=32),
                                  LatentPriorConfig(latent_dim=16, hidden=32),
                                  ConditionConfig(width=8, blocks=2))
        dream = Dream(ImagePrior.random(config, 0), SamplerConfig(), 0, torch.device("cpu"))
        worker = DreamProcess(dream, 50).start()
        print(worker.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=180)
    pid = int(proc.stdout.split()[0])

    def gone() -> bool:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return True
        return "\nState:\tZ" in status  # exited, waiting to be reaped

    wait_for(gone, timeout=15)


def test_keys_go_through_the_control_bus() -> None:
    controls = Controls(EngineConfig(), ("dog", "bird"))
    assert apply_key("o", controls, t=1.5) is None and controls.render.overlay
    apply_key("=", controls)
    base = RenderConfig()
    assert controls.render.zoom_per_s - 1 == pytest.approx((base.zoom_per_s - 1) * 1.25)
    apply_key("space", controls)
    assert controls.render.zoom_per_s == 1.0
    apply_key("space", controls)
    assert controls.render.zoom_per_s == base.zoom_per_s
    for _ in range(40):
        apply_key("]", controls)
    assert controls.render.decay_per_s == 1.0  # clamped to the parameter's range
    apply_key("e", controls)
    assert controls.sampler.eps2 == pytest.approx(SamplerConfig().eps2 * 1.25)
    for _ in range(3):
        apply_key("K", controls)
    assert controls.sampler.steps_per_keyframe == 1  # never below its range
    assert apply_key("escape", controls) == "quit" and apply_key("f", controls) == "fullscreen"
    assert apply_key("x", controls) == "reseed"
    assert apply_key("%", controls) is None
    log = controls.drain()
    assert log[0] == {"t": 1.5, "control": "render.overlay", "value": True, "source": "key"}
    assert [c["control"] for c in log[-3:]] == ["quit", "fullscreen", "reseed"]
    assert controls.take_actions() == ["quit", "fullscreen", "reseed"]
    assert "overlay" in help_text() and "spatial" in help_text()


@pytest.mark.slow
@pytest.mark.gl
def test_headless_live_records_a_session(clip: Path, tmp_path: Path, gl_ctx) -> None:
    out = tmp_path / "rec"
    proc = subprocess.run(
        [sys.executable, "-m", "dreamengine", "live", "--headless", "--input", str(clip),
         "--seconds", "1.2", "--size", "96x54", "--record", str(out), "--record-fps", "10",
         "--set", "prior.generator.width=64"],
        capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in (out / "frames.jsonl").read_text().splitlines()]
    saved = [x for x in lines if x["record"]]
    assert 3 <= len(saved) <= 13  # at most about 10 fps of 1.2 s (fewer on a loaded machine)
    assert [x["file"] for x in saved] == [f"frame_{i:06d}.png" for i in range(len(saved))]
    assert all(x["file"] is None for x in lines if not x["record"])
    times = [x["t"] for x in lines]
    assert times == sorted(times) and times[-1] < 1.3
    assert (out / "keyframes.f32").stat().st_size > 0
    assert json.loads((out / "session.json").read_text())["fps"] == 10
    import soundfile as sf

    heard = sf.info(str(out / "audio.wav"))  # what was heard, for the video's soundtrack
    assert heard.samplerate == 16000 and 0.9 < heard.duration < 1.5


@pytest.mark.skipif(__import__("shutil").which("ffmpeg") is None, reason="needs ffmpeg")
def test_a_camera_that_fails_says_why_once_and_closes_at_once(tmp_path: Path) -> None:
    from dreamengine.recording.camera import VirtualCamera

    not_a_camera = tmp_path / "video0"  # a plain file: ffmpeg cannot open it as v4l2
    not_a_camera.write_bytes(b"")
    cam = VirtualCamera(not_a_camera, (8, 8), 10)
    said = []
    deadline = time.monotonic() + 20
    while not said and time.monotonic() < deadline:
        cam.submit(np.zeros((8, 8, 3), np.uint8))
        time.sleep(0.05)
        said += [e for e in [cam.take_error()] if e]
    assert said and str(not_a_camera) in said[0] and cam.take_error() is None
    t0 = time.monotonic()
    cam.close()
    assert time.monotonic() - t0 < 5


@pytest.mark.skipif(not loopback_devices(), reason="no v4l2loopback device on this machine")
def test_virtual_camera_accepts_frames() -> None:
    from dreamengine.recording.camera import VirtualCamera

    cam = VirtualCamera(loopback_devices()[0], (64, 48), 30)
    for i in range(10):
        cam.submit(np.full((48, 64, 3), i * 20, np.uint8))
        time.sleep(0.02)
    cam.close()
    assert cam.error is None and cam.sent > 0


@pytest.mark.slow
@pytest.mark.gl
def test_live_disk_full_is_said_once_and_no_line_names_a_missing_frame(
        clip: Path, tmp_path: Path, gl_ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    from dreamengine.engine import load_config
    from dreamengine.engine.live import LiveRequest, run_live
    from dreamengine.recording import png

    real, calls = png.atomic_write_bytes, {"n": 0}

    def write(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(png, "atomic_write_bytes", write)
    out, said = tmp_path / "rec", []
    config = load_config(None)
    request = LiveRequest(clip, (96, 54), headless=True, record=out, seconds=1.2,
                          record_fps=10, osc=None)
    summary = run_live(config, request, said.append)
    shown = said + [f"warning: {m}" for m in summary.messages]  # what the CLI prints
    assert sum("No space left" in line for line in shown) == 1, shown
    assert summary.recording is not None and summary.recording.stopped
    on_disk = {p.name for p in out.glob("*.png")}
    lines = [json.loads(x) for x in (out / "frames.jsonl").read_text().splitlines()]
    assert len(on_disk) == 3
    assert all(x["file"] is None or x["file"] in on_disk for x in lines)


def test_a_bad_sample_is_heard_as_silence_and_sticks_nowhere() -> None:
    """One NaN in the audio (a broken float file, a driver glitch) must not leave NaN in the
    smoothed probabilities or the loudness drive for the rest of the show."""
    import dataclasses
    from types import SimpleNamespace

    from dreamengine.classifier import ClassifierConfig, SoundCNN
    from dreamengine.engine.hearing import Hearing
    from dreamengine.engine.timing import StageTimer
    from dreamengine.resources import priors_dir
    from dreamengine.selection import load_class_map
    from dreamengine.vocabulary import LABELS

    class Glitchy:
        sr = 16000

        def __init__(self) -> None:
            self.t = 0.0

        def read_until(self, t: float) -> np.ndarray:
            n = round((t - self.t) * self.sr)
            self.t = t
            x = (0.3 * np.sin(0.2 * np.arange(n))).astype(np.float32)
            x[n // 3], x[n // 2] = np.nan, np.inf
            return x

    torch.manual_seed(0)
    models = SimpleNamespace(sound=SoundCNN(ClassifierConfig()).eval(),
                             class_map=load_class_map(priors_dir() / "class_map_latent.toml",
                                                      LABELS, LABELS))
    hearing = Hearing(Glitchy(), EngineConfig(), models)
    for k in range(1, 21):
        selection = hearing.until(0.05 * k, StageTimer())
    assert np.isfinite(selection.probs).all() and selection.probs.max() > 0
    assert all(np.isfinite(v) for v in dataclasses.astuple(hearing.drive))
    assert hearing.drive.level > 0  # the tone is still heard around the bad samples


def test_a_fullscreen_toggle_that_fails_is_said_and_the_show_goes_on() -> None:
    from types import SimpleNamespace

    from dreamengine.engine.live import _Loop
    from dreamengine.errors import DreamengineError

    class Unplugged:
        def toggle_fullscreen(self) -> None:
            raise DreamengineError("no monitor 2; monitors are 0: HDMI-1")

    from dreamengine.engine.surface import Surface

    surface = object.__new__(Surface)  # a window without a display
    surface.window = Unplugged()
    said: list[str] = []
    loop = SimpleNamespace(surface=surface, say=said.append, running=True)
    _Loop._act(loop, "fullscreen")  # type: ignore[arg-type]
    assert loop.running and said == ["fullscreen: no monitor 2; monitors are 0: HDMI-1"]


def test_the_summary_repeats_no_note_said_during_the_show() -> None:
    """A worker restart is said once as a note while the show runs; the end-of-run summary
    lists only what was not said yet (it repeated every one as a warning)."""
    from types import SimpleNamespace

    from dreamengine.engine.live import _Loop
    from dreamengine.engine.timing import StageTimer

    said: list[str] = []
    loop = object.__new__(_Loop)
    loop.say, loop.worker_errors, loop.stopped_said, loop.slow_frames = said.append, 0, False, 0
    loop.transport = SimpleNamespace(errors=["the dream process ended; restarted it"], resets=0)
    loop.pipeline = SimpleNamespace(index=10, timer=StageTimer(),
                                    show=SimpleNamespace(keyframes=3))
    loop.source = SimpleNamespace(overflows=0)
    loop._say_worker_messages()
    loop.transport.errors.append("not restarting again")  # came after the last frame
    assert said == ["note: the dream process ended; restarted it"]
    assert loop.summary(None).messages == ["not restarting again"]
