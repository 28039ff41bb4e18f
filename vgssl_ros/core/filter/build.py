"""Build a PlaceFilter for a loaded map."""

from __future__ import annotations

from vgssl_ros.core.estimate import EstimatorConfig
from vgssl_ros.core.filter.bayes import PlaceFilter
from vgssl_ros.core.filter.config import FilterConfig
from vgssl_ros.core.filter.layout import PlaceLayout
from vgssl_ros.core.filter.observation import ObservationModel, map_descriptors
from vgssl_ros.core.map import Map


def filter_for_map(geo_map: Map, config: FilterConfig, estimator: EstimatorConfig) -> PlaceFilter:
    """The temporal filter over ``geo_map``'s places (neighbour lists and descriptors read once, here)."""
    layout = PlaceLayout.build(geo_map.places.utm, config.step_radius_m)
    observation = ObservationModel(
        map_descriptors(geo_map.index), config.temperature, config.query_mean_rate, config.reference_places
    )
    return PlaceFilter(layout, observation, config, estimator.radius_m, estimator.min_std_m)
