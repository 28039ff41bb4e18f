"""Filter robustness sweep (issue 20): single-frame vs filtered answers where users will take the filter.

Per world seed: a day *mapping bag* over the whole route (noisy GNSS at 5 Hz, as a robot records it) gives two
maps (`vgssl-map build --bag ... --min-spacing 5` and `2`), the split's dataset folder a third; query drives on
the split's stretch: conditions dusk, fog, rain, winter, viewpoint and night at 8 m/s, dusk at 2 and 24 m/s, and
dusk with two 20 s stops. Tuning set: worlds 3-4 on the val stretch; report set: worlds 0-2 on the test stretch
(never used for tuning). Model: the off-the-shelf EfficientNet-Lite0 at 120x160 (exported here once).

Each drive is embedded once (cached in --work); each (map, drive) then runs through FAISS and the filter exactly
as `LocalizerCore` does (`PlaceFilter.step`, `filtered_answer`) with the default settings. Per drive: single and
filtered R@1 (25 m), answered share and precision of the published (filtered) fixes, the share of frames that are
confidently wrong (published, wrong, probability >= 0.9) and their longest streak in seconds, acquisition time
(first of 3 right published fixes in a row), without calibration and with a calibration fitted on the world's
dusk drive of the val stretch (report set only); and the 95 % ellipse coverage of the filtered fix.

    PYTHONPATH=. .venv/bin/python benchmarks/filter_sweep.py [--set report|tune|both] [--work DIR] [--json OUT] \
        [--setting NAME=VALUE ...]

First run: ~25 min on 2 cores (worlds, bags, embeddings); later runs only replay the filter (~1-2 min).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from vgssl_ros.bags import read_drive
from vgssl_ros.core.calibration import ScoreCalibration, mode_probability
from vgssl_ros.core.embedder import Embedder
from vgssl_ros.core.filter import filter_for_map
from vgssl_ros.core.filter.output import filtered_answer
from vgssl_ros.core.map import Map
from vgssl_ros.core.settings import LocalizerSettings
from vgssl_ros.eval.calibrate import ellipse_coverage, fit_score_calibration
from vgssl_ros.eval.frame_log import ScoredFrames
from vgssl_ros.eval.robustness import robustness_metrics
from vgssl_ros.geo import EVAL_RADIUS_M, latlon_to_utm
from vgssl_ros.mapping.cli import main as map_main
from vgssl_ros.sim import load_world
from vgssl_ros.sim.cli import main as sim_main
from vgssl_ros.sim.dataset import split_range

ROUTE_M = 1200
SETS = {"report": ((0, 1, 2), "test"), "tune": ((3, 4), "val")}
"""Set name -> (world seeds, split driven)."""
MAPS = {"bag5": ("--min-spacing", "5"), "bag2": ("--min-spacing", "2"), "folder": ()}
RESIZE = ("120", "160")
CALIBRATION_DRIVE = "dusk_8mps"
THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
"""min_confidence values whose answered share and precision the summary gives (pooled over the set's frames)."""


def drives(length_m: float) -> list[tuple[str, str, float, list[str]]]:
    """(name, condition, speed m/s, extra `vgssl-sim drive` args) of one stretch ``length_m`` long."""
    rows = [(f"{c}_8mps", c, 8.0, []) for c in ("dusk", "fog", "rain", "winter", "viewpoint", "night")]
    rows += [("dusk_2mps", "dusk", 2.0, []), ("dusk_24mps", "dusk", 24.0, [])]
    stops = [arg for at in (0.3, 0.7) for arg in ("--stop", f"{at * length_m:.0f}", "20")]
    return rows + [("dusk_8mps_stops", "dusk", 8.0, stops)]


def _run(main, argv: list[str]) -> None:
    if main(argv) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")


@dataclass(frozen=True)
class DriveCache:
    """One embedded drive: descriptors [F, D], true UTM [F, 2], stamps [F] s."""

    descriptors: np.ndarray
    truth: np.ndarray
    stamps: np.ndarray


def embed_drive(embedder: Embedder, bag: Path, zone: str, cache: Path) -> DriveCache:
    """Embed every frame of ``bag`` that has a ground-truth fix (cached in ``cache``, an .npz)."""
    if not cache.exists():
        drive = read_drive(bag, "/camera/image_raw", "/ground_truth/fix")
        desc, truth, stamps = [], [], []
        for frame in drive.frames():
            desc.append(embedder.embed([frame.load()])[0])
            truth.append(latlon_to_utm(frame.latlon[:1], frame.latlon[1:], zone)[0][0])
            stamps.append(frame.stamp)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, descriptors=np.array(desc), truth=np.array(truth), stamps=np.array(stamps))
        tmp.rename(cache)
    data = np.load(cache)
    return DriveCache(data["descriptors"], data["truth"], data["stamps"])


