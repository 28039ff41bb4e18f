"""The GPU path in one table: ONNX Runtime's CUDA and TensorRT providers (fp32, fp16) and training throughput per
precision. Under 5 minutes on a machine with an NVIDIA GPU; `--dry-run` runs the same code on the CPU with tiny
sizes (the test suite does), so the script cannot rot between GPU sessions.

Inference: the off-the-shelf model (ImageNet EfficientNet-Lite0 + GeM) exported at --resize (default 480x640) in
fp32 and fp16, timed through `vgssl_ros.core.Embedder` at batch 1 and batch 64 (p50 ms per batch, images/s); a
provider this machine cannot start is a row that says why (the Embedder's fallback reason), not a CPU figure.
Training: `vgssl-train train` (SimCLR, --train-steps steps on Nordland64 upsampled to --train-resize) per
--precision with --workers DataLoader processes; images/s and the share of step time spent waiting for data
(median over the steps after the first two; the target is < 10 %).

    bash benchmarks/gpu.sh                 # = PYTHONPATH=. .venv/bin/python benchmarks/gpu.py
    bash benchmarks/gpu.sh --dry-run       # CPU, tiny: checks the script, measures nothing useful
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import NORDLAND, exported_model

from vgssl_ros.core import Embedder
from vgssl_ros.core.embedder import PROVIDERS

GPU = {"providers": ("tensorrt", "cuda"), "precisions": ("fp32", "bf16", "fp16"), "batches": (1, 64)}
DRY = {"providers": ("cpu",), "precisions": ("fp32", "bf16"), "batches": (1, 4)}


def time_provider(model: Path, provider: str, batch: int, repeats: int) -> dict:
    """p50 ms per batch and images/s of ``model`` on ``provider`` (a PROVIDERS short name), or why it cannot run."""
    embedder = Embedder(model, providers=[provider], intra_op_threads=os.cpu_count() or 1)
    if embedder.providers[0] != PROVIDERS[provider]:
        return {"note": embedder.fallbacks[0] if embedder.fallbacks else f"runs on {embedder.providers[0]}"}
    h, w = embedder.input_size
    images = np.random.default_rng(0).integers(0, 256, (batch, h, w, 3), dtype=np.uint8)
    for _ in range(3):  # warm-up: TensorRT builds its engine on the first call
        embedder.embed_resized(images)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        embedder.embed_resized(images)
        times.append(time.perf_counter() - t0)
    p50 = statistics.median(times)
    return {"ms": 1e3 * p50, "images_per_s": batch / p50}


def time_training(dataset: Path, out: Path, precision: str, device: str, args: argparse.Namespace) -> dict:
    """images/s and data-wait share of a short `vgssl-train train` run, or the error that stopped it."""
    from vgssl_train.cli import main as train_main

    argv = ["train", "--method", "simclr", "--dataset", str(dataset), "--out", str(out), "--device", device,
            "--precision", precision, "--resize", *map(str, args.train_resize), "--batch-size", str(args.batch_size),
            "--max-steps", str(args.train_steps), "--workers", str(args.workers), "--checkpoint-every", "100000",
            "--quiet", "--weights", "none"]  # fmt: skip
    if train_main(argv) != 0:
        return {"note": "vgssl-train train failed (its message is above)"}
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "images_per_s" in r][2:] or [r for r in rows if "images_per_s" in r]
    return {
        "images_per_s": statistics.median(r["images_per_s"] for r in steps),
        "data_wait": statistics.median(r["data_wait_s"] / r["step_s"] for r in steps),
    }


def table(ort_rows: list[tuple], train_rows: list[tuple]) -> str:
    """One markdown table of both parts."""
    lines = [
        "| part | setting | p50 ms per batch | images/s | data wait | note |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for provider, precision, batch, r in ort_rows:
        ms = f"{r['ms']:.2f}" if "ms" in r else "-"
        ips = f"{r['images_per_s']:.0f}" if "images_per_s" in r else "-"
        lines.append(f"| ONNX Runtime | {provider} {precision} batch {batch} | {ms} | {ips} | | {r.get('note', '')} |")
    for precision, workers, r in train_rows:
        ips = f"{r['images_per_s']:.1f}" if "images_per_s" in r else "-"
        wait = f"{100 * r['data_wait']:.0f} %" if "data_wait" in r else "-"
        lines.append(f"| training | {precision}, {workers} workers | | {ips} | {wait} | {r.get('note', '')} |")
    return "\n".join(lines)


def main() -> None:
    """Run both parts and print the table with the machine it ran on."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dry-run", action="store_true", help="CPU only, tiny sizes: exercises the script")
    p.add_argument("--resize", nargs=2, type=int, metavar=("H", "W"), help="inference input (default 480 640)")
    p.add_argument("--train-resize", nargs=2, type=int, metavar=("H", "W"), help="training input (default 240 320)")
    p.add_argument("--train-steps", type=int, help="steps per training run (default 40)")
    p.add_argument("--batch-size", type=int, help="training batch (default 64)")
    p.add_argument("--workers", type=int, help="DataLoader workers (default: the CPU count, at most 8)")
    p.add_argument("--repeats", type=int, help="timed batches per inference row (default 50)")
    p.add_argument("--dataset", type=Path, default=NORDLAND, help="training data (default: %(default)s)")
    p.add_argument("--work", type=Path, help="folder for models and runs (default: a temporary one)")
    args = p.parse_args()
    dry = args.dry_run
    plan = DRY if dry else GPU
    h, w = args.resize or ((32, 64) if dry else (480, 640))
    args.train_resize = args.train_resize or ((32, 64) if dry else (240, 320))
    args.train_steps = args.train_steps or (3 if dry else 40)
    args.batch_size = args.batch_size or (4 if dry else 64)
    args.workers = args.workers if args.workers is not None else (0 if dry else min(8, os.cpu_count() or 1))
    repeats = args.repeats or (3 if dry else 50)
    if not (args.dataset / "images" / "train").is_dir():
        raise SystemExit(f"no training data at {args.dataset}: pass --dataset DIR (a VPR folder with images/train)")
    work = args.work or Path(tempfile.mkdtemp(prefix="vgssl_gpu_"))
    work.mkdir(parents=True, exist_ok=True)
    import torch

    device = "cpu" if dry else "cuda"
    if not dry and not torch.cuda.is_available():
        raise SystemExit(
            "no CUDA device visible to PyTorch: run on a GPU machine, or pass --dry-run to check the script"
        )
    card = "CPU (dry run)" if dry else torch.cuda.get_device_name(0)
    print(f"device: {card}; torch {torch.__version__}; CPU cores {os.cpu_count()}; load {os.getloadavg()[0]:.2f}")
    ort_rows = []
    for precision in ("fp32", "fp16"):
        model = exported_model(
            work / f"model_{h}x{w}_{precision}.onnx", h, w, precision, args.dataset / "images" / "train"
        )
        for provider in plan["providers"]:
            for batch in plan["batches"]:
                ort_rows.append((provider, precision, batch, time_provider(model, provider, batch, repeats)))
    train_rows = []
    for precision in plan["precisions"]:
        run = work / f"train_{precision}"
        train_rows.append((precision, args.workers, time_training(args.dataset, run, precision, device, args)))
    print(table(ort_rows, train_rows))
    print(f"load at the end {os.getloadavg()[0]:.2f}; models and runs in {work}")


if __name__ == "__main__":
    main()
