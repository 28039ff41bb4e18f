"""rosbag2 drives (sqlite3 or mcap): camera frames with NavSatFix positions, read and written."""

from vgssl_ros.bags.reader import BagDrive, BagError, BagFrame, FixTrack, open_bag, read_drive
from vgssl_ros.bags.writer import ENCODINGS, STORAGES, DriveBagWriter, DriveTopics

__all__ = [
    "ENCODINGS",
    "STORAGES",
    "BagDrive",
    "BagError",
    "BagFrame",
    "DriveBagWriter",
    "DriveTopics",
    "FixTrack",
    "open_bag",
    "read_drive",
]
