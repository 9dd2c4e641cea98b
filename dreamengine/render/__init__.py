"""GPU render passes (moderngl only lives here): cross-fade, upscale and read-back.

Only the main thread may touch a GL context: a context used from another thread silently loses
writes on this platform.
"""

from dreamengine.render.context import create_headless_context
from dreamengine.render.passes import CrossfadePass, UpscalePass
from dreamengine.render.pipeline import RenderConfig, Renderer

__all__ = ["CrossfadePass", "RenderConfig", "Renderer", "UpscalePass", "create_headless_context"]
