"""Streaming features: a log-mel front end updated hop by hop, and the fast path's dynamics.

The names below load on first use, so reading the configuration (``dreamengine config``)
does not import scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dreamengine.lazy import lazy_names

if TYPE_CHECKING:
    from dreamengine.features.config import DynamicsConfig, MelConfig
    from dreamengine.features.dynamics import Drive, Dynamics
    from dreamengine.features.melspec import StreamingLogMel, mel_filterbank

_HOMES = {"Drive": "dynamics", "Dynamics": "dynamics", "DynamicsConfig": "config",
          "MelConfig": "config", "StreamingLogMel": "melspec", "mel_filterbank": "melspec"}

__all__ = ["Drive", "Dynamics", "DynamicsConfig", "MelConfig", "StreamingLogMel",
           "mel_filterbank"]


__getattr__ = lazy_names(__name__, _HOMES)
