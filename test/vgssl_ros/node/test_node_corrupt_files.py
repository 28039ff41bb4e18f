"""The localizer node's start-up on damaged model and map files: exit code 2 and one line, never a traceback."""

from __future__ import annotations

import subprocess

import pytest

from reliability.map_damage import all_cases, damaged_copy, make_assets
from test.vgssl_ros.node.conftest import node_output

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
def test_node_start_up_refuses_damaged_files(start_localizer, tmp_path):
    assets = make_assets(tmp_path / "assets")
    cases = {c.name: c for c in all_cases(seed=0)}
    procs = []
    for i, name in enumerate(NODE_CASES):
        case = cases[name]
        work = damaged_copy(case, assets, tmp_path / f"w{i}")
        procs.append((case, start_localizer(model=work / "model.onnx", geo_map=work / case.map_dir)))
    failures = []
    for case, proc in procs:
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            failures.append(f"{case.name}: the node started (or hung) instead of refusing")
            continue
        err = node_output(proc)
        errors = [line for line in err.splitlines() if line.startswith("localizer: error:")]
        if proc.returncode != 2 or "Traceback" in err or len(errors) != 1 or case.expect not in errors[0]:
            failures.append(f"{case.name}: exit {proc.returncode}, output:\n{err[-1500:]}")
    assert not failures, "\n".join(failures)
