"""The runtime core, without rclpy: decode -> embed (ONNX Runtime) -> search (FAISS map)."""

from vgssl_ros.core.decode import ENCODINGS, decode_compressed, decode_image
from vgssl_ros.core.embedder import PROVIDERS, Embedder
from vgssl_ros.core.errors import DecodeError, MapError, ModelError
from vgssl_ros.core.map import MAP_FORMAT, Map
from vgssl_ros.core.places import Places

__all__ = [
    "ENCODINGS",
    "MAP_FORMAT",
    "PROVIDERS",
    "DecodeError",
    "Embedder",
    "Map",
    "MapError",
    "ModelError",
    "Places",
    "decode_compressed",
    "decode_image",
]
