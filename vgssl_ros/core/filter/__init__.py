"""Temporal filter over map places: a sparse discrete Bayes filter with velocity (docs/filter.md)."""

from vgssl_ros.core.filter.bayes import PlaceFilter
from vgssl_ros.core.filter.build import filter_for_map
from vgssl_ros.core.filter.config import FilterConfig
from vgssl_ros.core.filter.layout import PlaceLayout
from vgssl_ros.core.filter.observation import ObservationModel, map_descriptors
from vgssl_ros.core.filter.state import FilterState, FilterStatus

__all__ = [
    "FilterConfig",
    "FilterState",
    "FilterStatus",
    "ObservationModel",
    "PlaceFilter",
    "PlaceLayout",
    "filter_for_map",
    "map_descriptors",
]
