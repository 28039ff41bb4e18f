"""`vgssl-train dataset`: recorded rosbag2 drives (camera + GNSS) to a dataset in the VPR layout.

The first drive (or --database-drive) is the database, the others are queries, so GeoPair pairs always join
two traversals. Splits are stretches of the database route by distance; each query frame takes the split of its
nearest database frame, and frames within 25 m of a split border are dropped. Reading bags needs no torch.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vgssl_ros.bags import DriveTopics
from vgssl_ros.io.progress import QUIET_HELP
from vgssl_train.drives import BORDER_M, DATASET_JSON, SPLIT_NAMES, DriveOptions, build_dataset


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `dataset`."""
    p = subparsers.add_parser(
        "dataset",
        help="turn recorded rosbag2 drives into a dataset (VPR layout) for train, eval and maps",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--drive",
        action="append",
        required=True,
        metavar="BAG",
        help="a rosbag2 drive (sqlite3 or mcap); repeat for each traversal; the first is the database",
    )
    p.add_argument("--database-drive", metavar="BAG", help="the database drive (default: the first --drive)")
    p.add_argument("--out", required=True, help="dataset folder to write (refused if it exists, unless --overwrite)")
    p.add_argument(
        "--image-topic",
        default=DriveTopics.image,
        help="sensor_msgs/Image (any encoding the node decodes) or CompressedImage topic (default: %(default)s)",
    )
    p.add_argument("--fix-topic", default=DriveTopics.fix, help="sensor_msgs/NavSatFix topic (default: %(default)s)")
    p.add_argument(
        "--max-fix-gap",
        type=float,
        default=DriveOptions.max_fix_gap_s,
        help="longest gap between fixes bridged by interpolation, seconds (default: %(default)s)",
    )
    p.add_argument(
        "--max-fix-std",
        type=float,
        default=DriveOptions.max_fix_std_m,
        help="skip fixes whose reported horizontal standard deviation exceeds this, metres (default: %(default)s)",
    )
    p.add_argument(
        "--min-spacing",
        type=float,
        default=DriveOptions.min_spacing_m,
        help="keep one frame per M metres travelled in each drive (default: %(default)s; 0 keeps all)",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument("--resize", nargs=2, type=_positive_int, metavar=("H", "W"), help="store images at H x W")
    size.add_argument("--max-side", type=_positive_int, help="shrink images whose longer side exceeds this (pixels)")
    p.add_argument(
        "--jpeg-quality", type=int, default=DriveOptions.jpeg_quality, help="JPEG quality 1-100 (default: %(default)s)"
    )
    p.add_argument(
        "--splits",
        nargs=3,
        type=float,
        default=[60.0, 15.0, 25.0],
        metavar=tuple(s.upper() for s in SPLIT_NAMES),
        help="relative lengths of the train, val and test stretches of the database route (default: 60 15 25)",
    )
    p.add_argument(
        "--database-only",
        action="store_true",
        help="no queries and no splits: every drive's frames go to OUT/database/ (map images for "
        "`vgssl-map build --images OUT/database`); without it one drive is refused",
    )
    p.add_argument("--overwrite", action="store_true", help="replace OUT (only once the new one is complete)")
    p.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    p.set_defaults(run=run)


def _positive_int(text: str) -> int:
    """A pixel size: an integer >= 1, else an argparse error saying what to pass."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size in pixels; pass a whole number >= 1, e.g. 480")
    return value


def run(args: argparse.Namespace) -> int:
    """Build the dataset and print its counts and where to go next."""
    drives = list(args.drive)
    if args.database_drive:
        database = Path(args.database_drive)
        drives = [args.database_drive] + [d for d in drives if Path(d) != database]
    if not 1 <= args.jpeg_quality <= 100:
        raise ValueError(f"--jpeg-quality {args.jpeg_quality} is out of range; pass 1..100 (default 90)")
    for name, value in (("--max-fix-gap", args.max_fix_gap), ("--max-fix-std", args.max_fix_std)):
        if not value > 0:
            raise ValueError(f"{name} {value} must be positive")
    if args.min_spacing < 0:
        raise ValueError(f"--min-spacing {args.min_spacing} must be >= 0 (0 keeps every frame)")
    options = DriveOptions(
        image_topic=args.image_topic,
        fix_topic=args.fix_topic,
        max_fix_gap_s=args.max_fix_gap,
        max_fix_std_m=args.max_fix_std,
        min_spacing_m=args.min_spacing,
        size=tuple(args.resize) if args.resize else None,
        max_side=args.max_side,
        jpeg_quality=args.jpeg_quality,
    )
    info = build_dataset(drives, args.out, options, tuple(args.splits), args.database_only, args.overwrite, args.quiet)
    for d in info["drives"]:
        skipped = ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in d["skipped"].items() if n) or "none"
        print(f"  {d['role']:8s} {d['path']}: {d['images']} images, kept {d['kept']}; skipped: {skipped}")
    out = Path(args.out)
    if args.database_only:
        print(f"wrote {out}: {info['counts']['database']} database images, UTM {info['utm_zone']}; {DATASET_JSON}")
        print(f"map: vgssl-map build --images {out / 'database'} --model MODEL.onnx --out MAP")
        return 0
    counts = ", ".join(f"{s} {c['database']}+{c['queries']}" for s, c in info["counts"].items())
    print(
        f"wrote {out}: (database+queries) {counts}, UTM {info['utm_zone']}, database route "
        f"{info['database_route_m']:.0f} m; frames within {BORDER_M:g} m of a split border dropped; {DATASET_JSON}"
    )
    print(f"train: vgssl-train train --dataset {out} --method METHOD --out RUN")
    return 0
