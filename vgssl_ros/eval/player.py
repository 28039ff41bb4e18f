"""A small rosbag2 player (rosbags + rclpy) for machines without `ros2 bag play`.

It publishes the recorded CDR bytes unchanged (no deserialisation), keeps the recorded timing
(scaled by ``rate``), and reports the wall time at which each camera frame went out, keyed by its
header stamp, so a live scorer can measure latency.
"""

from __future__ import annotations

import importlib
import struct
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy

from vgssl_ros.bags import BagError, open_bag

Stamp = tuple[int, int]


def message_class(msgtype: str) -> type:
    """'sensor_msgs/msg/Image' -> the rclpy message class."""
    package, _, name = msgtype.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


def header_stamp(cdr: bytes) -> Stamp:
    """(sec, nanosec) of a serialized message whose first field is std_msgs/Header."""
    little = cdr[1] == 1  # CDR encapsulation: 0x0001 little endian, 0x0000 big endian
    return struct.unpack_from("<iI" if little else ">iI", cdr, 4)


def play_bag(
    node: Node,
    bag: str | Path,
    topics: Sequence[str],
    rate: float = 1.0,
    reliable: bool = True,
    on_frame: Callable[[str, Stamp, float], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    remap: dict[str, str] | None = None,
) -> int:
    """Publish ``topics`` of ``bag`` through ``node`` at recorded timing / ``rate``; returns messages sent.

    ``on_frame(topic, stamp, wall_time)`` is called right after each message is published.
    ``remap`` renames topics on the way out (e.g. the camera topic to the localizer's ``image``).
    """
    if rate <= 0:
        raise ValueError(f"rate must be > 0, got {rate}")
    bag, remap = Path(bag), remap or {}
    with open_bag(bag) as reader:
        conns = [c for c in reader.connections if c.topic in topics]
        missing = sorted(set(topics) - {c.topic for c in conns})
        if missing:
            raise BagError(f"{bag} has no topic(s) {missing}; it has {sorted({c.topic for c in reader.connections})}")
        qos = QoSProfile(
            depth=100, reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT
        )
        pubs = {
            c.topic: node.create_publisher(message_class(c.msgtype), remap.get(c.topic, c.topic), qos) for c in conns
        }
        start_wall, start_bag, sent = time.monotonic(), None, 0
        for conn, t_ns, raw in reader.messages(connections=conns):
            if should_stop():
                break
            start_bag = t_ns if start_bag is None else start_bag
            delay = start_wall + (t_ns - start_bag) / 1e9 / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pubs[conn.topic].publish(bytes(raw))
            sent += 1
            if on_frame is not None:
                on_frame(conn.topic, header_stamp(raw), time.monotonic())
        return sent
