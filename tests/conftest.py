"""Shared fixtures: seeds, a headless GL context, tiny networks and temporary audio files."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from dreamengine.audio.synthetic import clicks, noise, sine


@pytest.fixture(autouse=True)
def _seeds() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def gl_ctx():
    """An EGL offscreen context; skipped locally without EGL, a failure when CI is set."""
    from dreamengine.errors import DreamengineError
    from dreamengine.render import create_headless_context

    try:
        ctx = create_headless_context()
    except DreamengineError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"EGL must work in CI: {exc}")
        pytest.skip(f"no EGL here: {exc}")
    yield ctx
    ctx.release()


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A 1.5 s, 22.05 kHz stereo WAV: a tone in one channel, clicks and noise in the other."""
    sr = 22050
    left = sine(440, 1.5, sr, 0.4)
    right = clicks([0.2, 0.7, 1.2], 1.5, sr) + noise(1.5, sr, 0.02)
    path = tmp_path / "clip.wav"
    sf.write(path, np.stack([left, right], axis=1), sr)
    return path
