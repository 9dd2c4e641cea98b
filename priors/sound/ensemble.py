"""Bundle several sound-classifier nets into one ensemble bundle (their logits are averaged).

    .venv/bin/python priors/sound/ensemble.py A.pt B.pt --out ENSEMBLE.pt

Unlike ``soup.py`` (one net whose weights are the mean), the bundle keeps every net and runs
each on every window, so it costs their time per hop added up; the nets may differ in width and
lineage but must share labels, mel bands, window and hop. An ensemble given as a member adds
its own nets. The result is scored like any other bundle before it may be shipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dreamengine.checkpoint import save_checkpoint
from dreamengine.classifier import SoundEnsemble, load_sound_bundle
from dreamengine.errors import DreamengineError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundles", type=Path, nargs="+", help="two or more classifier bundles")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if len(args.bundles) < 2:
        sys.exit("give at least two bundles to put together")
    try:
        ensemble = SoundEnsemble([load_sound_bundle(path) for path in args.bundles])
    except (DreamengineError, ValueError) as exc:
        sys.exit(str(exc))
    save_checkpoint(ensemble.checkpoint({"ensemble_of": [str(p) for p in args.bundles]}),
                    args.out)
    print(f"wrote {args.out}: {len(ensemble.members)} nets, widths "
          f"{[net.config.width for net in ensemble.nets()]}")


if __name__ == "__main__":
    main()
