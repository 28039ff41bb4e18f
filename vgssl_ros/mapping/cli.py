"""`vgssl-map build | info | query` (same as `python -m vgssl_ros.mapping ...`)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from vgssl_ros.cli import run_subcommand, subcommand_parser
from vgssl_ros.core import PROVIDERS, Embedder, Map
from vgssl_ros.core.map import INDEX_FILE
from vgssl_ros.core.thumbnails import THUMBNAIL_WIDTH, THUMBNAILS_FILE
from vgssl_ros.datasets import load_rgb
from vgssl_ros.io.progress import QUIET_HELP
from vgssl_ros.mapping.build import build_map
from vgssl_ros.mapping.index_types import AUTO_FLAT_MAX_PLACES, DEFAULT_INDEX, INDEX_CHOICES
from vgssl_ros.mapping.sources import bag_source, csv_source, folder_source


def add_embedder_args(p: argparse.ArgumentParser) -> None:
    """--model, --provider, --threads."""
    p.add_argument("--model", required=True, help="model.onnx from `vgssl-train export`")
    p.add_argument(
        "--provider",
        nargs="+",
        default=["cpu"],
        choices=list(PROVIDERS),
        help="ONNX Runtime execution providers in order of preference (default: cpu)",
    )
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads (default: %(default)s)")


def add_build(subparsers: argparse._SubParsersAction) -> None:
    """Register `build`."""
    p = subparsers.add_parser("build", help="embed geo-tagged images into a map directory")
    add_embedder_args(p)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--images", help="folder of VPR-layout images (@east@north@zone@band@lat@lon@...), e.g. a split's database"
    )
    src.add_argument("--csv", help="CSV manifest: image path + lat/lon or UTM columns")
    src.add_argument("--bag", help="rosbag2 drive (sqlite3 or mcap) with --image-topic and --fix-topic")
    p.add_argument("--image-topic", help="with --bag: sensor_msgs/Image or CompressedImage topic")
    p.add_argument("--fix-topic", help="with --bag: sensor_msgs/NavSatFix topic")
    p.add_argument(
        "--max-fix-gap",
        type=float,
        default=1.0,
        help="with --bag: longest gap between fixes bridged by interpolation, seconds (default: %(default)s)",
    )
    p.add_argument("--out", required=True, help="map directory to write (refused if it exists, unless --overwrite)")
    p.add_argument(
        "--index",
        default=DEFAULT_INDEX,
        choices=list(INDEX_CHOICES),
        help=f"FAISS index: flat exact, ivfpq compressed, hnsw graph; auto = flat up to "
        f"{AUTO_FLAT_MAX_PLACES} places, ivfpq above (default: %(default)s)",
    )
    p.add_argument(
        "--min-spacing", type=float, default=0.0, help="keep one image per M metres of travel (default: all)"
    )
    p.add_argument("--batch-size", type=int, default=32, help="images per ONNX Runtime call (default: %(default)s)")
    p.add_argument(
        "--thumbnail-width",
        type=int,
        default=THUMBNAIL_WIDTH,
        help="width in pixels of the JPEG thumbnail stored per place for the node's debug view (default: %(default)s)",
    )
    p.add_argument("--no-thumbnails", action="store_true", help="store no thumbnails (a smaller map; no debug view)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace an existing map (only once the new one is complete)"
    )
    p.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    p.set_defaults(run=run_build)


def run_build(args: argparse.Namespace) -> int:
    """Build the map and print a summary."""
    if args.bag and not (args.image_topic and args.fix_topic):
        raise ValueError("--bag needs --image-topic and --fix-topic")
    if args.thumbnail_width < 1:
        raise ValueError(f"--thumbnail-width must be 1 or more pixels, got {args.thumbnail_width} (or --no-thumbnails)")
    if args.bag:
        source = bag_source(args.bag, args.image_topic, args.fix_topic, args.max_fix_gap)
    else:
        source = folder_source(args.images) if args.images else csv_source(args.csv)
    logging.getLogger("vgssl_ros").setLevel(logging.WARNING if args.quiet else logging.NOTSET)  # results and errors
    embedder = Embedder(args.model, args.provider, args.threads)
    info = build_map(
        embedder,
        source,
        args.out,
        args.index,
        args.min_spacing,
        args.batch_size,
        args.overwrite,
        progress=not args.quiet,
        thumbnail_width=0 if args.no_thumbnails else args.thumbnail_width,
    )
    skipped = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in source.skipped.items() if v) or "none"
    print(
        f"wrote {Path(args.out)}: {info['place_count']} places, dim {info['descriptor_dim']}, "
        f"index {info['index']['type']} {info['index']['params']}, UTM {source.zone}; skipped: {skipped}"
    )
    return 0


def add_info(subparsers: argparse._SubParsersAction) -> None:
    """Register `info`."""
    p = subparsers.add_parser("info", help="print what a map holds")
    p.add_argument("map", help="map directory")
    p.set_defaults(run=run_info)


def run_info(args: argparse.Namespace) -> int:
    """Print the map's fields, extent and size."""
    m = Map.load(args.map)
    i, utm = m.info, m.places.utm
    size = (m.path / INDEX_FILE).stat().st_size
    model = i.get("model", {})
    print(f"map {m.path} (format {i['format_version']})")
    print(f"  places      {i['place_count']}  ({size / max(len(m.places), 1):.0f} index bytes per place)")
    print(f"  descriptor  {i['descriptor_dim']}-d, {i['metric']}, index {i['index']['type']} {i['index']['params']}")
    print(
        f"  model       {model.get('backbone')}/{model.get('aggregation')} {model.get('input_height')}x"
        f"{model.get('input_width')} method {model.get('method')} run {model.get('run_id')}, sha256 {i['model_sha256']}"
    )
    print(
        f"  UTM         zone {m.zone}, origin {i['utm_origin']}, east {utm[:, 0].min():.1f}..{utm[:, 0].max():.1f}, "
        f"north {utm[:, 1].min():.1f}..{utm[:, 1].max():.1f}"
    )
    if m.thumbnails is not None:
        thumbs = (m.path / THUMBNAILS_FILE).stat().st_size
        print(
            f"  thumbnails  {len(m.thumbnails)} JPEG, up to {i['thumbnails']['width']} px wide, "
            f"{thumbs / max(len(m.thumbnails), 1):.0f} bytes per place"
        )
    else:
        print("  thumbnails  none (built with --no-thumbnails or before they existed; the debug view shows the frame)")
    print(f"  created     {i['created'].get('time')} by {i['created'].get('tool')} from {i['created'].get('source')}")
    return 0


