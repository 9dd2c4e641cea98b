"""Average the weights of sound-classifier bundles that share an architecture and a lineage.

    .venv/bin/python priors/sound/soup.py A.pt B.pt --out SOUP.pt
    .venv/bin/python priors/sound/soup.py NARROW.pt WIDE.pt --width 24 --out SOUP.pt

The plain mean of every tensor (batch-norm running statistics included; the batch counters are
taken from the first bundle). Meaningful only for nets fine-tuned from one another, which lie in
one basin; the result is scored like any other bundle before it may be shipped. ``--width``
first widens every narrower bundle exactly as ``train.py --init`` widened it to start a wider
run (Net2Wider, the same jitter and seed), so a wide run averages with its own starting point.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from widen import START_NOISE, widened_to

from dreamengine.checkpoint import save_checkpoint
from dreamengine.classifier import SoundCNN
from dreamengine.errors import DreamengineError


def averaged(models: list[SoundCNN]) -> SoundCNN:
    """A new net whose every floating tensor is the mean of ``models``' (same config)."""
    first = models[0]
    if any(m.config != first.config for m in models[1:]):
        raise ValueError("bundles differ in architecture or labels; only alike nets average")
    out = SoundCNN(first.config)
    states = [m.state_dict() for m in models]
    mean = {k: torch.stack([s[k] for s in states]).mean(0) if v.is_floating_point() else v
            for k, v in states[0].items()}  # fmt: skip
    out.load_state_dict(mean)
    return out.eval()


def as_wide(model: SoundCNN, width: int | None, seed: int) -> SoundCNN:
    """``model`` widened to ``width`` as a wider run's start, or as it is (None or as wide)."""
    if width is None or model.config.width == width:
        return model
    return widened_to(model, width, noise=START_NOISE, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", type=Path, nargs="+", help="two or more classifier bundles")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--width", type=int, default=None,
                        help="widen narrower bundles to this width first, as train.py --init does")
    parser.add_argument("--seed", type=int, default=2026, help="train.py's --seed of the wide run")
    args = parser.parse_args()
    if len(args.bundles) < 2:
        sys.exit("give at least two bundles to average")
    for path in args.bundles:
        if not path.is_file():
            sys.exit(f"no such bundle: {path}")
    try:
        nets = [as_wide(SoundCNN.from_checkpoint(p), args.width, args.seed) for p in args.bundles]
    except DreamengineError as exc:  # an ensemble's nets do not average: say which file
        sys.exit(str(exc))
    soup = averaged(nets)
    save_checkpoint(soup.checkpoint({"soup_of": [str(p) for p in args.bundles]}), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
