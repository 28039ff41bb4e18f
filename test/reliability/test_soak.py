"""The soak campaign's quick version over the real node, and its counter check."""

from __future__ import annotations

import pytest

from reliability.soak import counters_add_up


def test_counters_add_up_only_when_every_frame_sent_is_accounted_for():
    ok = {"received": "10", "processed": "7", "dropped": "2", "decode_errors": "1", "inference_errors": "0"}
    assert counters_add_up(ok, 10) is None
    assert "sent 11" in (counters_add_up(ok, 11) or "")  # a frame the node never received
    assert counters_add_up({**ok, "processed": "6"}, 10) is not None  # one received frame unaccounted for
    assert counters_add_up({}, 0) is not None  # no diagnostics yet


@pytest.mark.slow
def test_quick_soak_passes(tmp_path):
    pytest.importorskip("rclpy", reason="rclpy (ROS 2 Python) is not installed; make setup installs the wheels")
    from reliability.soak import run

    result = run(seed=0, quick=True, work=tmp_path)
    assert result.passed, result.notes
    assert result.trials == 300
    for leg in ("raw", "compressed"):
        assert result.figures[f"{leg}_rss_growth_mib"] < 5 and result.figures[f"{leg}_threads_growth"] <= 0


@pytest.mark.slow
def test_quick_30hz_soak_is_paced_at_the_cameras_rate(tmp_path):
    pytest.importorskip("rclpy", reason="rclpy (ROS 2 Python) is not installed; make setup installs the wheels")
    import time

    from reliability.soak_30hz import run

    t0 = time.monotonic()
    result = run(seed=0, quick=True, work=tmp_path)
    assert result.passed, result.notes
    assert result.trials == 300 and result.figures["raw_samples"] == 6
    assert time.monotonic() - t0 >= 300 / 30  # paced: 300 frames at 30 Hz take at least 10 s
