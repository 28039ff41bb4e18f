"""OUT/frames.csv: one documented row per frame, both answers, the published 95 % ellipse, empty where unknown."""

from __future__ import annotations

import numpy as np
import pytest

from test.vgssl_ros.eval.drive_frames import PLACE_IDS, made_up_drive
from vgssl_ros.eval.frames import COLUMNS, ellipse95, read_frames_csv, write_frames_csv


def test_ellipse_axes_and_heading_of_a_known_covariance():
    major, minor, heading = ellipse95(np.diag([4.0, 1.0]))  # sd 2 m east, 1 m north
    assert major == pytest.approx(2.0 * 2.4477, abs=1e-3) and minor == pytest.approx(2.4477, abs=1e-3)
    assert heading == pytest.approx(90.0)  # the long axis points east
    assert ellipse95(np.diag([1.0, 9.0]))[2] == pytest.approx(0.0)  # north
    assert np.isnan(ellipse95(np.full((2, 2), np.nan))).all()


def test_frames_csv_rows_and_columns(tmp_path):
    frames = made_up_drive()
    frames.gnss_utm = frames.gt_utm + [3.0, 4.0]
    path = write_frames_csv(tmp_path / "frames.csv", frames, PLACE_IDS)
    rows = read_frames_csv(path)
    assert list(rows[0]) == list(COLUMNS) and len(rows) == 10
    assert [p.name for p in tmp_path.iterdir()] == ["frames.csv"]  # no temporary left behind
    assert float(rows[2]["single_error_m"]) == pytest.approx(100.0) and float(rows[1]["single_error_m"]) == 0.0
    assert rows[8]["single_status"].startswith("top-1 similarity") and rows[0]["single_status"] == "accepted"
    assert rows[3]["single_place_image"] == "place3.jpg" and rows[3]["filtered_place_image"] == ""  # -1: unknown
    assert float(rows[0]["gnss_error_m"]) == pytest.approx(5.0) and rows[0]["filter_status"] == "tracking"
    assert float(rows[0]["gt_lat"]) > 60 and float(rows[0]["single_ellipse95_major_m"]) == pytest.approx(4.9, abs=0.01)
    assert float(rows[0]["stamp_s"]) == pytest.approx(100.0)


def test_a_mode_not_seen_leaves_its_columns_empty(tmp_path):
    rows = read_frames_csv(write_frames_csv(tmp_path / "f.csv", made_up_drive(filtered=False), PLACE_IDS))
    unknown = [k for k in rows[0] if k.startswith("filtered_") or k in ("gnss_error_m", "filter_status")]
    assert all(rows[0][k] == "" for k in unknown)
    assert rows[0]["single_east"] != ""


def test_reading_a_file_that_is_not_frames_csv_says_so(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_frames_csv(tmp_path / "nothing.csv")
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a vgssl-eval frames.csv"):
        read_frames_csv(tmp_path / "other.csv")
