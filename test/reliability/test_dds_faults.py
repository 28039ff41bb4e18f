"""The dds-faults campaign's quick version over the real node."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_quick_dds_faults_pass(tmp_path):
    pytest.importorskip("rclpy", reason="rclpy (ROS 2 Python) is not installed; make setup installs the wheels")
    from reliability.dds_faults import run

    result = run(seed=0, quick=True, work=tmp_path)
    assert result.passed, result.notes
    assert result.figures["faults"] == 4
    assert result.figures["frames"] >= 15
    # Then one best-effort burst (40 big frames, 3 small) and one live evaluation across a localizer restart.
    assert result.trials == result.figures["frames"] + 40 + 3 + 1
    assert result.figures["live restart gap s (median)"] >= 2.0