@dataclass(frozen=True)
class Replay:
    """Per frame [F]: single-frame and filtered error (m), filtered acceptance, confidence, scored frames."""

    single_error: np.ndarray
    filtered_error: np.ndarray
    accepted: np.ndarray
    confidence: np.ndarray
    scored: ScoredFrames
    ms_per_frame: float


def replay(geo_map: Map, drive: DriveCache, settings: LocalizerSettings) -> Replay:
    """Search and filter every frame as `LocalizerCore` does (no calibration; probabilities applied later)."""
    filt = filter_for_map(geo_map, settings.filter_config, settings.estimator)
    k = max(settings.top_k, settings.filter_seed_k)
    _, idx = geo_map.search(drive.descriptors, k)
    utm, heading = geo_map.places.utm, geo_map.places.heading
    positions, covs, anywhere, conf, accepted = [], [], [], [], []
    t0 = time.perf_counter()
    for q, seeds, stamp in zip(drive.descriptors, idx, drive.stamps):
        state = filt.step(q, seeds, float(stamp), settings.top_k)
        answer = filtered_answer(
            state,
            float(np.clip(state.confidence, 0, 1)),
            1.0,
            settings.filter_min_confidence,
            settings.min_std_m,
            float(heading[state.place]),
        )
        positions.append(state.position)
        covs.append(state.covariance)
        anywhere.append(state.anywhere)
        conf.append(state.confidence)
        accepted.append(answer.accepted)
    ms = (time.perf_counter() - t0) * 1e3 / max(len(drive.stamps), 1)
    diff = drive.truth - np.array(positions)
    conf_a = np.array(conf)
    scored = ScoredFrames(
        conf_a,
        conf_a.clip(0, 1),
        np.linalg.norm(diff, axis=1),
        diff,
        np.array(covs),
        np.array(anywhere),
        settings.min_std_m,
    )
    single = np.linalg.norm(utm[idx[:, 0]] - drive.truth, axis=1)
    return Replay(single, scored.errors_m, np.array(accepted, bool), conf_a, scored, ms)


def drive_row(result: Replay, stamps: np.ndarray, calibration: ScoreCalibration | None, min_conf: float) -> dict:
    """The sweep's figures for one (map, drive), with and without ``calibration``."""
    right = result.filtered_error <= EVAL_RADIUS_M
    row = {
        "frames": len(stamps),
        "single_r1": 100 * float((result.single_error <= EVAL_RADIUS_M).mean()),
        "filtered_r1": 100 * float(right.mean()),
        "ms_per_frame": result.ms_per_frame,
    }
    for label, calib in (("raw", None), ("calibrated", calibration)):
        if label == "calibrated" and calib is None:
            continue
        conf = result.confidence
        p = np.array([mode_probability(calib, "filtered", c) for c in conf])
        accepted = result.accepted & (p >= min_conf)
        metrics = robustness_metrics(accepted, right, p, stamps)
        metrics["answered"] = float(accepted.mean())
        metrics["precision"] = float((accepted & right).sum() / max(accepted.sum(), 1))
        scored = replace(result.scored, probabilities=p)
        metrics["ellipse95"] = ellipse_coverage(scored, 1.0 if calib is None else calib.covariance_scale)
        answered = [result.accepted & (p >= t) for t in THRESHOLDS]
        metrics["by_threshold"] = [[int(a.sum()), int((a & right).sum())] for a in answered]
        row[label] = metrics
    return row


