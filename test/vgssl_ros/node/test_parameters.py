"""Node parameters: ranges from the settings table reach rclpy's descriptors and the runtime set check."""

import pytest

from vgssl_ros.node.parameters import PARAMETERS, check_value, descriptor


@pytest.mark.parametrize("value", [-0.01, 1.01, float("nan")])
def test_min_confidence_outside_0_1_is_refused_at_runtime(value):
    assert "filter_min_confidence" in check_value("filter_min_confidence", value)
    assert "out of range [0, 1]" in check_value("filter_min_confidence", value)


def test_min_confidence_descriptor_is_a_probability_range_changeable_at_runtime():
    d = descriptor(PARAMETERS["filter_min_confidence"])
    assert [(r.from_value, r.to_value) for r in d.floating_point_range] == [(0.0, 1.0)]
    assert not d.read_only
    assert check_value("filter_min_confidence", 0.0) == "" and check_value("filter_min_confidence", 1.0) == ""


def test_required_paths_and_transport_ranges():
    assert "required" in check_value("model", "") and "-p map:=PATH" in check_value("map", "")
    assert check_value("qos_depth", 0) and check_value("qos_depth", 5) == ""
    assert check_value("qos_reliability", "sometimes") and check_value("qos_reliability", "reliable") == ""
