"""Bring your own weights: a torchvision ImageNet classifier as the canvas dream's vision network.

:class:`TorchvisionVision` answers the same question as :class:`~dreamengine.models.vision.
VisionNet` — per image class, a map of how strongly each place of the picture shows it — from a
torchvision classification network (``googlenet``, the original DeepDream's, ``resnet50``, ...)
and a state dict the user supplies; nothing is ever downloaded. Image classes are named groups of
ImageNet indices read from a TOML label file (``priors/imagenet_labels.toml`` is an example); a
label's score is the log-sum-exp (or max) of its classes' logits.

A classifier has no spatial output, so where its head is global average pooling followed by one
linear layer (found by tracing the model with ``torch.fx``: resnet*, resnext*, googlenet,
inception_v3, mobilenet_v2, efficientnet*, regnet*, densenet*, shufflenet*, mnasnet*, swin*) the
map is a class activation map (Zhou et al. 2016): the label's classifier weights applied to each
place of the last feature map, ``map = score + Σc a_c·W_c·(f(x, y) − mean f)`` with ``a`` the
label's softmax over its own logits, so every map averages exactly to its score. Other heads
(mobilenet_v3's two-layer MLP, vgg, alexnet, convnext, vit, squeezenet) give ``[B, K, 1, 1]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch
import torchvision
from torch import fx, nn

from dreamengine.config import read_toml
from dreamengine.errors import DreamengineError

N_IMAGENET = 1000
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
REDUCTIONS = ("logsumexp", "max")
KNOWN_EXAMPLES = ("googlenet", "resnet18", "resnet50", "mobilenet_v3_small", "efficientnet_b0",
                  "inception_v3", "densenet121", "vgg16")
# googlenet and inception_v3: no auxiliary heads, no slow random init; torchvision's published
# ImageNet weights for both expect transform_input=True (they were ported from TensorFlow).
BUILD_KWARGS: dict[str, dict[str, bool]] = {
    arch: {"aux_logits": False, "init_weights": False, "transform_input": True}
    for arch in ("googlenet", "inception_v3")
}
AUX_PREFIXES = ("aux1.", "aux2.", "AuxLogits.")  # auxiliary heads a saved state dict may carry
PASSTHROUGH = (nn.Dropout, nn.Flatten, nn.Identity)


def build_classifier(arch: str) -> nn.Module:
    """An untrained torchvision ImageNet classifier (1000 classes) named ``arch``."""
    known = torchvision.models.list_models(module=torchvision.models)
    if arch not in known:
        raise DreamengineError(f"unknown torchvision classifier {arch!r}; known include "
                               f"{', '.join(KNOWN_EXAMPLES)} ({len(known)} in all)")
    return torchvision.models.get_model(arch, weights=None, num_classes=N_IMAGENET,
                                        **BUILD_KWARGS.get(arch, {}))


def load_classifier(arch: str, weights: Path) -> nn.Module:
    """``arch`` with the user's state dict from ``weights`` (strict), frozen in eval mode."""
    model = build_classifier(arch)
    state = _read_state_dict(arch, weights)
    expected = model.state_dict()
    problems = _mismatches(expected, state)
    if problems:
        raise DreamengineError(f"weights {weights} do not fit torchvision:{arch} "
                               f"({'; '.join(problems)}): another architecture?")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise DreamengineError(f"weights {weights} do not fit torchvision:{arch}: "
                               f"{_first_line(exc)}") from None
    return model.eval().requires_grad_(False)


def _read_state_dict(arch: str, weights: Path) -> dict[str, torch.Tensor]:
    if not weights.is_file():
        raise DreamengineError(f"weights file not found: {weights} (for torchvision:{arch})")
    try:
        obj = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types for a file it cannot read
        raise DreamengineError(f"cannot read weights {weights} for torchvision:{arch}: "
                               f"{_first_line(exc)}") from None
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not (isinstance(obj, Mapping) and obj and all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())):
        raise DreamengineError(f"weights {weights} for torchvision:{arch} hold no state dict "
                               "(a mapping of parameter names to tensors)")
    if all(k.startswith("module.") for k in obj):  # saved from nn.DataParallel
        obj = {k.removeprefix("module."): v for k, v in obj.items()}
    return {k: v for k, v in obj.items() if not k.startswith(AUX_PREFIXES)}


