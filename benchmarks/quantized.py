"""Benchmark: fp32 / fp16 / int8 exports of one model side by side: latency, accuracy, map build throughput.

Run: .venv/bin/python benchmarks/quantized.py [--sizes 64x128 240x320 480x640] [--threads 1 2] [--repeats 100]
Model: ImageNet EfficientNet-Lite0 + GeM off the shelf, exported with `vgssl-train export` (int8: --int8
calibrated on Nordland64's train database), cached in the temp folder. Latency: Embedder.embed_resized at batch 1,
p50/p95 per thread count. Accuracy, at Nordland64's own size (32x64): Recall@1/5 on its test split (winter queries
vs summer database, 25 m) and descriptor cosine to fp32 on the test queries. Map build: `vgssl-map build` of the test
database, images/s. Prints one markdown table and the machine line (CPU, load average at start and end): timings
from a loaded machine are not idle figures. With ``--world DIR`` (a `vgssl-sim world`): also Recall@1/5 on its test
split (dusk queries vs day database) at the simulator's usual 120x160, int8 calibrated on the world's train database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import NORDLAND, PRECISION_ARGS, exported_model

from vgssl_ros.core import Embedder
from vgssl_ros.datasets import load_rgb
from vgssl_ros.geo import EVAL_RADIUS_M
from vgssl_ros.mapping import build_map
from vgssl_ros.mapping.sources import folder_source
from vgssl_ros.metrics import recall_at_n
from vgssl_train.data import load_split
from vgssl_train.evaluation import search
from vgssl_train.export.onnx_export import compare_descriptors

DATASET_SIZE = (32, 64)
"""Nordland64's images are 64x32 (W x H): accuracy is measured there."""


def size_arg(text: str) -> tuple[int, int]:
    """'HxW' -> (H, W)."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: pass HxW, e.g. 240x320") from None
    return h, w


def latency_ms(embedder: Embedder, h: int, w: int, repeats: int) -> tuple[float, float]:
    """p50 and p95 milliseconds of one uint8 image [1, h, w, 3] through ``embedder`` (after 3 warm-up runs)."""
    image = np.random.default_rng(0).integers(0, 256, (1, h, w, 3), dtype=np.uint8)
    for _ in range(3):
        embedder.embed_resized(image)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        embedder.embed_resized(image)
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times), float(np.percentile(times, 95))


def accuracy(model: Path, fp32: Path, threads: int) -> dict[str, float]:
    """Recall@1/5 (percent) on Nordland64 test, cosine to fp32 on its queries, and map build images/s."""
    split = load_split(NORDLAND, "test")
    embedder = Embedder(model, ["cpu"], intra_op_threads=threads)
    db = embedder.embed([load_rgb(p) for p in split.database.paths])
    q = embedder.embed([load_rgb(p) for p in split.queries.paths])
    _, predictions = search(q, db, 5)
    recall = recall_at_n(predictions, split.positives(EVAL_RADIUS_M), (1, 5))
    cosine = compare_descriptors(fp32.read_bytes(), model.read_bytes(), split.queries.paths, *DATASET_SIZE)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        build_map(embedder, folder_source(NORDLAND / "images/test/database"), Path(tmp) / "map", "flat", progress=False)
        rate = len(split.database) / (time.perf_counter() - start)
    return {"r1": recall[1], "r5": recall[5], "cos": cosine["median_cosine"], "p1": cosine["p1_cosine"], "map": rate}


WORLD_SIZE = (120, 160)
"""The size the simulator's worlds are localized at (the sweep's and the demo's model)."""


def world_recall(model: Path, world: Path, threads: int) -> tuple[float, float]:
    """Recall@1/5 (percent, 25 m) of ``model`` on a `vgssl-sim` world's test split."""
    split = load_split(world, "test")
    embedder = Embedder(model, ["cpu"], intra_op_threads=threads)
    db = embedder.embed([load_rgb(p) for p in split.database.paths])
    q = embedder.embed([load_rgb(p) for p in split.queries.paths])
    _, predictions = search(q, db, 5)
    recall = recall_at_n(predictions, split.positives(EVAL_RADIUS_M), (1, 5))
    return recall[1], recall[5]


