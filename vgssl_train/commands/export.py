"""`vgssl-train export`: a checkpoint or an off-the-shelf model -> model.onnx (uint8 RGB in, descriptors out)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from vgssl_ros.datasets import DatasetError
from vgssl_ros.datasets.images import IMAGE_EXTENSIONS
from vgssl_train.commands.model_args import add_model_args, add_resize_arg, check_resize, model_from_args
from vgssl_train.data import ImageDataset
from vgssl_train.export import export_onnx
from vgssl_train.export.onnx_export import INT8_METHODS, MIN_INT8_COSINE
from vgssl_train.export.quantize import CALIBRATION_METHODS
from vgssl_train.models.data_init import init_aggregator_from_data


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `export`."""
    p = subparsers.add_parser(
        "export",
        help="export a descriptor model to ONNX for the runtime",
        description="Write model.onnx: input 'image' uint8 [N,H,W,3] RGB, output "
        "'descriptor' float32 [N,D] L2-normalised (with --activation also 'activation' float32 [N,h,w]), "
        "metadata in metadata_props. "
        "The file is written only if it matches PyTorch on real images.",
    )
    add_model_args(p)
    add_resize_arg(p, default=None, help_default="a checkpoint's training size; required without --checkpoint")
    p.add_argument("--out", required=True, help="the .onnx file to write (atomically)")
    p.add_argument(
        "--parity-images",
        required=True,
        help="a folder of real images (searched recursively) for the parity check, e.g. a dataset's database",
    )
    p.add_argument("--parity-count", type=int, default=32, help="images used for parity (default: %(default)s)")
    precision = p.add_mutually_exclusive_group()
    precision.add_argument(
        "--fp16", action="store_true", help="store weights and compute in float16 (output stays float32)"
    )
    precision.add_argument(
        "--int8",
        action="store_true",
        help="quantize statically to int8 (QDQ, per-channel weights) calibrated on --calibration-images; "
        "normalisation, first conv and pooling stay float. Checked against fp32 on the parity images",
    )
    p.add_argument(
        "--calibration-images",
        help="with --int8: a folder of real images (searched recursively) like the robot will see, "
        "e.g. a dataset's train database",
    )
    p.add_argument(
        "--calibration-count", type=int, default=64, help="images used to calibrate int8 (default: %(default)s)"
    )
    p.add_argument(
        "--calibration-methods",
        nargs="+",
        choices=list(CALIBRATION_METHODS),
        default=list(INT8_METHODS),
        help="int8 activation-range methods tried; the one closest to fp32 is kept (default: %(default)s)",
    )
    p.add_argument(
        "--min-cosine",
        type=float,
        default=MIN_INT8_COSINE,
        help="with --int8: refuse a model whose median descriptor cosine to fp32 on the parity images is lower "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--activation",
        action="store_true",
        help="add a second output 'activation' float32 [N,h,w]: where the descriptor looks, each image's maximum 1 "
        "(off by default: the runtime reads only 'descriptor')",
    )
    p.set_defaults(run=run)


def parity_images(folder: str | Path, count: int, purpose: str = "parity check") -> list[str]:
    """Up to ``count`` image paths spread evenly over the sorted images below ``folder`` (``purpose`` names the
    use in errors)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"image folder {folder} for the {purpose} does not exist; pass a folder of real images")
    files = sorted(str(p) for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise DatasetError(f"no images in {folder} (expected {', '.join(IMAGE_EXTENSIONS)}) for the {purpose}")
    pick = np.unique(np.linspace(0, len(files) - 1, min(count, len(files))).round().astype(int))
    return [files[i] for i in pick]


def run(args: argparse.Namespace) -> int:
    """Export and print the parity figures (and the int8 ones)."""
    if args.int8 != bool(args.calibration_images):
        raise ValueError(
            "--int8 needs --calibration-images DIR (real images to calibrate on)"
            if args.int8
            else "--calibration-images is for --int8: add --int8, or leave it out"
        )
    model, meta = model_from_args(args)
    trained = meta.get("resize")
    resize = args.resize or trained
    if not resize:
        raise ValueError("no input size: pass --resize H W (the checkpoint does not record one)")
    height, width = check_resize(resize)
    if args.resize and trained and list(args.resize) != [int(v) for v in trained]:
        print(
            f"warning: exporting at {height}x{width}, but the checkpoint was trained at {trained[0]}x{trained[1]}; "
            "leave out --resize to export at the training size",
            file=sys.stderr,
        )
    paths = parity_images(args.parity_images, args.parity_count)
    if not args.checkpoint:
        init_aggregator_from_data(model, ImageDataset(paths, height, width))
    calibration = []
    if args.int8:
        calibration = parity_images(args.calibration_images, args.calibration_count, "int8 calibration")
    report = export_onnx(
        model,
        meta,
        height,
        width,
        args.out,
        paths,
        fp16=args.fp16,
        activation=args.activation,
        calibration_paths=calibration,
        calibration_methods=args.calibration_methods,
        int8_min_cosine=args.min_cosine,
    )
    print(
        f"wrote {report['path']}: {report['metadata']['vgssl.backbone']}/{report['metadata']['vgssl.aggregation']} "
        f"dim {report['dim']}, input {height}x{width}, {report['metadata']['vgssl.precision']}, "
        f"sha256 {report['sha256'][:16]}"
    )
    print(
        f"parity on {report['images']} images: min cosine {report['min_cosine']:.6f}, "
        f"top-1 agreement {100 * report['top1_agreement']:.0f}%"
        + (f", activation maps min cosine {report['activation_min_cosine']:.6f}" if args.activation else "")
        + (" (fp32 graph)" if args.int8 else "")
    )
    if args.int8:
        q = report["int8"]
        print(
            f"int8 ({q['method']} calibration on {q['calibration_images']} images) vs fp32 on {report['images']} "
            f"images: descriptor cosine median {q['median_cosine']:.4f}, 1st percentile {q['p1_cosine']:.4f}, "
            f"top-1 agreement {100 * q['top1_agreement']:.0f}%"
        )
    return 0
