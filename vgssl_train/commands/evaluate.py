"""`vgssl-train eval`: Recall@N of a model on a dataset split."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from torch import nn

from vgssl_ros.geo import EVAL_RADIUS_M
from vgssl_ros.io import write_json_atomic
from vgssl_ros.io.progress import QUIET_HELP
from vgssl_train.commands.model_args import add_model_args, add_resize_arg, model_from_args
from vgssl_train.data import DATASET_FORMATS, ImageDataset, load_split
from vgssl_train.data.splits import SPLITS, GeoSplit
from vgssl_train.evaluation import activation_paths, evaluate_split
from vgssl_train.evaluation.figures import activation_grid, figure_queries, retrieval_grid, write_png
from vgssl_train.models.data_init import init_aggregator_from_data


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `eval`."""
    p = subparsers.add_parser(
        "eval",
        help="Recall@N of a model on a dataset split",
        description="Embed a split's database and queries and report Recall@N "
        "(a retrieved image within 25 m of the query counts as correct).",
    )
    p.add_argument("--dataset", required=True, help="dataset folder (VPR layout or MSLS root) or CSV manifest")
    p.add_argument("--format", choices=list(DATASET_FORMATS), help="dataset format (default: detected)")
    p.add_argument("--split", default="test", choices=SPLITS, help="split to evaluate (default: %(default)s)")
    add_model_args(p)
    add_resize_arg(p)
    p.add_argument("--batch-size", type=int, default=64, help="images per forward pass (default: %(default)s)")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes (default: %(default)s)")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default: %(default)s)")
    p.add_argument("--json", help="write the results as JSON to this file")
    p.add_argument(
        "--visualize",
        type=int,
        default=0,
        metavar="N",
        help="write a PNG of N queries (evenly spread) and their top-5 database images, framed green "
        "(within 25 m) or red (default: %(default)s, no figure)",
    )
    p.add_argument(
        "--activation-maps",
        type=int,
        default=0,
        metavar="N",
        help="write a PNG of the same N queries and their nearest positive, each overlaid with its activation map "
        "(where the aggregation weighs the feature map; red = most) (default: %(default)s, no figure)",
    )
    p.add_argument(
        "--figure",
        help="PNG path of the figure asked for (default: retrieval_SPLIT.png, activation_SPLIT.png); with both "
        "--visualize and --activation-maps the activation figure is PATH's name with _activation before .png",
    )
    p.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print a table; optionally write JSON."""
    split = load_split(args.dataset, args.split, args.format)
    height, width = args.resize
    model, meta = model_from_args(args)
    model.to(args.device)
    if not args.checkpoint:
        init_aggregator_from_data(model, ImageDataset(split.database.paths, height, width), device=args.device)
    result = evaluate_split(
        model, split, height, width, args.batch_size, args.workers, args.device, progress=not args.quiet
    )
    print(
        f"{split.name}: {result['queries']} queries, {result['database']} database images, "
        f"model {meta['model_spec']} ({meta.get('run_id', '')}), input {height}x{width}"
    )
    print("  ".join(f"R@{n:<3}" for n in result["recall"]))
    print("  ".join(f"{r:5.1f}" for r in result["recall"].values()))
    if args.visualize > 0:
        figure = args.figure or f"retrieval_{args.split}.png"
        grid = retrieval_grid(
            split.queries.paths,
            split.database.paths,
            result["predictions"],
            split.positives(EVAL_RADIUS_M),
            figure_queries(len(split.queries), args.visualize),
        )
        print(f"retrieval figure ({args.visualize} queries, top 5): {write_png(figure, grid)}")
    if args.activation_maps > 0:
        figure = Path(args.figure or f"activation_{args.split}.png")
        if args.visualize > 0:
            figure = figure.with_name(f"{figure.stem}_activation.png")
        queries = figure_queries(len(split.queries), args.activation_maps)
        grid = _activation_figure(model, split, queries, height, width, args.device)
        print(f"activation figure ({args.activation_maps} queries and positives): {write_png(figure, grid)}")
    if args.json:
        write_json_atomic(
            args.json,
            {
                "recall": result["recall"],
                "queries": result["queries"],
                "database": result["database"],
                "dataset": str(args.dataset),
                "split": args.split,
                "resize": [height, width],
                "model": meta["model_spec"],
                "method": meta.get("method"),
                "run_id": meta.get("run_id"),
            },
        )
    return 0


def _activation_figure(
    model: nn.Module, split: GeoSplit, queries: np.ndarray, height: int, width: int, device: str
) -> np.ndarray:
    """activation_grid of ``queries`` and each one's nearest database image within 25 m (none where there is none)."""
    nearest = [split.positives(EVAL_RADIUS_M)[q][:1] for q in queries]
    query_paths = [split.queries.paths[q] for q in queries]
    positive_paths = [split.database.paths[d[0]] if len(d) else None for d in nearest]
    maps = activation_paths(model, query_paths + [p for p in positive_paths if p], height, width, device=device)
    positive_maps = np.zeros((len(queries), *maps.shape[1:]), np.float32)
    has_positive = np.array([p is not None for p in positive_paths], bool)
    positive_maps[has_positive] = maps[len(queries) :]
    return activation_grid(query_paths, positive_paths, maps[: len(queries)], positive_maps)
