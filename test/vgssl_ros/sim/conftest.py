"""A tiny simulated world written once per test session (small route, small images)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vgssl_ros.sim import Camera, DatasetSpec, WorldSpec, write_world_dataset

TINY_WORLD = WorldSpec(seed=3, route_m=400.0)
TINY_DATASET = DatasetSpec(query_condition="night", spacing_m=20.0, camera=Camera(width=64, height=48))


@pytest.fixture(scope="session")
def tiny_world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A world folder written by write_world_dataset: world.json plus the VPR-layout images."""
    out = tmp_path_factory.mktemp("sim") / "world"
    write_world_dataset(out, TINY_WORLD, TINY_DATASET)
    return out
