"""GPU render passes (moderngl only lives here): keyframes in, a zooming canvas out.

Only the main thread may touch a GL context: a context used from another thread silently loses
writes on this platform.
"""

from dreamengine.render.context import create_headless_context
from dreamengine.render.params import FrameParams, RenderConfig, frame_params
from dreamengine.render.pipeline import Renderer, canvas_size

__all__ = ["FrameParams", "RenderConfig", "Renderer", "canvas_size", "create_headless_context",
           "frame_params"]
