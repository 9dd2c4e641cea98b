"""The engine wires the stages together; only the CLI builds one.

The names below load on first use, so a light command (``config``) can import one engine
module without importing torch and the rest of the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dreamengine.lazy import lazy_names

if TYPE_CHECKING:
    from dreamengine.engine.config import EngineConfig, load_config
    from dreamengine.engine.offline import RenderRequest, RenderSummary, render_file
    from dreamengine.engine.replay import ReplaySummary, replay_session

_HOMES = {"EngineConfig": "config", "load_config": "config", "RenderRequest": "offline",
          "RenderSummary": "offline", "render_file": "offline", "ReplaySummary": "replay",
          "replay_session": "replay"}

__all__ = ["EngineConfig", "RenderRequest", "RenderSummary", "ReplaySummary", "load_config",
           "render_file", "replay_session"]


__getattr__ = lazy_names(__name__, _HOMES)
