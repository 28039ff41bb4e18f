"""Geo-tagged image collections: the VPR-datasets layout and CSV manifests (no torch here)."""

from vgssl_ros.datasets.csv_manifest import read_csv_manifest
from vgssl_ros.datasets.errors import DatasetError
from vgssl_ros.datasets.geo_images import GeoImages
from vgssl_ros.datasets.images import load_rgb, overlay_activation, resize_rgb
from vgssl_ros.datasets.vpr_layout import format_vpr_name, parse_vpr_name, read_vpr_folder

__all__ = [
    "DatasetError",
    "GeoImages",
    "format_vpr_name",
    "load_rgb",
    "overlay_activation",
    "parse_vpr_name",
    "resize_rgb",
    "read_csv_manifest",
    "read_vpr_folder",
]
