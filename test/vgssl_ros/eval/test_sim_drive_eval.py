"""`vgssl-eval` on a simulated drive (GNSS and ground truth): frames.csv, robot metrics, GNSS baseline, gallery,
and `compare` of the filtered and unfiltered runs."""

from __future__ import annotations

import csv
import json

import pytest

from vgssl_ros.eval.cli import main as vgssl_eval
from vgssl_ros.mapping.cli import main as vgssl_map
from vgssl_ros.sim import Camera, DatasetSpec, WorldSpec, write_world_dataset
from vgssl_ros.sim.cli import main as vgssl_sim


@pytest.mark.slow
def test_sim_drive_eval_has_gnss_baseline_frames_and_gallery(drive_assets, tmp_path, capsys):
    world = tmp_path / "world"
    write_world_dataset(
        world, WorldSpec(seed=3, route_m=400.0), DatasetSpec("night", 20.0, Camera(width=64, height=48))
    )
    database = world / "images" / "test" / "database"
    assert (
        vgssl_map(
            ["build", "--model", str(drive_assets["model"]), "--images", str(database), "--out", str(tmp_path / "map")]
        )
        == 0
    )
    bag = tmp_path / "drive"
    assert vgssl_sim(["drive", "--world", str(world), "--out", str(bag), "--speed", "10", "--gnss-sigma", "3"]) == 0
    base = ["--bag", str(bag), "--map", str(tmp_path / "map"), "--model", str(drive_assets["model"]), "--quiet"]
    base += ["--fix-topic", "/ground_truth/fix", "--radius", "25"]
    assert vgssl_eval([*base, "--out", str(tmp_path / "a")]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    gnss = metrics["gnss"]
    assert gnss["topic"] == "/gnss/fix" and gnss["frames"] == metrics["frames"]
    assert 0.1 < gnss["error_median_m"] < 10.0 and gnss["error_p90_m"] >= gnss["error_median_m"]
    assert "gnss     /gnss/fix error median" in printed and "wrong streak" in printed
    for mode in ("single", "filtered"):
        r = metrics["robustness"][mode]
        assert r["longest_wrong_streak_frames"] <= r["wrong_streaks"] * metrics["frames"]
        assert (r["wrong_streaks"] == 0) == (r["longest_wrong_streak_s"] == 0)
    with open(tmp_path / "a" / "frames.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == metrics["frames"] and all(r["gnss_error_m"] for r in rows)
    assert all(r["single_place_image"].startswith("@") for r in rows)  # the map's VPR file names
    assert all(r["filter_status"] and r["filtered_probability"] for r in rows)
    wrong = sum(r["single_status"] == "accepted" and float(r["single_error_m"]) > 25 for r in rows)
    assert wrong == round(metrics["answered_fraction"] * metrics["frames"]) - metrics["correct_frames"]
    assert (tmp_path / "a" / "failures.png").read_bytes()[:4] == b"\x89PNG"
    assert metrics["plots"]["failures"].endswith("failures.png")
    assert metrics["filtered"]["plots"]["failures"].endswith("filtered/failures.png")
    assert vgssl_eval([*base, "--out", str(tmp_path / "b"), "--no-filter", "--fix-topic", "/gnss/fix"]) == 0
    assert "gnss" not in json.loads((tmp_path / "b" / "metrics.json").read_text())  # GNSS is the ground truth there
    capsys.readouterr()
    assert vgssl_eval(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "single: the answers disagree on" in out and "filtered R@1" in out
