"""Soak: ``dreamengine live`` on a virtual microphone for a long time, with a changing playlist.

    .venv/bin/python benchmarks/bench_soak.py [--minutes 30] [--size 1280x720] [--out DIR]

Starts a private PulseAudio server with a virtual microphone (tests/pulse.py), plays a playlist
into it in a loop (the demo clip, a siren, rain-like noise, a tone, clicks, silence, each for a
while), and runs ``dreamengine live --headless --stats`` on it. Prints frame-time percentiles,
memory at the start and the end (growth in %, target ≤ 5 %), audio overflows, slow frames
(over twice the 60 fps budget), recording drops and NaN resets, and draws ``soak.png``
(frame-time median and p99 and resident memory over time) into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--size", default="1280x720")
    p.add_argument("--out", type=Path, default=Path("out/soak"))
    p.add_argument("--record", action="store_true", help="also record (PNGs at 10 fps)")
    return p.parse_args()


def playlist(folder: Path, sr: int = 48000) -> list[Path]:
    import soundfile as sf
    from scipy.signal import lfilter

    from dreamengine.audio.synthetic import clicks, noise, sine
    from dreamengine.resources import demo_clip

    t = np.arange(int(8 * sr)) / sr
    items = {
        "siren.wav": 0.3 * np.sin(2 * np.pi * (700 + 300 * np.sin(2 * np.pi * 0.5 * t)) * t),
        "rain.wav": lfilter([0.3], [1, -0.8], noise(8.0, sr, 0.3, seed=4)),
        "tone.wav": sine(330, 8.0, sr, 0.3),
        "clicks.wav": clicks([0.25 * k for k in range(32)], 8.0, sr, 0.6),
        "silence.wav": np.zeros(int(5 * sr)),
    }
    paths = [demo_clip()]
    for name, x in items.items():
        path = folder / name
        sf.write(path, np.asarray(x, np.float32), sr)
        paths.append(path)
    return paths


def main() -> None:
    args = parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from pulse import PulseServer

    if not PulseServer.available():
        sys.exit("bench_soak needs pulseaudio, pactl and paplay (scripts/system-deps.sh)")
    args.out.mkdir(parents=True, exist_ok=True)
    stats = args.out / "stats.jsonl"
    stats.unlink(missing_ok=True)
    seconds = args.minutes * 60
    pulse = PulseServer()
    stop = threading.Event()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            songs = playlist(Path(tmp))

            def play_forever() -> None:
                k = 0
                while not stop.is_set():
                    player = pulse.play(songs[k % len(songs)])
                    while player.poll() is None and not stop.is_set():
                        time.sleep(0.1)
                    player.kill()
                    k += 1

            threading.Thread(target=play_forever, daemon=True).start()
            cmd = [sys.executable, "-m", "dreamengine", "live", "--headless", "--seconds",
                   str(seconds), "--size", args.size, "--stats", str(stats), "--osc", "off"]
            if args.record:
                cmd += ["--record", str(args.out / "session"), "--record-fps", "10"]
            started = time.monotonic()
            proc = subprocess.run(cmd, env={**pulse.env, "OMP_NUM_THREADS": "1"},
                                  capture_output=True, text=True, timeout=seconds + 600,
                                  check=False)
            wall = time.monotonic() - started
    finally:
        stop.set()
        pulse.stop()
    if proc.returncode != 0:
        sys.exit(f"live exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    rows = [json.loads(x) for x in stats.read_text().splitlines()]
    report(rows, proc.stderr, wall, args.out)


def report(rows: list[dict], log: str, wall: float, out: Path) -> None:
    if len(rows) < 2:
        sys.exit("too few stats lines: run for longer")
    rss = [r["rss_mb"] for r in rows if r["rss_mb"] is not None]
    base = rss[min(len(rss) - 1, 6)]  # after the first minute: imports and caches are in
    growth = 100.0 * (rss[-1] - base) / base
    p50 = float(np.median([r["frame_ms_p50"] for r in rows]))
    p99 = float(np.median([r["frame_ms_p99"] for r in rows]))
    worst = max(r["frame_ms_max"] for r in rows)
    last = rows[-1]
    print(f"ran {wall / 60:.1f} min ({last['t']:.0f} s of show), {len(rows)} stats windows")
    print(f"frame ms: median {p50:.1f}, p99 {p99:.1f} (ratio {p99 / p50:.2f}; target ≤ 2), "
          f"worst {worst:.0f}")
    dream = last.get("dream_rss_mb")
    print(f"memory (render and dream processes): {base:.0f} MB after the first minute → "
          f"{rss[-1]:.0f} MB at the end ({growth:+.1f} %; target ≤ 5 %)"
          + (f"; the dream process {dream:.0f} MB of it" if dream else ""))
    print(f"audio overflows {last['overflows']}, slow frames {last['slow_frames']}, "
          f"recording drops {last['dropped']}, NaN resets {last['nan_resets']}, "
          f"keyframes {last['keyframes']}")
    for line in log.splitlines():
        if line.startswith(("warning", "note", "showed")):
            print(f"  live: {line}")
    plot(rows, out / "soak.png")
    print(f"plot: {out / 'soak.png'}")


def plot(rows: list[dict], path: Path, width: int = 900, height: int = 420) -> None:
    """Two panels drawn with Pillow: frame ms (median, p99) and resident memory over time."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    t = np.array([r["t"] for r in rows]) / 60
    panels = [("frame ms (median blue, p99 red)",
               [([r["frame_ms_p50"] for r in rows], "blue"),
                ([r["frame_ms_p99"] for r in rows], "red")]),
              ("resident memory MB", [([r["rss_mb"] or 0 for r in rows], "black")])]
    h = (height - 40) // 2
    for k, (title, series) in enumerate(panels):
        top, left, right = 20 + k * (h + 10), 60, width - 20
        bottom = top + h - 20
        values = np.concatenate([np.asarray(s, float) for s, _ in series])
        lo, hi = 0.0, float(values.max()) * 1.1 or 1.0
        d.rectangle([left, top, right, bottom], outline="grey")
        d.text((left + 5, top + 2), title, fill="black")
        d.text((5, top), f"{hi:.0f}", fill="black")
        d.text((5, bottom - 10), f"{lo:.0f}", fill="black")
        span = max(float(t[-1] - t[0]), 1e-9)
        for ys, colour in series:
            pts = [(left + (right - left) * (x - t[0]) / span,
                    bottom - (bottom - top) * (y - lo) / (hi - lo)) for x, y in zip(t, ys,
                                                                                    strict=True)]
            d.line(pts, fill=colour, width=2)
    d.text((width // 2 - 30, height - 16), f"minutes (0 to {t[-1]:.1f})", fill="black")
    img.save(path)


if __name__ == "__main__":
    main()
