"""Kill -9 at random moments: each writer is SIGKILLed at a seeded time within its own run time, then judged.

Writers (real commands as subprocesses, small inputs): ``vgssl-sim world``, ``vgssl-sim drive`` and ``vgssl-map
build``. Each is first run to completion once: its output is the reference (these commands are deterministic; a
map's build time in map.json is left out of the comparison) and its wall time T. Then, per trial, the command runs
again, into a fresh folder (every other trial over a copy of the reference, with ``--overwrite``, where the command
has it), and is killed after a uniform(0.02, 1.0) x T delay. Pass: the output path holds the reference (the previous
complete output, or the new one when the kill came after it was in place) or nothing, and never anything else; a
run over a previous output never loses it; the next run of the same command succeeds, writes the reference, and
leaves no staging folder or temporary file behind in the output's parent folder.
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


@dataclass(frozen=True)
class Writer:
    """A command that writes ``out``: its argv (after ``python -m``) for an output path, and whether it can
    ``--overwrite`` an existing output."""

    name: str
    argv: Callable[[Path], list[str]]
    overwrite: bool


def writers(inputs: Path, model: Path, route_m: int) -> list[Writer]:
    """The writers, on inputs made under ``inputs`` (a world) and the tiny ``model``."""
    world = inputs / "world"
    return [
        Writer(
            "vgssl-sim world",
            lambda out: ["vgssl_ros.sim", "world", "--out", str(out), "--route-m", str(route_m), "--size", "64", "80"],
            True,
        ),
        Writer(
            "vgssl-sim drive",
            lambda out: ["vgssl_ros.sim", "drive", "--world", str(world), "--out", str(out), "--split", "test"],
            False,
        ),
        Writer(
            "vgssl-map build",
            lambda out: [
                "vgssl_ros.mapping",
                "build",
                "--model",
                str(model),
                "--images",
                str(world / "images" / "train" / "database"),
                "--out",
                str(out),
                "--quiet",
            ],
            True,
        ),
    ]


def digest(path: Path) -> str | None:
    """A hash of a file or folder's relative names and bytes (map.json without its build time); None if absent."""
    if not path.exists():
        return None
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        data = f.read_bytes()
        if f.name == "map.json":
            meta = json.loads(data)
            meta.get("created", {}).pop("time", None)
            data = json.dumps(meta, sort_keys=True).encode()
        h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode() + b"\0" + data)
    return h.hexdigest()


def _env() -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _run(argv: list[str], cwd: Path, timeout_s: float = 600.0) -> tuple[int, str]:
    p = subprocess.run(
        [sys.executable, "-m", *argv], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout_s
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
    rc, err = _run(all_writers[0].argv(inputs / "world"), work)  # the world the drive and the map read
    if rc != 0:
        result.fail(f"making the input world failed: {err}")
        return result
    for writer in all_writers:
        _writer_trials(writer, kills, rng, work / writer.name.replace(" ", "_"), result)
    return result


def _writer_trials(writer: Writer, kills: int, rng: np.random.Generator, root: Path, result: CampaignResult) -> None:
    ref_dir = root / "reference"
    ref_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    rc, err = _run(writer.argv(ref_dir / "out"), ref_dir)
    full_s = time.monotonic() - t0
    reference = digest(ref_dir / "out")
    if rc != 0 or reference is None:
        result.fail(f"{writer.name}: the reference run failed ({rc}): {err}")
        return
    result.figures[f"{writer.name} run s"] = round(full_s, 2)
    after = 0
    for k in range(kills):
        trial = root / f"trial{k:02d}"
        trial.mkdir()
        over = writer.overwrite and k % 2 == 1
        if over:
            shutil.copytree(ref_dir / "out", trial / "out")
        argv = writer.argv(trial / "out") + (["--overwrite"] if over else [])
        delay = float(rng.uniform(0.02, 1.0)) * full_s
        proc = subprocess.Popen(
            [sys.executable, "-m", *argv],
            cwd=trial,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        after += finished
        result.trials += 1
        mode = "over a previous output" if over else "fresh"
        what = f"{writer.name} kill #{k} at {delay:.2f} s of {full_s:.2f} ({mode})"
        seen = digest(trial / "out")
        if seen is None and over:
            result.fail(f"{what}: the previous output was lost")
        elif seen not in (None, reference):
            result.fail(f"{what}: a partial or different output under the final name")
        again = writer.argv(trial / "out") + (["--overwrite"] if seen is not None and writer.overwrite else [])
        if seen is not None and not writer.overwrite:
            continue  # nothing to redo: the complete output is in place and the command refuses to overwrite
        rc, err = _run(again, trial)
        if rc != 0 or digest(trial / "out") != reference:
            result.fail(f"{what}: the next run failed or wrote something else (exit {rc}): {err}")
        left = sorted(p.name for p in trial.iterdir() if p.name != "out")
        if left:
            result.fail(f"{what}: left behind after the next run: {left}")
    result.figures[f"{writer.name} kills after completion"] = after
