"""Calibration that cannot collapse: a drive that cannot teach it keeps the scale and probabilities at sane
bounds and says so; a rich drive is fitted as before."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vgssl_ros.core.calibration import Calibration, ScoreCalibration
from vgssl_ros.core.calibration_checks import (
    MAX_COVARIANCE_SCALE,
    MIN_COVARIANCE_SCALE,
    MIN_FRAMES,
    MIN_WRONG_FRAMES,
    calibration_warnings,
)
from vgssl_ros.eval.calibrate import ellipse_coverage, fit_score_calibration, isotonic
from vgssl_ros.eval.frame_log import ScoredFrames


def _frames(scores: np.ndarray, errors_m: np.ndarray, cov_m2: float, min_std_m: float = 0.0) -> ScoredFrames:
    """Frames whose truth lies ``errors_m`` east of the estimate, raw covariance ``cov_m2`` x I."""
    n = len(scores)
    diff = np.stack([errors_m, np.zeros(n)], axis=1)
    eye = np.repeat(np.eye(2)[None], n, axis=0)
    return ScoredFrames(scores, scores, errors_m, diff, eye * cov_m2, eye * 300.0**2, min_std_m)


def test_every_frame_right_keeps_the_scale_at_its_floor_and_probabilities_below_one():
    """The issue's case: right answers all inside min_std_m (5 m), a wide belief: today's fit gave 1e-06 and p=1."""
    rng = np.random.default_rng(0)
    n = 300
    frames = _frames(rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 4.0, n), cov_m2=400.0, min_std_m=5.0)
    fitted = fit_score_calibration(frames)
    assert fitted.covariance_scale == MIN_COVARIANCE_SCALE
    assert max(fitted.probabilities) == pytest.approx((n + 1) / (n + 2)) and max(fitted.probabilities) < 1.0
    assert (fitted.frames, fitted.wrong) == (n, 0)
    warnings = calibration_warnings(fitted, "filtered")
    assert len(warnings) == 2
    assert "0 wrong answers" in warnings[0] and "floor" in warnings[1]
    assert all("--calibrate" in w and "harder validation drive" in w and "\n" not in w for w in warnings)


def test_too_few_frames_stay_near_the_prior_and_warn():
    frames = _frames(np.array([0.2, 0.4, 0.6, 0.8]), np.array([50.0, 3.0, 3.0, 3.0]), cov_m2=1.0)
    fitted = fit_score_calibration(frames)
    assert all(0.25 <= p <= 0.8 for p in fitted.probabilities)
    assert fitted.probability(0.8) == pytest.approx(4 / 5)  # three right of three: (3 + 1) / (3 + 2)
    assert np.all(np.diff(fitted.probabilities) >= 0)
    warnings = calibration_warnings(fitted, "single")
    assert any(f"only 4 frames (< {MIN_FRAMES})" in w for w in warnings)
    assert any(f"only 1 wrong answers in 4 frames (< {MIN_WRONG_FRAMES})" in w for w in warnings)


def test_a_rich_drive_is_fitted_as_before():
    """Many frames of both kinds: the prior moves no probability by more than two points, the scale is free."""
    rng = np.random.default_rng(2)
    n = 4000
    scores = rng.uniform(0, 1, n)
    correct = rng.uniform(0, 1, n) < scores
    errors = np.where(correct, 5.0, 500.0)
    d2 = rng.chisquare(2, n) * 9.0  # the raw covariance is 3x too small in std
    diff = np.stack([np.sqrt(d2), np.zeros(n)], axis=1)
    eye = np.repeat(np.eye(2)[None], n, axis=0)
    frames = ScoredFrames(scores, scores, errors, diff, eye, eye * 0.0)
    fitted = fit_score_calibration(frames)
    order = np.argsort(scores, kind="stable")
    today = isotonic((errors[order] <= 25.0).astype(float))  # without the prior
    now = np.array([fitted.probability(s) for s in scores[order]])
    knots = np.searchsorted(scores[order], fitted.scores)
    assert np.abs(now[knots] - today[knots]).max() < 0.02
    assert fitted.probability(0.9) == pytest.approx(0.9, abs=0.06)
    assert fitted.covariance_scale == pytest.approx(9.0, rel=0.15)
    assert ellipse_coverage(frames, fitted.covariance_scale) == pytest.approx(0.95, abs=0.01)
    assert calibration_warnings(fitted, "single") == []


def test_a_covariance_unrelated_to_the_errors_hits_the_ceiling_and_warns():
    n = 200
    frames = _frames(np.linspace(0, 1, n), np.full(n, 1e5), cov_m2=1e-6)
    fitted = fit_score_calibration(frames)
    assert fitted.covariance_scale == MAX_COVARIANCE_SCALE
    assert any("ceiling" in w for w in calibration_warnings(fitted, "single"))


def test_isotonic_with_a_prior_stays_monotone_and_pools_runs():
    rng = np.random.default_rng(3)
    for _ in range(50):
        values = (rng.uniform(0, 1, 40) < np.linspace(0, 1, 40)).astype(float)
        shrunk = isotonic(values, 2.0, 0.5)
        assert np.all(np.diff(shrunk) >= 0) and shrunk.min() > 0 and shrunk.max() < 1
    assert np.allclose(isotonic(np.ones(10), 2.0, 0.5), 11 / 12)  # one block of ten, not ten blocks of one
    assert np.allclose(isotonic(np.zeros(3), 2.0, 0.5), 1 / 5)
    assert np.allclose(isotonic(np.array([1.0, 0.0, 1.0, 1.0])), [0.5, 0.5, 1.0, 1.0])  # no prior: plain PAV


def test_counts_are_stored_and_files_without_them_still_load(tmp_path):
    part = ScoreCalibration((0.1, 0.5), (0.2, 0.9), 3.0, 150, 12)
    Calibration(part, None, "val").save(tmp_path / "c.json")
    assert Calibration.load(tmp_path / "c.json").single == part
    payload = json.loads((tmp_path / "c.json").read_text())
    for key in ("frames", "wrong"):
        del payload["single"][key]
    (tmp_path / "old.json").write_text(json.dumps(payload))
    old = Calibration.load(tmp_path / "old.json").single
    assert (old.frames, old.wrong) == (0, 0) and calibration_warnings(old, "single") == []
    payload["single"]["wrong"] = 200
    payload["single"]["frames"] = 150
    (tmp_path / "bad.json").write_text(json.dumps(payload))
    with pytest.raises(ValueError, match="wrong <= frames"):
        Calibration.load(tmp_path / "bad.json")


def test_a_calibration_only_ever_lowers_the_filtered_confidence_but_maps_single_scores_both_ways():
    from vgssl_ros.core.calibration import ScoreCalibration, mode_probability

    curve = ScoreCalibration((0.2, 0.5, 0.8), (0.1, 0.9, 0.99), 1.0)  # fitted where the filter was underconfident
    assert mode_probability(curve, "filtered", 0.5) == 0.5  # not raised to 0.9
    assert mode_probability(curve, "filtered", 0.2) == 0.1  # lowered where it said too much
    assert mode_probability(curve, "single", 0.5) == 0.9  # similarities are no probabilities: mapped as fitted
    assert mode_probability(None, "filtered", 1.7) == 1.0 and mode_probability(None, "single", float("nan")) == 0.0


def test_a_loaded_calibration_names_its_drive_in_each_warning_for_the_nodes_log():
    from vgssl_ros.core.calibration_checks import loaded_calibration_warnings

    rich = ScoreCalibration((0.1, 0.5), (0.2, 0.9), 3.0, 150, 12)
    thin = ScoreCalibration((0.1, 0.5), (0.2, 0.9), 3.0, 40, 0)
    assert loaded_calibration_warnings(Calibration(rich, rich, "val drive")) == []
    warnings = loaded_calibration_warnings(Calibration(rich, thin, "val drive"))
    assert len(warnings) == 2 and all(w.startswith("calibration val drive: filtered calibration") for w in warnings)
    assert loaded_calibration_warnings(Calibration(thin, None, ""))[0].startswith("calibration (unnamed): single")
