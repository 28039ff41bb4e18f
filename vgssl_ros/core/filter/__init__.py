"""Temporal filter over map places: a sparse discrete Bayes filter with velocity, and its confidence."""

from vgssl_ros.core.filter.bayes import STATUSES, FilterState, PlaceFilter
from vgssl_ros.core.filter.build import filter_for_map
from vgssl_ros.core.filter.config import FilterConfig
from vgssl_ros.core.filter.layout import PlaceLayout
from vgssl_ros.core.filter.observation import ObservationModel, map_descriptors

__all__ = [
    "STATUSES",
    "FilterConfig",
    "FilterState",
    "ObservationModel",
    "PlaceFilter",
    "PlaceLayout",
    "filter_for_map",
    "map_descriptors",
]
