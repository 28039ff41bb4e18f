"""Temporal filter across drive speeds and conditions: single-frame vs filtered Recall@1 on synthetic drives.

The world of `make demo` (seed 0, 2 km route, map images every 5 m) and query drives on its test stretch
(held out from the demo's fine-tuning; `--split val` for the validation stretch), driven at 2-24 m/s
(0.2-2.4 m per frame at 10 Hz, i.e. 2-25 frames per map place), under every condition the simulator
has, and standing still three times for 20 s. Each drive goes through `vgssl-eval` (the node's core,
default filter settings, no calibration) against a map of the same stretch built with the same model.
Printed per drive: R@1, and for the single-frame and the filtered answer the robot metrics of each run's
metrics.json (acquisition, wrong streaks, confidently wrong; `vgssl_ros.eval.robustness`); last, which drives
without night meet the target (acquisition <= 5 frames, no confidently wrong streak over 2 s).

    PYTHONPATH=. .venv/bin/python benchmarks/filter_drives.py --model demo_out/simclr.onnx [--split val] [--work DIR]

The world, the drives and the map are made once in --work (deterministic from their seeds) and reused.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from robot_table import ROBOT_ALIGN, ROBOT_HEADER, robot_cells

from vgssl_ros.eval.cli import main as eval_main
from vgssl_ros.mapping.cli import main as map_main
from vgssl_ros.sim import load_world
from vgssl_ros.sim.cli import main as sim_main
from vgssl_ros.sim.dataset import split_range

WORLD_SEED = 0
SPEEDS_MPS = (2.0, 4.0, 8.0, 12.0, 16.0, 24.0)
"""Speed sweep, dusk (the demo's query condition)."""
CONDITIONS = ("dusk", "fog", "rain", "winter", "viewpoint", "night")
"""Condition sweep at 8 m/s."""
STOPS = (("dusk", 8.0), ("fog", 12.0), ("winter", 5.0))
"""Drives that stand still three times for 20 s (at 15, 45 and 75 % of the stretch), as at traffic lights."""
TARGET_ACQUISITION_FRAMES = 5
"""Target on drives without night: acquired (3 right published answers in a row) within this many frames..."""
TARGET_CONFIDENT_STREAK_S = 2.0
"""...and no confidently wrong streak (published, wrong, probability >= 0.9) longer than this (s)."""
MODES = {"single": "single frame", "filtered": "filtered"}


def drives(length_m: float) -> list[tuple[str, str, float, int, list[str]]]:
    """(name, condition, speed m/s, seed, extra `vgssl-sim drive` args): speed sweep, condition sweep, stops."""
    rows = [(f"dusk_{speed:g}mps_seed1", "dusk", speed, 1, []) for speed in SPEEDS_MPS]
    rows += [(f"{c}_8mps_seed2", c, 8.0, 2, []) for c in CONDITIONS]
    stops = [arg for at in (0.15, 0.45, 0.75) for arg in ("--stop", f"{at * length_m:.0f}", "20")]
    rows += [(f"{c}_{speed:g}mps_stops_seed3", c, speed, 3, stops) for c, speed in STOPS]
    return rows


def target_failure(r: dict[str, float]) -> str:
    """Why the robot metrics ``r`` (`robustness_metrics`) miss the target; '' when they meet it."""
    why = []
    if not r["acquisition_frames"] <= TARGET_ACQUISITION_FRAMES:  # NaN (never acquired) fails too
        acquired = math.isfinite(r["acquisition_frames"])
        why.append(f"acquisition {r['acquisition_frames']:.0f} frames" if acquired else "never acquired")
    if not math.isfinite(r["confident_wrong_streak_s"]):
        why.append("probability unknown")
    elif r["confident_wrong_streak_s"] > TARGET_CONFIDENT_STREAK_S:
        why.append(f"confidently wrong for {r['confident_wrong_streak_s']:.1f} s")
    return ", ".join(why)


def target_line(rows: list[dict], mode: str) -> str:
    """The target check of ``mode``'s answers over the drives without night: how many meet it, which fail and why."""
    day = [r for r in rows if r["condition"] != "night"]
    failed = [(r["drive"], target_failure(r["robustness"][mode])) for r in day]
    failed = [(name, why) for name, why in failed if why]
    return (
        f"target without night (acquisition <= {TARGET_ACQUISITION_FRAMES} frames, no confidently wrong streak > "
        f"{TARGET_CONFIDENT_STREAK_S:g} s), {MODES[mode]}: {len(day) - len(failed)} / {len(day)} drives meet it"
        + (f"; fail: {'; '.join(f'{name} ({why})' for name, why in failed)}" if failed else "")
    )


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
        _run(
            map_main,
            ["build", "--model", model, "--images", str(world / "images" / split / "database"), "--out", str(map_dir)],
        )
    rows = []
    world_model, _ = load_world(world)
    lo, hi = split_range(world_model, split)
    for name, condition, speed, seed, extra in drives(hi - lo):
        bag, out = work / "drives" / split / name, work / f"eval_{label}" / name
        if not bag.exists():
            _run(
                sim_main,
                [
                    "drive",
                    "--world",
                    str(world),
                    "--out",
                    str(bag),
                    "--split",
                    split,
                    "--condition",
                    condition,
                    "--speed",
                    str(speed),
                    "--seed",
                    str(seed),
                    *extra,
                ],
            )
        if not (out / "metrics.json").exists():
            _run(
                eval_main,
                [
                    "--bag",
                    str(bag),
                    "--map",
                    str(map_dir),
                    "--model",
                    model,
                    "--out",
                    str(out),
                    "--fix-topic",
                    "/ground_truth/fix",
                    "--quiet",
                ],
            )
        m = json.loads((out / "metrics.json").read_text())
        if "robustness" not in m:
            raise SystemExit(f"{out}/metrics.json has no robot metrics (an older vgssl-eval): delete {out} and rerun")
        rows.append(
            {
                "drive": name,
                "condition": condition,
                "speed_mps": speed,
                "stops": extra.count("--stop"),
                "frames": m["frames"],
                "single_r1": m["recall"]["1"],
                "filtered_r1": m["filtered"]["recall"]["1"],
                "filtered_median_m": m["filtered"]["error_median_m"],
                "filtered_p90_m": m["filtered"]["error_p90_m"],
                "answered": {"single": m["answered_fraction"], "filtered": m["filtered"]["answered_fraction"]},
                "robustness": {mode: m["robustness"][mode] for mode in MODES},
            }
        )
    print("| drive | condition | m/frame | stops | frames | single R@1 | filtered R@1 | filtered median / p90 error |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['drive']} | {r['condition']} | {r['speed_mps'] / 10:.1f} | {r['stops']} | {r['frames']} "
            f"| {r['single_r1']:.1f} | {r['filtered_r1']:.1f} "
            f"| {r['filtered_median_m']:.1f} m / {r['filtered_p90_m']:.1f} m |"
        )
    print(f"\n| drive | answer | R@1 | answered | {ROBOT_HEADER} |")
    print(f"| --- | --- | ---: | ---: | {ROBOT_ALIGN} |")
    for r in rows:
        for mode, name in MODES.items():
            r1 = r["single_r1"] if mode == "single" else r["filtered_r1"]
            print(
                f"| {r['drive'] if mode == 'single' else ''} | {name} | {r1:.1f} | {100 * r['answered'][mode]:.1f} % "
                f"| {robot_cells(r['robustness'][mode])} |"
            )
    print()
    for mode in reversed(MODES):
        print(target_line(rows, mode))
    (work / f"filter_drives_{label}.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
