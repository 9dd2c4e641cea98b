"""The engine wires the stages together; only the CLI builds one."""

from dreamengine.engine.config import EngineConfig, load_config
from dreamengine.engine.offline import RenderRequest, RenderSummary, render_file
from dreamengine.engine.replay import ReplaySummary, replay_session

__all__ = ["EngineConfig", "RenderRequest", "RenderSummary", "ReplaySummary", "load_config",
           "render_file", "replay_session"]
