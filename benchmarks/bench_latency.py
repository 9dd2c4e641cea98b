"""Sound-to-screen latency through a virtual microphone: the fast path and the slow path.

    .venv/bin/python benchmarks/bench_latency.py [--onsets 50] [--switches 6] [--json]

Starts a private PulseAudio server with a virtual microphone (tests/pulse.py), then runs the live
pipeline on it in a child process: PortAudio capture, hearing, the dream worker and a headless
1280×720 render loop at 60 fps. It plays

1. ``--onsets`` clicks over silence, 0.6 s apart: the **fast path** is the time from the
   click's first sample arriving in the capture callback to the end of the first rendered
   frame whose onset pulse fired (median and p90; target ≤ 45 ms);
2. ``--switches`` siren bursts (the demo clip's siren) after 5 s of silence each: the **slow
   path** is the time from the siren's first sample arriving to the first rendered frame in
   which (a) the selection leads with ``siren`` and (b) the shown frame is judged ``siren``
   (by the referee, when a trained prior and ``priors/image/referee.pt`` are shipped).

"Arrival" is the capture callback's clock (PortAudio's own buffering before it is not seen);
"shown" is when the GPU finished the frame (``ctx.finish()``); a window adds its swap.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CLICK_GAP_S, LEAD_S, SIREN_GAP_S, SIREN_S = 0.6, 3.0, 5.0, 2.5


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--onsets", type=int, default=50)
    p.add_argument("--switches", type=int, default=6)
    p.add_argument("--json", action="store_true")
    p.add_argument("--child", type=float, default=0.0, help=argparse.SUPPRESS)
    return p.parse_args()


def stimulus(onsets: int, switches: int, sr: int = 48000) -> np.ndarray:
    """Clicks, then siren bursts, over digital silence."""
    import soundfile as sf

    from dreamengine.audio.synthetic import clicks
    from dreamengine.resources import demo_clip

    click_s = LEAD_S + onsets * CLICK_GAP_S
    out = [clicks([LEAD_S + k * CLICK_GAP_S for k in range(onsets)], click_s, sr, 0.5)]
    demo, demo_sr = sf.read(demo_clip(), dtype="float32")
    if demo.ndim > 1:
        demo = demo.mean(axis=1)
    from scipy.signal import resample_poly

    siren = resample_poly(demo[int(3.3 * demo_sr) : int((3.3 + SIREN_S) * demo_sr)], sr,
                          demo_sr).astype(np.float32)
    for _ in range(switches):
        out += [np.zeros(int(SIREN_GAP_S * sr), np.float32), siren]
    out.append(np.zeros(sr, np.float32))
    return np.concatenate(out)


def parent(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    import soundfile as sf
    from pulse import PulseServer

    if not PulseServer.available():
        sys.exit("bench_latency needs pulseaudio, pactl and paplay (scripts/system-deps.sh)")
    signal = stimulus(args.onsets, args.switches)
    pulse = PulseServer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "stimulus.wav"
            sf.write(wav, signal, 48000)
            seconds = len(signal) / 48000 + 3.0
            child = subprocess.Popen(
                [sys.executable, __file__, "--child", str(seconds),
                 "--onsets", str(args.onsets), "--switches", str(args.switches)],
                env={**pulse.env, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE, text=True)
            assert child.stdout is not None
            line = child.stdout.readline()  # "ready" once the microphone is open and warm
            if line.strip() != "ready":
                sys.exit(f"the live child did not start: {line}")
            player = pulse.play(wav)
            out, _ = child.communicate(timeout=seconds + 120)
            player.kill()
    finally:
        pulse.stop()
    figures = json.loads(out.strip().splitlines()[-1])
    if args.json:
        print(json.dumps(figures))
        return
    for name in ("fast_path", "slow_path_selection", "slow_path_shown"):
        f = figures[name]
        if "median_ms" in f:
            print(f"{name:22s} median {f['median_ms']:7.1f} ms   p90 {f['p90_ms']:7.1f} ms   "
                  f"({f['n']} of {f['expected']} events)")
        else:
            print(f"{name:22s} {f.get('note', 'no events')}")
    print(f"frames: {figures['frames']}, frame ms median {figures['frame_ms_p50']:.1f}, "
          f"overflows {figures['overflows']}, capture rate {figures['rate']:g} Hz, "
          f"judge: {figures['judge']}")


def child(args: argparse.Namespace) -> None:
    import torch
    import torch.nn.functional as F

    from dreamengine.audio.live import LiveSource
    from dreamengine.dream import start_worker
    from dreamengine.dream.state import Dream
    from dreamengine.engine import load_config
    from dreamengine.engine.build import load_models
    from dreamengine.engine.hearing import Hearing
    from dreamengine.engine.timing import StageTimer
    from dreamengine.models import RefereeNet
    from dreamengine.render import Renderer, create_headless_context, frame_params
    from dreamengine.resources import priors_dir

    torch.set_num_threads(1)
    config = load_config()
    models = load_models(config, torch.device("cpu"))
    # the worker first: a dream process takes seconds to start, and the input's ring holds 4 s
    worker = start_worker(Dream(models.image, config.sampler, 0, torch.device("cpu")),
                          config.dream.keyframes_per_s, config.dream.worker)
    source = LiveSource(config.audio, None)
    hearing = Hearing(source, config, models)
    ctx = create_headless_context()
    size = (1280, 720)
    renderer = Renderer(ctx, size, models.image.config.generator.size, config.render)
    side = models.image.config.generator.size
    renderer.push_keyframe(np.zeros((side, side, 3), np.uint8), 0.0)
    judge: Any = None
    judge_name = "none (untrained image prior: the shown frame is not judged)"
    referee = priors_dir() / "image" / "referee.pt"
    if models.image.trained and referee.is_file():
        judge, judge_name = RefereeNet.from_checkpoint(referee), "referee"
    siren = models.sound.config.labels.index("siren")
    timer = StageTimer()
    heard: list[np.ndarray] = []  # every sample read, so indices match the capture count
    for _ in range(30):  # warm up: the first reads and frames are slow
        hearing.until(0.0, timer)
        heard.append(hearing.heard)
        renderer.render(frame_params(config.render, 0.0, 1 / 60))
        ctx.finish()
    print("ready", flush=True)
    frames: list[dict[str, Any]] = []
    consumed = sum(len(h) for h in heard)
    start = last = time.monotonic()
    seq = 0
    while time.monotonic() - start < args.child:
        t0 = time.monotonic()
        selection = hearing.until(t0 - start, timer)
        heard.append(hearing.heard)
        consumed += len(hearing.heard)
        worker.request(selection.target)
        pub = worker.latest()
        if pub is not None and pub.seq != seq:
            seq = pub.seq
            renderer.push_keyframe(pub.keyframe.image, t0 - start)
        renderer.render(frame_params(config.render, t0 - start, t0 - last, hearing.drive))
        ctx.finish()
        done = time.monotonic()
        row = {"done": done, "consumed": consumed, "onsets": hearing.drive.onsets,
               "leads": bool(selection.target) and max(selection.target,
                                                        key=selection.target.get) == "siren"
               and int(np.argmax(selection.probs)) == siren}
        if judge is not None and len(frames) % 3 == 0 and row["leads"]:
            rgb = renderer.read()
            s = min(rgb.shape[:2])
            y0, x0 = (rgb.shape[0] - s) // 2, (rgb.shape[1] - s) // 2
            x = torch.from_numpy(np.ascontiguousarray(rgb[y0 : y0 + s, x0 : x0 + s]))
            x = x.permute(2, 0, 1)[None].float() / 127.5 - 1
            x = F.interpolate(x, size=(64, 64), mode="area")
            with torch.no_grad():
                row["shown"] = judge.labels[int(judge(x).argmax(1))] == "siren"
        frames.append(row)
        last = t0
        spare = 1 / 60 - (time.monotonic() - t0)
        if spare > 0:
            time.sleep(spare)
    worker.stop()
    audio = np.concatenate(heard)
    rate = float(source.rate)
    arrivals = np.array(list(source.arrivals), dtype=np.float64)
    source.close()

    def arrival_of(i16: int) -> float:
        """When the 16 kHz sample ``i16`` arrived (by the capture callback's clock)."""
        want = i16 * rate / config.audio.sr
        k = int(np.searchsorted(arrivals[:, 0], want, side="left"))
        return float(arrivals[min(k, len(arrivals) - 1), 1])

    starts = event_starts(audio, config.audio.sr)  # the clicks, then the sirens
    clicks, sirens = starts[: args.onsets], starts[args.onsets :]
    fast, sel, shown = [], [], []
    for i in clicks:
        t_in = arrival_of(i)
        hit = next((f["done"] for f in frames if f["consumed"] > i and f["onsets"]), None)
        if hit is not None and hit - t_in < CLICK_GAP_S:
            fast.append((hit - t_in) * 1000)
    for i in sirens:
        t_in = arrival_of(i)
        later = [f for f in frames if f["consumed"] > i and f["done"] - t_in < SIREN_S + 2]
        a = next((f["done"] for f in later if f["leads"]), None)
        b = next((f["done"] for f in later if f.get("shown")), None)
        if a is not None:
            sel.append((a - t_in) * 1000)
        if b is not None:
            shown.append((b - t_in) * 1000)
    times = np.diff([f["done"] for f in frames]) * 1000
    print(json.dumps({
        "fast_path": stats(fast, args.onsets), "slow_path_selection": stats(sel, args.switches),
        "slow_path_shown": stats(shown, args.switches) if judge is not None else {
            "note": judge_name},
        "frames": len(frames), "frame_ms_p50": float(np.median(times)),
        "overflows": source.overflows, "rate": rate, "judge": judge_name}))


def event_starts(audio: np.ndarray, sr: int, threshold: float = 0.02,
                 quiet_s: float = 0.3) -> list[int]:
    """Sample indices where sound starts after at least ``quiet_s`` of near-silence."""
    loud = np.flatnonzero(np.abs(audio) > threshold)
    if len(loud) == 0:
        return []
    gaps = np.diff(loud) > quiet_s * sr
    return [int(loud[0])] + [int(x) for x in loud[1:][gaps]]


def stats(ms: list[float], expected: int) -> dict[str, Any]:
    if not ms:
        return {"n": 0, "expected": expected}
    return {"median_ms": float(np.median(ms)), "p90_ms": float(np.percentile(ms, 90)),
            "n": len(ms), "expected": expected}


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    a = parse_args()
    child(a) if a.child else parent(a)
