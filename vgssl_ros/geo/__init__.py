"""Positions: WGS84 <-> UTM conversion and neighbours by radius."""

from vgssl_ros.geo.positives import EVAL_RADIUS_M, TRAIN_RADIUS_M, neighbours_within
from vgssl_ros.geo.utm_zone import UtmZone, latlon_to_utm, utm_to_latlon

__all__ = [
    "EVAL_RADIUS_M",
    "TRAIN_RADIUS_M",
    "UtmZone",
    "latlon_to_utm",
    "neighbours_within",
    "utm_to_latlon",
]
