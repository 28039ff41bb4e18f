"""The localizer node, unchanged, with wall-clock stamps at each stage of each frame appended to a log (JSON lines).

benchmarks/node_overhead.py starts it in place of `python -m vgssl_ros.node.localizer_node` to split a frame's
latency inside the node: callback entry, worker start, decode and embed+search+estimate (the node's own
FrameResult.decode_ms / infer_ms), and the ~/fix, ~/pose, ~/candidates messages. Times are time.time_ns
(CLOCK_REALTIME), comparable with the benchmark process on the same machine; a line is written after the frame's
outputs are published, so the log is off the measured path.

    python benchmarks/timed_localizer.py --timing-log frames.jsonl --ros-args -p model:=... -p map:=...
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import rclpy
from builtin_interfaces.msg import Time
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from sensor_msgs.msg import CompressedImage, Image

from vgssl_ros.core.localizer import FrameResult, LocalizerCore
from vgssl_ros.node.localizer_node import LocalizerNode, StartupError


def stamp_ns(stamp: Time) -> int:
    """A header stamp as one integer (ns): the key that joins the benchmark's records with the node's."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


class TimedLocalizerNode(LocalizerNode):
    """LocalizerNode that logs, per frame, when each stage started and ended (ns since the epoch)."""

    def __init__(self, log_path: str) -> None:
        super().__init__()
        self.log = open(log_path, "a", buffering=1)  # noqa: SIM115 - open for the node's lifetime, closed in close()
        self.entered: dict[int, int] = {}
        self.work: dict[int, tuple[int, int]] = {}

    def _configure(self) -> None:
        super()._configure()
        outputs = self.outputs
        assert outputs is not None
        publish = outputs.frame

        def timed_frame(stamp: Time, result: FrameResult) -> None:
            start = time.time_ns()
            publish(stamp, result)
            end = time.time_ns()
            key = stamp_ns(stamp)
            work_start, localized = self.work.pop(key, (0, 0))
            record = {
                "stamp": key,
                "entered": self.entered.pop(key, 0),
                "work_start": work_start,
                "localized": localized,
                "decode_ms": result.decode_ms,
                "infer_ms": result.infer_ms,
                "messages_start": start,
                "messages_end": end,
            }
            self.log.write(json.dumps(record) + "\n")

        outputs.frame = timed_frame  # type: ignore[method-assign]

    def _on_image(self, msg: Image | CompressedImage) -> None:
        self.entered[stamp_ns(msg.header.stamp)] = time.time_ns()
        super()._on_image(msg)

    def _localize(self, core: LocalizerCore, msg: Image | CompressedImage, activation: bool) -> FrameResult:
        start = time.time_ns()
        result = super()._localize(core, msg, activation)
        self.work[stamp_ns(msg.header.stamp)] = (start, time.time_ns())
        return result

    def close(self) -> None:
        """Stop the node and close the log."""
        super().close()
        self.log.close()


def main(args: list[str] | None = None) -> int:
    """Run the timed node until interrupted; exit 2 on a start-up error (as the localizer does)."""
    argv = sys.argv[1:] if args is None else args
    own = argv[: argv.index("--ros-args")] if "--ros-args" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--timing-log", required=True, help="JSON-lines file the per-frame stage times are appended to")
    opts = p.parse_args(own)
    rclpy.init(args=argv)
    node: Any = None
    try:
        node = TimedLocalizerNode(opts.timing_log)
        node.start()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except StartupError as exc:
        print(f"timed_localizer: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
