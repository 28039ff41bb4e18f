"""rosbag2 drives: reading camera frames with interpolated NavSatFix positions."""
from vgssl_ros.bags.reader import BagDrive, BagError, BagFrame, FixTrack, read_drive

__all__ = ["BagDrive", "BagError", "BagFrame", "FixTrack", "read_drive"]
