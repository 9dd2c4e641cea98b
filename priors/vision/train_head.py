"""Train the heatmap head for the picture classes COCO lacks, with dreamed negatives.

Run on demand, never in CI (needs the image set built by ``priors/image/build_data.py``)::

    .venv/bin/python priors/vision/train_head.py --data data/image --out priors/vision/head.pt

The frozen CenterNet's stride-4 and stride-8 maps feed a small :class:`HeatmapHead`. Training
pictures are made on the fly at the dream's size: a background (an allowed picture of something
else, a dreamed canvas, or a smooth colour field), then one to three cut-out objects pasted at a
random place, size, rotation and colour (instruments, emergency vehicles, fire, tools — or a
distractor from the unlabelled pictures), and the target is each object's mask at stride 4.
After each round the canvas dream climbs every head class from noise; those canvases join the
backgrounds as negatives, so the next round learns that they do *not* show the class (the loop
that keeps a head that is dreamed through from being fooled, DESIGN.md). The last round's dreams
are written as a contact sheet to judge by looking.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageEnhance

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dreamengine.dream.state import Dream  # noqa: E402
from dreamengine.models.centernet import CenterNet  # noqa: E402
from dreamengine.models.heatmap_head import HeatmapHead, HeatmapHeadConfig  # noqa: E402
from dreamengine.models.vision import VisionNet  # noqa: E402
from dreamengine.sampler import SamplerConfig  # noqa: E402

# the image set's labels (priors/image/labels.py) → the head's picture classes
CLASSES = {
    "drums": "drum", "guitar": "guitar", "keys": "keyboard_instrument",
    "strings": "string_instrument", "brass": "brass_instrument",
    "woodwind": "woodwind_instrument", "siren": "emergency_vehicle", "explosion": "fire",
    "tools": "hand_tool",
}  # fmt: skip
COCO_NEGATIVES = ("dog", "bird", "person", "cat", "cow", "car", "umbrella", "teddy_bear")
SIDE = 192


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "image")
    parser.add_argument("--out", type=Path, default=ROOT / "priors" / "vision" / "head.pt")
    parser.add_argument("--vision", type=Path, default=ROOT / "priors" / "vision" / "centernet.pt")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of dreamed negatives")
    parser.add_argument("--iters", type=int, default=500, help="training steps per round")
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--dream-steps", type=int, default=90, help="steps per dreamed negative")
    parser.add_argument("--dream-seeds", type=int, default=2, help="dreams per class per round")
    parser.add_argument("--sheet", type=Path,
                        default=ROOT / "priors" / "vision" / "head_samples.jpg")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


class Pictures:
    """The allowed pictures: cut-outs per head class, distractor cut-outs, backgrounds."""

    def __init__(self, data: Path) -> None:
        rows = [json.loads(line) for line in (data / "manifest.jsonl").open()]
        self.objects: dict[int, list[Image.Image]] = {}
        self.distractors: list[Image.Image] = []
        self.backgrounds: list[Image.Image] = []
        seen: set[str] = set()
        labels = list(CLASSES)
        for row in rows:
            label = row["label"]
            if label not in CLASSES:
                self.backgrounds.append(Image.open(data / row["path"]).convert("RGB"))
            if row["group"] in seen:
                continue
            seen.add(row["group"])
            cut = _cutout(data, row)
            if label in CLASSES:
                self.objects.setdefault(labels.index(label), []).append(cut)
            elif row.get("rgba"):
                self.distractors.append(cut)
        self.sources = {CLASSES[labels[k]]: len(v) for k, v in sorted(self.objects.items())}


def _cutout(data: Path, row: dict) -> Image.Image:
    """An RGBA object: clip art keeps its alpha; a photo is an opaque square."""
    name = row.get("rgba") or row["path"]
    return Image.open(data / name).convert("RGBA")


def smooth_field(rng: random.Random) -> Image.Image:
    """A low-frequency random colour field (a background with no object)."""
    small = np.asarray([[[rng.random() for _ in range(3)] for _ in range(4)] for _ in range(4)])
    img = Image.fromarray((small * 255).astype(np.uint8)).resize((SIDE, SIDE), Image.BICUBIC)
    return img


def background(pictures: Pictures, dreamed: list[Image.Image], rng: random.Random) -> Image.Image:
    roll = rng.random()
    if dreamed and roll < 0.45:
        img = rng.choice(dreamed)
    elif roll < 0.85:
        img = rng.choice(pictures.backgrounds)
    else:
        return smooth_field(rng)
    scale = rng.uniform(1.0, 1.6)
    side = int(SIDE * scale)
    img = img.resize((side, side), Image.BILINEAR)
    x, y = rng.randint(0, side - SIDE), rng.randint(0, side - SIDE)
    img = img.crop((x, y, x + SIDE, y + SIDE))
    return img.transpose(Image.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else img


def jitter(obj: Image.Image, rng: random.Random) -> Image.Image:
    """Size, rotation, mirror and colour of one pasted object."""
    side = int(SIDE * rng.uniform(0.3, 0.85))
    obj = obj.resize((side, side), Image.BILINEAR)
    if rng.random() < 0.5:
        obj = obj.transpose(Image.FLIP_LEFT_RIGHT)
    obj = obj.rotate(rng.uniform(-30, 30), resample=Image.BILINEAR, expand=False)
    rgb, alpha = obj.convert("RGB"), obj.getchannel("A")
    rgb = ImageEnhance.Brightness(rgb).enhance(rng.uniform(0.7, 1.3))
    rgb = ImageEnhance.Color(rgb).enhance(rng.uniform(0.6, 1.4))
    rgb = ImageEnhance.Contrast(rgb).enhance(rng.uniform(0.7, 1.3))
    out = rgb.convert("RGBA")
    out.putalpha(alpha)
    return out


def composite(pictures: Pictures, dreamed: list[Image.Image], n_classes: int,
              rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """One training picture ``[S, S, 3]`` uint8 and its targets ``[K, S/4, S/4]`` float32."""
    canvas = background(pictures, dreamed, rng).convert("RGBA")
    masks = np.zeros((n_classes, SIDE, SIDE), dtype=np.float32)
    n = rng.choice((0, 1, 1, 1, 2, 2, 3))
    for _ in range(n):
        positive = rng.random() < 0.7
        if positive:
            k = rng.randrange(n_classes)
            obj = jitter(rng.choice(pictures.objects[k]), rng)
        else:
            k, obj = -1, jitter(rng.choice(pictures.distractors), rng)
        x = rng.randint(-obj.width // 4, SIDE - 3 * obj.width // 4)
        y = rng.randint(-obj.height // 4, SIDE - 3 * obj.height // 4)
        layer = Image.new("RGBA", (SIDE, SIDE), (0, 0, 0, 0))
        layer.paste(obj, (x, y))
        alpha = np.asarray(layer.getchannel("A"), dtype=np.float32) / 255.0
        masks *= 1.0 - alpha  # what is pasted later covers what was there
        if k >= 0:
            masks[k] = np.maximum(masks[k], alpha)
        canvas.alpha_composite(layer)
    pooled = masks.reshape(n_classes, SIDE // 4, 4, SIDE // 4, 4).mean(axis=(2, 4))
    return np.asarray(canvas.convert("RGB")), (pooled > 0.4).astype(np.float32)


def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's focal loss on binary masks, normalised by the number of positives."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = -((1 - p) ** 2) * torch.log(p) * target
    neg = -(p**2) * torch.log(1 - p) * (1 - target)
    return (pos.sum() + neg.sum()) / target.sum().clamp(min=1.0)


def batch(pictures: Pictures, dreamed: list[Image.Image], n_classes: int, size: int,
          rng: random.Random) -> tuple[torch.Tensor, torch.Tensor]:
    items = [composite(pictures, dreamed, n_classes, rng) for _ in range(size)]
    images = torch.from_numpy(np.stack([im for im, _ in items])).permute(0, 3, 1, 2).float()
    targets = torch.from_numpy(np.stack([t for _, t in items]))
    return images, targets


def train_round(detector: CenterNet, head: HeatmapHead, pictures: Pictures,
                dreamed: list[Image.Image], args: argparse.Namespace, rng: random.Random,
                lr: float) -> float:
    optimiser = torch.optim.Adam(head.parameters(), lr=lr, weight_decay=1e-4)
    head.train().requires_grad_(True)
    losses = []
    for i in range(args.iters):
        images, targets = batch(pictures, dreamed, len(head.labels), args.batch, rng)
        with torch.no_grad():
            features = detector.features(images)
        loss = focal_loss(head(features), targets)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss))
        if (i + 1) % 100 == 0:
            print(f"  step {i + 1}/{args.iters}  loss {np.mean(losses[-100:]):.3f}", flush=True)
    head.eval().requires_grad_(False)
    return float(np.mean(losses[-100:]))


def dream(net: VisionNet, name: str, steps: int, seed: int) -> Image.Image:
    """A still canvas dreamed toward one class from noise, as the product dreams it."""
    d = Dream(net, SamplerConfig(), seed=seed, device=torch.device("cpu"), canvas_px=SIDE)
    for _ in range(steps):
        d.keyframe({name: 1.0})
    return Image.fromarray(d.image())


def head_scores(net: VisionNet, images: list[Image.Image], k: int) -> list[float]:
    """Top-1/16 mean heatmap logit of head class ``k`` on each image."""
    x = torch.from_numpy(np.stack([np.asarray(im) for im in images])).permute(0, 3, 1, 2)
    with torch.no_grad():
        maps = net.heatmaps(x.float() / 255.0)[:, net.n_detector - len(net.head_labels) + k]
    flat = maps.flatten(1)
    return flat.topk(max(1, flat.shape[1] // 16), dim=1).values.mean(dim=1).tolist()


def write_sheet(path: Path, rows: list[list[Image.Image]]) -> None:
    cols = max(len(r) for r in rows)
    sheet = Image.new("RGB", (cols * SIDE, len(rows) * SIDE), "black")
    for i, row in enumerate(rows):
        for j, im in enumerate(row):
            sheet.paste(im, (j * SIDE, i * SIDE))
    sheet.save(path, quality=88)


def main() -> None:
    args = parse_args()
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    started = time.time()
    pictures = Pictures(args.data)
    print(f"objects per class: {pictures.sources}; distractors {len(pictures.distractors)}, "
          f"backgrounds {len(pictures.backgrounds)}", flush=True)
    detector = CenterNet.load(args.vision)
    labels = tuple(CLASSES[k] for k in CLASSES)
    head = HeatmapHead(HeatmapHeadConfig(labels=labels))
    net = VisionNet(detector, head=head)
    dreamed = [dream(net, name, args.dream_steps, 900 + i)
               for i, name in enumerate(COCO_NEGATIVES)]
    print(f"{len(dreamed)} COCO dreams as negatives ({time.time() - started:.0f} s)", flush=True)
    history = []
    for r in range(args.rounds + 1):
        loss = train_round(detector, head, pictures, dreamed, args, rng,
                           lr=3e-3 if r == 0 else 1e-3)
        fresh = [[dream(net, name, args.dream_steps, 1000 * r + 10 * k + s)
                  for s in range(args.dream_seeds)] for k, name in enumerate(labels)]
        scores = [float(np.mean(head_scores(net, row, k))) for k, row in enumerate(fresh)]
        history.append({"round": r, "loss": round(loss, 4),
                        "dream_score": [round(s, 2) for s in scores]})
        print(f"round {r}: loss {loss:.3f}; dreamed top-mean logits "
              f"{dict(zip(labels, [round(s, 1) for s in scores], strict=True))} "
              f"({time.time() - started:.0f} s)", flush=True)
        if r < args.rounds:
            dreamed += [im for row in fresh for im in row]
        else:
            write_sheet(args.sheet, fresh)
    meta = {"recipe": "priors/vision/train_head.py", "rounds": args.rounds, "iters": args.iters,
            "batch": args.batch, "objects": pictures.sources, "history": history,
            "dreamed_negatives": len(dreamed), "seconds": round(time.time() - started)}
    head.save(args.out, meta)
    print(f"wrote {args.out} and {args.sheet} ({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
