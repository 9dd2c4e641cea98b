"""Assemble the shipped image prior from the training checkpoints.

    .venv/bin/python priors/image/make_bundle.py --size 64 [--figures FIGURES.json]

Takes the EMA generator of ``gan_SIZE/last.pt``, the DAE of ``prior_SIZE/last.pt`` and C from
``condition_SIZE/best.pt`` into one :class:`dreamengine.models.ImagePrior` at ``--out``
(default priors/image/prior.pt, the path the engine loads), with ``meta``: trained=True, every
training command, iterations and wall times, the sources' licences, evaluation figures (the
``evaluate.py`` JSON when given) and a model card. The referee goes to its own small checkpoint
(``--referee-out``). Refuses a bundle over 30 MB.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from train_data import load_state

from dreamengine.models import (
    ConditionConfig,
    GeneratorConfig,
    ImagePrior,
    ImagePriorConfig,
    LatentPriorConfig,
    RefereeConfig,
    RefereeNet,
)

LICENCES = ("Noto emoji (fonts-noto-color-emoji, emoji-datasource-google): OFL-1.1 / Apache-2.0 "
            "(data MIT); tuxpaint-stamps-default: GPL-2; gcompris-qt-data: per file, GPL-3/GPL-3+, "
            "CC-BY-SA-3.0/4.0/2.0/2.5, CC-BY-1.0/2.0/3.0, CC0-1.0, public domain, GFDL-NIV-1.2, "
            "GPL-2+ (see priors/image/SOURCES.md)")
MAX_BYTES = 30 * 1024 * 1024


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--checkpoints", type=Path, default=Path("data/image/checkpoints"))
    p.add_argument("--out", type=Path, default=Path("priors/image/prior.pt"))
    p.add_argument("--referee-out", type=Path, default=Path("priors/image/referee.pt"))
    p.add_argument("--figures", type=Path, help="evaluate.py's figures.json")
    return p.parse_args()


def need(path: Path) -> dict[str, Any]:
    state = load_state(path)
    if state is None:
        raise SystemExit(f"missing training checkpoint {path}")
    return state


def provenance(state: dict[str, Any]) -> dict[str, Any]:
    meta = state["meta"]
    return {k: meta[k] for k in ("command", "iteration", "elapsed_s", "device", "best_val_macro",
                                 "val_top1", "val_macro") if k in meta}


def model_card(config: ImagePriorConfig, training: dict[str, Any],
               figures: dict[str, Any]) -> str:
    g = config.generator
    lines = [f"# dreamengine image prior ({g.size} px, latent {g.latent_dim})", "",
             "PPGN (Nguyen et al., 2017): hinge-GAN generator with EMA weights, a denoising "
             "autoencoder on real-image codes as the latent prior (eps1), and a condition "
             "classifier C trained on real images only with heavy augmentation (eps2).", "",
             f"Training data licences: {LICENCES}.", "", "## Training"]
    lines += [f"- {name}: `{t.get('command')}` — {t.get('iteration')} it, "
              f"{float(t.get('elapsed_s', 0)) / 60:.0f} min on {t.get('device')}"
              for name, t in training.items()]
    lines += ["", "## Figures", "```", json.dumps(figures, indent=1), "```"]
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    ck = args.checkpoints
    gan = need(ck / f"gan_{args.size}" / "last.pt")
    lat = need(ck / f"prior_{args.size}" / "last.pt")
    cond = need(ck / f"condition_{args.size}" / "best.pt")
    ref = need(ck / f"referee_{args.size}" / "best.pt")
    if "prior" not in lat["state_dict"]:
        raise SystemExit("the latent prior checkpoint has no DAE yet: finish train_prior.py")
    c_raw = dict(cond["config"]["model"], labels=tuple(cond["config"]["model"]["labels"]))
    config = ImagePriorConfig(GeneratorConfig(**gan["config"]["generator"]),
                              LatentPriorConfig(**lat["config"]["prior"]),
                              ConditionConfig(**c_raw))
    training = {"generator": provenance(gan), "latent_prior": provenance(lat),
                "condition": provenance(cond), "referee": provenance(ref)}
    figures = json.loads(args.figures.read_text()) if args.figures else {}
    meta = {"trained": True, "built": time.strftime("%Y-%m-%d %H:%M:%S"), "training": training,
            "figures": figures, "licences": LICENCES, "referee": str(args.referee_out),
            "model_card": model_card(config, training, figures)}
    bundle = ImagePrior(config, meta)
    bundle.generator.load_state_dict(gan["state_dict"]["G_ema"])
    bundle.prior.load_state_dict(lat["state_dict"]["prior"])
    bundle.condition.load_state_dict(cond["state_dict"]["model"])
    bundle.eval().save(args.out)
    size = args.out.stat().st_size
    if size > MAX_BYTES:
        args.out.unlink()
        raise SystemExit(f"bundle over 30 MB ({size} bytes): not written")
    r_raw = ref["config"]["model"]
    referee = RefereeNet(RefereeConfig.from_dict(r_raw),
                         {"input_size": int(ref["config"]["train"]["size"]), **provenance(ref)})
    referee.load_state_dict(ref["state_dict"]["model"])
    referee.eval().save(args.referee_out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) and {args.referee_out}")


if __name__ == "__main__":
    main()
