"""Map building: sources (folder, CSV, rosbag2), FAISS index types, the map writer and `vgssl-map`."""

from vgssl_ros.mapping.build import build_map
from vgssl_ros.mapping.index_types import DEFAULT_INDEX, INDEX_CHOICES, INDEX_TYPES, build_index
from vgssl_ros.mapping.writer import write_map

__all__ = ["DEFAULT_INDEX", "INDEX_CHOICES", "INDEX_TYPES", "build_index", "build_map", "write_map"]
