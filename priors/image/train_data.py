"""Shared pieces of the image-prior training recipes (train_gan, train_prior, train_condition).

Reads ``data/image/manifest.jsonl`` into uint8 tensors, picks the device, prints progress with
iterations per second, saves sample grids and writes resumable checkpoints. The networks come
from ``dreamengine.models``; nothing here defines a model.
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from dreamengine.checkpoint import save_checkpoint


def read_manifest(data: Path, splits: tuple[str, ...] = ("train", "val"),
                  labelled: bool = False) -> list[dict[str, Any]]:
    """Rows of ``data/manifest.jsonl`` in ``splits`` (only labelled ones if ``labelled``)."""
    rows = [json.loads(line) for line in (data / "manifest.jsonl").read_text().splitlines()
            if line.strip()]
    return [r for r in rows if r["split"] in splits and (r.get("label") or not labelled)]


def load_pixels(data: Path, rows: list[dict[str, Any]], size: int,
                rgba: bool = False) -> torch.Tensor:
    """``[N, 3, size, size]`` uint8 RGB (or ``[N, 4, ...]`` RGBA objects when ``rgba``; rows
    without an RGBA file get their RGB image with an opaque alpha)."""
    out = torch.empty(len(rows), 4 if rgba else 3, size, size, dtype=torch.uint8)
    for i, row in enumerate(rows):
        path = data / (row.get("rgba") or row["path"]) if rgba else data / row["path"]
        with Image.open(path) as file:
            im = file.convert("RGBA" if rgba else "RGB")
        if im.size != (size, size):
            im = im.resize((size, size), Image.Resampling.LANCZOS)
        out[i] = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)
    return out


def to_unit(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 ``[B, C, S, S]`` → float32 in [-1, 1]."""
    return pixels.float().div(127.5).sub(1.0)


def pick_device(name: str, threads: int) -> torch.device:
    """``auto`` → CUDA when present, else the CPU with ``threads`` torch threads."""
    torch.set_num_threads(threads)
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8) -> None:
    """Images ``[B, 3, S, S]`` in [-1, 1] → one PNG grid, ``nrow`` images per row."""
    b, _, s, _ = images.shape
    rows = (b + nrow - 1) // nrow
    grid = torch.full((3, rows * s, nrow * s), -1.0)
    for i, image in enumerate(images.detach().float().cpu().clamp(-1, 1)):
        r, c = divmod(i, nrow)
        grid[:, r * s:(r + 1) * s, c * s:(c + 1) * s] = image
    pixels = ((grid + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def command_line() -> str:
    """The command that started this script, for checkpoint metadata and the model card."""
    return " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])


def load_state(path: Path) -> dict[str, Any] | None:
    """A training checkpoint written by :func:`save_state`, or None when there is none."""
    if not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    assert isinstance(state, dict)
    return state


def save_state(path: Path, state_dict: dict[str, Any], config: dict[str, Any],
               meta: dict[str, Any]) -> None:
    """Atomically write ``{state_dict, config, meta}`` (loadable with weights_only=True)."""
    save_checkpoint({"state_dict": state_dict, "config": config, "meta": meta}, path)


class Progress:
    """Prints ``it N/M  x.x it/s  eta ...  name value ...`` every ``every`` iterations and
    says when a checkpoint is due (every ``save_s`` seconds)."""

    def __init__(self, total: int, start: int, every: int, save_s: float) -> None:
        self.total, self.every, self.save_s = total, every, save_s
        self.t0 = self.t_save = time.monotonic()
        self.it0 = start

    def rate(self, it: int) -> float:
        return (it - self.it0) / max(1e-9, time.monotonic() - self.t0)

    def log(self, it: int, **values: float) -> None:
        if it % self.every and it != self.total:
            return
        rate = self.rate(it)
        eta = (self.total - it) / rate if rate > 0 else float("inf")
        text = "  ".join(f"{k} {v:.4g}" for k, v in values.items())
        print(f"it {it}/{self.total}  {rate:.2f} it/s  eta {eta / 60:.1f} min  {text}",
              flush=True)

    def save_due(self) -> bool:
        if time.monotonic() - self.t_save >= self.save_s:
            self.t_save = time.monotonic()
            return True
        return False