def add_query(subparsers: argparse._SubParsersAction) -> None:
    """Register `query`."""
    p = subparsers.add_parser("query", help="the top-K places for images")
    p.add_argument("map", help="map directory")
    add_embedder_args(p)
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("-k", type=int, default=5, help="places per image (default: %(default)s)")
    p.set_defaults(run=run_query)


def run_query(args: argparse.Namespace) -> int:
    """Embed each image and print its best places."""
    embedder = Embedder(args.model, args.provider, args.threads)
    m = Map.load(args.map, model_sha256=embedder.model_sha256, dim=embedder.dim)
    sims, idx = m.search(embedder.embed([load_rgb(p) for p in args.images]), args.k)
    for path, row_s, row_i in zip(args.images, sims, idx):
        print(path)
        for rank, (s, j) in enumerate(zip(row_s, row_i), start=1):
            east, north = m.places.utm[j]
            lat, lon = m.places.latlon[j]
            print(
                f"  {rank:2d}  sim {s:.4f}  {m.places.ids[j]}  UTM {m.zone} {east:.1f} {north:.1f}  "
                f"lat/lon {lat:.6f} {lon:.6f}"
            )
    return 0


SUBCOMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "build": add_build,
    "info": add_info,
    "query": add_query,
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    return subcommand_parser("vgssl-map", "Build, inspect and query vgssl maps.", SUBCOMMANDS)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; user errors print one line and exit 2."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return run_subcommand(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
