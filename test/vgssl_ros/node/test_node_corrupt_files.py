"""The localizer node's start-up on damaged model and map files: exit code 2 and one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from test.conftest import REPO
from test.vgssl_ros.core.corrupt_assets import all_cases, damaged_copy, make_assets

NODE_CASES = [
    "map.json index={'type': 'flat', 'params': 'x'}",
    "hnsw efSearch=-1",
    "map.json utm_origin=[nan, 7250000.0]",
    "index metric flipped to L2",
    "index NaN descriptor",
    "places utm as strings",
    "model input_height 0",
    "calibration format_version=True",
    "map.json nested 100000 deep",
]
"""Damages that gave a traceback in the node or were accepted by it before (one of each kind)."""


@pytest.mark.slow
def test_node_start_up_refuses_damaged_files(ros_env, tmp_path):
    assets = make_assets(tmp_path / "assets")
    cases = {c.name: c for c in all_cases(seed=0)}
    procs = []
    for i, name in enumerate(NODE_CASES):
        case = cases[name]
        work = damaged_copy(case, assets, tmp_path / f"w{i}")
        cmd = [
            sys.executable,
            "-m",
            "vgssl_ros.node.localizer_node",
            "--ros-args",
            "--params-file",
            str(REPO / "config" / "localizer.yaml"),
            "-p",
            f"model:={work / 'model.onnx'}",
            "-p",
            f"map:={work / case.map_dir}",
            "-p",
            "intra_op_threads:=1",
        ]
        procs.append(
            (
                case,
                subprocess.Popen(cmd, cwd=REPO, env=ros_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
            )
        )
    failures = []
    for case, proc in procs:
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            failures.append(f"{case.name}: the node started (or hung) instead of refusing")
            continue
        errors = [line for line in err.splitlines() if line.startswith("localizer: error:")]
        if proc.returncode != 2 or "Traceback" in err or len(errors) != 1 or case.expect not in errors[0]:
            failures.append(f"{case.name}: exit {proc.returncode}, stderr:\n{err[-1500:]}")
    assert not failures, "\n".join(failures)
