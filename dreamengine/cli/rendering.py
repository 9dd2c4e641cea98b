"""Commands that render: ``render``, ``demo``, ``live``, ``replay`` and ``bench``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from dreamengine.cli.parser import config_overrides
from dreamengine.cli.progress import Progress
from dreamengine.errors import DreamengineError


def sayer(quiet: bool) -> Callable[[str], None]:
    """Progress and notes go to stderr unless ``--quiet``; results go to stdout."""

    def say(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr)

    return say


def render_command(args: argparse.Namespace) -> int:
    """``render`` and ``demo`` (the bundled clip, with a video)."""
    from dreamengine.engine import RenderRequest, load_config, render_file

    if args.command == "demo":
        from dreamengine.resources import demo_clip

        args.input, args.video = demo_clip(), True
        args.force = args.force or _holds_demo(args.out, demo_clip())
    args.out = _claim(args.out, "replace" if args.force else "refuse")

    config = load_config(args.config, config_overrides(args))
    request = RenderRequest(args.input, args.out, args.size, args.fps, args.seconds)
    say = sayer(args.quiet)

    t0 = time.perf_counter()
    bar = Progress("render", "frames", args.quiet)
    try:
        summary = render_file(config, request, progress=bar.update)
    finally:
        bar.close()
    for warning in summary.warnings:
        say(f"note: {warning}")
    elapsed = time.perf_counter() - t0
    say(f"rendered {summary.frames} frames ({summary.keyframes} keyframes) in {elapsed:.1f} s")
    _report_output(args.out, say)
    if args.video:
        _video(args.out, args.fps, args.input, summary.frames, say)
    return 0


def live_command(args: argparse.Namespace) -> int:
    import os

    say = sayer(args.quiet)
    if args.list_devices:
        return _list_devices()
    from dreamengine.engine import load_config
    from dreamengine.engine.surface import LiveRequest, Surface
    from dreamengine.resources import demo_clip

    config = load_config(args.config, config_overrides(args))
    source = args.input
    if source is None and args.device is not None:
        _named_input_device(args.device)  # a device asked for by name must exist: exit 2
    elif source is None and not _input_device_available(None, say):
        source = demo_clip()
        say(f"WARNING: no microphone: playing the bundled demo clip instead: {source}")
    headless = args.headless
    if not headless and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        headless = True
        say("note: no display (DISPLAY is not set): rendering offscreen instead of a window")
    record = args.record
    if headless and record is None and args.stats is None:
        record = Path("out") / time.strftime("live-%Y%m%d-%H%M%S")
        say(f"note: headless with nothing to show on: recording to {record}")
    if record is not None:
        asked, record = record, _claim(record, "replace" if args.force else "beside")
        if record != asked:
            say(f"note: {asked} already holds a recorded session: recording to {record} "
                "(--force replaces it)")
    from dreamengine.controls.presets import presets_dir

    midi_map = args.midi_map or presets_dir().parent / "midi.toml"
    request = LiveRequest(source, args.size, headless, record, args.seconds, args.fullscreen,
                          args.monitor, args.fps, args.record_fps, args.camera, args.device,
                          args.play, args.av_offset, args.osc, args.midi, midi_map, args.presets,
                          args.preset_fade, args.stats)
    surface = None
    if not headless and config.dream.vision == "centernet":  # torchvision must load before GL
        surface = Surface(request)  # opened before torch loads: a picture within moments
        surface.loading()
    from dreamengine.engine.live import run_live

    summary = run_live(config, request, say, surface)
    for message in summary.messages:
        say(f"warning: {message}")
    p = summary.frame_ms
    say(f"showed {summary.frames} frames, {summary.keyframes} keyframes; frame time median "
        f"{p.get('p50', 0):.1f} ms, p99 {p.get('p99', 0):.1f} ms; {summary.slow_frames} slow "
        f"frames (over twice the budget), {summary.nan_resets} NaN resets")
    if summary.recording is not None and record is not None:
        rec = summary.recording
        say(f"recorded {rec.written} frames ({rec.dropped} dropped) to {record.resolve()}")
        _report_output(record, say)
        if args.video and rec.written:
            heard = record / "audio.wav"
            _video(record, args.record_fps, heard if heard.is_file() else None, rec.written, say)
    return 0


def _named_input_device(device: str) -> None:
    """Check that the input device named on the command line exists; an error lists them."""
    try:
        from dreamengine.audio.live import find_input_device

        find_input_device(device)
    except OSError as exc:  # PortAudio itself is missing
        raise DreamengineError(f"cannot open input device {device!r}: {exc}") from None


def _input_device_available(device: str | None, say: Callable[[str], None]) -> bool:
    """True when the input device can be found; otherwise says what is missing."""
    try:
        from dreamengine.audio.live import find_input_device

        find_input_device(device)
        return True
    except (DreamengineError, OSError) as exc:  # OSError: PortAudio itself is missing
        say(f"note: no microphone: {exc}")
        return False


def _list_devices() -> int:
    from dreamengine.audio.live import describe_devices, list_input_devices

    devices = list_input_devices()
    if not devices:
        print(describe_devices(devices))
    for d in devices:
        print(f"{d.index:3d}  {d.name}  ({d.channels} ch, {d.default_sr:g} Hz)")
    return 0


def replay_command(args: argparse.Namespace) -> int:
    import json

    from dreamengine.engine import replay_session

    say = sayer(args.quiet)
    if args.out.resolve() != args.session.resolve():  # that one is refused with its own reason
        args.out = _claim(args.out, "replace" if args.force else "refuse")

    t0 = time.perf_counter()
    bar = Progress("replay", "frames", args.quiet)
    try:
        summary = replay_session(args.session, args.out, args.size, bar.update)
    finally:
        bar.close()
    say(f"replayed {summary.frames} frames ({summary.keyframes} keyframes) in "
        f"{time.perf_counter() - t0:.1f} s")
    _report_output(args.out, say)
    if args.video:
        meta = json.loads((args.session / "session.json").read_text())
        heard = args.session / "audio.wav"
        source = meta.get("input")  # sessions before 2026-12-08 wrote "None" for a microphone
        audio = heard if heard.is_file() else Path(source) if source not in (None, "None") \
            else None
        if audio is None:
            say(f"note: {heard} is gone and the session was heard live; the video is silent")
        _video(args.out, float(meta.get("fps") or 30.0), audio, summary.frames, say)
    return 0


def _claim(folder: Path, existing: str) -> Path:
    """The folder to write a session to; see :func:`recording.claim_session_dir`."""
    from dreamengine.recording import claim_session_dir

    return claim_session_dir(folder, existing)


def _holds_demo(folder: Path, clip: Path) -> bool:
    """True when ``folder`` holds an earlier ``demo`` (a render of the bundled clip)."""
    import json

    try:
        meta = json.loads((folder / "session.json").read_text())
        return Path(meta["input"]).resolve() == clip.resolve()
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _report_output(out_dir: Path, say: Callable[[str], None]) -> None:
    out = out_dir.resolve()
    print(f"frames: {out}/frame_*.png  log: {out}/frames.jsonl")


def _video(out_dir: Path, fps: float, audio: Path | None, frames: int,
           say: Callable[[str], None]) -> None:
    from dreamengine.recording import encode_video, ffmpeg_available

    if not ffmpeg_available():
        say("note: ffmpeg is not installed, so no video was written")
        return
    if audio is not None and not audio.is_file():
        say(f"note: the audio {audio} is gone; the video is silent")
        audio = None
    video = encode_video(out_dir, fps, out_dir / "video.mp4", audio=audio, seconds=frames / fps)
    print(f"video: {video.resolve()}")


def bench_command(args: argparse.Namespace) -> int:
    import json

    from dreamengine.engine import load_config
    from dreamengine.engine.bench import format_table, run_all

    figures = run_all(load_config(args.config, config_overrides(args)))
    print(json.dumps(figures) if args.json else format_table(figures))
    return 0
