"""Temporal filter across drive speeds and conditions: single-frame vs filtered Recall@1 on synthetic drives.

The world of `make demo` (seed 0, 2 km route, map images every 5 m) and query drives on its test stretch
(held out from the demo's fine-tuning; `--split val` for the validation stretch), driven at 2-24 m/s
(0.2-2.4 m per frame at 10 Hz, i.e. 2-25 frames per map place) and under every condition the simulator
has. Each drive goes through `vgssl-eval` (the node's core, default filter settings, no calibration) against
a map of the same stretch built with the same model.

    PYTHONPATH=. .venv/bin/python benchmarks/filter_drives.py --model demo_out/simclr.onnx [--split val] [--work DIR]

The world, the drives and the map are made once in --work (deterministic from their seeds) and reused.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from vgssl_ros.eval.cli import main as eval_main
from vgssl_ros.mapping.cli import main as map_main
from vgssl_ros.sim.cli import main as sim_main

WORLD_SEED = 0
SPEEDS_MPS = (2.0, 4.0, 8.0, 12.0, 16.0, 24.0)
"""Speed sweep, dusk (the demo's query condition)."""
CONDITIONS = ("dusk", "fog", "rain", "winter", "viewpoint", "night")
"""Condition sweep at 8 m/s."""


def drives() -> list[tuple[str, str, float, int]]:
    """(name, condition, speed m/s, drive seed) of every drive: the speed sweep, then the condition sweep."""
    rows = [("dusk", speed, 1) for speed in SPEEDS_MPS] + [(c, 8.0, 2) for c in CONDITIONS]
    return [(f"{c}_{speed:g}mps_seed{seed}", c, speed, seed) for c, speed, seed in rows]


def _run(main, argv: list[str]) -> None:
    if main(argv) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="exported ONNX model, e.g. demo_out/simclr.onnx")
    p.add_argument("--work", type=Path, default=Path("filter_drives"), help="folder for world, map, drives, evals")
    p.add_argument("--split", choices=("val", "test"), default="test", help="stretch of the route (default: test)")
    p.add_argument("--label", help="name of this run's eval folders and JSON (default: the model's file name)")
    args = p.parse_args()
    work, model, split = args.work, str(args.model), args.split
    label = f"{split}_{args.label or Path(model).stem}"
    world, map_dir = work / "world", work / f"map_{split}_{Path(model).stem}"
    if not world.exists():
        _run(sim_main, ["world", "--out", str(world), "--seed", str(WORLD_SEED), "--route-m", "2000"])
    if not map_dir.exists():
        _run(map_main, ["build", "--model", model, "--images", str(world / "images" / split / "database"),
                        "--out", str(map_dir)])
    rows = []
    for name, condition, speed, seed in drives():
        bag, out = work / "drives" / split / name, work / f"eval_{label}" / name
        if not bag.exists():
            _run(sim_main, ["drive", "--world", str(world), "--out", str(bag), "--split", split,
                            "--condition", condition, "--speed", str(speed), "--seed", str(seed)])
        if not (out / "metrics.json").exists():
            _run(eval_main, ["--bag", str(bag), "--map", str(map_dir), "--model", model, "--out", str(out),
                             "--fix-topic", "/ground_truth/fix", "--quiet"])
        m = json.loads((out / "metrics.json").read_text())
        rows.append({"drive": name, "condition": condition, "speed_mps": speed, "frames": m["frames"],
                     "single_r1": m["recall"]["1"], "filtered_r1": m["filtered"]["recall"]["1"],
                     "filtered_median_m": m["filtered"]["error_median_m"],
                     "filtered_p90_m": m["filtered"]["error_p90_m"]})
    print("| drive | condition | m/frame | frames | single R@1 | filtered R@1 | filtered median / p90 error |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['drive']} | {r['condition']} | {r['speed_mps'] / 10:.1f} | {r['frames']} | {r['single_r1']:.1f} "
              f"| {r['filtered_r1']:.1f} | {r['filtered_median_m']:.1f} m / {r['filtered_p90_m']:.1f} m |")
    (work / f"filter_drives_{label}.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