def _mismatches(expected: Mapping[str, torch.Tensor],
                state: Mapping[str, torch.Tensor]) -> list[str]:
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}" for k in expected
              if k in state and state[k].shape != expected[k].shape]
    return [f"{len(keys)} {what}, e.g. {keys[0]}" for keys, what in
            ((missing, "missing keys"), (unexpected, "unexpected keys"),
             (shapes, "shape mismatches")) if keys]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_imagenet_labels(path: Path) -> dict[str, tuple[int, ...]]:
    """Read a label file: ``[classes]`` (or ``classes = {...}``) name → ImageNet indices.

    A file without a ``classes`` table is read as that table itself. Names are unique (TOML
    rejects a repeated key); each list is non-empty, of distinct integers 0..999.
    """
    raw = read_toml(path, "label file")
    table = raw.get("classes", raw)
    extra = sorted(set(raw) - {"classes"}) if "classes" in raw else []
    if extra:
        raise DreamengineError(f"label file {path}: unknown key {extra[0]!r} (only [classes])")
    if not isinstance(table, dict) or not table:
        raise DreamengineError(f"label file {path}: [classes] must be a non-empty table")
    return {name: _checked_indices(path, name, value) for name, value in table.items()}


def _checked_indices(path: Path, name: str, value: object) -> tuple[int, ...]:
    where = f"label file {path}: classes.{name}" if name else f"label file {path}: an empty name"
    if not name or not isinstance(value, list) or not value:
        raise DreamengineError(f"{where} must be a non-empty list of ImageNet indices")
    for i in value:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < N_IMAGENET:
            raise DreamengineError(f"{where}: {i!r} is not an ImageNet index 0..{N_IMAGENET - 1}")
    if len(set(value)) != len(value):
        raise DreamengineError(f"{where} repeats an index")
    return tuple(value)


def split_cam(model: nn.Module) -> tuple[nn.Module, nn.Linear] | None:
    """``(trunk, head)`` when ``model`` ends in global average pooling → one ``nn.Linear``
    (dropout and flatten between allowed): ``trunk`` maps the normalised image to the last
    feature map ``[B, C, h, w]``; None for any other head, or when ``model`` does not trace."""
    try:
        traced = fx.symbolic_trace(model)
    except Exception:  # data-dependent control flow: no CAM, the caller falls back to logits
        return None
    graph = traced.graph
    output = next(n for n in graph.nodes if n.op == "output")
    node = output.args[0]
    is_module = isinstance(node, fx.Node) and node.op == "call_module"
    head = traced.get_submodule(str(node.target)) if is_module else None
    if not (isinstance(node, fx.Node) and isinstance(head, nn.Linear)):
        return None
    node = _single_input(node)
    while node is not None and _is_passthrough(traced, node):
        node = _single_input(node)
    if node is None or not _is_global_pool(traced, node):
        return None
    features = node.args[0]
    if not isinstance(features, fx.Node):
        return None
    output.args = (features,)
    graph.eliminate_dead_code()
    return fx.GraphModule(traced, graph), head


def _single_input(node: fx.Node) -> fx.Node | None:
    arg = node.args[0] if node.args else None
    return arg if isinstance(arg, fx.Node) and len(arg.users) == 1 else None


def _is_passthrough(traced: fx.GraphModule, node: fx.Node) -> bool:
    if node.op == "call_module":
        return isinstance(traced.get_submodule(str(node.target)), PASSTHROUGH)
    if node.op == "call_function":
        return node.target in (torch.flatten, nn.functional.dropout)
    return node.op == "call_method" and node.target == "flatten"


