"""`vgssl-eval` offline: a drive made from geo-tagged images, scored against a map of the same route."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vgssl_ros.datasets import read_vpr_folder
from vgssl_ros.eval.cli import main as vgssl_eval
from vgssl_ros.eval.metrics import DriveOutcome, drive_metrics


@pytest.mark.slow
def test_offline_eval_writes_metrics_and_plots(drive_assets, tmp_path, capsys):
    out = tmp_path / "eval"
    rc = vgssl_eval(
        [
            "--bag",
            str(drive_assets["bag"]),
            "--map",
            str(drive_assets["map"]),
            "--model",
            str(drive_assets["model"]),
            "--out",
            f"{out}/",  # as a shell completes a folder name
            "--quiet",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["frames"] == 12 and metrics["skipped"] == {"no_fix": 0}
    assert metrics["recall"]["1"] >= 75.0 and metrics["recall"]["10"] == 100.0
    assert metrics["answered_fraction"] == 1.0
    assert metrics["error_median_m"] < 25.0
    assert metrics["latency_p50_ms"] > 0
    for name in ("trajectory.png", "recall.png", "error_cdf.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "R@1" in printed and "//" not in printed
    assert f"wrote {out / 'metrics.json'}, {out / 'frames.csv'} and plots" in printed


@pytest.mark.slow
def test_bag_without_the_topic_is_a_clear_error(drive_assets, tmp_path, capsys):
    rc = vgssl_eval(
        [
            "--bag",
            str(drive_assets["bag"]),
            "--map",
            str(drive_assets["map"]),
            "--model",
            str(drive_assets["model"]),
            "--out",
            str(tmp_path / "e"),
            "--image-topic",
            "/cam",
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert "/cam" in err and "Traceback" not in err


@pytest.mark.slow
def test_corrupt_bag_is_a_clear_error(drive_assets, tmp_path, capsys):
    bad = tmp_path / "bad_bag"
    bad.mkdir()
    (bad / "metadata.yaml").write_text("rosbag2_bagfile_information: {version: 9\n")
    rc = vgssl_eval(
        [
            "--bag",
            str(bad),
            "--map",
            str(drive_assets["map"]),
            "--model",
            str(drive_assets["model"]),
            "--out",
            str(tmp_path / "e"),
        ]
    )
    assert rc == 2 and "cannot be read" in capsys.readouterr().err


def test_drive_metrics_formula():
    places = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0]])
    outcome = DriveOutcome(
        gt_utm=np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0], [0.0, 5.0]]),
        est_utm=np.array([[3.0, 4.0], [0.0, 0.0], [200.0, 10.0], [0.0, 0.0]]),
        accepted=np.array([True, True, True, False]),
        candidates=np.array([[0, 1], [0, 1], [2, 0], [0, 1]]),
        latency_ms=np.array([10.0, 20.0, 30.0, 40.0]),
    )
    m = drive_metrics(outcome, places)
    assert m["recall"] == {"1": 75.0, "5": 100.0, "10": 100.0}
    assert m["answered_fraction"] == 0.75
    assert m["precision_answered"] == pytest.approx(2 / 3)
    assert m["error_median_m"] == pytest.approx(10.0)  # errors of answered frames: 5, 100, 10
    assert m["latency_p50_ms"] == pytest.approx(25.0)


def test_make_bag_cli(tmp_path, capsys):
    from test.conftest import write_vpr_dataset
    from vgssl_ros.bags import read_drive

    ds = write_vpr_dataset(tmp_path / "ds", splits=("val",), places=5)
    queries = ds / "images" / "val" / "queries"
    assert vgssl_eval(["make-bag", "--images", str(queries), "--out", f"{tmp_path / 'bag'}/", "--rate", "4"]) == 0
    out, err = capsys.readouterr()
    assert f"wrote {tmp_path / 'bag'}: 5 frames" in out  # a trailing slash is not echoed
    assert "writing: 5/5 frames" in err and "\r" not in err  # not a terminal: a plain line with the full count
    drive = read_drive(tmp_path / "bag", "/camera/image_raw", "/gnss/fix")
    frames = list(drive.frames())
    assert len(frames) == 5
    assert np.allclose(np.diff([f.stamp for f in frames]), 0.25)
    assert np.allclose([f.utm for f in frames], read_vpr_folder(queries).utm, atol=0.05)
    assert vgssl_eval(["make-bag", "--images", str(queries), "--out", str(tmp_path / "bag")]) == 2
    assert "already exists" in capsys.readouterr().err
    args = ["make-bag", "--images", str(queries), "--out", str(tmp_path / "quiet"), "--quiet"]
    assert vgssl_eval(args) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_failure_gallery_shows_where_a_model_exported_with_activation_looks(drive_assets, tmp_path, capsys):
    import cv2

    from test.conftest import write_vpr_dataset
    from vgssl_ros.eval.make_bag import images_to_bag
    from vgssl_ros.mapping.cli import main as vgssl_map
    from vgssl_train.cli import main as vgssl_train

    database = drive_assets["root"] / "ds" / "images" / "test" / "database"
    model, heat_map = tmp_path / "model.onnx", tmp_path / "map"
    export = ["export", "--resize", "32", "64", "--out", str(model), "--parity-images", str(database), "--activation"]
    assert vgssl_train(export) == 0
    assert vgssl_map(["build", "--model", str(model), "--images", str(database), "--out", str(heat_map)]) == 0
    moved = write_vpr_dataset(tmp_path / "moved", splits=("test",), query_offset_m=100.0)  # every answer 100 m off
    images_to_bag(read_vpr_folder(moved / "images" / "test" / "queries"), tmp_path / "drive", 2.0, storage="mcap")
    galleries = {}
    for name, onnx, geo_map in (("plain", drive_assets["model"], drive_assets["map"]), ("heat", model, heat_map)):
        out = tmp_path / name
        args = ["--bag", str(tmp_path / "drive"), "--map", str(geo_map), "--model", str(onnx), "--out", str(out)]
        assert vgssl_eval([*args, "--quiet", "--no-filter"]) == 0, capsys.readouterr().err
        galleries[name] = cv2.imread(str(out / "failures.png")).astype(int)
    plain, heat = galleries["plain"], galleries["heat"]
    assert plain.shape == heat.shape  # the same stretch, the same pictures: the descriptors are the same
    changed = np.abs(plain - heat).sum(axis=2) > 30
    assert changed.mean() > 0.2, changed.mean()  # the three pictures carry the heat map; the plain model's do not
