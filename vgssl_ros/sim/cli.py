"""`vgssl-sim world | drive`: a procedural geo-tagged street world and drives through it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vgssl_ros.bags import ENCODINGS, STORAGES
from vgssl_ros.cli import run_subcommand
from vgssl_ros.sim.camera import Camera
from vgssl_ros.sim.conditions import CONDITIONS
from vgssl_ros.sim.dataset import SPLIT_FRACTIONS, DatasetSpec, load_world, split_range, write_world_dataset
from vgssl_ros.sim.drive import GROUND_TRUTH_TOPIC, DriveSpec, write_drive
from vgssl_ros.sim.world import WorldSpec

CONDITION_HELP = "; ".join(f"{c.name}: {c.help}" for c in CONDITIONS.values())


def _add_world(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "world",
        help="build a world and write its map dataset (VPR layout)",
        description="Build a procedural street world (deterministic from --seed) and write "
        "OUT/images/{train,val,test}/{database,queries}/ in the VPR-datasets layout: "
        "database = the day traversal, queries = --query-condition; plus OUT/world.json.",
    )
    p.add_argument("--out", required=True, type=Path, help="output folder (must not exist unless --overwrite)")
    p.add_argument("--seed", type=int, default=0, help="world seed (default: %(default)s)")
    p.add_argument(
        "--route-m", type=float, default=WorldSpec.route_m, help="route length in metres (default: %(default)s)"
    )
    p.add_argument(
        "--styles",
        type=int,
        default=WorldSpec.styles,
        help="facade styles shared by all buildings; fewer = more aliasing (default: %(default)s)",
    )
    p.add_argument(
        "--query-condition",
        default=DatasetSpec.query_condition,
        choices=list(CONDITIONS),
        help=f"condition of the queries (default: %(default)s). {CONDITION_HELP}",
    )
    p.add_argument(
        "--spacing-m",
        type=float,
        default=DatasetSpec.spacing_m,
        help="metres between images of one traversal (default: %(default)s)",
    )
    p.add_argument(
        "--size",
        nargs=2,
        type=int,
        metavar=("H", "W"),
        default=[Camera.height, Camera.width],
        help="image height and width (default: %(default)s)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace OUT if it exists (only once the new one is complete)"
    )
    p.set_defaults(run=_run_world)


def _run_world(args: argparse.Namespace) -> int:
    world_spec = WorldSpec(seed=args.seed, route_m=args.route_m, styles=args.styles)
    spec = DatasetSpec(
        query_condition=args.query_condition,
        spacing_m=args.spacing_m,
        camera=Camera(width=args.size[1], height=args.size[0]),
    )
    info = write_world_dataset(args.out, world_spec, spec, overwrite=args.overwrite)
    counts = ", ".join(f"{k} {v['database']}+{v['queries']}" for k, v in info["counts"].items())
    print(
        f"world {args.out}: {info['route_m']:.0f} m route, {info['buildings']} buildings, zone {info['utm_zone']}; "
        f"images (database+queries) {counts}"
    )
    return 0


def _add_drive(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "drive",
        help="record a drive through a world as a rosbag2 bag",
        description="Drive a stretch of a world's route and write a rosbag2 bag: /camera/image_raw "
        "(sensor_msgs/Image rgb8 or bgr8), optionally /camera/image_raw/compressed (jpeg), "
        f"/gnss/fix (NavSatFix with noise and diagonal covariance) and {GROUND_TRUTH_TOPIC} "
        "(the true camera position, one per image).",
    )
    p.add_argument("--world", required=True, type=Path, help="a folder written by `vgssl-sim world`")
    p.add_argument("--out", required=True, type=Path, help="bag folder to write (must not exist)")
    p.add_argument(
        "--condition",
        choices=list(CONDITIONS),
        help=f"traversal condition (default: the world's query condition). {CONDITION_HELP}",
    )
    p.add_argument(
        "--split",
        nargs="+",
        default=["test"],
        choices=[*SPLIT_FRACTIONS, "all"],
        help="stretch of the route to drive: a dataset split's, consecutive splits' as one (e.g. train val), "
        "or all (default: test)",
    )
    p.add_argument(
        "--storage", default="sqlite3", choices=list(STORAGES), help="rosbag2 storage (default: %(default)s)"
    )
    p.add_argument("--compressed", action="store_true", help="also write /camera/image_raw/compressed (jpeg)")
    p.add_argument("--encoding", default="rgb8", choices=list(ENCODINGS), help="image encoding (default: %(default)s)")
    p.add_argument("--speed", type=float, default=DriveSpec.speed_mps, help="metres per second (default: %(default)s)")
    p.add_argument("--camera-hz", type=float, default=DriveSpec.camera_hz, help="image rate (default: %(default)s)")
    p.add_argument("--gnss-hz", type=float, default=DriveSpec.gnss_hz, help="fix rate (default: %(default)s)")
    p.add_argument(
        "--gnss-sigma",
        type=float,
        default=DriveSpec.gnss_sigma_m,
        help="horizontal GNSS error sigma in metres (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the drive's jitter and noise (default: %(default)s)")
    p.add_argument(
        "--stop",
        nargs=2,
        type=float,
        action="append",
        default=[],
        metavar=("METRES", "SECONDS"),
        help="stand still for SECONDS after METRES of the stretch, as at a traffic light (repeatable)",
    )
    p.set_defaults(run=_run_drive)


def _run_drive(args: argparse.Namespace) -> int:
    world, dataset = load_world(args.world)
    spec = DriveSpec(
        condition=args.condition or dataset.query_condition,
        speed_mps=args.speed,
        camera_hz=args.camera_hz,
        gnss_hz=args.gnss_hz,
        gnss_sigma_m=args.gnss_sigma,
        storage=args.storage,
        compressed=args.compressed,
        encoding=args.encoding,
        seed=args.seed,
        stops=tuple((float(m), float(sec)) for m, sec in args.stop),
    )
    counts = write_drive(world, args.out, split_range(world, *args.split), spec, dataset.camera)
    print(f"drive {args.out} ({args.storage}, {spec.condition}): " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The `vgssl-sim` argument parser."""
    parser = argparse.ArgumentParser(
        prog="vgssl-sim",
        description="A procedural geo-tagged street world (UTM zone "
        "32U) and drives through it: map datasets in the VPR layout and rosbag2 drives.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_world(sub)
    _add_drive(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run; user errors print one line and exit 2."""
    return run_subcommand(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