def prepare_world(
    work: Path, seed: int, split: str, model: str, only: tuple[str, ...] = ()
) -> tuple[Path, dict[str, Path], dict[str, Path]]:
    """World, mapping bag, maps and drives (all, or those named in ``only``) of one world seed, made once and
    reused: (world, maps, drive bags)."""
    world = work / f"world{seed}"
    if not world.exists():
        _run(sim_main, ["world", "--out", str(world), "--seed", str(seed), "--route-m", str(ROUTE_M)])
    mapping = work / f"world{seed}_mapping_day"
    if not mapping.exists():
        _run(sim_main, ["drive", "--world", str(world), "--out", str(mapping), "--split", "all",
                        "--condition", "day", "--seed", str(100 + seed)])  # fmt: skip
    maps = {}
    for name, extra in MAPS.items():
        out = work / f"world{seed}_map_{name}_{split}" if name == "folder" else work / f"world{seed}_map_{name}"
        topics = ["--image-topic", "/camera/image_raw", "--fix-topic", "/gnss/fix"]
        source = ["--images", str(world / "images" / split / "database")] if name == "folder" else [
            "--bag", str(mapping), *topics, *extra]  # fmt: skip
        if not out.exists():
            _run(map_main, ["build", "--model", model, *source, "--out", str(out)])
        maps[name] = out
    world_model, _ = load_world(world)
    lo, hi = split_range(world_model, split)
    bags = {}
    for name, condition, speed, extra in drives(hi - lo):
        if only and name not in only:
            continue
        bag = work / f"world{seed}_{split}_{name}"
        if not bag.exists():
            _run(sim_main, ["drive", "--world", str(world), "--out", str(bag), "--split", split, "--condition",
                            condition, "--speed", str(speed), "--seed", str(seed), *extra])  # fmt: skip
        bags[name] = bag
    return world, maps, bags


def run_set(work: Path, name: str, model: str, settings: LocalizerSettings) -> list[dict]:
    """Every (world, map, drive) of set ``name``; calibration fitted on the val stretch's dusk drive (report set)."""
    seeds, split = SETS[name]
    embedder = Embedder(model, intra_op_threads=2)
    rows = []
    for seed in seeds:
        _, maps, bags = prepare_world(work, seed, split, model)
        calib_bags = prepare_world(work, seed, "val", model, (CALIBRATION_DRIVE,))[2] if name == "report" else {}
        for map_name, map_dir in maps.items():
            geo_map = Map.load(map_dir)
            calibration = None
            if calib_bags and map_name != "folder":  # a folder map covers its split only
                cal = embed_drive(embedder, calib_bags[CALIBRATION_DRIVE], geo_map.zone,
                                  work / f"world{seed}_val_{CALIBRATION_DRIVE}.npz")  # fmt: skip
                calibration = fit_score_calibration(replay(geo_map, cal, settings).scored)
            for drive_name, bag in bags.items():
                drive = embed_drive(embedder, bag, geo_map.zone, work / f"world{seed}_{split}_{drive_name}.npz")
                result = replay(geo_map, drive, settings)
                row = drive_row(result, drive.stamps, calibration, settings.filter_min_confidence)
                rows.append({"world": seed, "map": map_name, "drive": drive_name, **row})
                print(_line(rows[-1]), flush=True)
    return rows


def _line(r: dict) -> str:
    raw = r["raw"]
    cal = r.get("calibrated")
    cal_s = f" | cal cw {100 * cal['confident_wrong']:.1f} % {cal['confident_wrong_streak_s']:.1f} s" if cal else ""
    return (
        f"w{r['world']} {r['map']:6s} {r['drive']:16s} single {r['single_r1']:5.1f} filtered {r['filtered_r1']:5.1f} "
        f"answered {100 * raw['answered']:5.1f} prec {100 * raw['precision']:5.1f} "
        f"cw {100 * raw['confident_wrong']:4.1f} % streak {raw['confident_wrong_streak_s']:4.1f} s "
        f"acq {raw['acquisition_s']:5.1f} s ell {100 * raw['ellipse95']:5.1f}" + cal_s
    )


