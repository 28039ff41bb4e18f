"""Kill -9 at random moments: each writer is SIGKILLed at a seeded time within its own run time, then judged.

Writers (real commands as subprocesses, small inputs made first: a synthetic world, a day and a dusk drive of its
whole route, a drive of its test split, a map): ``vgssl-sim world``, ``vgssl-sim drive``, ``vgssl-map build`` (from
the day bag), ``vgssl-eval make-bag``, ``vgssl-train dataset`` (day + dusk drives), ``vgssl-train export`` and
``vgssl-eval``; `vgssl-train train` and its ``--resume`` are reliability/kill_train.py. Each is first run to
completion once: its output is the reference (these commands are deterministic; build times and an evaluation's
latencies and own path are left out of the comparison, see ``digest``) and its wall time T. Then, per trial, the
command runs again, into a fresh folder (every other trial over a copy of the reference, where the command writes
over an existing output), and is killed after a uniform(0.02, 1.0) x T delay. Pass: the output path holds the
reference (the previous complete output, or the new one when the kill came after it was in place) or nothing, and
never anything else; a run over a previous output never loses it; the next run of the same command succeeds, writes
the reference, and leaves no staging folder or temporary file behind in the output's parent folder or inside it.
vgssl-eval is the one writer that fills its folder one complete file at a time (each atomically, metrics.json
last): a folder it leaves must hold only complete files (PNGs decode, JSON and CSV parse), and is counted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reliability.campaign import CampaignResult
from reliability.node_process import REPO, tiny_assets

FULL_KILLS, QUICK_KILLS = 20, 2
FULL_ROUTE_M, QUICK_ROUTE_M = 2000, 300
BAG_TOPICS = ("--image-topic", "/camera/image_raw", "--fix-topic", "/gnss/fix")


@dataclass(frozen=True)
class Writer:
    """A command that writes ``out``: its argv (after ``python -m``) for an output path; ``over``: the extra
    arguments with which it writes over an existing output ([] when it replaces it anyway, None when it refuses);
    ``unfinished``: for a folder the command fills one complete file at a time (vgssl-eval), what is wrong with a
    folder it left after a kill (None when every file in it is complete); ``quick``: in the quick campaign too
    (the slow writers, export and dataset at 10-40 s a run, are in the full one only)."""

    name: str
    argv: Callable[[Path], list[str]]
    over: list[str] | None
    unfinished: Callable[[Path], str | None] | None = None
    quick: bool = True


def writers(inputs: Path, model: Path, route_m: int) -> list[Writer]:
    """The writers, on the inputs ``make_inputs`` wrote under ``inputs`` and the tiny ``model``."""
    world = inputs / "world"
    return [
        Writer(
            "vgssl-sim world",
            lambda out: world_argv(out, route_m),
            ["--overwrite"],
        ),
        Writer(
            "vgssl-sim drive",
            lambda out: ["vgssl_ros.sim", "drive", "--world", str(world), "--out", str(out), "--split", "test"],
            None,
        ),
        Writer("vgssl-map build", lambda out: map_build_argv(model, inputs / "day", out, "1"), ["--overwrite"]),
        Writer(
            "vgssl-eval make-bag",
            lambda out: [
                "vgssl_ros.eval",
                "make-bag",
                "--images",
                str(world / "images/test/queries"),
                "--out",
                str(out),
            ],
            None,
        ),
        Writer(
            "vgssl-train dataset",
            lambda out: [
                "vgssl_train",
                "dataset",
                "--drive",
                str(inputs / "day"),
                "--drive",
                str(inputs / "dusk"),
                "--splits",
                "40",
                "30",
                "30",
                "--out",
                str(out),
                "--quiet",
            ],
            ["--overwrite"],
            quick=False,
        ),
        Writer(
            "vgssl-train export",
            lambda out: [
                "vgssl_train",
                "export",
                "--resize",
                "32",
                "64",
                "--parity-images",
                str(world / "images/test/database"),
                "--out",
                str(out),
            ],
            [],
            quick=False,
        ),
        Writer(
            "vgssl-eval",
            lambda out: [
                "vgssl_ros.eval",
                "--bag",
                str(inputs / "test_drive"),
                "--map",
                str(inputs / "map"),
                "--model",
                str(model),
                "--out",
                str(out),
                "--quiet",
            ],
            [],
            incomplete_files,
        ),
    ]


def world_argv(out: Path, route_m: int) -> list[str]:
    """`vgssl-sim world` of a ``route_m`` route with 64x80 images into ``out``: the campaigns' small input world."""
    return ["vgssl_ros.sim", "world", "--out", str(out), "--route-m", str(route_m), "--size", "64", "80"]


