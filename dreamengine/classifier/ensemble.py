"""Several sound CNNs heard as one: each runs on the same window and their logits are averaged.

The hope: nets that err apart name clips more reliably together, and their flicker from hop to
hop (a window 10 ms later can move one net's logit by more than half a unit on a steady sound)
partly cancels. Measured on the shipped net and a wider one grown from it, the pair sat between
the two on held-out music and found two more of 73 inserted sounds (sound model card); the cost
is every member's time per hop.

A bundle of several is a checkpoint like a single net's, ``{state_dict, config, meta}``, with
``config = {"members": [each member's ClassifierConfig as a dict]}`` and the members' own
records in ``meta["members"]``. :func:`load_sound_bundle` reads either kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from dreamengine.checkpoint import load_checkpoint
from dreamengine.classifier.config import ClassifierConfig
from dreamengine.classifier.model import SoundCNN

SHARED = ("labels", "n_mels", "window_frames", "hop_frames")  # what every member must agree on


class SoundEnsemble(nn.Module):
    """``[B, 1, n_mels, T]`` log-mel → ``[B, n_labels]`` logits, the mean of the members'."""

    def __init__(self, members: Sequence[SoundCNN | SoundEnsemble],
                 meta: dict[str, Any] | None = None) -> None:
        super().__init__()
        members = flattened(members)  # an ensemble given as a member adds its nets, each equal
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
        mel = common_mel(members)
        if mel is not None:
            self.meta["mel"] = mel  # what the engine checks its features against
        self.meta["members"] = [dict(m.meta) for m in members]

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """``[B, 1, n_mels, T]`` → ``[B, n_labels]``: the members' logits, averaged."""
        return torch.stack([member(mel) for member in self.members]).mean(dim=0)

    def nets(self) -> list[SoundCNN]:
        """The members, in order (all single nets: nested ensembles were flattened)."""
        return [cast(SoundCNN, member) for member in self.members]

    def checkpoint(self, meta: dict[str, Any] | None = None) -> dict[str, Any]:
        """A dict for ``torch.save`` that :func:`load_sound_bundle` rebuilds."""
        return {"state_dict": self.state_dict(),
                "config": {"members": [dataclasses.asdict(m.config) for m in self.nets()]},
                "meta": {**self.meta, **(meta or {})}}


SoundModel = SoundCNN | SoundEnsemble


def flattened(members: Sequence[SoundCNN | SoundEnsemble]) -> list[SoundCNN]:
    """The single nets of ``members``, an ensemble's in its own order."""
    nets: list[SoundCNN] = []
    for member in members:
        if isinstance(member, SoundEnsemble):
            nets += member.nets()
        elif isinstance(member, SoundCNN):
            nets.append(member)
        else:
            raise TypeError(f"an ensemble member must be a SoundCNN, got {type(member).__name__}")
    return nets


def common_mel(members: Sequence[SoundCNN]) -> dict[str, Any] | None:
    """The log-mel settings the members were trained on (their ``meta["mel"]``), which must
    agree where recorded; None when none records them."""
    recorded = [(i, m.meta["mel"]) for i, m in enumerate(members) if m.meta.get("mel")]
    for i, mel in recorded[1:]:
        if mel != recorded[0][1]:
            raise ValueError(f"ensemble member {i} was trained on log-mel {mel}, member "
                             f"{recorded[0][0]} on {recorded[0][1]}")
    return dict(recorded[0][1]) if recorded else None


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
            member = SoundCNN(ClassifierConfig.from_dict(config))
            member.meta = dict(record)
            members.append(member)
        model = SoundEnsemble(members, meta)
        model.load_state_dict(ckpt["state_dict"])
        return model

    return load_checkpoint(path, "sound classifier checkpoint", build).eval()
