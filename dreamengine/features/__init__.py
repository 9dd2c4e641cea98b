"""Streaming features: a log-mel front end updated hop by hop, and the fast path's dynamics.

The names below load on first use, so reading the configuration (``dreamengine config``)
does not import scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dreamengine.features.config import DynamicsConfig, MelConfig
    from dreamengine.features.dynamics import Drive, Dynamics
    from dreamengine.features.melspec import StreamingLogMel, mel_filterbank

_HOMES = {"Drive": "dynamics", "Dynamics": "dynamics", "DynamicsConfig": "config",
          "MelConfig": "config", "StreamingLogMel": "melspec", "mel_filterbank": "melspec"}

__all__ = ["Drive", "Dynamics", "DynamicsConfig", "MelConfig", "StreamingLogMel",
           "mel_filterbank"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'dreamengine.features' has no attribute {name!r}")
    return getattr(importlib.import_module(f"dreamengine.features.{_HOMES[name]}"), name)
