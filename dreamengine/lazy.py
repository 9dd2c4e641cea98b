"""Packages whose names load on first use (PEP 562), so light commands stay light.

A package lists where each public name lives and sets ``__getattr__ = lazy_names(__name__,
HOMES)``; ``from dreamengine.models import CenterNet`` then imports ``models/centernet.py`` (and
torch) only when it is asked for, while ``dreamengine config`` reads the config dataclasses
without importing torch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<homes[name]>`` for ``name``."""

    def getattr_(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{homes[name]}"), name)

    return getattr_
