"""Long files: ``classify`` a whole set and start ``render`` / ``live`` on it, memory and time.

    .venv/bin/python benchmarks/bench_long_file.py [--hours 3] [--out DIR]

Writes a WAV of ``--hours`` hours (44.1 kHz stereo, the demo clip looped with varying gain, so
the decoder resamples and mixes down as for a real recording), then runs, each as its own
process: ``classify`` of the whole file, ``render --seconds 4`` and
``live --headless --seconds 4``. Prints wall time and peak resident memory of each, next to the
file's size. Targets (the venue issue): memory under ~300 MB above the interpreter's own
whatever the length, and start-up that does not depend on the length.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent


def write_long_wav(path: Path, hours: float, sr: int = 44100) -> None:
    """The demo clip over and over, block by block (never the whole file in memory)."""
    from dreamengine.audio.file import read_audio
    from dreamengine.resources import demo_clip

    clip = read_audio(demo_clip(), sr)
    total = int(hours * 3600 * sr)
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", sr, 2, "PCM_16") as f:
        done = 0
        while done < total:
            part = clip[: total - done] * rng.uniform(0.2, 0.9)
            f.write(np.stack([part, part * 0.8], axis=1))
            done += len(part)


def run(cmd: list[str]) -> tuple[float, float, int]:
    """(wall s, peak RSS MB of that child alone, exit code) of one command."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        if proc.returncode:
            err.seek(0)
            print(err.read().decode(errors="replace")[-2000:], file=sys.stderr)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--out", type=Path, help="folder for the WAV and outputs (default: temp)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="dreamengine-long-"))
    out.mkdir(parents=True, exist_ok=True)
    wav = out / "set.wav"
    t0 = time.perf_counter()
    write_long_wav(wav, args.hours)
    print(f"wrote {wav} ({wav.stat().st_size / 1e9:.2f} GB, {args.hours:g} h) in "
          f"{time.perf_counter() - t0:.0f} s")
    exe = [sys.executable, "-m", "dreamengine"]
    short = out / "short.wav"
    write_long_wav(short, 60 / 3600)
    print("| command | input | wall s | peak RSS MB | exit |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, path in (("1 min", short), (f"{args.hours:g} h", wav)):
        rows = [
            ("render --seconds 4", ["render", "--input", str(path), "--seconds", "4", "--size",
                                    "320x180", "--out", str(out / "render"), "--quiet"]),
            ("live --headless --seconds 4", ["live", "--headless", "--input", str(path),
                                             "--seconds", "4", "--size", "320x180", "--quiet"]),
            ("classify (whole file)", ["classify", str(path), "--quiet"]),
        ]
        for command, cmd in rows:
            wall, peak, code = run([*exe, *cmd])
            print(f"| {command} | {name} | {wall:.1f} | {peak:.0f} | {code} |", flush=True)


if __name__ == "__main__":
    main()