def machine_line() -> str:
    """CPU model and core count."""
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} cores"


def main() -> None:
    """Export (cached), time and score each precision; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=size_arg, default=[(64, 128), (240, 320), (480, 640)])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=100, help="timed runs per size, precision and thread count")
    parser.add_argument("--precisions", nargs="+", choices=list(PRECISION_ARGS), default=list(PRECISION_ARGS))
    parser.add_argument("--world", type=Path, help="a `vgssl-sim world` folder: also Recall on its test split")
    args = parser.parse_args()
    if args.world is not None and not (args.world / "images" / "test").is_dir():
        parser.error(f"--world {args.world}: no images/test folder; make one with `vgssl-sim world --out DIR`")
    precisions = list(dict.fromkeys(["fp32", *args.precisions]))  # fp32 first: the others are compared with it
    cache = Path(tempfile.gettempdir())
    path = {
        (size, p): exported_model(cache / f"vgssl_bench_{size[0]}x{size[1]}_{p}.onnx", *size, p)
        for size in [DATASET_SIZE, *args.sizes]
        for p in precisions
    }
    scores = {p: accuracy(path[DATASET_SIZE, p], path[DATASET_SIZE, "fp32"], max(args.threads)) for p in precisions}
    if args.world is not None:
        train = args.world / "images" / "train" / "database"
        for p in precisions:
            out = cache / f"vgssl_bench_world_{WORLD_SIZE[0]}x{WORLD_SIZE[1]}_{p}.onnx"
            model = exported_model(out, *WORLD_SIZE, p, args.world / "images" / "val" / "database", train)
            r1, r5 = world_recall(model, args.world, max(args.threads))
            size = f"{WORLD_SIZE[0]}x{WORLD_SIZE[1]}"
            print(f"world {args.world.name} test split at {size}, {p}: R@1 {r1:.1f} R@5 {r5:.1f}", flush=True)
    rows = []
    load_start = os.getloadavg()  # the timings' load: exports and scoring above are not timed
    for size in [DATASET_SIZE, *[z for z in args.sizes if z != DATASET_SIZE]]:
        base: dict[int, float] = {}
        for p in precisions:
            cells = [f"{size[0]}x{size[1]}", p]
            for t in args.threads:
                p50, p95 = latency_ms(Embedder(path[size, p], ["cpu"], intra_op_threads=t), *size, args.repeats)
                base.setdefault(t, p50)
                cells += [f"{p50:.2f} / {p95:.2f}", f"{base[t] / p50:.2f}x"]
            score = scores[p] if size == DATASET_SIZE else None
            cells += (
                [
                    f"{score['r1']:.1f} / {score['r5']:.1f}",
                    f"{score['cos']:.4f} / {score['p1']:.4f}",
                    f"{score['map']:.0f}",
                ]
                if score
                else ["-"] * 3
            )
            rows.append(cells)
    load_end = os.getloadavg()
    head = ["size", "precision"] + [c for t in args.threads for c in (f"{t} thr p50 / p95 ms", f"{t} thr vs fp32")]
    head += ["R@1 / R@5 %", "cosine to fp32 median / 1st pct", f"map build img/s ({max(args.threads)} thr)"]
    print(f"| {' | '.join(head)} |\n|{'---|' * len(head)}")
    print("\n".join(f"| {' | '.join(r)} |" for r in rows))
    print(
        f"\n{machine_line()}; load average (1 min) {load_start[0]:.2f} when timing started, "
        f"{load_end[0]:.2f} at the end; "
        f"batch 1, {args.repeats} timed runs each, ORT spinning off; accuracy and map build on Nordland64 test "
        f"at its own size {DATASET_SIZE[0]}x{DATASET_SIZE[1]} (summer database, winter queries)"
    )


if __name__ == "__main__":
    main()
