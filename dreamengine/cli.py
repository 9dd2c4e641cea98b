"""The ``dreamengine`` command line: parses argv, builds the engine, turns errors into exit codes.

Bad input (a missing file, an unknown config key, an unwritable folder) prints one line naming
the culprit and exits with status 2; it never shows a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from dreamengine import __version__
from dreamengine.config import parse_assignments
from dreamengine.errors import DreamengineError

EXIT_USAGE = 2


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT such as 640x360, got {text!r}") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"size must be between 16 and 8192 per side, got {text!r}")
    return w, h


def _positive(kind: type) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
        return value
    return parse


def _add_config_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, metavar="TOML", help="config file (TOML)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config value, e.g. --set sampler.lr=0.1 (repeatable)")
    p.add_argument("--quiet", action="store_true", help="print only the result")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dreamengine", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"dreamengine {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    render = sub.add_parser("render", help="render an audio file to PNG frames, headless")
    render.add_argument("--input", type=Path, required=True, metavar="FILE", help="audio file")
    render.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    render.add_argument("--size", type=_size, default=(640, 360), metavar="WxH",
                        help="output size in pixels (default 640x360)")
    render.add_argument("--fps", type=_positive(float), default=30.0, metavar="N",
                        help="frames per second (default 30)")
    render.add_argument("--seconds", type=_positive(float), metavar="S",
                        help="render only the first S seconds (default: the whole file)")
    render.add_argument("--video", action="store_true",
                        help="also encode DIR/video.mp4 with the audio (needs ffmpeg)")
    _add_config_options(render)

    demo = sub.add_parser("demo", help="render the bundled demo clip (PNG frames and a video)")
    demo.add_argument("--out", type=Path, default=Path("out/demo"), metavar="DIR",
                      help="output folder (default out/demo)")
    demo.add_argument("--size", type=_size, default=(640, 360), metavar="WxH")
    demo.add_argument("--fps", type=_positive(float), default=30.0, metavar="N")
    demo.add_argument("--seconds", type=_positive(float), metavar="S")
    _add_config_options(demo)

    live = sub.add_parser("live", help="show the dream of an input in a window, in real time",
                          epilog="keys in the window:\n" + _key_help(),
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    live.add_argument("--input", type=Path, metavar="FILE",
                      help="audio file played in real time (default: the microphone)")
    live.add_argument("--device", metavar="NAME|INDEX",
                      help="input device, by index or part of its name (default: the default one)")
    live.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    live.add_argument("--play", action="store_true",
                      help="with --input: also play the file on the speakers")
    live.add_argument("--record", type=Path, metavar="DIR",
                      help="record a replayable session (PNG frames, frames.jsonl, latents)")
    live.add_argument("--headless", action="store_true", help="no window: render offscreen")
    live.add_argument("--size", type=_size, default=(1280, 720), metavar="WxH",
                      help="window or frame size (default 1280x720)")
    live.add_argument("--seconds", type=_positive(float), metavar="S",
                      help="stop after S seconds (default: at the end of the input)")
    live.add_argument("--fullscreen", action="store_true", help="take a whole monitor")
    live.add_argument("--monitor", type=int, default=0, metavar="N", help="monitor for fullscreen")
    live.add_argument("--fps", type=_positive(float), default=60.0, metavar="N",
                      help="frame-rate cap (default 60)")
    live.add_argument("--record-fps", type=_positive(float), default=30.0, metavar="N",
                      help="frames per second written while recording (default 30)")
    live.add_argument("--camera", type=Path, metavar="DEVICE",
                      help="also send frames to a v4l2loopback device, e.g. /dev/video10")
    live.add_argument("--video", action="store_true",
                      help="with --record: encode DIR/video.mp4 with the audio afterwards")
    _add_config_options(live)

    classify = sub.add_parser("classify", help="sound-event probabilities of audio files")
    classify.add_argument("files", type=Path, nargs="+", metavar="FILE")
    classify.add_argument("--json", action="store_true",
                          help="one JSON object per file per line (the default output)")
    classify.add_argument("--windows", action="store_true",
                          help="also give the vector of every analysis window over time")
    classify.add_argument("--config", type=Path, metavar="TOML", help="config file (TOML)")
    classify.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    sample = sub.add_parser("sample", help="PPGN samples of image classes from fresh latents")
    sample.add_argument("--class", dest="classes", action="append", required=True,
                        metavar="LABEL[:WEIGHT]", help="an image class, repeatable to mix them")
    sample.add_argument("--n", type=_positive(int), default=4, metavar="N",
                        help="samples (seeds) to draw (default 4)")
    sample.add_argument("--steps", type=int, default=200, metavar="S",
                        help="PPGN steps per sample (default 200)")
    sample.add_argument("--seed", type=int, default=0, metavar="SEED")
    sample.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    _add_config_options(sample)

    replay = sub.add_parser("replay", help="re-render a recorded session at any size")
    replay.add_argument("session", type=Path, metavar="SESSION_DIR",
                        help="a folder written by render or live --record")
    replay.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    replay.add_argument("--size", type=_size, metavar="WxH",
                        help="output size (default: the recorded size), e.g. 3840x2160")
    replay.add_argument("--video", action="store_true",
                        help="also encode DIR/video.mp4 with the session's audio (needs ffmpeg)")
    replay.add_argument("--quiet", action="store_true", help="print only the result")

    bench = sub.add_parser("bench", help="time each pipeline stage and print a table")
    bench.add_argument("--json", action="store_true", help="print one JSON object instead")
    bench.add_argument("--config", type=Path, metavar="TOML", help="config file (TOML)")
    bench.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "bench":
            return _bench(args)
        if args.command == "replay":
            return _replay(args)
        if args.command == "live":
            return _live(args)
        if args.command == "classify":
            return _classify(args)
        if args.command == "sample":
            return _sample(args)
        if args.command == "demo":
            from dreamengine.resources import demo_clip

            args.input, args.video = demo_clip(), True
        return _render(args)
    except DreamengineError as exc:
        print(f"dreamengine: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dreamengine: interrupted", file=sys.stderr)
        return 130


def _render(args: argparse.Namespace) -> int:
    from dreamengine.engine import RenderRequest, load_config, render_file

    config = load_config(args.config, parse_assignments(args.set))
    request = RenderRequest(args.input, args.out, args.size, args.fps, args.seconds)
    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr)

    t0 = time.perf_counter()
    summary = render_file(config, request, progress=_progress_printer(say))
    for warning in summary.warnings:
        say(f"note: {warning}")
    elapsed = time.perf_counter() - t0
    say(f"rendered {summary.frames} frames ({summary.keyframes} keyframes) in {elapsed:.1f} s")
    _report_output(args.out, say)
    if args.video:
        _video(args.out, args.fps, args.input, summary.frames, say)
    return 0


def _classify(args: argparse.Namespace) -> int:
    import json

    from dreamengine.engine import load_config
    from dreamengine.engine.build import load_sound_model
    from dreamengine.engine.classify import classify_file

    config = load_config(args.config, parse_assignments(args.set))
    warnings: list[str] = []
    model = load_sound_model(config, warnings)
    for warning in warnings:
        print(f"dreamengine: note: {warning}", file=sys.stderr)
    failed = 0
    for path in args.files:
        try:
            result = classify_file(path, config, model)
        except DreamengineError as exc:
            failed += 1
            print(json.dumps({"file": str(path), "error": str(exc)}), flush=True)
            print(f"dreamengine: error: {exc}", file=sys.stderr)
            continue
        record: dict[str, object] = {"file": str(path), "probs": _rounded(result.labels,
                                                                          result.probs)}
        if args.windows:
            record["windows"] = [{"t": round(float(t), 3), "probs": _rounded(result.labels, p)}
                                 for t, p in zip(result.window_times, result.window_probs,
                                                 strict=True)]
        print(json.dumps(record), flush=True)
    return 1 if failed else 0


def parse_class_weights(items: list[str], labels: tuple[str, ...]) -> dict[str, float]:
    """``["dog", "bird:0.5"]`` → ``{"dog": 1.0, "bird": 0.5}``, checked against ``labels``."""
    target: dict[str, float] = {}
    for item in items:
        name, _, weight = item.partition(":")
        if name not in labels:
            raise DreamengineError(f"unknown class {name!r}; known: {', '.join(labels)}")
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            raise DreamengineError(f"class weight must be a number: {item!r}") from None
        if value < 0:
            raise DreamengineError(f"class weight must be >= 0: {item!r}")
        target[name] = target.get(name, 0.0) + value
    return target


def _sample(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    from dreamengine.engine import load_config
    from dreamengine.engine.build import load_image_prior, resolve_device
    from dreamengine.engine.sample import sample_images
    from dreamengine.recording import FrameLog, atomic_write_bytes, encode_png, prepare_output_dir

    config = load_config(args.config, parse_assignments(args.set))
    if args.steps < 0:
        raise DreamengineError(f"--steps must be >= 0, got {args.steps}")
    torch.set_num_threads(config.dream.torch_threads)
    warnings: list[str] = []
    prior, _ = load_image_prior(config, resolve_device(config.dream.device), warnings)
    for warning in warnings:
        print(f"dreamengine: note: {warning}", file=sys.stderr)
    target = parse_class_weights(args.classes, prior.labels)
    out = prepare_output_dir(args.out)
    images = sample_images(prior, target, args.n, args.steps, args.seed, config.sampler)
    stem = "_".join(sorted(target))
    with FrameLog(out / "frames.jsonl") as log:
        for i, image in enumerate(images):
            name = f"{stem}_{i:03d}.png"
            atomic_write_bytes(out / name, encode_png(image))
            log.write({"file": name, "index": i, "seed": args.seed, "target": target,
                       "steps": args.steps, "sampler": dataclasses.asdict(config.sampler)})
    print(f"samples: {out.resolve()}/{stem}_*.png  log: {out.resolve()}/frames.jsonl")
    return 0


def _rounded(labels: tuple[str, ...], probs: Iterable[float]) -> dict[str, float]:
    return {name: round(float(p), 4) for name, p in zip(labels, probs, strict=True)}


def _key_help() -> str:
    from dreamengine.engine.keys import help_text

    return help_text()


def _live(args: argparse.Namespace) -> int:
    import os

    from dreamengine.engine import load_config
    from dreamengine.engine.live import LiveRequest, run_live
    from dreamengine.resources import demo_clip

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr)

    if args.list_devices:
        return _list_devices()
    config = load_config(args.config, parse_assignments(args.set))
    source = args.input
    if source is None and not _input_device_available(args.device, say):
        source = demo_clip()
        say(f"note: playing the bundled demo clip instead: {source}")
    headless = args.headless
    if not headless and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        headless = True
        say("note: no display (DISPLAY is not set): rendering offscreen instead of a window")
    record = args.record
    if headless and record is None:
        record = Path("out") / time.strftime("live-%Y%m%d-%H%M%S")
        say(f"note: headless with nothing to show on: recording to {record}")
    request = LiveRequest(source, args.size, headless, record, args.seconds, args.fullscreen,
                          args.monitor, args.fps, args.record_fps, args.camera, args.device,
                          args.play)
    summary = run_live(config, request, say)
    for message in summary.messages:
        say(f"warning: {message}")
    p = summary.frame_ms
    say(f"showed {summary.frames} frames, {summary.keyframes} keyframes; frame time median "
        f"{p.get('p50', 0):.1f} ms, p99 {p.get('p99', 0):.1f} ms")
    if summary.recording is not None and record is not None:
        rec = summary.recording
        say(f"recorded {rec.written} frames ({rec.dropped} dropped) to {record.resolve()}")
        _report_output(record, say)
        if args.video and rec.written:
            heard = record / "audio.wav"
            _video(record, args.record_fps, heard if heard.is_file() else None, rec.written, say)
    return 0


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


def _replay(args: argparse.Namespace) -> int:
    import json

    from dreamengine.engine import replay_session

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr)

    t0 = time.perf_counter()
    summary = replay_session(args.session, args.out, args.size, _progress_printer(say))
    say(f"replayed {summary.frames} frames ({summary.keyframes} keyframes) in "
        f"{time.perf_counter() - t0:.1f} s")
    _report_output(args.out, say)
    if args.video:
        meta = json.loads((args.session / "session.json").read_text())
        heard = args.session / "audio.wav"
        audio = heard if heard.is_file() else Path(meta["input"]) if meta.get("input") else None
        _video(args.out, float(meta.get("fps") or 30.0), audio, summary.frames, say)
    return 0


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


def _bench(args: argparse.Namespace) -> int:
    import json

    from dreamengine.engine import load_config
    from dreamengine.engine.bench import format_table, run_all

    figures = run_all(load_config(args.config, parse_assignments(args.set)))
    print(json.dumps(figures) if args.json else format_table(figures))
    return 0


def _progress_printer(say: Callable[[str], None]) -> Callable[[int, int], None]:
    state = {"last": -1}

    def progress(done: int, total: int) -> None:
        percent = 100 * done // total
        if percent // 10 != state["last"] // 10 or done == total:
            state["last"] = percent
            say(f"  {done}/{total} frames")

    return progress
