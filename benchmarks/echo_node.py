"""The floor any Python ROS 2 node pays for a camera frame: subscribe to an Image (or CompressedImage), publish a tiny
std_msgs/Header back at once. benchmarks/node_overhead.py runs it in its own process over the same transport as the
localizer and measures it the same way.

    PYTHONPATH=. .venv/bin/python benchmarks/echo_node.py [--compressed] [--qos-depth N]

Subscribes to ``image`` (``image/compressed`` with --compressed), reliable QoS; publishes ``~/echo`` (``echo/echo``):
the frame's stamp, and as ``frame_id`` the wall-clock time (time.time_ns, CLOCK_REALTIME, comparable between
processes on one machine) at which its callback was entered, so the benchmark can split the way there from the way
back.
"""

from __future__ import annotations

import argparse
import sys
import time

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header


class EchoNode(Node):
    """Answers every frame with its stamp and the callback-entry wall time (ns, as ``frame_id``)."""

    def __init__(self, compressed: bool, depth: int) -> None:
        super().__init__("echo")
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=ReliabilityPolicy.RELIABLE)
        self.echo = self.create_publisher(Header, "~/echo", 10)
        topic, msg_type = ("image/compressed", CompressedImage) if compressed else ("image", Image)
        self.create_subscription(msg_type, topic, self._on_image, qos)

    def _on_image(self, msg: Image | CompressedImage) -> None:
        entered = time.time_ns()
        self.echo.publish(Header(stamp=msg.header.stamp, frame_id=str(entered)))


def main(args: list[str] | None = None) -> int:
    """Run the echo node until interrupted (ROS arguments after --ros-args are passed to rclpy)."""
    argv = sys.argv[1:] if args is None else args
    own = argv[: argv.index("--ros-args")] if "--ros-args" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--compressed", action="store_true", help="subscribe to image/compressed (CompressedImage)")
    p.add_argument("--qos-depth", type=int, default=10, help="subscription history depth (default: %(default)s)")
    opts = p.parse_args(own)
    rclpy.init(args=argv)
    node = EchoNode(opts.compressed, opts.qos_depth)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
