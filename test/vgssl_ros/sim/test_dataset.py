"""The world's map dataset: VPR layout, positions, determinism, and complete-or-absent output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from test.conftest import REPO
from test.vgssl_ros.sim.conftest import TINY_DATASET, TINY_WORLD
from vgssl_ros.datasets import load_rgb, read_vpr_folder
from vgssl_ros.geo import latlon_to_utm
from vgssl_ros.sim import build_world, load_world, write_world_dataset
from vgssl_ros.sim.cli import main
from vgssl_ros.sim.dataset import SPLIT_FRACTIONS, split_range


def _distance_to_route(world, utm_en: np.ndarray) -> np.ndarray:
    """[N] metres from each UTM point to the route polyline."""
    p = utm_en - world.origin_utm
    a, b = world.route[:-1], world.route[1:]
    ab = b - a
    t = np.clip(np.einsum("nkj,kj->nk", p[:, None] - a, ab) / np.einsum("kj,kj->k", ab, ab), 0, 1)
    return np.linalg.norm(a + t[..., None] * ab - p[:, None], axis=2).min(axis=1)


def test_dataset_reads_back_with_positions_on_the_route(tiny_world_dir):
    info = json.loads((tiny_world_dir / "world.json").read_text())
    world = build_world(TINY_WORLD)
    for split in SPLIT_FRACTIONS:
        for role in ("database", "queries"):
            images = read_vpr_folder(tiny_world_dir / "images" / split / role)
            assert len(images) == info["counts"][split][role] > 0
            assert str(images.zone) == "32U"
            # lat/lon and UTM in each name agree, and every camera stands on its stretch of road.
            again, _ = latlon_to_utm(images.latlon[:, 0], images.latlon[:, 1], images.zone)
            np.testing.assert_allclose(again, images.utm, atol=0.2)
            assert _distance_to_route(world, images.utm).max() < 5.0
            assert load_rgb(images.paths[0]).shape == (48, 64, 3)
            conditions = {name.split("@")[-2] for name in images.ids}
            assert conditions == {"day" if role == "database" else TINY_DATASET.query_condition}


def test_queries_have_positives_and_splits_share_no_place(tiny_world_dir):
    test_db = read_vpr_folder(tiny_world_dir / "images" / "test" / "database").utm
    test_q = read_vpr_folder(tiny_world_dir / "images" / "test" / "queries").utm
    train_db = read_vpr_folder(tiny_world_dir / "images" / "train" / "database").utm
    nearest = np.linalg.norm(test_q[:, None] - test_db[None], axis=2).min(axis=1)
    assert nearest.max() < 25.0  # every query has a database image within the evaluation radius
    to_train = np.linalg.norm(test_db[:, None] - train_db[None], axis=2).min()
    assert to_train > TINY_DATASET.spacing_m  # the test stretch starts after the train stretch ends


def test_same_seed_same_files(tiny_world_dir, tmp_path):
    again = tmp_path / "again"
    write_world_dataset(again, TINY_WORLD, TINY_DATASET)
    first = sorted(p.relative_to(tiny_world_dir) for p in tiny_world_dir.rglob("*.jpg"))
    second = sorted(p.relative_to(again) for p in again.rglob("*.jpg"))
    assert first == second
    assert (tiny_world_dir / first[-1]).read_bytes() == (again / second[-1]).read_bytes()


def test_load_world_rebuilds_the_same_world(tiny_world_dir):
    world, spec = load_world(tiny_world_dir)
    np.testing.assert_array_equal(world.p1, build_world(TINY_WORLD).p1)
    assert spec == TINY_DATASET
    lo, hi = split_range(world, "test")
    assert 0 < lo < hi == world.length_m


def test_consecutive_splits_drive_as_one_stretch_and_others_are_refused(tiny_world_dir):
    world, _ = load_world(tiny_world_dir)
    train, val = split_range(world, "train"), split_range(world, "val")
    assert split_range(world, "train", "val") == (train[0], val[1])
    assert split_range(world, "train", "val", "test") == split_range(world, "all") == (0.0, world.length_m)
    with pytest.raises(ValueError, match="not consecutive"):
        split_range(world, "train", "test")
    with pytest.raises(ValueError, match="route order"):
        split_range(world, "val", "train")
    with pytest.raises(ValueError, match="all alone"):
        split_range(world, "all", "test")


def test_existing_output_is_refused_and_kept(tiny_world_dir, capsys):
    before = sorted(tiny_world_dir.rglob("*"))
    rc = main(["world", "--out", str(tiny_world_dir), "--route-m", "400"])
    assert rc == 2
    assert "already exists" in capsys.readouterr().err
    assert sorted(tiny_world_dir.rglob("*")) == before


def test_missing_world_is_one_clear_error(tmp_path, capsys):
    rc = main(["drive", "--world", str(tmp_path / "nowhere"), "--out", str(tmp_path / "bag")])
    assert rc == 2
    assert "make a world first" in capsys.readouterr().err


@pytest.mark.slow
def test_killed_world_write_leaves_nothing(tmp_path):
    out = tmp_path / "world"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vgssl_ros.sim", "world", "--out", str(out), "--route-m", "3000", "--spacing-m", "2"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".world.*.partial/images/train/database/*.jpg")):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the world write never started"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["world", "--help"], ["drive", "--help"]])
def test_module_cli_documents_commands(argv):
    proc = subprocess.run(
        [sys.executable, "-m", "vgssl_ros.sim", *argv], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "--out" in proc.stdout and "night" in proc.stdout


def test_corrupt_world_file_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "world.json").write_text('{"format_version": 1, "world": {"seed": 0}}')
    assert main(["drive", "--world", str(tmp_path), "--out", str(tmp_path / "bag")]) == 2
    assert "not a vgssl-sim world file" in capsys.readouterr().err
    assert not (tmp_path / "bag").exists()