def _is_global_pool(traced: fx.GraphModule, node: fx.Node) -> bool:
    if node.op == "call_module":
        pool = traced.get_submodule(str(node.target))
        return isinstance(pool, nn.AdaptiveAvgPool2d) and pool.output_size in (1, (1, 1))
    if node.op == "call_function" and node.target is nn.functional.adaptive_avg_pool2d:
        size = node.args[1] if len(node.args) > 1 else node.kwargs.get("output_size")
        return size in (1, (1, 1))
    if node.op == "call_method" and node.target == "mean":
        dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
        return isinstance(dims, (list, tuple)) and sorted(dims) in ([2, 3], [-2, -1])
    return False


class TorchvisionVision(nn.Module):
    """Per-label score maps of RGB images from a torchvision ImageNet classifier; frozen."""

    top_fraction = 1 / 16  # as the detector's heatmaps (see VisionNet)
    suppress = 0.5

    def __init__(self, classifier: nn.Module, classes: Mapping[str, Sequence[int]],
                 reduce: str = "logsumexp") -> None:
        super().__init__()
        if reduce not in REDUCTIONS:
            raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
        self.labels: tuple[str, ...] = tuple(classes)
        self.n_detector = len(self.labels)  # every label is a real class a rival may be
        self.reduce = reduce
        members = torch.zeros(len(self.labels), N_IMAGENET, dtype=torch.bool)
        for k, indices in enumerate(classes.values()):
            members[k, list(indices)] = True
        self.members: torch.Tensor
        self.register_buffer("members", members, persistent=False)
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        classifier = classifier.eval().requires_grad_(False)
        split = split_cam(classifier)
        self.trunk: nn.Module = classifier if split is None else split[0]
        self.head: nn.Linear | None = None if split is None else split[1]
        self.cam = split is not None  # True: maps are class activation maps; False: [B, K, 1, 1]

    def heatmaps(self, rgb: torch.Tensor) -> torch.Tensor:
        """``[B, 3, S, S]`` RGB 0..1 → ``[B, K, h, w]`` label score maps: class activation maps
        at the last feature map's stride (e.g. S/32), each averaging to its label's score; or
        ``[B, K, 1, 1]`` scores for networks without a CAM head."""
        if rgb.dim() != 4 or rgb.shape[1] != 3:
            raise ValueError(f"expected [B, 3, S, S] RGB, got {tuple(rgb.shape)}")
        x = (rgb - self.mean) / self.std
        if self.head is None:
            score, _ = self._label_scores(self.trunk(x))
            return score[..., None, None]
        features = self.trunk(x)  # [B, C, h, w]
        pooled = features.mean(dim=(2, 3))
        score, share = self._label_scores(self.head(pooled))
        weight = share @ self.head.weight  # [B, K, C]: the label's classifier weights
        deviation = features - pooled[..., None, None]
        return score[..., None, None] + torch.einsum("bkc,bchw->bkhw", weight, deviation)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return self.heatmaps(rgb)

    def scorer(self, weights: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """The score maps a dream toward ``weights`` needs: all of them, always."""
        return self.heatmaps

    def _label_scores(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``[B, 1000]`` logits → label scores ``[B, K]`` and each label's (detached) share of
        its classes ``[B, K, 1000]``: softmax for log-sum-exp, one-hot of the top class for max."""
        masked = logits[:, None, :].masked_fill(~self.members, float("-inf"))
        if self.reduce == "max":
            score, top = masked.max(dim=-1)
            return score, nn.functional.one_hot(top, N_IMAGENET).to(logits.dtype)
        return masked.logsumexp(dim=-1), masked.detach().softmax(dim=-1)

    @classmethod
    def from_spec(cls, spec: str, weights: Path, labels: Path,
                  device: torch.device | str = "cpu",
                  reduce: str = "logsumexp") -> TorchvisionVision:
        """``spec`` ``"torchvision:ARCH"``, the user's state dict and label file → the network."""
        prefix, _, arch = spec.partition(":")
        if prefix != "torchvision" or not arch:
            raise DreamengineError(f"vision spec {spec!r}: expected torchvision:ARCH, "
                                   "e.g. torchvision:googlenet")
        classes = load_imagenet_labels(Path(labels))
        return cls(load_classifier(arch, Path(weights)), classes, reduce).to(device)
