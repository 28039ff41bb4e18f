"""`vgssl-train eval` reads a `vgssl-sim world` dataset unchanged."""

from __future__ import annotations

import json

from vgssl_ros.sim import Camera, DatasetSpec, WorldSpec, write_world_dataset
from vgssl_train.cli import main


def test_eval_reads_a_simulated_world(tmp_path):
    world = tmp_path / "world"
    info = write_world_dataset(
        world, WorldSpec(seed=1, route_m=400.0), DatasetSpec(spacing_m=20.0, camera=Camera(width=64, height=48))
    )
    out = tmp_path / "r.json"
    assert main(["eval", "--dataset", str(world), "--split", "train", "--resize", "48", "64", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["queries"] == info["counts"]["train"]["queries"] > 0
    assert result["database"] == info["counts"]["train"]["database"]
    # Positions are read right: every query's place is among the 14 database images, so R@20 finds all ...
    assert result["recall"]["20"] == 100.0
    # ... and each R@N counts whole queries of this world (at least one right at R@1), growing with N.
    found = [result["recall"][n] * result["queries"] / 100 for n in ("1", "5", "10", "20")]
    assert all(abs(f - round(f)) < 1e-6 for f in found) and found == sorted(found) and found[0] >= 1
