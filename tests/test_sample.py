"""Offline sampling (``dreamengine.dream.sample``) and the image-prior training recipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dreamengine.dream.sample import sample_images, sample_latents
from dreamengine.models import (
    ImagePrior,
    RefereeNet,
)
from dreamengine.sampler import SamplerConfig

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "priors" / "image"


def test_sample_images_shapes_and_determinism(prior: ImagePrior) -> None:
    a = sample_images(prior, {"dog": 1.0}, n=3, steps=4, seed=5, params=SamplerConfig())
    b = sample_images(prior, {"dog": 1.0}, n=3, steps=4, seed=5, params=SamplerConfig())
    assert len(a) == 3 and all(x.shape == (16, 16, 3) and x.dtype == np.uint8 for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], a[1])  # different seeds per chain
    assert len(sample_images(prior, {}, n=1, steps=2, seed=0, params=SamplerConfig())) == 1
    with pytest.raises(ValueError, match="n >= 1"):
        sample_images(prior, {"dog": 1.0}, n=0, steps=1, seed=0, params=SamplerConfig())


def test_chain_raises_target_log_probability(prior: ImagePrior) -> None:
    params = SamplerConfig(eps1=0.1, eps3=0.0, lr=0.05)
    k = prior.labels.index("bird")

    def log_p(h: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.log_softmax(prior.condition(prior.generator(h)), 1)[:, k]

    before = log_p(sample_latents(prior, {"bird": 1.0}, 4, 0, seed=1, params=params))
    after = log_p(sample_latents(prior, {"bird": 1.0}, 4, 30, seed=1, params=params))
    assert bool((after > before + 0.05).all())


# --- training recipes on a tiny synthetic data set (subprocesses, CPU, a few seconds each) ---

def make_dataset(root: Path, size: int = 16) -> Path:
    """A manifest with 3 labelled classes + unlabelled images, RGB and RGBA PNGs."""
    rng = np.random.default_rng(0)
    (root / "rgb").mkdir(parents=True)
    (root / "rgba").mkdir()
    rows = []
    for label in ("dog", "bird", "siren", None):
        for k in range(4):
            name = f"{label}_{k}"
            rgb = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
            Image.fromarray(rgb).save(root / "rgb" / f"{name}.png")
            alpha = np.full((size, size, 1), 255, np.uint8)
            alpha[:3] = 0
            Image.fromarray(np.concatenate([rgb, alpha], 2), "RGBA").save(
                root / "rgba" / f"{name}.png")
            rows.append({"path": f"rgb/{name}.png", "label": label,
                         "split": "val" if k == 0 else "train", "source": "synthetic",
                         "name": name, "group": name,
                         "rgba": f"rgba/{name}.png" if k % 2 else None})
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def run(script: str, *args: str | Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(RECIPES / script), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_training_recipes_end_to_end(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    ck = tmp_path / "ck"
    common = ["--data", data, "--threads", "1", "--log-every", "1"]
    gan = ["--out", ck / "gan_16", "--size", "16", "--latent-dim", "16", "--width", "32",
           "--d-width", "8", "--batch", "4", "--sample-every", "2", *common]
    assert "it 2/2" in run("train_gan.py", *gan, "--iters", "2")
    assert "resumed" in run("train_gan.py", *gan, "--iters", "3")  # resumes from last.pt
    assert (ck / "gan_16" / "samples_000002.png").is_file()
    out = run("train_prior.py", "--gan", ck / "gan_16" / "last.pt", "--out", ck / "prior_16",
              "--encoder-iters", "2", "--dae-iters", "2", "--batch", "4", "--hidden", "16",
              "--encoder-width", "8", *common)
    assert "real codes" in out
    for model, seed in (("condition", "0"), ("referee", "1")):
        out = run("train_condition.py", "--model", model, "--out", ck / f"{model}_16",
                  "--size", "16", "--width", "8", "--blocks", "2", "--batch", "8",
                  "--iters", "3", "--eval-every", "2", "--seed", seed, *common)
        assert "val_macro" in out
    bundle, referee = tmp_path / "b" / "prior.pt", tmp_path / "b" / "referee.pt"
    run("make_bundle.py", "--size", "16", "--checkpoints", ck, "--out", bundle,
        "--referee-out", referee)
    loaded = ImagePrior.load(bundle)
    assert loaded.trained and loaded.config.generator.size == 16
    assert "train_gan.py" in loaded.meta["training"]["generator"]["command"]
    assert RefereeNet.from_checkpoint(referee).meta["input_size"] == 16
    run("evaluate.py", "--bundle", bundle, "--referee", referee, "--data", data, "--out",
        tmp_path / "eval", "--n", "2", "--steps", "2", "--chain-steps", "250", "--threads", "1")
    figures = json.loads((tmp_path / "eval" / "figures.json").read_text())
    assert figures["chain"]["all"]["nan"] == 0 and set(figures["step_ms"]) == {"64", "128"}
