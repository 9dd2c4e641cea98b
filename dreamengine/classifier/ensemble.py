"""Several sound CNNs heard as one: each runs on the same window and their logits are averaged.

Nets trained apart err apart, so their average names clips more reliably than either, and
their flicker from hop to hop (a window 10 ms later can move one net's logit by more than half
a unit on a steady sound) partly cancels, which lets a sound cross the detection threshold
sooner. The cost is every member's time per hop.

A bundle of several is a checkpoint like a single net's, ``{state_dict, config, meta}``, with
``config = {"members": [each member's ClassifierConfig as a dict]}`` and the members' own
records in ``meta["members"]``. :func:`load_sound_bundle` reads either kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dreamengine.checkpoint import load_checkpoint
from dreamengine.classifier.config import ClassifierConfig
from dreamengine.classifier.model import SoundCNN

SHARED = ("labels", "n_mels", "window_frames", "hop_frames")  # what every member must agree on


class SoundEnsemble(nn.Module):
    """``[B, 1, n_mels, T]`` log-mel → ``[B, n_labels]`` logits, the mean of the members'."""

    def __init__(self, members: Sequence[SoundCNN], meta: dict[str, Any] | None = None) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        first = members[0].config
        for i, member in enumerate(members[1:], start=1):
            for name in SHARED:
                if getattr(member.config, name) != getattr(first, name):
                    raise ValueError(f"ensemble member {i} has {name} "
                                     f"{getattr(member.config, name)!r}, member 0 has "
                                     f"{getattr(first, name)!r}")
        self.members = nn.ModuleList(members)
        self.config: ClassifierConfig = first  # the shared fields; widths differ per member
        self.meta: dict[str, Any] = dict(meta or {})
        mel = members[0].meta.get("mel")
        if mel is not None:
            self.meta.setdefault("mel", mel)  # what the engine checks its features against
        self.meta["members"] = [dict(m.meta) for m in members]

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """``[B, 1, n_mels, T]`` → ``[B, n_labels]``: the members' logits, averaged."""
        return torch.stack([member(mel) for member in self.members]).mean(dim=0)

    def nets(self) -> list[SoundCNN]:
        """The members, in order."""
        return [member for member in self.members if isinstance(member, SoundCNN)]

    def checkpoint(self, meta: dict[str, Any] | None = None) -> dict[str, Any]:
        """A dict for ``torch.save`` that :func:`load_sound_bundle` rebuilds."""
        return {"state_dict": self.state_dict(),
                "config": {"members": [dataclasses.asdict(m.config) for m in self.nets()]},
                "meta": {**self.meta, **(meta or {})}}


SoundModel = SoundCNN | SoundEnsemble


def load_sound_bundle(path: Path) -> SoundModel:
    """A single net's checkpoint or an ensemble's (``weights_only=True``), in eval mode."""

    def build(ckpt: dict[str, Any]) -> SoundModel:
        raw = ckpt["config"]
        if "members" not in raw:
            return SoundCNN.from_dict(ckpt)
        meta = dict(ckpt.get("meta") or {})
        records = meta.get("members") or [{}] * len(raw["members"])
        members = []
        for config, record in zip(raw["members"], records, strict=True):
            member = SoundCNN(ClassifierConfig(**{**config, "labels": tuple(config["labels"])}))
            member.meta = dict(record)
            members.append(member)
        model = SoundEnsemble(members, meta)
        model.load_state_dict(ckpt["state_dict"])
        return model

    return load_checkpoint(path, "sound classifier checkpoint", build).eval()