def map_build_argv(model: Path, bag: Path, out: Path, min_spacing_m: str) -> list[str]:
    """`vgssl-map build` of ``bag``'s camera and GNSS with ``model`` into ``out``."""
    return ["vgssl_ros.mapping", "build", "--model", str(model), "--bag", str(bag), *BAG_TOPICS] + [
        "--min-spacing",
        min_spacing_m,
        "--out",
        str(out),
        "--quiet",
    ]


def make_inputs(inputs: Path, model: Path, route_m: int) -> str | None:
    """The world, drives and map the writers read; None, or what failed."""
    world = inputs / "world"
    commands = [
        world_argv(world, route_m),
        ["vgssl_ros.sim", "drive", "--world", str(world), "--out", str(inputs / "day"), "--split", "all"],
        [
            "vgssl_ros.sim",
            "drive",
            "--world",
            str(world),
            "--out",
            str(inputs / "dusk"),
            "--split",
            "all",
            "--condition",
            "dusk",
        ],
        ["vgssl_ros.sim", "drive", "--world", str(world), "--out", str(inputs / "test_drive"), "--split", "test"],
        map_build_argv(model, inputs / "day", inputs / "map", "5"),
    ]
    for argv in commands:
        rc, err = run_module(argv, inputs)
        if rc != 0:
            return f"`{' '.join(argv[:2])}` failed ({rc}): {err}"
    return None


def incomplete_files(folder: Path) -> str | None:
    """The first file under its final name in ``folder`` that is not complete (a PNG that does not decode, JSON or
    CSV that does not parse); None when every one is whole. Hidden temporaries are not final names: the next run
    removes them (checked after it)."""
    import csv

    import cv2

    for f in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        try:
            if f.suffix == ".png" and cv2.imread(str(f)) is None:
                return f"{f.name}: does not decode"
            if f.suffix == ".json":
                json.loads(f.read_text())
            if f.suffix == ".csv":
                rows = list(csv.reader(f.open()))
                if len({len(r) for r in rows}) > 1:
                    return f"{f.name}: rows of different lengths"
        except (ValueError, OSError) as exc:
            return f"{f.name}: {type(exc).__name__}"
    return None


def digest(path: Path) -> str | None:
    """A hash of a file or folder's relative names and bytes; None if absent. Run-dependent fields are left out:
    the build time of a map or a dataset (map.json, dataset.json), an evaluation's latencies and its own path
    (metrics.json)."""
    if not path.exists():
        return None
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        data = f.read_bytes()
        if f.name in ("map.json", "dataset.json"):
            meta = json.loads(data)
            meta.get("created", {}).pop("time", None)
            data = json.dumps(meta, sort_keys=True).encode()
        if f.name == "metrics.json":
            data = json.dumps(
                _without_latency(json.loads(data.decode().replace(str(path), "OUT"))), sort_keys=True
            ).encode()
        h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode() + b"\0" + data)
    return h.hexdigest()


def _without_latency(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_latency(v) for k, v in value.items() if "latency" not in k}
    if isinstance(value, list):
        return [_without_latency(v) for v in value]
    return value


