"""`vgssl-eval`: score a localizer on a recorded drive (rosbag2), offline or live over DDS."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from vgssl_ros.bags import STORAGES, BagError
from vgssl_ros.core.calibration import CALIBRATION_FILE, Calibration
from vgssl_ros.core.embedder import Embedder
from vgssl_ros.core.errors import DecodeError, MapError, ModelError
from vgssl_ros.core.estimate import EstimatorConfig
from vgssl_ros.core.filter import filter_for_map
from vgssl_ros.core.localizer import LocalizerCore
from vgssl_ros.core.map import Map
from vgssl_ros.datasets import DatasetError, read_vpr_folder
from vgssl_ros.eval.filter_options import add_filter_arguments, calibration_path, filter_config
from vgssl_ros.eval.frame_log import FrameLog
from vgssl_ros.eval.make_bag import images_to_bag
from vgssl_ros.eval.offline import localize_drive
from vgssl_ros.eval.report import format_metrics, write_report
from vgssl_ros.eval.side_by_side import format_side_by_side, write_side_by_side


def build_parser() -> argparse.ArgumentParser:
    """Options of `vgssl-eval`."""
    p = argparse.ArgumentParser(
        prog="vgssl-eval",
        description="Localize every frame of a recorded drive against "
        "a map and score it against the drive's GNSS (NavSatFix interpolated at each image "
        "stamp): metrics.json and plots in --out. `vgssl-eval make-bag --help` turns an "
        "image sequence into a drive.",
    )
    p.add_argument("--bag", required=True, help="rosbag2 drive (directory, sqlite3 or mcap)")
    p.add_argument("--map", required=True, help="map directory from `vgssl-map build`")
    p.add_argument("--model", help="model.onnx the map was built with (offline mode)")
    p.add_argument("--out", required=True, help="output folder for metrics.json and the PNG plots")
    p.add_argument(
        "--image-topic",
        default="/camera/image_raw",
        help="camera topic (Image or CompressedImage; default: %(default)s)",
    )
    p.add_argument("--fix-topic", default="/gnss/fix", help="ground-truth NavSatFix topic (default: %(default)s)")
    p.add_argument("--top-k", type=int, default=10, help="places retrieved per frame (default: %(default)s)")
    p.add_argument("--radius", type=float, default=25.0, help="estimate refinement radius in m (default: %(default)s)")
    p.add_argument("--min-similarity", type=float, default=0.0, help="rejection threshold on top-1 similarity")
    p.add_argument("--min-margin", type=float, default=0.0, help="rejection threshold on the margin to distant places")
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_filter_arguments(p)
    live = p.add_argument_group("live mode: score a running localizer over DDS")
    live.add_argument(
        "--live",
        action="store_true",
        help="instead of running the core here, play the drive into a "
        "running localizer and score what it publishes on ~/fix and ~/candidates",
    )
    live.add_argument("--localizer", default="/localizer", help="the localizer node's name (default: %(default)s)")
    live.add_argument(
        "--localizer-input",
        default="/image",
        help="topic the localizer subscribes to; the camera topic is played onto it (default: %(default)s)",
    )
    live.add_argument("--rate", type=float, default=1.0, help="playback speed factor (default: %(default)s)")
    live.add_argument(
        "--no-play",
        action="store_true",
        help="do not play the bag: listen while `ros2 bag play` plays it (then latency is not measured)",
    )
    return p


def build_make_bag_parser() -> argparse.ArgumentParser:
    """Options of `vgssl-eval make-bag`."""
    p = argparse.ArgumentParser(
        prog="vgssl-eval make-bag",
        description="Turn a folder of geo-tagged images in "
        "route order (VPR-datasets layout, sorted by file name) into a rosbag2 drive with "
        "/camera/image_raw (Image, rgb8) and /gnss/fix (NavSatFix at each image's position).",
    )
    p.add_argument("--images", required=True, help="folder of @east@north@...@ images, e.g. .../test/queries")
    p.add_argument("--out", required=True, help="bag directory to create (must not exist)")
    p.add_argument("--rate", type=float, default=10.0, help="frames per second (default: %(default)s)")
    p.add_argument(
        "--storage", choices=list(STORAGES), default="sqlite3", help="rosbag2 storage (default: %(default)s)"
    )
    return p


def make_bag_main(argv: list[str]) -> int:
    """`vgssl-eval make-bag`."""
    args = build_make_bag_parser().parse_args(argv)
    try:
        n = images_to_bag(read_vpr_folder(args.images), args.out, args.rate, args.storage)
    except (DatasetError, FileExistsError, ValueError, OSError) as exc:
        print(f"vgssl-eval make-bag: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {n} frames at {args.rate:g} Hz ({args.storage})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the offline evaluation (or `make-bag`); user errors print one line and exit 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["make-bag"]:
        return make_bag_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.live and not args.model:
        parser.error("--model is required (or use --live to score a running localizer)")
    try:
        if args.live:
            metrics, summary, calibrate_out = _run_live(args), None, None
        else:
            metrics, calibrate_out = _run_offline(args)
            summary = format_side_by_side(metrics)
    except (BagError, MapError, ModelError, DecodeError, ValueError, OSError, RuntimeError) as exc:
        print(f"vgssl-eval: error: {exc}", file=sys.stderr)
        return 2
    print(summary or format_metrics(metrics))
    if calibrate_out is not None:
        print(f"wrote calibration {calibrate_out}")
    print(f"wrote {args.out}/metrics.json and plots: {', '.join(metrics['plots'].values())}")
    return 0


def _run_live(args: argparse.Namespace) -> dict:
    """Play the drive into a running localizer and score what it publishes."""
    from vgssl_ros.eval.live import score_live  # needs rclpy; the offline mode does not

    outcome, skipped = score_live(
        args.bag,
        args.map,
        args.image_topic,
        args.fix_topic,
        args.localizer,
        args.localizer_input,
        play=not args.no_play,
        rate=args.rate,
        top_k=args.top_k,
    )
    geo_map = Map.load(args.map)
    return write_report(
        outcome,
        geo_map.places.utm,
        args.out,
        f"{args.bag} vs {args.map} (live)",
        {
            "mode": "live",
            "bag": str(args.bag),
            "map": str(args.map),
            "localizer": args.localizer,
            "rate": args.rate,
            "skipped": skipped,
            "frames_answered_by_localizer": int(np.isfinite(outcome.est_utm[:, 0]).sum()),
        },
    )


def _run_offline(args: argparse.Namespace) -> tuple[dict, Path | None]:
    """Every frame through LocalizerCore here; single-frame and filtered metrics side by side."""
    embedder = Embedder(args.model, intra_op_threads=args.threads)
    geo_map = Map.load(args.map, model_sha256=embedder.model_sha256, dim=embedder.dim)
    config = EstimatorConfig(radius_m=args.radius, min_similarity=args.min_similarity, min_margin=args.min_margin)
    options = filter_config(vars(args))
    temporal_filter = None if args.no_filter else filter_for_map(geo_map, options, config)
    calib_file = calibration_path(args.calibration, args.map)
    calibration = Calibration.load(calib_file) if calib_file and not args.calibrate else None
    core = LocalizerCore(
        embedder,
        geo_map,
        args.top_k,
        config,
        temporal_filter=temporal_filter,
        calibration=calibration,
        min_probability=options.min_confidence,
    )
    log = FrameLog(core)
    outcome, skipped = localize_drive(
        core, args.bag, args.image_topic, args.fix_topic, progress=not args.quiet, on_frame=log
    )
    calibrate_out = Path(args.calibration_out or Path(args.map) / CALIBRATION_FILE) if args.calibrate else None
    metrics = write_side_by_side(
        log,
        outcome,
        geo_map.places.utm,
        args.out,
        f"{args.bag} vs {args.map}",
        {"mode": "offline", "bag": str(args.bag), "map": str(args.map), "model": str(args.model), "skipped": skipped},
        calibration,
        calibrate_out,
    )
    return metrics, calibrate_out


if __name__ == "__main__":
    sys.exit(main())
