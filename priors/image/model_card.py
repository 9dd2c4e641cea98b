"""Write ``priors/image/MODEL_CARD.md`` and ``samples.png`` for the shipped image prior.

    .venv/bin/python priors/image/model_card.py [--bundle priors/image/prior.pt] \
        [--eval data/image/eval] [--data data/image]

Reads the bundle's provenance (training commands, iterations, wall times), ``evaluate.py``'s
``figures.json`` and per-class grids, and the data build's ``summary.json``; writes the card
and one labelled sample sheet (a row of PPGN samples per class, 200 steps from fresh latents)
beside the bundle, plus ``chain.png`` (the 2,000-step chain).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from PIL import Image, ImageDraw

from dreamengine.models import ImagePrior


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bundle", type=Path, default=Path("priors/image/prior.pt"))
    p.add_argument("--eval", type=Path, default=Path("data/image/eval"))
    p.add_argument("--data", type=Path, default=Path("data/image"))
    return p.parse_args()


def sample_sheet(eval_dir: Path, labels: tuple[str, ...], out: Path, label_w: int = 96) -> None:
    grids = [(label, Image.open(eval_dir / f"grid_{label}.png").convert("RGB"))
             for label in labels if (eval_dir / f"grid_{label}.png").is_file()]
    if not grids:
        return
    w = max(g.width for _, g in grids)
    h = sum(g.height for _, g in grids)
    sheet = Image.new("RGB", (label_w + w, h), "white")
    draw, y = ImageDraw.Draw(sheet), 0
    for label, grid in grids:
        sheet.paste(grid, (label_w, y))
        draw.text((6, y + grid.height // 2 - 6), label, fill="black")
        y += grid.height
    sheet.save(out)


def main() -> None:
    args = parse_args()
    prior = ImagePrior.load(args.bundle)
    figures = json.loads((args.eval / "figures.json").read_text())
    summary = json.loads((args.data / "summary.json").read_text())
    folder = args.bundle.parent
    sample_sheet(args.eval, prior.labels, folder / "samples.png")
    if (args.eval / "chain.png").is_file():
        shutil.copyfile(args.eval / "chain.png", folder / "chain.png")
    g, meta = prior.config.generator, prior.meta
    counts = summary["classes"]
    lines = [
        f"# Image prior: {g.size} px generator, latent {g.latent_dim}, PPGN", "",
        "The embedded default for `dreamengine`: a generator G (hinge GAN, EMA weights, upsample "
        "+ 3×3 convolutions), a denoising autoencoder on G's latent codes as PPGN's prior term "
        "(ε1), and a condition classifier C (ε2) over the class vocabulary, trained here on the "
        "CPU from the allowed emoji, emoji-font and clip-art sources (`SOURCES.md`). A second "
        "classifier of another architecture and seed, the referee (`referee.pt`), judges the "
        "samples C drives.", "",
        f"Bundle: `prior.pt` ({args.bundle.stat().st_size / 1e6:.1f} MB, loads with "
        "`weights_only=True`), built " + str(meta.get("built", "?")) + ".", "",
        "## Data", "",
        "| class | train pictures | val pictures | train images | val images |",
        "| --- | --- | --- | --- | --- |"]
    for label in prior.labels:
        c = counts.get(label, {})
        lines.append(f"| {label} | {c.get('train', 0)} | {c.get('val', 0)} | "
                     f"{c.get('train_images', 0)} | {c.get('val_images', 0)} |")
    lines += ["", "Splits are by source picture; every background variant of a picture stays in "
              "its split. G also trains on the unlabelled images.", "", "## Training", ""]
    for name, t in meta.get("training", {}).items():
        where = f" on {t['device']}" if t.get("device") else " on the CPU"
        lines.append(f"- **{name}**: `{t.get('command')}`, checkpoint at iteration "
                     f"{t.get('iteration')}, {float(t.get('elapsed_s', 0)) / 60:.0f} min{where}"
                     + (f", best val macro accuracy {t['best_val_macro']:.2f}"
                        if "best_val_macro" in t else ""))
    agree = figures.get("referee_agreement", {})
    div = figures.get("diversity", {})
    lines += [
        "", "## Figures (`priors/image/evaluate.py`)", "",
        f"Referee top-1 agreement with the target class after {figures.get('steps')} steps, "
        f"{figures.get('n')} seeds per class: **{figures.get('referee_agreement_mean', 0):.2f}** "
        "mean (target ≥ 0.6). Ceiling: the referee's top-1 on real held-out images, "
        f"**{figures.get('referee_val_top1', 0):.2f}** "
        f"(C: {figures.get('condition_val_top1', 0):.2f}).",
        "", "| class | referee agreement | diversity (feature distance) |",
        "| --- | --- | --- |"]
    lines += [f"| {k} | {agree[k]:.2f} | {div.get(k, 0):.3f} |" for k in agree]
    chain = figures.get("chain", {})
    step = figures.get("step_ms", {})
    lines += [
        "", f"Diversity: mean pairwise cosine distance of referee features between seeds, "
        f"{figures.get('diversity_mean', 0):.3f} on samples against "
        f"{figures.get('diversity_real_val', 0):.3f} on real validation images.", "",
        f"Long chain: {chain.get('steps')} steps switching class every 200 (`chain.png`): "
        f"start {json.dumps(chain.get('start'))}, end {json.dumps(chain.get('end'))}; real "
        f"images {json.dumps(figures.get('real_val'))} (saturated pixel share, "
        "high-frequency energy, NaNs).", "",
        "One PPGN step (G, C, gradient to h, prior, update), one thread, batch 1: "
        + ", ".join(f"{k} px {v:.1f} ms" for k, v in step.items()) + " (target ≤ 12 ms at 128 "
        "px; the 128 px figure is for a random generator of the same architecture).", "",
        "## Samples", "", "`samples.png`: one row per class, fresh latents, "
        f"{figures.get('steps')} PPGN steps toward that class with the default sampler settings.",
        "", "![samples](samples.png)", "",
        "## Limitations", "",
        "- Trained for hours on two CPU cores: samples are colourful emoji-like shapes; many "
        "classes are not recognisable to a person or to the referee. A GPU run of the same "
        "recipes (`TRAINING.md`) is the way to a better prior.",
        "- Thin classes (a handful of pictures) make C's gradient for them weak and the "
        "per-class figures noisy.",
        "- 64 px only; the engine upscales keyframes with a bicubic filter.", ""]
    (folder / "MODEL_CARD.md").write_text("\n".join(lines))
    print(f"wrote {folder / 'MODEL_CARD.md'} and {folder / 'samples.png'}")


if __name__ == "__main__":
    main()
