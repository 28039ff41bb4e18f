"""The synthetic world: procedural geo-tagged streets, traversal conditions, datasets and drives (no rclpy)."""

from vgssl_ros.sim.camera import Camera
from vgssl_ros.sim.conditions import CONDITIONS, Condition, get_condition
from vgssl_ros.sim.dataset import DatasetSpec, load_world, write_world_dataset
from vgssl_ros.sim.drive import DriveSpec, write_drive
from vgssl_ros.sim.render import Renderer
from vgssl_ros.sim.world import World, WorldSpec, build_world

__all__ = [
    "CONDITIONS",
    "Camera",
    "Condition",
    "DatasetSpec",
    "DriveSpec",
    "Renderer",
    "World",
    "WorldSpec",
    "build_world",
    "get_condition",
    "load_world",
    "write_drive",
    "write_world_dataset",
]
