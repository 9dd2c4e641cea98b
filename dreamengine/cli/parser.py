"""The argument parser: every subcommand, its options and their types."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dreamengine import __version__
from dreamengine.config import parse_assignments

DESCRIPTION = "dreamengine: hears sound events and dreams them on one evolving canvas."


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT such as 640x360, got {text!r}") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"size must be between 16 and 8192 per side, got {text!r}")
    return w, h


def _endpoint(text: str) -> tuple[str, int] | None:
    """``HOST:PORT``, ``PORT`` (on 127.0.0.1) or ``off``."""
    if text.lower() == "off":
        return None
    host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, PORT or off, got {text!r}")
    return (host.strip("[]") or "127.0.0.1"), number


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number, 0 or more, got {text!r}")
    return value


MAX_FPS = 1000.0  # frames per second no display, video or render needs more of


def _positive(kind: type, most: float = math.inf) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not 0 < value < math.inf:
            raise argparse.ArgumentTypeError(f"must be a finite positive number, got {text!r}")
        if value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most:g}, got {text!r}")
        return value
    return parse


def _add_config_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, metavar="TOML", help="config file (TOML)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config value, e.g. --set sampler.lr=0.1 (repeatable)")
    p.add_argument("--quiet", action="store_true", help="print only the result")
    p.add_argument("--vision", metavar="SPEC",
                   help="the canvas dream's network: centernet (shipped) or torchvision:ARCH")
    p.add_argument("--weights", type=Path, metavar="FILE",
                   help="weights for --vision torchvision:ARCH (a state dict you supply)")
    p.add_argument("--labels", type=Path, metavar="FILE",
                   help="ImageNet label file for --vision torchvision:ARCH "
                        "(default priors/imagenet_labels.toml)")


def config_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``--set`` assignments plus the options that are config keys under another name."""
    overrides: dict[str, Any] = parse_assignments(args.set)
    named = {"dream.vision": getattr(args, "vision", None),
             "paths.vision_weights": getattr(args, "weights", None),
             "paths.vision_labels": getattr(args, "labels", None)}
    overrides.update({k: str(v) for k, v in named.items() if v is not None})
    return overrides


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dreamengine", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"dreamengine {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    render = sub.add_parser("render", help="render an audio file to PNG frames, headless")
    render.add_argument("--input", type=Path, required=True, metavar="FILE", help="audio file")
    render.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    render.add_argument("--size", type=_size, default=(640, 360), metavar="WxH",
                        help="output size in pixels (default 640x360)")
    render.add_argument("--fps", type=_positive(float, MAX_FPS), default=30.0, metavar="N",
                        help="frames per second (default 30)")
    render.add_argument("--seconds", type=_positive(float), metavar="S",
                        help="render only the first S seconds (default: the whole file)")
    render.add_argument("--video", action="store_true",
                        help="also encode DIR/video.mp4 with the audio (needs ffmpeg)")
    render.add_argument("--force", action="store_true",
                        help="replace a session already in DIR (default: refuse)")
    _add_config_options(render)

    demo = sub.add_parser("demo", help="render the bundled demo clip (PNG frames and a video)")
    demo.add_argument("--out", type=Path, default=Path("out/demo"), metavar="DIR",
                      help="output folder (default out/demo)")
    demo.add_argument("--size", type=_size, default=(640, 360), metavar="WxH")
    demo.add_argument("--fps", type=_positive(float, MAX_FPS), default=30.0, metavar="N")
    demo.add_argument("--seconds", type=_positive(float), metavar="S")
    demo.add_argument("--force", action="store_true",
                      help="replace a session already in DIR (an earlier demo is replaced anyway)")
    _add_config_options(demo)

    live = sub.add_parser("live", help="show the dream of an input in a window, in real time",
                          epilog="keys in the window:\n" + key_help(),
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
    live.add_argument("--fps", type=_positive(float, MAX_FPS), default=60.0, metavar="N",
                      help="frame-rate cap (default 60)")
    live.add_argument("--record-fps", type=_positive(float, MAX_FPS), default=30.0, metavar="N",
                      help="frames per second written while recording (default 30)")
    live.add_argument("--camera", type=Path, metavar="DEVICE",
                      help="also send frames to a v4l2loopback device, e.g. /dev/video10")
    live.add_argument("--video", action="store_true",
                      help="with --record: encode DIR/video.mp4 with the audio afterwards")
    live.add_argument("--force", action="store_true",
                      help="with --record: replace a session already in DIR (default: record "
                           "beside it, in DIR-2, DIR-3 ...)")
    live.add_argument("--av-offset", type=_non_negative, default=0.0, metavar="MS",
                      help="with --play: delay the played audio by MS to match the picture")
    live.add_argument("--osc", type=_endpoint, default=("127.0.0.1", 9000),
                      metavar="HOST:PORT|off",
                      help="OSC control endpoint (default 127.0.0.1:9000; 0.0.0.0:PORT for the "
                           "network)")
    live.add_argument("--midi", metavar="NAME",
                      help="MIDI input to take control changes from (part of its name)")
    live.add_argument("--midi-map", type=Path, metavar="FILE",
                      help="MIDI map (default ~/.config/dreamengine/midi.toml)")
    live.add_argument("--presets", type=Path, metavar="DIR",
                      help="preset folder (default ~/.config/dreamengine/presets)")
    live.add_argument("--stats", type=Path, metavar="FILE",
                      help="append a JSON line of health figures (frame times, memory, "
                           "overflows, NaN resets, drops) every 10 s")
    live.add_argument("--preset-fade", type=_non_negative, default=2.0, metavar="S",
                      help="glide time of a recalled preset in seconds (0: cut; default 2)")
    _add_config_options(live)

    classify = sub.add_parser("classify", help="sound-event probabilities of audio files")
    classify.add_argument("files", type=Path, nargs="+", metavar="FILE")
    classify.add_argument("--json", action="store_true",
                          help="one JSON object per file per line (the default output)")
    classify.add_argument("--windows", action="store_true",
                          help="also give the vector of every analysis window over time")
    classify.add_argument("--quiet", action="store_true", help="no progress on stderr")
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
    sample.add_argument("--size", type=_positive(int), default=None, metavar="PX",
                        help="canvas side of the canvas dream, a multiple of 32 (default 256: "
                        "judged blind twice as recognisable as the live 192 px canvas)")
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
    replay.add_argument("--force", action="store_true",
                        help="replace a session already in DIR (default: refuse)")
    replay.add_argument("--quiet", action="store_true", help="print only the result")

    bench = sub.add_parser("bench", help="time each pipeline stage and print a table")
    bench.add_argument("--json", action="store_true", help="print one JSON object instead")
    bench.add_argument("--config", type=Path, metavar="TOML", help="config file (TOML)")
    bench.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    osc = sub.add_parser("osc", help="send one OSC message to a running `live` and print replies",
                         epilog="examples: dreamengine osc /dreamengine/sampler/eps2 1.5; "
                                "dreamengine osc /dreamengine/state; "
                                "dreamengine osc /dreamengine/subscribe --watch")
    osc.add_argument("address", help="an address such as /dreamengine/weight/bird")
    osc.add_argument("args", nargs="*", help="arguments: whole numbers, numbers, or text")
    osc.add_argument("--to", type=_endpoint, default=("127.0.0.1", 9000), metavar="HOST:PORT",
                     help="where live listens (default 127.0.0.1:9000)")
    osc.add_argument("--wait", type=_non_negative, default=0.5, metavar="S",
                     help="seconds to wait for replies (default 0.5)")
    osc.add_argument("--watch", action="store_true",
                     help="keep printing what arrives until Ctrl-C (after /subscribe)")

    config = sub.add_parser("config", help="print every parameter with its value and unit (TOML)")
    config.add_argument("--out", type=Path, metavar="FILE", help="write it to FILE instead")
    config.add_argument("--classes", action="store_true",
                        help="list the image classes of every vision network (eye) instead, "
                             "one per line, as the class map and --class name them")
    _add_config_options(config)
    return parser


def key_help() -> str:
    from dreamengine.controls.keys import help_text

    return help_text()
