"""The node fuzz campaign: its messages, and its quick version over the real node."""

from __future__ import annotations

import pytest

pytest.importorskip("sensor_msgs", reason="the ROS 2 message wheels are not installed; make setup installs them")

from reliability.fuzz_node import to_msg  # noqa: E402
from reliability.malformed import case  # noqa: E402


def test_each_case_becomes_the_message_it_describes():
    for index in range(60):
        c = case(0, index, "image")
        msg = to_msg(c)
        fields = (msg.height, msg.width, msg.step, msg.encoding, msg.is_bigendian, bytes(msg.data))
        assert fields == (c.height, c.width, c.step, c.encoding, c.is_bigendian, c.data)
        assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (c.sec, c.nanosec)
        c = case(0, index, "compressed")
        msg = to_msg(c)
        assert (msg.format, bytes(msg.data), msg.header.stamp.nanosec) == (c.format, c.data, c.nanosec)


@pytest.mark.slow
def test_quick_node_fuzz_passes(tmp_path):
    pytest.importorskip("rclpy", reason="rclpy (ROS 2 Python) is not installed; make setup installs the wheels")
    from reliability.fuzz_node import run

    result = run(seed=0, quick=True, work=tmp_path)
    assert result.passed, result.notes
    assert result.trials == 80 and result.figures["image_inference_errors"] == 0
