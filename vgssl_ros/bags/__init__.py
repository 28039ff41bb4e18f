"""rosbag2 drives: camera images with NavSatFix, in sqlite3 or mcap storage."""
from vgssl_ros.bags.writer import STORAGES, DriveBagWriter, DriveTopics

__all__ = ["STORAGES", "DriveBagWriter", "DriveTopics"]
