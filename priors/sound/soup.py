"""Average the weights of sound-classifier bundles that share an architecture and a lineage.

    .venv/bin/python priors/sound/soup.py A.pt B.pt --out SOUP.pt

The plain mean of every tensor (batch-norm running statistics included; the batch counters are
taken from the first bundle). Meaningful only for nets fine-tuned from one another, which lie in
one basin; the result is scored like any other bundle before it may be shipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from dreamengine.checkpoint import save_checkpoint
from dreamengine.classifier import SoundCNN


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", type=Path, nargs="+", help="two or more classifier bundles")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if len(args.bundles) < 2:
        sys.exit("give at least two bundles to average")
    for path in args.bundles:
        if not path.is_file():
            sys.exit(f"no such bundle: {path}")
    soup = averaged([SoundCNN.from_checkpoint(p) for p in args.bundles])
    save_checkpoint(soup.checkpoint({"soup_of": [str(p) for p in args.bundles]}), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