def command_env() -> dict[str, str]:
    """The environment of every command the campaign runs: one thread, unbuffered, this checkout first."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def kill_after(argv: list[str], cwd: Path, delay_s: float) -> bool:
    """Start ``python -m ARGV`` in its own process group, SIGKILL the group after ``delay_s`` unless it has ended;
    True when it ended first."""
    proc = subprocess.Popen(
        [sys.executable, "-m", *argv],
        cwd=cwd,
        env=command_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(delay_s)
    finished = proc.poll() is not None
    if not finished:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return finished


def run_module(argv: list[str], cwd: Path, timeout_s: float = 600.0) -> tuple[int, str]:
    """Run ``python -m ARGV`` in ``cwd`` to the end: its exit code and the tail of its error output."""
    p = subprocess.run(
        [sys.executable, "-m", *argv], cwd=cwd, env=command_env(), capture_output=True, text=True, timeout=timeout_s
    )
    return p.returncode, (p.stderr or p.stdout)[-400:]


def run(seed: int, quick: bool, work: Path) -> CampaignResult:
    """FULL_KILLS (QUICK_KILLS) kills of each writer, judged as the module says."""
    result = CampaignResult("kill", seed)
    rng = np.random.default_rng(seed)
    kills = QUICK_KILLS if quick else FULL_KILLS
    model, _ = tiny_assets(work / "assets")
    inputs = work / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    all_writers = writers(inputs, model, QUICK_ROUTE_M if quick else FULL_ROUTE_M)
    failed = make_inputs(inputs, model, QUICK_ROUTE_M if quick else FULL_ROUTE_M)
    if failed:
        result.fail(f"making the inputs failed: {failed}")
        return result
    for writer in [w for w in all_writers if w.quick or not quick]:
        _writer_trials(writer, kills, rng, work / writer.name.replace(" ", "_"), result)
    return result


def _writer_trials(writer: Writer, kills: int, rng: np.random.Generator, root: Path, result: CampaignResult) -> None:
    ref_dir = root / "reference"
    ref_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    rc, err = run_module(writer.argv(ref_dir / "out"), ref_dir)
    full_s = time.monotonic() - t0
    reference = digest(ref_dir / "out")
    if rc != 0 or reference is None:
        result.fail(f"{writer.name}: the reference run failed ({rc}): {err}")
        return
    result.figures[f"{writer.name} run s"] = round(full_s, 2)
    after = unfinished = 0
    for k in range(kills):
        trial = root / f"trial{k:02d}"
        trial.mkdir()
        over = writer.over is not None and k % 2 == 1
        if over:
            copy = shutil.copytree if (ref_dir / "out").is_dir() else shutil.copy2
            copy(ref_dir / "out", trial / "out")
        argv = writer.argv(trial / "out") + ((writer.over or []) if over else [])
        delay = float(rng.uniform(0.02, 1.0)) * full_s
        finished = kill_after(argv, trial, delay)
        after += finished
        result.trials += 1
        mode = "over a previous output" if over else "fresh"
        what = f"{writer.name} kill #{k} at {delay:.2f} s of {full_s:.2f} ({mode})"
        seen = digest(trial / "out")
        if seen is None and over:
            result.fail(f"{what}: the previous output was lost")
        elif seen not in (None, reference):
            problem = writer.unfinished(trial / "out") if writer.unfinished else "a partial or different output"
            if problem:
                result.fail(f"{what}: under the final name: {problem}")
            unfinished += problem is None
        if seen is not None and writer.over is None:
            continue  # nothing to redo: the complete output is in place and the command refuses to overwrite
        again = writer.argv(trial / "out") + ((writer.over or []) if seen is not None else [])
        rc, err = run_module(again, trial)
        if rc != 0 or digest(trial / "out") != reference:
            result.fail(f"{what}: the next run failed or wrote something else (exit {rc}): {err}")
        left = sorted(p.name for p in trial.iterdir() if p.name != "out")
        hidden = [p.name for p in (trial / "out").rglob(".*")] if (trial / "out").is_dir() else []
        if left or hidden:
            result.fail(f"{what}: left behind after the next run: {left + hidden}")
    result.figures[f"{writer.name} kills after completion"] = after
    if writer.unfinished:
        result.figures[f"{writer.name} folders of complete files, unfinished"] = unfinished
