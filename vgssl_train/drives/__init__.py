"""Recorded rosbag2 drives turned into a VPR-layout dataset (no torch here: reading bags needs none)."""

from vgssl_train.drives.build import DATASET_JSON, build_dataset
from vgssl_train.drives.frames import DriveFrames, DriveOptions, read_drive_frames
from vgssl_train.drives.splits import BORDER_M, SPLIT_NAMES

__all__ = [
    "BORDER_M",
    "DATASET_JSON",
    "SPLIT_NAMES",
    "DriveFrames",
    "DriveOptions",
    "build_dataset",
    "read_drive_frames",
]
