"""Where the shipped shaders, prior bundles and demo clip live.

An installed wheel carries them inside the package (``_shaders``, ``_priors``); a source checkout
or an editable install keeps them at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

from dreamengine.errors import DreamengineError

PACKAGE_ROOT = Path(__file__).resolve().parent


def _resource_dir(installed_name: str, repo_name: str) -> Path:
    for candidate in (PACKAGE_ROOT / installed_name, PACKAGE_ROOT.parent / repo_name):
        if candidate.is_dir():
            return candidate
    raise DreamengineError(
        f"cannot find the {repo_name}/ folder (looked in {PACKAGE_ROOT / installed_name} and "
        f"{PACKAGE_ROOT.parent / repo_name}); reinstall dreamengine"
    )


def shaders_dir() -> Path:
    """Folder holding one GLSL file per render pass."""
    return _resource_dir("_shaders", "shaders")


def priors_dir() -> Path:
    """Folder holding the shipped model bundles, the class map and the demo clip."""
    return _resource_dir("_priors", "priors")


def demo_clip() -> Path:
    """The bundled demo clip the main job renders when there is no microphone."""
    path = priors_dir() / "demo" / "demo.ogg"
    if not path.is_file():
        raise DreamengineError(f"bundled demo clip is missing: {path}")
    return path
