"""FilterConfig's ranges: each bound accepted exactly where documented, refused one step beyond, named in one line."""

from __future__ import annotations

import pytest

from vgssl_ros.core.filter import FilterConfig

ACCEPTED = [
    ("speed_change", 1e-9),
    ("jump_prob", 0.0),
    ("jump_prob", 1.0),
    ("temperature", 0.5),
    ("confidence_evidence", 1.0),
    ("confidence_evidence", 1e-9),
    ("kidnap_prob", 0.999),
    ("seed_k", 1),
    ("max_support", 1),
    ("query_mean_rate", 0.0),
    ("query_mean_rate", 0.999),
    ("reference_places", 1),
    ("max_gap_s", 0.5),
    ("min_confidence", 0.0),
    ("min_confidence", 1.0),
]
REFUSED = [
    ("step_radius_m", -1.0),
    ("speed_std_m", -1.0),
    ("speed_change", 0.0),
    ("jump_prob", -0.1),
    ("jump_prob", 1.5),
    ("temperature", 0.0),
    ("confidence_evidence", 0.0),
    ("confidence_evidence", 1.5),
    ("kidnap_prob", 0.0),
    ("kidnap_prob", 1.0),
    ("kidnap_prob", 1.5),
    ("seed_k", 0),
    ("max_support", 0),
    ("query_mean_rate", -0.1),
    ("query_mean_rate", 1.0),
    ("query_mean_rate", 1.5),
    ("reference_places", 0),
    ("max_gap_s", 0.0),
    ("min_confidence", -0.1),
    ("min_confidence", 1.5),
    ("temperature", float("inf")),
    ("max_gap_s", float("nan")),
]


@pytest.mark.parametrize("name, value", ACCEPTED)
def test_a_value_on_the_documented_bound_is_accepted(name, value):
    assert getattr(FilterConfig(**{name: value}), name) == value


@pytest.mark.parametrize("name, value", REFUSED)
def test_a_value_beyond_the_bound_is_refused_in_one_line(name, value):
    with pytest.raises(ValueError) as exc:
        FilterConfig(**{name: value})
    assert str(exc.value) == f"invalid filter settings: {name}={value!r} (see FilterConfig for the valid ranges)"


def test_every_bad_setting_is_named():
    with pytest.raises(ValueError) as exc:
        FilterConfig(seed_k=0, max_support=0)
    assert str(exc.value) == (
        "invalid filter settings: seed_k=0, max_support=0 (see FilterConfig for the valid ranges)"
    )
