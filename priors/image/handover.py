"""Shrink a GAN training checkpoint into a compact hand-over file that a later session resumes.

    python priors/image/handover.py data/image/checkpoints/gan_64/last.pt priors/image/wip/gan_64.pt

Keeps G, its EMA and D in float16 with the iteration count, and drops the optimiser states
(Adam restarts, which a GAN shrugs off within a few hundred iterations): about 6 MB instead of
~27 MB. To continue, copy it back as ``last.pt`` and run ``train_gan.py`` again (TRAINING.md).
"""

import sys
from pathlib import Path

import torch

from dreamengine.checkpoint import save_checkpoint

source, target = Path(sys.argv[1]), Path(sys.argv[2])
state = torch.load(source, map_location="cpu", weights_only=True)
weights = {name: {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}
           for name, sd in state["state_dict"].items() if name in ("G", "G_ema", "D")}
meta = {**state["meta"], "handover": "float16 weights, optimisers dropped"}
save_checkpoint({"state_dict": weights, "config": state["config"], "meta": meta}, target)
print(f"{target}: iteration {meta['iteration']}, {target.stat().st_size / 1e6:.1f} MB")
