"""DDS fault: the localizer restarted mid-drive while `vgssl-eval --live` plays a drive into it and listens.

Per round: a fresh localizer (tiny model, a map built from the drive with it), then `vgssl-eval --live` as its own
process, playing a synthetic drive's test split (10 Hz) onto /image. Once RESTART_AFTER answers were heard, the
localizer is stopped (SIGTERM), and started again DOWN_S later. Pass: vgssl-eval exits 0 (it reports the stretch
instead of failing), metrics.json lists a gap of at least DOWN_S that starts after the first answers and ends with
answers after it (the new localizer answered the same drive), and frames before and after the gap were answered.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from reliability.campaign import CampaignResult
from reliability.kill import command_env, map_build_argv, run_module, world_argv
from reliability.node_process import CameraClient, NodeProcess, domain_for, ros_env, tiny_assets

RESTART_AFTER, DOWN_S = 20, 2.0
EVAL_TIMEOUT_S = 180.0


def make_drive(work: Path, model: Path) -> tuple[Path, Path] | str:
    """(drive bag, map built from it with ``model``), or what failed."""
    world, drive, geo_map = work / "world", work / "drive", work / "drive_map"
    for argv in (
        world_argv(world, 300),
        ["vgssl_ros.sim", "drive", "--world", str(world), "--out", str(drive), "--split", "test"],
        map_build_argv(model, drive, geo_map, "5"),
    ):
        rc, err = run_module(argv, work)
        if rc != 0:
            return f"`{' '.join(argv[:2])}` failed ({rc}): {err}"
    return drive, geo_map


def live_restart_rounds(rounds: int, seed: int, work: Path, result: CampaignResult) -> None:
    """``rounds`` live evaluations, each across one localizer restart, judged as the module says."""
    model, _ = tiny_assets(work / "assets")
    made = make_drive(work, model)
    if isinstance(made, str):
        result.fail(f"live restart: making the drive failed: {made}")
        return
    drive, geo_map = made
    domain = domain_for("live-restart")
    gaps = []
    for k in range(rounds):
        what = f"live restart round {k} (seed {seed})"
        gap = _round(work / f"live{k:02d}", model, drive, geo_map, domain, what, result)
        if gap is not None:
            gaps.append(gap)
        result.trials += 1
    if gaps:
        result.figures["live restart gap s (median)"] = round(sorted(gaps)[len(gaps) // 2], 2)


def _round(
    out: Path, model: Path, drive: Path, geo_map: Path, domain: int, what: str, result: CampaignResult
) -> float | None:
    """One live evaluation across a restart; the reported gap's length in seconds, or None on a failure."""
    out.mkdir(parents=True)
    node = NodeProcess.start(out, model, geo_map, domain)
    listener = CameraClient(domain)
    argv = [sys.executable, "-m", "vgssl_ros.eval", "--live", "--bag", str(drive), "--map", str(geo_map)]
    argv += ["--out", str(out / "eval"), "--fix-topic", "/ground_truth/fix", "--localizer-input", "/image", "--quiet"]
    env = {**command_env(), **ros_env(domain)}
    with (out / "eval.log").open("w") as log:
        evaluation = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=out)
    try:
        heard = listener.wait_for(lambda: len(listener.fix_stamps()) >= RESTART_AFTER, 60.0)
        if not heard:
            result.fail(f"{what}: only {len(listener.fix_stamps())} answers before the restart")
        node.stop()
        time.sleep(DOWN_S)
        node = NodeProcess.start(out, model, geo_map, domain)
        rc = evaluation.wait(EVAL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        evaluation.kill()
        result.fail(f"{what}: vgssl-eval --live did not end within {EVAL_TIMEOUT_S:.0f} s")
        return None
    finally:
        listener.close()
        node.stop()
    log_text = (out / "eval.log").read_text(errors="replace")
    if rc != 0 or "Traceback" in log_text:
        result.fail(f"{what}: vgssl-eval --live exited {rc}: {log_text[-400:]}")
        return None
    return _judge_gap(out / "eval", what, result)


def _judge_gap(evaluation: Path, what: str, result: CampaignResult) -> float | None:
    """The first reported gap of >= DOWN_S after the drive's start, if answers came after it; None otherwise."""
    import csv

    metrics = json.loads((evaluation / "metrics.json").read_text())
    with (evaluation / "frames.csv").open() as f:
        stamps = [float(row["stamp_s"]) for row in csv.DictReader(f)]
    drive_s = stamps[-1] - stamps[0]
    gaps = [g for g in metrics.get("gaps", []) if g["seconds"] >= DOWN_S and g["start_s"] > 0]
    answered = metrics.get("frames_answered_by_localizer", 0)
    if not gaps:
        result.fail(f"{what}: no gap of >= {DOWN_S} s after the start reported: {metrics.get('gaps')}")
        return None
    if gaps[0]["end_s"] >= drive_s or answered <= RESTART_AFTER:
        result.fail(f"{what}: nothing answered after the restart ({answered} of {len(stamps)} frames answered)")
        return None
    return float(gaps[0]["seconds"])
