"""Fuzz the files: seeded damage of model.onnx, map folders, calibration.json, VPR names, CSV manifests and rosbag2
drives, each run through `vgssl-map info / query / build` and the loaders (reliability/map_damage.py,
reliability/input_damage.py) in a worker process that may crash or hang without taking the campaign with it.

Pass: every trial is refused with the command's one line and exit code 2, or accepted with correct answers; never a
traceback, a wrong answer, a hang or a dead worker.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from reliability.campaign import CampaignResult

NODE_SAMPLE = 24
"""Damaged maps and models the full version also gives to the real node (started NODES_AT_ONCE at a time)."""
TRIAL_TIMEOUT_S = 60.0
"""A trial that reports nothing for this long is a hang (the worker is killed and restarted after it)."""


def run(seed: int, quick: bool, work: Path) -> CampaignResult:
    """Run every trial (restarting the worker after a crash or hang) and count what broke a pass rule."""
    result = CampaignResult("fuzz-files", seed)
    counts: Counter[str] = Counter()
    start = 0
    while True:
        reports, ended, died = _worker(work, seed, quick, start)
        for r in reports:
            result.trials += 1
            counts[r["result"]] += 1
            if r["result"] not in ("refused", "accepted"):
                result.fail(f"trial {r['done']} ({r['kind']}) {r['name']}: {r['result']}: {r['message']}")
        if ended is not None:
            break
        if died is None:
            result.fail(f"worker died before any trial (from {start}); see {work}")
            break
        result.trials += 1
        counts[died[2]] += 1
        result.fail(f"trial {died[0]} {died[1]}: {died[2]}")
        start = died[0] + 1
    if not quick:
        node_trials(seed, work, result, counts)
    result.figures = {k: float(v) for k, v in sorted(counts.items())}
    return result


def node_trials(seed: int, work: Path, result: CampaignResult, counts: Counter[str]) -> None:
    """A seeded sample of the map corpus's must-refuse damages through the real node's start-up: exit 2, one line."""
    from reliability.map_damage import all_cases, damaged_copy, error_line
    from reliability.node_start import NODES_AT_ONCE, node_outcome, start_node

    cases = [c for c in all_cases(seed) if c.must_refuse]
    rng = np.random.default_rng(seed + 9)
    picked = [cases[i] for i in sorted(rng.choice(len(cases), NODE_SAMPLE, replace=False))]
    for k in range(0, len(picked), NODES_AT_ONCE):
        runs = []
        for j, case in enumerate(picked[k : k + NODES_AT_ONCE]):
            copy = damaged_copy(case, work / "assets", work / "node" / str(k + j))
            runs.append((case, start_node(work / "node", copy / "model.onnx", copy / case.map_dir)))
        for case, (proc, log) in runs:
            rc, _, text = node_outcome(proc, log)
            result.trials += 1
            if rc == 2 and error_line(rc, text) is not None and "Traceback" not in text:
                counts["refused"] += 1
            else:
                counts["node"] += 1
                result.fail(f"node start-up on {case.name}: exit {rc}: {text.strip()[-300:]!r}")


def _worker(
    work: Path, seed: int, quick: bool, start: int
) -> tuple[list[dict[str, Any]], int | None, tuple[int, str, str] | None]:
    """Run the worker from ``start``: (finished trials, total if it reached the end, (index, name, crash|hang))."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH")])),
    }
    cmd = [sys.executable, "-m", "reliability.file_worker", str(work), str(seed), "1" if quick else "0", str(start)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    reports: list[dict[str, Any]] = []
    names: dict[int, str] = {}
    current: tuple[int, str] | None = None
    ended: int | None = None
    first_timeout = TRIAL_TIMEOUT_S * 3  # the first call builds the assets
    while True:
        if not sel.select(first_timeout if not names else TRIAL_TIMEOUT_S):
            proc.kill()
            proc.wait()
            return reports, None, (*current, "hang") if current else None
        line = proc.stdout.readline()
        if not line:
            break
        msg = json.loads(line)
        if "start" in msg:
            current = (msg["start"], msg["name"])
            names[msg["start"]] = msg["name"]
        elif "done" in msg:
            reports.append({**msg, "name": names[msg["done"]]})
            current = None
        elif "end" in msg:
            ended = msg["end"]
    rc = proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    if ended is not None:
        return reports, ended, None
    why = f"crash (exit {rc}): {stderr.strip()[-200:]!r}"
    return reports, None, (*current, why) if current else None
