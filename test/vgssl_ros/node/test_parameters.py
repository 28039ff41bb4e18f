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


def test_descriptors_carry_choices_and_typed_ranges():
    reliability = descriptor(PARAMETERS["qos_reliability"])
    assert reliability.description.endswith(" One of: best_effort, reliable.")
    assert not reliability.integer_range and not reliability.floating_point_range
    assert descriptor(PARAMETERS["map_frame"]).description == PARAMETERS["map_frame"].description
    depth = descriptor(PARAMETERS["qos_depth"])
    assert [(r.from_value, r.to_value, r.step) for r in depth.integer_range] == [(1, 1000, 1)]
    assert not depth.floating_point_range
    period = descriptor(PARAMETERS["diagnostics_period_s"])
    assert [(r.from_value, r.to_value, r.step) for r in period.floating_point_range] == [(0.05, 60.0, 0.0)]
    assert not period.integer_range
    assert not descriptor(PARAMETERS["compressed"]).floating_point_range  # a bool has no range


def test_yaml_values_quote_only_what_yaml_would_misread():
    from vgssl_ros.node.parameters import _yaml_value

    assert _yaml_value(["a", 2, 0.5]) == "[a, 2, 0.5]"
    assert _yaml_value("best_effort") == "best_effort" and _yaml_value("2d") == '"2d"' and _yaml_value("") == '""'
    assert _yaml_value("a-b") == '"a-b"' and _yaml_value(True) == "true"
