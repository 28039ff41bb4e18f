"""`vgssl-train study`: every method from the same start under one budget of images seen, scored on test.

Each method is trained by its own `vgssl-train train` process (so peak memory is its own), for as many
steps as its batch needs to see ``--images`` images; its best.pt (selected on val) is scored on the
test split by `vgssl-train eval`, next to the off-the-shelf model, with one retrieval figure and one
activation-map figure per model, all for the same queries. Results go to OUT/study.json and OUT/study.md
after every model; a model whose result is already in OUT is not run again, so an interrupted study
continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from vgssl_ros.io import atomic_path, write_json_atomic
from vgssl_train.commands.model_args import add_resize_arg
from vgssl_train.commands.presets import load_preset
from vgssl_train.evaluation.study_report import study_table, training_figures
from vgssl_train.methods import METHODS, method_class

OFF_THE_SHELF = "off the shelf (ImageNet)"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `study`."""
    p = subparsers.add_parser(
        "study",
        help="train every method under one budget and compare them on test",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dataset", required=True, help="dataset folder (VPR layout or MSLS root) or CSV manifest")
    p.add_argument(
        "--out", required=True, help="study folder: one run folder per method, figures/, study.json, study.md"
    )
    p.add_argument(
        "--methods", nargs="+", default=list(METHODS), choices=list(METHODS), help="methods to train (default: all)"
    )
    p.add_argument(
        "--images", type=int, default=3840, help="images seen per method: the compute budget (default: %(default)s)"
    )
    add_resize_arg(p)
    p.add_argument("--batch-size", type=int, default=32, help="GeoPair queries per step (default: %(default)s)")
    p.add_argument("--lr", type=float, default=3e-4, help="Adam learning rate for every method (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of every run (default: %(default)s)")
    p.add_argument(
        "--preset",
        action="store_true",
        help="each method's paper preset (config/train/METHOD.yaml: "
        "ResNet-50, 480x640, its lr and batch); for a GPU machine",
    )
    p.add_argument("--device", default="cpu", help="torch device of every run, e.g. cuda (default: %(default)s)")
    p.add_argument(
        "--train-arg",
        action="append",
        default=[],
        metavar="FLAG",
        help="extra flag passed to every `vgssl-train train`, e.g. --train-arg=--precision=bf16 (repeatable)",
    )
    p.add_argument(
        "--visualize",
        type=int,
        default=8,
        help="queries in each retrieval figure (figures/MODEL.png) and activation-map figure "
        "(figures/MODEL_activation.png) (default: %(default)s)",
    )
    p.set_defaults(run=run)


def method_plan(method: str, images: int, resize: list[int], batch_size: int, preset: bool) -> dict[str, Any]:
    """Batch, resize, images per query and steps for ``method`` to see ``images`` images (whole steps, rounded up)."""
    settings = {**method_class(method).DATA_DEFAULTS, "batch_size": batch_size, "resize": resize}
    if preset:
        settings.update(load_preset(method))
    views = method_class(method).views_per_query(int(settings["negatives"]))
    batch = int(settings["batch_size"])
    return {
        "batch_size": batch,
        "resize": [int(v) for v in settings["resize"]],
        "views_per_query": views,
        "steps": math.ceil(images / (batch * views)),
    }


def train_argv(
    method: str,
    dataset: str,
    run_dir: Path,
    plan: dict[str, Any],
    lr: float,
    seed: int,
    preset: bool,
    device: str,
    extra: list[str],
) -> list[str]:
    """`vgssl-train train` arguments for ``method`` running ``plan["steps"]`` steps."""
    steps = str(plan["steps"])
    argv = [
        "train",
        "--method",
        method,
        "--dataset",
        dataset,
        "--out",
        str(run_dir),
        "--max-steps",
        steps,
        "--seed",
        str(seed),
        "--device",
        device,
        "--checkpoint-every",
        steps,
        "--no-progress",
    ]
    if preset:
        argv += ["--preset", method]
    else:
        argv += [
            "--resize",
            *map(str, plan["resize"]),
            "--batch-size",
            str(plan["batch_size"]),
            "--lr",
            str(lr),
            "--mining-sample",
            "500",
        ]
    return argv + extra


def _run_cli(argv: list[str]) -> dict[str, float]:
    """Run `python -m vgssl_train ARGV` as a child; its wall seconds and peak RSS (MiB). Raises on failure."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "vgssl_train", *argv])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise ValueError(f"`vgssl-train {shlex.join(argv)}` failed with exit status {proc.returncode}")
    return {"seconds": time.monotonic() - started, "peak_rss_mib": usage.ru_maxrss / 1024.0}


def _evaluate(
    dataset: str, out: Path, name: str, model_args: list[str], resize: list[int], visualize: int, device: str
) -> dict:
    result_path = out / name / "test.json"
    argv = [
        "eval",
        "--dataset",
        dataset,
        "--split",
        "test",
        *model_args,
        "--resize",
        *map(str, resize),
        "--device",
        device,
        "--json",
        str(result_path),
        "--visualize",
        str(visualize),
        "--activation-maps",
        str(visualize),
        "--figure",
        str(out / "figures" / f"{name}.png"),
    ]
    _run_cli(argv)
    return json.loads(result_path.read_text())["recall"]


def run(args: argparse.Namespace) -> int:
    """Off-the-shelf baseline, then each method: train, score on test, update study.json and study.md."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "study.json"
    rows: list[dict[str, Any]] = json.loads(results_path.read_text())["rows"] if results_path.is_file() else []
    done = {r["method"] for r in rows}
    settings = {
        "dataset": args.dataset,
        "images_per_method": args.images,
        "resize": args.resize,
        "batch_size": args.batch_size,
        "lr": None if args.preset else args.lr,
        "seed": args.seed,
        "preset": args.preset,
    }

    def save() -> None:
        write_json_atomic(results_path, {"settings": settings, "rows": rows})
        with atomic_path(out / "study.md") as tmp:
            tmp.write_text(study_table(rows))

    if OFF_THE_SHELF not in done:
        resize = method_plan(args.methods[0], args.images, args.resize, args.batch_size, args.preset)["resize"]
        paper = load_preset(args.methods[0]) if args.preset else {}
        model = [
            a for key in ("backbone", "layer", "aggregation") if key in paper for a in (f"--{key}", str(paper[key]))
        ]
        recall = _evaluate(
            args.dataset, out, "off_the_shelf", [*model, "--weights", "imagenet"], resize, args.visualize, args.device
        )
        rows.append({"method": OFF_THE_SHELF, "test_recall": recall, "command": "-"})
        save()
    for method in args.methods:
        if method in done:
            continue
        run_dir = out / method
        plan = method_plan(method, args.images, args.resize, args.batch_size, args.preset)
        argv = train_argv(
            method, args.dataset, run_dir, plan, args.lr, args.seed, args.preset, args.device, args.train_arg
        )
        # A run stopped before its result was saved continues from its last.pt (saved settings, same steps).
        resume = ["train", "--dataset", args.dataset, "--out", str(run_dir), "--resume", "--no-progress"]
        trained = _run_cli(resume if (run_dir / "last.pt").is_file() else argv)
        figures = training_figures(run_dir / "log.jsonl", plan["batch_size"], plan["views_per_query"])
        recall = _evaluate(
            args.dataset,
            out,
            method,
            ["--checkpoint", str(run_dir / "best.pt")],
            plan["resize"],
            args.visualize,
            args.device,
        )
        rows.append(
            {
                "method": method,
                "test_recall": recall,
                "train_seconds": trained["seconds"],
                "peak_rss_mib": trained["peak_rss_mib"],
                **figures,
                "command": "vgssl-train " + shlex.join(argv),
            }
        )
        save()
        print(f"{method}: test R@1 {recall['1']:.1f} %, {trained['seconds']:.0f} s -> {out / 'study.md'}", flush=True)
    return 0
