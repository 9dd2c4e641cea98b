"""Shared fixtures: seeds, a headless GL context, tiny networks and temporary audio files."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

# torchvision pulls in triton, whose bundled LLVM segfaults on import once Mesa's llvmpipe (a
# GL context) is loaded in the same process. The product always loads its networks before GL;
# the tests mix both in one process, so torchvision comes first here.
import torchvision  # noqa: F401 - imported for its side effect, see above

from dreamengine.audio.synthetic import clicks, noise, sine


@pytest.fixture(autouse=True)
def _seeds() -> None:
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(1)


@pytest.fixture
def trained_norms():
    """Gives batch norms the non-trivial statistics of a trained net (in place); → the model."""

    def fill(model: torch.nn.Module) -> torch.nn.Module:
        for norm in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            norm.running_mean.uniform_(-0.5, 0.5)
            norm.running_var.uniform_(0.5, 2.0)
            norm.weight.data.uniform_(0.5, 1.5)
            norm.bias.data.uniform_(-0.2, 0.2)
        return model.eval()

    return fill


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


def tiny_prior_config():
    """An image prior small enough for unit tests: 16-dim latent, 16 px images."""
    from dreamengine.models import (
        ConditionConfig,
        GeneratorConfig,
        ImagePriorConfig,
        LatentPriorConfig,
    )

    return ImagePriorConfig(GeneratorConfig(latent_dim=16, size=16, width=32),
                            LatentPriorConfig(latent_dim=16, hidden=32),
                            ConditionConfig(width=8, blocks=2))


@pytest.fixture
def prior():
    """A tiny random image prior whose condition net has distinguishable classes."""
    from dreamengine.models import ImagePrior

    prior = ImagePrior.random(tiny_prior_config(), seed=0)
    with torch.no_grad():  # a random head is nearly flat; make its classes distinguishable
        prior.condition.head.weight.mul_(30.0)
    return prior


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A 1.5 s, 22.05 kHz stereo WAV: a tone in one channel, clicks and noise in the other."""
    sr = 22050
    left = sine(440, 1.5, sr, 0.4)
    right = clicks([0.2, 0.7, 1.2], 1.5, sr) + noise(1.5, sr, 0.02)
    path = tmp_path / "clip.wav"
    sf.write(path, np.stack([left, right], axis=1), sr)
    return path


@pytest.fixture(scope="session")
def xvfb_display():
    """A private Xvfb server for window tests: ``DISPLAY`` value; skipped locally without Xvfb,
    a failure when CI is set. Stopped by PID at the end of the session."""
    import shutil
    import subprocess

    binary = shutil.which("Xvfb")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("Xvfb must be installed in CI (scripts/system-deps.sh)")
        pytest.skip("Xvfb is not installed")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([binary, "-displayfd", str(write_fd), "-screen", "0", "1280x720x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        number = f.readline().strip()
    if not number:
        proc.kill()
        pytest.fail("Xvfb did not start")
    yield f":{number}"
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
