"""rosbag2 drives: camera images with NavSatFix, in sqlite3 or mcap storage."""
from vgssl_ros.bags.writer import ENCODINGS, STORAGES, DriveBagWriter, DriveTopics

__all__ = ["ENCODINGS", "STORAGES", "DriveBagWriter", "DriveTopics"]
