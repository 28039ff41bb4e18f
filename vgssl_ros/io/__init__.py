"""Files written so that nothing half-written is ever left: temp name, fsync, rename."""

from vgssl_ros.io.atomic import atomic_dir, atomic_path, staging_dir, write_json_atomic

__all__ = ["atomic_dir", "atomic_path", "staging_dir", "write_json_atomic"]
