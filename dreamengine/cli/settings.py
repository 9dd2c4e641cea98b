"""``dreamengine config``: every parameter with its value and unit, as a TOML file to edit."""

from __future__ import annotations

import argparse

from dreamengine.config import dump_toml, parse_assignments
from dreamengine.errors import DreamengineError
from dreamengine.recording.files import atomic_write_bytes


def config_command(args: argparse.Namespace) -> int:
    from dreamengine.engine import load_config

    config = load_config(args.config, parse_assignments(args.set))
    text = ("# dreamengine config: every parameter, its value and unit (from `dreamengine "
            "config`).\n# Pass it back with --config FILE; --set KEY=VALUE overrides one.\n\n"
            + dump_toml(config))
    if args.out is None:
        print(text, end="")
        return 0
    try:
        atomic_write_bytes(args.out, text.encode("utf-8"))
    except OSError as exc:
        raise DreamengineError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"wrote {args.out}")
    return 0
