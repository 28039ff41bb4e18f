"""`vgssl-eval`: score a localizer on a recorded drive (rosbag2), offline or live over DDS."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from vgssl_ros.bags import STORAGES, BagError
from vgssl_ros.core.assemble import build_localizer
from vgssl_ros.core.calibration import CALIBRATION_FILE
from vgssl_ros.core.embedder import Embedder
from vgssl_ros.core.errors import DecodeError, MapError, ModelError
from vgssl_ros.core.map import Map
from vgssl_ros.core.settings import SETTINGS, LocalizerSettings
from vgssl_ros.datasets import DatasetError, read_vpr_folder
from vgssl_ros.eval.compare import compare_main
from vgssl_ros.eval.drive_records import DriveRecords, write_drive_records
from vgssl_ros.eval.failures import WORST_STRETCHES
from vgssl_ros.eval.frame_log import FrameLog
from vgssl_ros.eval.frames import DriveFrames
from vgssl_ros.eval.gaps import unanswered_gaps
from vgssl_ros.eval.gnss import gnss_at
from vgssl_ros.eval.make_bag import images_to_bag
from vgssl_ros.eval.metrics import metric_definitions, top1_outcome
from vgssl_ros.eval.offline import localize_drive
from vgssl_ros.eval.place_images import bag_images_at
from vgssl_ros.eval.plots import drive_title, write_plots
from vgssl_ros.eval.report import format_live, write_report
from vgssl_ros.eval.side_by_side import format_side_by_side, write_side_by_side
from vgssl_ros.io.progress import QUIET_HELP


def build_parser() -> argparse.ArgumentParser:
    """Options of `vgssl-eval`."""
    p = argparse.ArgumentParser(
        prog="vgssl-eval",
        description="Localize every frame of a recorded drive against "
        "a map and score it against the drive's GNSS (NavSatFix interpolated at each image "
        "stamp): metrics.json and plots in --out. `vgssl-eval make-bag --help` turns an "
        "image sequence into a drive; `vgssl-eval compare RUN_A RUN_B` prints two evaluations side by side.",
    )
    p.add_argument("--bag", required=True, help="rosbag2 drive (directory, sqlite3 or mcap)")
    p.add_argument("--map", required=True, help="map directory from `vgssl-map build`")
    p.add_argument(
        "--model",
        help="model.onnx the map was built with (offline mode; live mode: optional, only for the activation maps in "
        "failures.png of a model exported with `vgssl-train export --activation`)",
    )
    p.add_argument(
        "--out", required=True, help="output folder for metrics.json, frames.csv, failures.png and the PNG plots"
    )
    p.add_argument(
        "--image-topic",
        default="/camera/image_raw",
        help="camera topic (Image or CompressedImage; default: %(default)s)",
    )
    p.add_argument("--fix-topic", default="/gnss/fix", help="ground-truth NavSatFix topic (default: %(default)s)")
    p.add_argument(
        "--gnss-topic",
        default="/gnss/fix",
        help="the robot's GNSS NavSatFix, scored as a baseline when it is not --fix-topic and the bag has it "
        "(simulator drives: --fix-topic /ground_truth/fix; default: %(default)s)",
    )
    p.add_argument(
        "--worst",
        type=int,
        default=WORST_STRETCHES,
        help="wrong stretches shown in failures.png (default: %(default)s)",
    )
    p.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="fit the calibration on this drive (a validation drive) and write it to --calibration-out",
    )
    p.add_argument("--calibration-out", default="", help=f"where --calibrate writes (default: MAP/{CALIBRATION_FILE})")
    add_settings_arguments(p)
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
        default="/camera/image_raw",
        help="topic the localizer subscribes to (its `image` remapped, e.g. -r image:=/camera/image_raw, the "
        "launch file's image_topic); the camera topic is played onto it (default: %(default)s)",
    )
    live.add_argument("--rate", type=float, default=1.0, help="playback speed factor (default: %(default)s)")
    live.add_argument(
        "--no-play",
        action="store_true",
        help="do not play the bag: listen while `ros2 bag play` plays it (then latency is not measured)",
    )
    return p


OPTIONS = {
    "filter_enabled": ("--no-filter",),
    "match_radius_m": ("--match-radius-m", "--radius"),
    "intra_op_threads": ("--intra-op-threads", "--threads"),
}
"""Option spellings other than --name-with-dashes (older spellings kept as aliases)."""


def add_settings_arguments(p: argparse.ArgumentParser) -> None:
    """One option per row of the settings table (core/settings.py), with the node parameter's description.

    Every default is None (= not passed): offline the table's default applies, --live the node's value."""
    g = p.add_argument_group("localizer settings (the localizer node's parameters of the same name)")
    for s in SETTINGS.values():
        flags = OPTIONS.get(s.name, (f"--{s.name.replace('_', '-')}",))
        text = f"{s.description} (parameter {s.name}; default: {_shown(s.default)})".replace("%", "%%")
        if isinstance(s.default, bool):
            g.add_argument(*flags, dest=s.name, action="store_const", const=not s.default, help=text)
        elif isinstance(s.default, tuple):
            g.add_argument(*flags, dest=s.name, nargs="+", choices=s.choices, help=text)
        else:
            g.add_argument(*flags, dest=s.name, type=type(s.default), choices=s.choices or None, help=text)


def _shown(default: Any) -> str:
    """A default as a user types it."""
    if isinstance(default, bool):
        return str(default).lower()
    return " ".join(default) if isinstance(default, tuple) else repr(default)


def passed_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, by name (the options left out are not in it)."""
    return {name: getattr(args, name) for name in SETTINGS if getattr(args, name) is not None}


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
    p.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    return p