def markdown(rows: list[dict]) -> str:
    """One table row per (world, map, drive), then the set's summary line."""
    head = (
        "| world | map | drive | single R@1 | filtered fix within 25 m | answered | precision | confidently wrong "
        "| longest confidently wrong | acquisition | 95 % ellipse holds truth | confidently wrong, calibrated |\n"
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    lines = [head]
    for r in rows:
        raw, cal = r["raw"], r.get("calibrated")
        cal_s = f"{100 * cal['confident_wrong']:.1f} %" if cal else "-"
        lines.append(
            f"| {r['world']} | {r['map']} | {r['drive']} | {r['single_r1']:.1f} | {r['filtered_r1']:.1f} "
            f"| {100 * raw['answered']:.1f} % | {100 * raw['precision']:.1f} % | {100 * raw['confident_wrong']:.1f} % "
            f"| {raw['confident_wrong_streak_s']:.1f} s | {raw['acquisition_s']:.1f} s "
            f"| {100 * raw['ellipse95']:.1f} % | {cal_s} |"
        )
    return "\n".join(lines) + "\n\n" + summary(rows)


def summary(rows: list[dict]) -> str:
    """Drives worse than single frames by over 2 points, drives over 1 % confidently wrong or over 2 s streaks."""
    single = np.array([r["single_r1"] for r in rows])
    fixed = np.array([r["filtered_r1"] for r in rows])
    wrong = np.array([100 * r["raw"]["confident_wrong"] for r in rows])
    streak = np.array([r["raw"]["confident_wrong_streak_s"] for r in rows])
    text = (
        f"{len(rows)} drives: mean single R@1 {single.mean():.1f}, filtered {fixed.mean():.1f}; "
        f"filtered < single - 2 on {int((fixed < single - 2).sum())}; confidently wrong > 1 % on "
        f"{int((wrong > 1).sum())} (mean {wrong.mean():.1f} %, max {wrong.max():.1f} %); "
        f"streak > 2 s on {int((streak > 2).sum())}"
    )
    return text + "\n" + thresholds(rows)


def thresholds(rows: list[dict]) -> str:
    """Per min_confidence: the share of all frames answered and the precision of the answered ones, pooled."""
    if "by_threshold" not in rows[0]["raw"]:
        return ""
    frames = sum(r["frames"] for r in rows)
    counts = np.array([r["raw"]["by_threshold"] for r in rows]).sum(axis=0)  # [thresholds, (answered, right)]
    cells = [
        f"{t:.1f}: {100 * a / frames:.1f} % answered, {100 * c / max(a, 1):.1f} % precise"
        for t, (a, c) in zip(THRESHOLDS, counts)
    ]
    return "min_confidence " + "; ".join(cells)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("filter_sweep"), help="folder for worlds, bags, maps, caches")
    p.add_argument("--set", choices=(*SETS, "both"), default="report", help="which drives (default: report)")
    p.add_argument("--json", type=Path, help="write every row here")
    p.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a localizer setting to change (repeatable)",
    )
    p.add_argument("--table", type=Path, help="print the markdown tables of this --json output, run nothing")
    args = p.parse_args()
    if args.table:
        for name, rows in json.loads(args.table.read_text()).items():
            print(f"{name}:\n{markdown(rows)}\n")
        return
    args.work.mkdir(parents=True, exist_ok=True)
    model = args.work / "ots.onnx"
    if not model.exists():
        from vgssl_train.cli import main as train_main

        world = args.work / "world0"
        if not world.exists():
            _run(sim_main, ["world", "--out", str(world), "--seed", "0", "--route-m", str(ROUTE_M)])
        parity = ["--parity-images", str(world / "images" / "test" / "database")]
        if train_main(["export", "--resize", *RESIZE, "--out", str(model), *parity]) != 0:
            raise SystemExit("export failed")
    changed = dict(item.split("=", 1) for item in args.setting)
    settings = LocalizerSettings.from_values({k: json.loads(v) for k, v in changed.items()})
    rows = {}
    for name in SETS if args.set == "both" else (args.set,):
        rows[name] = run_set(args.work, name, str(model), settings)
    for name, set_rows in rows.items():
        print(f"{name}: {summary(set_rows)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
