"""Overriding frozen config dataclasses from TOML files and dotted ``KEY=VALUE`` strings.

Every component owns a frozen dataclass whose fields carry their unit in a comment. This module
knows nothing of the components: it walks any tree of dataclasses, so ``sampler.lr=0.5`` replaces
one field and an unknown key or a value of the wrong type is an error that names the key.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from dreamengine.errors import DreamengineError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

T = TypeVar("T")


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; ``what`` names it in the error ("config file", "class map")."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise DreamengineError(f"{what} not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise DreamengineError(f"cannot read {what} {path}: not UTF-8 text (byte "
                               f"{exc.start})") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DreamengineError(f"cannot read {what} {path}: {exc}") from None


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML config file into a flat ``{"section.key": value}`` mapping."""
    return flatten(read_toml(path, "config file"))


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["sampler.lr=0.5"]`` → ``{"sampler.lr": "0.5"}``; values stay strings until typed."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DreamengineError(f"expected KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def apply_overrides(config: T, overrides: Mapping[str, Any]) -> T:
    """Return a copy of ``config`` (a dataclass tree) with dotted ``overrides`` applied."""
    for dotted, value in overrides.items():
        config = _replace_path(config, dotted.split("."), value, dotted)
    return config


def _replace_path(node: Any, path: list[str], value: Any, dotted: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(node)}
    name = path[0]
    if name not in fields:
        known = ", ".join(sorted(fields))
        raise DreamengineError(f"unknown config key {dotted!r} ({name!r} is not one of: {known})")
    hints = typing.get_type_hints(type(node))
    current = getattr(node, name)
    if dataclasses.is_dataclass(current):
        if len(path) == 1:
            raise DreamengineError(f"config key {dotted!r} is a section; set one of its fields")
        new = _replace_path(current, path[1:], value, dotted)
    else:
        if len(path) > 1:
            raise DreamengineError(f"unknown config key {dotted!r} ({name!r} has no sub-keys)")
        new = coerce(value, hints[name], dotted)
    try:
        return dataclasses.replace(node, **{name: new})
    except (ValueError, TypeError) as exc:
        raise DreamengineError(f"config key {dotted!r}: {exc}") from None


def coerce(value: Any, hint: Any, key: str) -> Any:
    """Convert ``value`` (from TOML or a CLI string) to the field type ``hint``, or say why not."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        is_none = value is None or (isinstance(value, str) and value.lower() in ("none", ""))
        if is_none and len(options) < len(typing.get_args(hint)):
            return None
        return coerce(value, options[0], key)
    if origin is tuple:
        return _coerce_tuple(value, hint, key)
    if hint is bool:
        return _coerce_bool(value, key)
    if hint in (int, float, str):
        return _coerce_scalar(value, hint, key)
    raise DreamengineError(f"config key {key!r} has a type ({hint}) that cannot be set from text")


def _coerce_scalar(value: Any, hint: type, key: str) -> Any:
    if isinstance(value, bool) and hint is not str:
        raise DreamengineError(f"config key {key!r} expects {hint.__name__}, got {value!r}")
    if hint is float and isinstance(value, int):
        return float(value)
    if isinstance(value, hint):
        return value
    if isinstance(value, str) and hint is not str:
        try:
            return hint(value)
        except ValueError:
            pass
    raise DreamengineError(f"config key {key!r} expects {hint.__name__}, got {value!r}")


def _coerce_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
        return False
    raise DreamengineError(f"config key {key!r} expects true or false, got {value!r}")


def _coerce_tuple(value: Any, hint: Any, key: str) -> tuple[Any, ...]:
    args = typing.get_args(hint)
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise DreamengineError(f"config key {key!r} expects a list, got {value!r}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(coerce(v, args[0], key) for v in items)
    if len(items) != len(args):
        raise DreamengineError(f"config key {key!r} expects {len(args)} values, got {value!r}")
    return tuple(coerce(v, a, key) for v, a in zip(items, args, strict=True))


def toml_value(value: Any) -> str:
    """One value in TOML syntax (booleans, numbers, strings, lists of those)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def field_comments(cls: type) -> dict[str, str]:
    """The trailing ``# comment`` (unit and meaning) of each field in a dataclass's source."""
    import inspect
    import io
    import tokenize

    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    out: dict[str, str] = {}
    line_field: dict[int, str] = {}
    for f in dataclasses.fields(cls):
        for i, line in enumerate(source.splitlines(), start=1):
            if line.strip().startswith(f"{f.name}:"):
                line_field[i] = f.name
                break
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and tok.start[0] in line_field:
            out[line_field[tok.start[0]]] = tok.string.lstrip("# ").strip()
    return out


def dump_toml(config: Any) -> str:
    """Every field of a dataclass tree as TOML, one table per section, each value with the
    unit and meaning from its source comment (what ``dreamengine config`` prints)."""
    lines: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        scalars, tables = [], []
        comments = field_comments(type(node))
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            if dataclasses.is_dataclass(value):
                tables.append((f.name, value))
            else:
                note = comments.get(f.name)
                text = f"{f.name} = {toml_value(value)}"
                scalars.append(f"{text}  # {note}" if note else text)
        if scalars:
            lines.extend(["", f"[{prefix}]", *scalars])
        for name, value in tables:
            walk(value, f"{prefix}.{name}" if prefix else name)

    walk(config, "")
    return "\n".join(lines).lstrip("\n") + "\n"
