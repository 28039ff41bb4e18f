"""Calibration files field by field and ScoreCalibration's rules: each damage refused with its exact one-line
message, every valid boundary accepted, probabilities mapped as documented."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vgssl_ros.core.calibration import Calibration, ScoreCalibration, mode_probability

FIX = "the calibration cannot be used: fit it again with `vgssl-eval --calibrate` on a validation drive"
SINGLE = ScoreCalibration((0.2, 0.6), (0.1, 0.9), 1.5, frames=40, wrong=6)
FILTERED = ScoreCalibration((0.0, 1.0), (0.0, 0.8), 2.0)


def _file(tmp_path: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    path = tmp_path / "calibration.json"
    Calibration(SINGLE, FILTERED, "drive-a").save(path)
    if edit is not None:
        data = json.loads(path.read_text())
        edit(data)
        path.write_text(json.dumps(data))
    return path


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        *parts, last = key.split(".")
        for part in parts:
            data = data[part]
        data[last] = value

    return edit


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        *parts, last = key.split(".")
        for part in parts:
            data = data[part]
        del data[last]

    return edit


CASES = [
    (_set("format_version", 0), "format_version must be an integer in [1, 1], got 0"),
    (_set("format_version", True), "format_version must be an integer in [1, 1], got True"),
    (_set("format_version", 2.0), "format_version must be an integer in [1, 1], got 2.0"),
    (_drop("format_version"), "format_version is missing"),
    (_drop("single"), "single is missing"),
    (_set("single", None), "single is missing"),
    (_set("single", "x"), "single must be a JSON object, got 'x'"),
    (_set("filtered", [1]), "filtered must be a JSON object, got [1]"),
    (_drop("single.scores"), "single.scores is missing"),
    (_drop("filtered.probabilities"), "filtered.probabilities is missing"),
    (_set("single.scores", []), "single.scores must be a list of 1..100000 numbers, got []"),
    (_set("single.scores", "0.5"), "single.scores must be a list of 1..100000 numbers, got '0.5'"),
    (_set("single.scores", [0.0] * 100_001), "single.scores must be a list of 1..100000 numbers, got [0.0, 0.0, 0.0,"),
    (_set("single.scores", [0.1, "a"]), "single.scores[1] must be a number, got 'a'"),
    (
        _set("single.probabilities", [math.nan, 1.0]),
        "single.probabilities[0] must be a finite number in [-inf, inf], got nan",
    ),
    (_drop("single.covariance_scale"), "single.covariance_scale is missing"),
    (_set("single.covariance_scale", True), "single.covariance_scale must be a number, got True"),
    (_set("single.frames", -1), "single.frames must be an integer in [0, 1000000000], got -1"),
    (_set("single.wrong", 1.5), "single.wrong must be an integer in [0, 1000000000], got 1.5"),
    (_set("single.frames", 10**9 + 1), "single.frames must be an integer in [0, 1000000000], got 1000000001"),
    (
        _set("single.scores", [0.6, 0.2]),
        "single is unusable (calibration scores and probabilities must be non-decreasing, probabilities in [0, 1])",
    ),
    (
        _set("single.probabilities", [0.1]),
        "single is unusable (calibration needs as many finite scores as probabilities (at least one))",
    ),
    (_set("single.covariance_scale", 0), "single is unusable (covariance_scale must be finite and > 0, got 0.0)"),
    (_set("single.wrong", 41), "single is unusable (need 0 <= wrong <= frames, got wrong 41, frames 40)"),
    (_set("source", [1]), "source must be a string (at most 4096 characters), got [1]"),
    (_set("format_version", "1"), "format_version must be an integer in [1, 1], got '1'"),
]


@pytest.mark.parametrize("edit,problem", CASES, ids=[c[1][:50] for c in CASES])
def test_each_damaged_field_is_named(tmp_path, edit, problem):
    path = _file(tmp_path, edit)
    with pytest.raises(ValueError) as err:
        Calibration.load(path)
    message = str(err.value)
    if problem.endswith(","):  # a long value is shown cut
        assert message.startswith(f"{path}: {problem}") and message.endswith(f"...; {FIX}")
    else:
        assert message == f"{path}: {problem}; {FIX}"


def test_the_document_must_be_an_object_and_a_newer_format_says_upgrade(tmp_path):
    path = tmp_path / "c.json"
    path.write_text("[1]")
    with pytest.raises(ValueError) as err:
        Calibration.load(path)
    assert str(err.value) == f"{path}: the document must be a JSON object, got [1]; {FIX}"
    path = _file(tmp_path, _set("format_version", 2))
    with pytest.raises(ValueError) as err:
        Calibration.load(path)
    assert str(err.value) == (
        f"calibration {path} has format_version 2, newer than this vgssl_ros (1): upgrade vgssl_ros, or refit it "
        f"({FIX})"
    )


def test_a_saved_calibration_loads_back_equal_and_optional_fields_default(tmp_path):
    assert Calibration.load(_file(tmp_path)) == Calibration(SINGLE, FILTERED, "drive-a")

    def old(data: dict[str, Any]) -> None:
        del data["source"], data["filtered"], data["single"]["frames"], data["single"]["wrong"]

    loaded = Calibration.load(_file(tmp_path, old))
    assert loaded.source == "" and loaded.filtered is None and loaded.for_mode("filtered") is None
    assert (loaded.single.frames, loaded.single.wrong) == (0, 0) and loaded.single.scores == SINGLE.scores
    edge = Calibration.load(_file(tmp_path, _set("single", {**_part(SINGLE), "frames": 10**9, "wrong": 10**9})))
    assert edge.single.wrong == 10**9


def _part(c: ScoreCalibration) -> dict[str, Any]:
    return {"scores": list(c.scores), "probabilities": list(c.probabilities), "covariance_scale": c.covariance_scale}


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"scores": (), "probabilities": ()}, "as many finite scores as probabilities"),
        ({"scores": (0.1, math.inf), "probabilities": (0.1, 0.2)}, "as many finite scores as probabilities"),
        ({"scores": (0.1, 0.2), "probabilities": (0.1, math.nan)}, "as many finite scores as probabilities"),
        ({"probabilities": (0.5, 0.4)}, "must be non-decreasing"),
        ({"probabilities": (-0.01, 0.5)}, "probabilities in \\[0, 1\\]"),
        ({"probabilities": (0.5, 1.01)}, "probabilities in \\[0, 1\\]"),
        ({"covariance_scale": math.inf}, "^covariance_scale must be finite and > 0, got inf$"),
        ({"covariance_scale": -1.0}, "^covariance_scale must be finite and > 0, got -1.0$"),
        ({"frames": 3, "wrong": -1}, "^need 0 <= wrong <= frames, got wrong -1, frames 3$"),
    ],
)
def test_score_calibration_refuses_what_cannot_be_a_calibration(kwargs, message):
    args = {"scores": (0.2, 0.6), "probabilities": (0.1, 0.9), "covariance_scale": 1.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        ScoreCalibration(**args)


def test_score_calibration_boundaries_are_valid_and_probability_interpolates():
    c = ScoreCalibration((0.2, 0.2, 0.6), (0.0, 0.5, 1.0), 1e-9, frames=5, wrong=5)
    assert c.probability(0.4) == pytest.approx(0.75)
    assert c.probability(-3.0) == 0.0 and c.probability(0.9) == 1.0  # flat beyond the knots
    assert c.probability(math.nan) == 0.0 and c.probability(math.inf) == 0.0
    one = ScoreCalibration((0.5,), (0.3,), 1.0)
    assert one.probability(0.0) == one.probability(1.0) == 0.3


def test_mode_probability_without_and_with_a_calibration():
    assert mode_probability(None, "single", 1.7) == 1.0 and mode_probability(None, "filtered", -0.2) == 0.0
    assert mode_probability(None, "single", 0.37) == 0.37 and mode_probability(None, "single", math.nan) == 0.0
    assert mode_probability(SINGLE, "single", 0.4) == pytest.approx(0.5)
    assert mode_probability(SINGLE, "single", 0.65) == pytest.approx(0.9)  # single scores map both ways
    assert mode_probability(FILTERED, "filtered", 0.5) == pytest.approx(0.4)  # calibration lower: it wins
    lifted = ScoreCalibration((0.0, 1.0), (0.5, 1.0), 1.0)
    assert mode_probability(lifted, "filtered", 0.3) == pytest.approx(0.3)  # never raised above the confidence
    assert mode_probability(lifted, "filtered", math.nan) == 0.0


def test_for_mode_names_the_valid_modes():
    calib = Calibration(SINGLE, FILTERED)
    assert calib.for_mode("single") is SINGLE and calib.for_mode("filtered") is FILTERED
    with pytest.raises(ValueError, match=r"^unknown calibration mode 'x'; valid: single, filtered$"):
        calib.for_mode("x")


def test_a_file_that_is_not_json_says_so(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text("{not json")
    with pytest.raises(ValueError) as err:
        Calibration.load(path)
    assert str(err.value).startswith(f"{path} is not valid JSON (") and str(err.value).endswith(f"); {FIX}")


def test_the_largest_curve_loads(tmp_path):
    knots = [i / 100_000 for i in range(100_000)]
    path = _file(tmp_path, _set("single", {"scores": knots, "probabilities": knots, "covariance_scale": 1.0}))
    assert len(Calibration.load(path).single.scores) == 100_000
