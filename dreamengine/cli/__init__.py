"""The ``dreamengine`` command line: parses argv, builds the engine, turns errors into exit codes.

Bad input (a missing file, an unknown config key, an unwritable folder) prints one line naming
the culprit and exits with status 2; it never shows a traceback.
"""

import argparse
import sys
from collections.abc import Callable, Sequence

from dreamengine.cli.logs import configure_logging
from dreamengine.cli.networks import classify_command, sample_command
from dreamengine.cli.parser import build_parser
from dreamengine.cli.rendering import (
    bench_command,
    live_command,
    render_command,
    replay_command,
)
from dreamengine.cli.settings import config_command, osc_command
from dreamengine.errors import DreamengineError

EXIT_USAGE = 2
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "render": render_command, "demo": render_command, "live": live_command,
    "replay": replay_command, "classify": classify_command, "sample": sample_command,
    "bench": bench_command, "config": config_command, "osc": osc_command,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; bad input is a message and exit status 2, never a traceback."""
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        return COMMANDS[args.command](args)
    except DreamengineError as exc:
        print(f"dreamengine: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dreamengine: interrupted", file=sys.stderr)
        return 130
