"""`make demo`: the whole system on a synthetic world, from scratch, in a few minutes on a CPU.

1. vgssl-sim      a street world (map traversal by day) and a query drive under another condition (rosbag2)
2. vgssl-train    export the off-the-shelf model; fine-tune with SimCLR + GeoPair; export it
3. vgssl-map      a FAISS map of the world's test stretch, one per model
4. localizer      the real ROS 2 node, started as its own process
5. vgssl-eval     --live: the drive played into the node (temporal filter on, its default) over DDS; its ~/candidates
                  (single frame) and ~/fix (filtered) scored against ground truth
Then a table: off-the-shelf vs fine-tuned, and where the plots are.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def step(title: str) -> None:
    """Print a step banner."""
    print(f"\n=== {title}", flush=True)


def run(*args: str, **kwargs) -> None:
    """Run a CLI of this project; stop the demo if it fails."""
    print("$", " ".join(Path(a).name if a == PY else a for a in args), flush=True)
    subprocess.run(args, cwd=REPO, check=True, **kwargs)


def live_eval(name: str, model: Path, geo_map: Path, drive: Path, out: Path, rate: float, env: dict) -> dict:
    """Start the localizer on ``model``/``geo_map``, play ``drive`` into it, return the scored metrics."""
    log = open(out / f"localizer_{name}.log", "w")
    node = subprocess.Popen(
        [
            PY,
            "-m",
            "vgssl_ros.node.localizer_node",
            "--ros-args",
            "--params-file",
            str(REPO / "config" / "localizer.yaml"),
            "-p",
            f"model:={model}",
            "-p",
            f"map:={geo_map}",
            "-p",
            "qos_reliability:=reliable",
            "-r",
            "image:=/camera/image_raw",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        run(
            PY,
            "-m",
            "vgssl_ros.eval",
            "--live",
            "--bag",
            str(drive),
            "--map",
            str(geo_map),
            "--out",
            str(out / f"eval_{name}"),
            "--fix-topic",
            "/ground_truth/fix",
            "--localizer-input",
            "/camera/image_raw",
            "--rate",
            str(rate),
            env=env,
        )
    finally:
        node.terminate()
        node.wait(10)
        log.close()
    return json.loads((out / f"eval_{name}" / "metrics.json").read_text())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="demo_out", help="output folder (replaced)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--condition", default="dusk", help="condition of the query drive")
    p.add_argument("--route-m", type=float, default=2000.0)
    p.add_argument("--resize", nargs=2, type=int, default=[96, 128], help="model input H W")
    p.add_argument("--train-minutes", type=float, default=4.0, help="SimCLR fine-tuning budget (wall clock)")
    p.add_argument("--rate", type=float, default=3.0, help="playback speed of the drive")
    args = p.parse_args()
    out = (REPO / args.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = dict(
        os.environ,
        ROS_DOMAIN_ID=os.environ.get("ROS_DOMAIN_ID", str(60 + os.getpid() % 40)),
        ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
        PYTHONUNBUFFERED="1",
        FASTDDS_DEFAULT_PROFILES_FILE=str(REPO / "config" / "fastdds_large_images.xml"),
    )
    h, w = map(str, args.resize)
    world, drive = out / "world", out / "drive"
    test_db = world / "images" / "test" / "database"
    t0 = time.monotonic()

    step(f"1. synthetic world (seed {args.seed}) and a {args.condition} query drive")
    run(
        PY,
        "-m",
        "vgssl_ros.sim",
        "world",
        "--out",
        str(world),
        "--seed",
        str(args.seed),
        "--route-m",
        str(args.route_m),
        "--query-condition",
        args.condition,
    )
    run(
        PY,
        "-m",
        "vgssl_ros.sim",
        "drive",
        "--world",
        str(world),
        "--out",
        str(drive),
        "--split",
        "test",
        "--condition",
        args.condition,
        "--seed",
        str(args.seed),
    )

    step("2. models: off the shelf, and fine-tuned with SimCLR + GeoPair on the world's train split")
    models = {"off-the-shelf": out / "off_the_shelf.onnx", "fine-tuned": out / "simclr.onnx"}
    run(
        PY,
        "-m",
        "vgssl_train",
        "export",
        "--resize",
        h,
        w,
        "--out",
        str(models["off-the-shelf"]),
        "--parity-images",
        str(test_db),
        "--parity-count",
        "16",
    )
    run(
        PY,
        "-m",
        "vgssl_train",
        "train",
        "--method",
        "simclr",
        "--dataset",
        str(world),
        "--out",
        str(out / "run"),
        "--resize",
        h,
        w,
        "--max-minutes",
        str(args.train_minutes),
        "--epochs",
        "20",
        "--no-progress",
        "--seed",
        str(args.seed),
    )
    run(
        PY,
        "-m",
        "vgssl_train",
        "export",
        "--checkpoint",
        str(out / "run" / "best.pt"),
        "--resize",
        h,
        w,
        "--out",
        str(models["fine-tuned"]),
        "--parity-images",
        str(test_db),
        "--parity-count",
        "16",
    )

    results = {}
    for name, model in models.items():
        step(f"3-5. {name}: map, localizer node, live evaluation of the drive over DDS")
        geo_map = out / f"map_{name}"
        run(
            PY,
            "-m",
            "vgssl_ros.mapping",
            "build",
            "--model",
            str(model),
            "--images",
            str(test_db),
            "--out",
            str(geo_map),
        )
        results[name] = live_eval(name, model, geo_map, drive, out, args.rate, env)

    step(
        f"results: {args.condition} drive against the day map, live through the localizer node "
        f"({time.monotonic() - t0:.0f} s)"
    )
    print(
        "single frame: Recall@N of the top-K places on ~/candidates; filtered: the temporal filter's ~/fix "
        "(correct = within 25 m)"
    )
    print(
        f"{'model':<15} {'frames':>6} | {'R@1':>5} {'R@5':>5} {'R@10':>5} | {'fix correct':>11} {'answered':>8} "
        f"{'median err':>10} | {'latency p50':>11}"
    )
    for name, m in results.items():
        r = m["recall"]
        print(
            f"{name:<15} {m['frames']:>6} | {r['1']:>5.1f} {r['5']:>5.1f} {r['10']:>5.1f} | "
            f"{100 * m['correct_fraction']:>10.1f}% {100 * m['answered_fraction']:>7.1f}% "
            f"{m['error_median_m']:>8.1f} m | {m['latency_p50_ms']:>8.1f} ms"
        )
    for name, m in results.items():
        print(f"plots ({name}): {', '.join(m['plots'].values())}")
    print(
        "debug view: while a localizer runs, /localizer/debug_image shows each frame beside the map place it matched "
        "(rqt_image_view /localizer/debug_image, or an Image display in RViz)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
