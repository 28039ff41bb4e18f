"""`vgssl-eval` with the temporal filter and calibration: side-by-side metrics, --calibrate, coverage."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from vgssl_ros.core.calibration import Calibration, ScoreCalibration
from vgssl_ros.eval.calibrate import ellipse_coverage, fit_score_calibration, isotonic, precision_recall
from vgssl_ros.eval.cli import main as vgssl_eval
from vgssl_ros.eval.frame_log import ScoredFrames
from vgssl_ros.eval.frames import CHI2_2DOF_95


@pytest.mark.slow
def test_eval_reports_single_and_filtered_and_calibrates(drive_assets, tmp_path, capsys):
    args = [
        "--bag",
        str(drive_assets["bag"]),
        "--map",
        str(drive_assets["map"]),
        "--model",
        str(drive_assets["model"]),
        "--quiet",
        "--calibration-out",
        str(tmp_path / "calib.json"),
    ]
    assert vgssl_eval([*args, "--out", str(tmp_path / "val"), "--calibrate"]) == 0, capsys.readouterr().err
    metrics = json.loads((tmp_path / "val" / "metrics.json").read_text())
    assert metrics["frames"] == 12 and metrics["filtered"]["frames"] == 12
    assert metrics["filtered"]["recall"]["1"] >= 75.0
    assert set(metrics["calibration"]) >= {"single", "filtered", "plots"}
    for name in ("precision_recall.png", "reliability.png", "trajectory.png", "recall.png", "error_cdf.png"):
        assert (tmp_path / "val" / name).read_bytes()[:4] == b"\x89PNG"  # both answers in each figure
    assert sorted(p.name for p in (tmp_path / "val" / "filtered").iterdir()) == ["failures.png"]
    assert metrics["plots"]["trajectory"] == str(tmp_path / "val" / "trajectory.png")
    assert metrics["filtered"]["plots"] == {"failures": str(tmp_path / "val" / "filtered" / "failures.png")}
    calib = Calibration.load(tmp_path / "calib.json")
    assert calib.filtered is not None and calib.single.covariance_scale > 0
    captured = capsys.readouterr()
    assert "filtered" in captured.out and "ellipse" in captured.out
    assert "vgssl-eval: warning: single calibration was fitted on only 12 frames" in captured.err  # 12 < 100
    assert any("only 12 frames" in w for w in metrics["calibration"]["warnings"])
    assert {"ellipse95_coverage", "covariance_scale"} <= set(metrics["calibration"]["filtered"])
    robust = metrics["robustness"]["filtered"]  # how the published fixes fail: at most the answered wrong ones
    wrong_answered = metrics["filtered"]["answered_fraction"] - metrics["filtered"]["correct_fraction"]
    assert 0 <= robust["confident_wrong"] <= wrong_answered + 1e-9
    assert robust["confident_wrong_streak_s"] >= 0 and robust["acquisition_s"] >= 0
    assert "confidently wrong" in captured.out and "wrong streak" in captured.out and "acquired" in captured.out
    assert robust["wrong_streaks"] >= robust["unrecovered_streaks"] >= 0
    for name in ("frames.csv", "failures.png", "filtered/failures.png"):
        assert (tmp_path / "val" / name).stat().st_size > 0
    rows = (tmp_path / "val" / "frames.csv").read_text().splitlines()
    assert len(rows) == 1 + 12 and "filtered_status" in rows[0]
    assert (calib.single.frames, calib.filtered.frames) == (12, 12)
    assert vgssl_eval([*args, "--out", str(tmp_path / "test"), "--calibration", str(tmp_path / "calib.json")]) == 0
    used = json.loads((tmp_path / "test" / "metrics.json").read_text())["calibration"]
    assert used["source"] == str(drive_assets["bag"])
    assert used["filtered"]["covariance_scale"] == pytest.approx(calib.filtered.covariance_scale)


@pytest.mark.slow
def test_no_filter_and_bad_calibration(drive_assets, tmp_path, capsys):
    base = [
        "--bag",
        str(drive_assets["bag"]),
        "--map",
        str(drive_assets["map"]),
        "--model",
        str(drive_assets["model"]),
        "--quiet",
    ]
    assert vgssl_eval([*base, "--out", str(tmp_path / "a"), "--no-filter"]) == 0
    assert "filtered" not in json.loads((tmp_path / "a" / "metrics.json").read_text())
    (tmp_path / "bad.json").write_text('{"format_version": 1, "single": {"scores": [1, 0]}}')
    assert vgssl_eval([*base, "--out", str(tmp_path / "b"), "--calibration", str(tmp_path / "bad.json")]) == 2
    assert "--calibrate" in capsys.readouterr().err


def test_isotonic_fit_and_coverage_on_known_data():
    assert np.allclose(isotonic(np.array([1.0, 0.0, 1.0, 0.0, 1.0, 1.0])), [0.5, 0.5, 0.5, 0.5, 1.0, 1.0])
    rng = np.random.default_rng(0)
    n = 4000
    scores = rng.uniform(0, 1, n)
    correct = rng.uniform(0, 1, n) < scores  # P(correct | s) = s
    errors = np.where(correct, 5.0, 500.0)
    d2 = rng.chisquare(2, n) * 4.0  # the raw covariance is 2x too small in std
    diff = np.stack([np.sqrt(d2), np.zeros(n)], axis=1)
    frames = ScoredFrames(scores, scores, errors, diff, np.repeat(np.eye(2)[None], n, axis=0), np.zeros((n, 2, 2)))
    fitted = fit_score_calibration(frames)
    for s in (0.2, 0.5, 0.8):
        assert fitted.probability(s) == pytest.approx(s, abs=0.08)
    assert fitted.covariance_scale == pytest.approx(4.0, rel=0.1)
    assert ellipse_coverage(frames, fitted.covariance_scale) == pytest.approx(0.95, abs=0.01)
    assert ellipse_coverage(frames, 1.0) < 0.7
    _, precision, recall = precision_recall(frames)
    assert precision[0] == 1.0 and recall[-1] == pytest.approx(correct.mean())
    assert CHI2_2DOF_95 == pytest.approx(5.991, abs=1e-3)


def test_covariance_widens_with_the_probability_of_being_wrong():
    """Right answers sit on the truth; wrong ones anywhere: (1 - p) x the map's spread covers them."""
    n = 1000
    rng = np.random.default_rng(1)
    wrong = rng.uniform(0, 1, n) < 0.3
    diff = np.where(wrong[:, None], rng.normal(0, 1000.0, (n, 2)), rng.normal(0, 1.0, (n, 2)))
    anywhere = np.repeat(np.eye(2)[None] * 1000.0**2, n, axis=0)
    frames = ScoredFrames(
        np.where(wrong, 0.2, 0.9),
        np.where(wrong, 0.2, 0.9),
        np.linalg.norm(diff, axis=1),
        diff,
        np.repeat(np.eye(2)[None], n, axis=0),
        anywhere,
    )
    fitted = fit_score_calibration(frames)
    assert fitted.probability(0.2) < 0.05 and fitted.probability(0.9) > 0.95
    assert 0.95 <= ellipse_coverage(frames, fitted.covariance_scale) <= 0.98
    assert ellipse_coverage(replace(frames, anywhere=np.zeros((n, 2, 2))), fitted.covariance_scale) < 0.8


def test_calibration_file_round_trip_and_refusals(tmp_path):
    part = ScoreCalibration((0.1, 0.5), (0.0, 0.9), 3.0)
    Calibration(part, None, "val").save(tmp_path / "c.json")
    back = Calibration.load(tmp_path / "c.json")
    assert back.single == part and back.filtered is None and back.source == "val"
    assert back.single.probability(0.3) == pytest.approx(0.45) and back.single.probability(float("nan")) == 0.0
    with pytest.raises(ValueError, match="non-decreasing"):
        ScoreCalibration((0.5, 0.1), (0.0, 0.9), 1.0)
    (tmp_path / "new.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(ValueError, match="newer"):
        Calibration.load(tmp_path / "new.json")
    with pytest.raises(ValueError, match="cannot be used"):
        Calibration.load(tmp_path / "missing.json")
