"""`make demo`: the robot's loop on a synthetic world, from scratch, in a few minutes on a CPU.

1. vgssl-sim      a street world, and the robot's drives recorded as rosbag2 bags with noisy GNSS (2 m Gauss-Markov):
                  two training traversals of the world's train and val stretches (day, and another condition),
                  a day mapping drive of the test stretch, and a held-out query drive of it under that condition
2. vgssl-train    dataset: the training set (VPR layout, splits along the route) from the two training bags
3. vgssl-train    export the off-the-shelf model; fine-tune it with SimCLR + GeoPair on that set; export it
4. vgssl-map      a FAISS map from the mapping bag (--bag), one per model
5. localizer      the real ROS 2 node, started as its own process
6. vgssl-eval     --live: the query drive played into the node (temporal filter on, its default) over DDS; its
                  ~/candidates (single frame) and ~/fix (filtered) scored against ground truth
Then a table: off-the-shelf vs fine-tuned, the wall time of each step, and where the plots are.
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

from vgssl_ros.sim.drive import DriveSpec

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
DATASET_SPLITS = ("70", "15", "15")
"""`vgssl-train dataset --splits` over the training drives (the world's train and val stretches): its own train
stretch to fine-tune on, val to pick the checkpoint; its test stretch goes unused (the demo tests on the world's
test stretch, which no training drive saw)."""


def step(title: str, marks: list[tuple[str, float]]) -> None:
    """Print a step banner and note in ``marks`` (title, monotonic seconds) when the step began."""
    marks.append((title, time.monotonic()))
    print(f"\n=== {title}", flush=True)


def step_times(marks: list[tuple[str, float]], end: float) -> list[tuple[str, float]]:
    """(title, wall seconds) of each step: until the next one began, the last until ``end``."""
    ends = [t for _, t in marks[1:]] + [end]
    return [(title, stop - start) for (title, start), stop in zip(marks, ends)]


def run(*args: str, **kwargs) -> None:
    """Run a CLI of this project; stop the demo if it fails."""
    print("$", " ".join(Path(a).name if a == PY else a for a in args), flush=True)
    start = time.monotonic()
    subprocess.run(args, cwd=REPO, check=True, **kwargs)
    print(f"  ({time.monotonic() - start:.0f} s)", flush=True)


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


def sim_drive(world: Path, out: Path, splits: list[str], condition: str, seed: int, camera_hz: float) -> None:
    """Record a drive of ``world``'s ``splits`` stretch under ``condition`` as a bag ``out`` (noisy GNSS)."""
    run(
        PY,
        "-m",
        "vgssl_ros.sim",
        "drive",
        "--world",
        str(world),
        "--out",
        str(out),
        "--split",
        *splits,
        "--condition",
        condition,
        "--seed",
        str(seed),
        "--camera-hz",
        str(camera_hz),
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="demo_out", help="output folder (replaced)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--condition", default="dusk", help="condition of the second training drive and the query drive")
    p.add_argument("--route-m", type=float, default=2000.0)
    p.add_argument("--resize", nargs=2, type=int, default=[96, 128], help="model input H W")
    p.add_argument("--train-minutes", type=float, default=4.0, help="SimCLR fine-tuning budget (wall clock)")
    p.add_argument("--rate", type=float, default=3.0, help="playback speed of the query drive")
    p.add_argument(
        "--record-hz",
        type=float,
        default=2.0,
        help="camera rate of the training and mapping drives (at 8 m/s, 2 Hz = a frame every 4 m)",
    )
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
    world, drive, dataset = out / "world", out / "drive", out / "dataset"
    train_drives = {"day": out / "drive_train_day", args.condition: out / f"drive_train_{args.condition}"}
    mapping_drive = out / "drive_map_day"
    parity = dataset / "images" / "val" / "database"
    marks: list[tuple[str, float]] = []
    t0 = time.monotonic()

    step(f"1. synthetic world (seed {args.seed}) and the robot's drives, recorded as rosbag2 bags", marks)
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
    for k, (condition, bag) in enumerate(train_drives.items()):
        sim_drive(world, bag, ["train", "val"], condition, args.seed + 1 + k, args.record_hz)
    sim_drive(world, mapping_drive, ["test"], "day", args.seed + 3, args.record_hz)
    sim_drive(world, drive, ["test"], args.condition, args.seed, 10.0)

    step("2. training set from the two training drives (vgssl-train dataset)", marks)
    run(
        PY,
        "-m",
        "vgssl_train",
        "dataset",
        *(a for bag in train_drives.values() for a in ("--drive", str(bag))),
        "--out",
        str(dataset),
        "--splits",
        *DATASET_SPLITS,
        "--quiet",
    )

    step("3. models: off the shelf, and fine-tuned with SimCLR + GeoPair on the drives' training set", marks)
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
        str(parity),
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
        str(dataset),
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
        str(parity),
        "--parity-count",
        "16",
    )

    results = {}
    for name, model in models.items():
        step(f"4-6. {name}: map from the mapping drive, localizer node, live evaluation of the drive over DDS", marks)
        geo_map = out / f"map_{name}"
        run(
            PY,
            "-m",
            "vgssl_ros.mapping",
            "build",
            "--model",
            str(model),
            "--bag",
            str(mapping_drive),
            "--image-topic",
            "/camera/image_raw",
            "--fix-topic",
            "/gnss/fix",
            "--out",
            str(geo_map),
        )
        results[name] = live_eval(name, model, geo_map, drive, out, args.rate, env)

    total = time.monotonic() - t0
    step(f"results: {args.condition} drive against the day map, live through the localizer node ({total:.0f} s)", marks)
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
    print(
        f"GNSS of the drives: Gauss-Markov, sigma {DriveSpec.gnss_sigma_m:g} m horizontal, "
        f"{DriveSpec.gnss_tau_s:g} s correlation; wall time per step:"
    )
    for title, seconds in step_times(marks[:-1], t0 + total):
        print(f"  {seconds:>5.0f} s  {title}")
    for name, m in results.items():
        print(f"plots ({name}): {', '.join(m['plots'].values())}")
    print(
        "debug view: while a localizer runs, /localizer/debug_image shows each frame beside the map place it matched "
        "(rqt_image_view /localizer/debug_image, or an Image display in RViz)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