def make_bag_main(argv: list[str]) -> int:
    """`vgssl-eval make-bag`."""
    args = build_make_bag_parser().parse_args(argv)
    try:
        n = images_to_bag(read_vpr_folder(args.images), args.out, args.rate, args.storage, progress=not args.quiet)
    except (DatasetError, FileExistsError, ValueError, OSError) as exc:
        print(f"vgssl-eval make-bag: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {Path(args.out)}: {n} frames at {args.rate:g} Hz ({args.storage})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the offline evaluation (or `make-bag`); user errors print one line and exit 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["make-bag"]:
        return make_bag_main(argv[1:])
    if argv[:1] == ["compare"]:
        return compare_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.worst < 0:
        parser.error(f"--worst must be 0 or more (stretches in failures.png), got {args.worst}")
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
    print(summary or format_live(metrics))
    print(metric_definitions(metrics["radius_m"]))
    for warning in metrics.get("calibration", {}).get("warnings", []):
        print(f"vgssl-eval: warning: {warning}", file=sys.stderr)
    if calibrate_out is not None:
        print(f"wrote calibration {calibrate_out}")
    print(
        f"wrote {Path(args.out) / 'metrics.json'}, {metrics['frames_csv']} and plots: "
        f"{', '.join([*metrics['plots'].values(), *metrics.get('filtered', {}).get('plots', {}).values()])}"
    )
    return 0


def _run_live(args: argparse.Namespace) -> dict:
    """Play the drive into a running localizer and score what it publishes (with the node's settings)."""
    embedder = Embedder(args.model) if args.model else None
    if embedder is not None:  # before anything plays: a map built for another model is refused, never scored
        Map.load(args.map, model_sha256=embedder.model_sha256, dim=embedder.dim)
    from vgssl_ros.eval.live import score_live  # needs rclpy; the offline mode does not

    outcome, frames, skipped, settings = score_live(
        args.bag,
        args.map,
        args.image_topic,
        args.fix_topic,
        args.localizer,
        args.localizer_input,
        play=not args.no_play,
        rate=args.rate,
        expected=passed_settings(args),
    )
    geo_map = Map.load(args.map, model_sha256=embedder.model_sha256 if embedder else None)
    title = drive_title(args.bag, args.map, "live")
    folders = {m: Path(args.out) for m in ("single", "filtered")}
    records = _records(args, frames, geo_map, folders, title, embedder)
    mode = next(iter(frames.modes))
    outcomes = {"single": top1_outcome(outcome, geo_map.places.utm), "filtered": outcome}
    labels = {"single": "single-frame (top-1 candidate)", "filtered": "filtered (~/fix)"}
    if mode == "single":
        outcomes, labels = {"single": outcome}, {"single": "single-frame (~/fix)"}
    figures = write_plots(
        outcomes, geo_map.places.utm, Path(args.out), title, {mode: records.stretches[mode]}, labels, ["single"]
    )
    return write_report(
        outcome,
        geo_map.places.utm,
        args.out,
        {
            **records.sections,
            "mode": "live",
            "bag": str(args.bag),
            "map": str(args.map),
            "localizer": args.localizer,
            "rate": args.rate,
            "skipped": skipped,
            "frames_answered_by_localizer": int(np.isfinite(outcome.est_utm[:, 0]).sum()),
            "gaps": unanswered_gaps(frames.stamps, np.isfinite(outcome.est_utm[:, 0])),
            "settings": settings,
        },
        {**figures, **records.plots[mode]},
    )


def _run_offline(args: argparse.Namespace) -> tuple[dict, Path | None]:
    """Every frame through LocalizerCore here; single-frame and filtered metrics side by side."""
    settings = LocalizerSettings.from_values(passed_settings(args))
    core = build_localizer(args.model, args.map, settings, load_calibration=not args.calibrate)
    log = FrameLog(core)
    outcome, skipped = localize_drive(
        core, args.bag, args.image_topic, args.fix_topic, progress=not args.quiet, on_frame=log
    )
    calibrate_out = Path(args.calibration_out or Path(args.map) / CALIBRATION_FILE) if args.calibrate else None
    title = drive_title(args.bag, args.map)
    folders = {"single": Path(args.out), "filtered": Path(args.out) / "filtered"}
    records = _records(args, log.frames(), core.map, folders, title, core.embedder)
    metrics = write_side_by_side(
        log,
        outcome,
        core.map.places.utm,
        args.out,
        title,
        {
            "mode": "offline",
            "bag": str(args.bag),
            "map": str(args.map),
            "model": str(args.model),
            "skipped": skipped,
            "settings": settings.values(),
        },
        core.calibration,
        calibrate_out,
        records,
    )
    return metrics, calibrate_out


def _records(
    args: argparse.Namespace,
    frames: DriveFrames,
    geo_map: Map,
    folders: dict[str, Path],
    title: str,
    embedder: Embedder | None,
) -> DriveRecords:
    """frames.csv, the robot metrics and the failure galleries of one evaluation (GNSS baseline where the bag has
    one; activation maps in the galleries where ``embedder``'s model has them)."""
    frames.gnss_utm = gnss_at(args.bag, args.image_topic, args.fix_topic, args.gnss_topic, frames.stamps, geo_map.zone)
    return write_drive_records(
        frames,
        geo_map,
        lambda stamps: bag_images_at(args.bag, args.image_topic, args.fix_topic, stamps),
        folders,
        title,
        args.gnss_topic,
        worst=args.worst,
        activations=embedder.activations if embedder is not None and embedder.has_activation else None,
    )


if __name__ == "__main__":
    sys.exit(main())
