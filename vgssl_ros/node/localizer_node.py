"""The localizer node: camera frames in; fix, pose, candidates and diagnostics out.

Thin by design: it converts messages and parameters, and hands frames to `LocalizerCore` on one
worker thread that always takes the newest frame (older unprocessed frames are dropped and counted),
so timers, parameter services and diagnostics keep answering while inference runs.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PoseArray, PoseWithCovarianceStamped
from rcl_interfaces.msg import SetParametersResult
from rclpy._rclpy_pybind11 import RCLError
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image, NavSatFix

from vgssl_ros.core.assemble import build_localizer
from vgssl_ros.core.errors import DecodeError, MapError, ModelError
from vgssl_ros.core.latest_frame import LatestSlot
from vgssl_ros.core.localizer import FrameResult
from vgssl_ros.core.settings import SETTINGS, LocalizerSettings
from vgssl_ros.core.stats import RuntimeStats
from vgssl_ros.node import messages
from vgssl_ros.node.debug_image import DebugImagePublisher
from vgssl_ros.node.parameters import PARAMETERS, check_value, default_value, descriptor


class StartupError(RuntimeError):
    """The node cannot start: a bad parameter, model or map. The message says what to fix."""


class LocalizerNode(Node):
    """rclpy node around LocalizerCore (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("localizer", **kwargs)
        for name, spec in PARAMETERS.items():
            try:
                self.declare_parameter(name, default_value(spec), descriptor(spec))
            except Exception as exc:  # rclpy raises InvalidParameterValueException & co. for bad values
                raise StartupError(f"parameter '{name}': {exc}") from None
        p = {name: self.get_parameter(name).value for name in PARAMETERS}
        for name, value in p.items():
            reason = check_value(name, value)
            if reason:
                raise StartupError(reason)
        try:
            settings = LocalizerSettings.from_values({name: p[name] for name in SETTINGS})
            self.core = build_localizer(p["model"], p["map"], settings)
        except (ModelError, MapError, ValueError, OSError) as exc:
            raise StartupError(str(exc)) from None
        geo_map, embedder = self.core.map, self.core.embedder
        self.zone, self.origin, self.map_frame = geo_map.zone, geo_map.origin, str(p["map_frame"])
        self.identity = {
            "execution_provider": embedder.providers[0],
            "map_places": str(len(geo_map.places)),
            "model_sha256": embedder.model_sha256[:12],
        }
        self.stats = RuntimeStats()
        self.slot: LatestSlot[tuple[Any, float]] = LatestSlot()
        self._last_warning = 0.0
        self.last_result: FrameResult | None = None  # written by the worker, read by the diagnostics timer
        self.add_on_set_parameters_callback(self._check_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)

        qos = QoSProfile(
            history=HistoryPolicy.KEEP_LAST,
            depth=int(p["qos_depth"]),
            reliability=ReliabilityPolicy.BEST_EFFORT
            if p["qos_reliability"] == "best_effort"
            else ReliabilityPolicy.RELIABLE,
        )
        self.compressed = bool(p["compressed"])
        topic, msg_type = ("image/compressed", CompressedImage) if self.compressed else ("image", Image)
        lost = SubscriptionEventCallbacks(message_lost=lambda info: self.stats.count("lost", info.total_count_change))
        subscription = self.create_subscription(msg_type, topic, self._on_image, qos, event_callbacks=lost)
        self.fix_pub = self.create_publisher(NavSatFix, "~/fix", 10)
        self.pose_pub = self.create_publisher(PoseWithCovarianceStamped, "~/pose", 10)
        self.candidates_pub = self.create_publisher(PoseArray, "~/candidates", 10)
        self.diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.debug_image = DebugImagePublisher(self, self.core)
        self.create_timer(float(p["diagnostics_period_s"]), self._publish_diagnostics)

        self._running = True
        self.worker = threading.Thread(target=self._work, name="localizer-worker", daemon=True)
        self.worker.start()
        self.get_logger().info(
            f"localizing {subscription.topic_name} against {len(geo_map.places)} places of {geo_map.path} with "
            f"{embedder.model_path.name} on {embedder.providers[0]}, temporal filter "
            f"{'on' if settings.filter_enabled else 'off'}"
        )

    def _updated(self, params: list[Parameter[Any]]) -> LocalizerSettings:
        """The settings with ``params`` applied (ValueError with the reason when they are not valid)."""
        changes = {param.name: param.value for param in params if param.name in SETTINGS}
        return LocalizerSettings.from_values({**self.core.settings.values(), **changes})

    def _check_parameters(self, params: list[Parameter[Any]]) -> SetParametersResult:
        """Refuse invalid runtime changes (ranges and read-only are checked by rclpy before this)."""
        for param in params:
            reason = check_value(param.name, param.value) if param.name in PARAMETERS else ""
            if reason:
                return SetParametersResult(successful=False, reason=reason)
        try:
            self._updated(params)
        except ValueError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    def _apply_parameters(self, params: list[Parameter[Any]]) -> None:
        """Apply accepted changes: new settings swapped into the core in one assignment (frames read it once)."""
        self.core.settings = self._updated(params)

    def _on_image(self, msg: Image | CompressedImage) -> None:
        """Executor callback: only stash the newest frame; the worker does the work."""
        self.stats.count("received")
        if self.slot.put((msg, time.perf_counter())):
            self.stats.count("dropped")

    def _warn(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last_warning > 1.0:
            self._last_warning = now
            self.get_logger().warning(text)

    def _work(self) -> None:
        while self._running:
            item = self.slot.take(timeout=0.2)
            if item is None:
                continue
            msg, received = item
            try:
                result = self._localize(msg)
            except DecodeError as exc:
                self.stats.count("decode_errors")
                self._warn(f"bad image skipped: {exc}")
                continue
            except Exception as exc:  # the node must survive anything one frame can do
                self.stats.count("inference_errors")
                self._warn(f"frame failed ({type(exc).__name__}: {exc}); waiting for the next one")
                continue
            self._publish(msg.header.stamp, result)
            self.debug_image.publish(msg, result)
            self.last_result = result
            if not result.answer.accepted:
                self.stats.count("rejected")
            self.stats.processed((time.perf_counter() - received) * 1e3)

    def _localize(self, msg: Image | CompressedImage) -> FrameResult:
        stamp_s = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        if self.compressed:
            return self.core.localize_compressed(msg.format, np.frombuffer(msg.data, np.uint8), stamp_s)
        return self.core.localize_image(
            msg.encoding,
            msg.height,
            msg.width,
            msg.step,
            bool(msg.is_bigendian),
            np.frombuffer(msg.data, np.uint8),
            stamp_s,
        )

    def _publish(self, stamp: Time, result: FrameResult) -> None:
        answer = result.answer  # the filtered answer when the filter is on
        self.fix_pub.publish(messages.navsatfix(answer, self.zone, stamp, self.map_frame))
        self.pose_pub.publish(messages.pose_with_covariance(answer, self.origin, stamp, self.map_frame))
        self.candidates_pub.publish(
            messages.candidate_poses(
                result.candidate_utm, result.candidate_heading_deg, self.origin, stamp, self.map_frame
            )
        )

    def _publish_diagnostics(self) -> None:
        snap = self.stats.snapshot()
        errors = snap["decode_errors"] + snap["inference_errors"]
        level, text = DiagnosticStatus.OK, "localizing"
        if snap["received"] == 0:
            level, text = DiagnosticStatus.WARN, "no images received yet"
        elif errors:
            level, text = DiagnosticStatus.WARN, f"{int(errors)} frames failed (see counters)"
        extra = {**self.identity, **messages.filter_values(self.core.filter is not None, self.last_result)}
        self.diag_pub.publish(
            messages.diagnostics(
                f"{self.get_name()}: visual geo-localization",
                self.get_fully_qualified_name(),
                snap,
                extra,
                self.get_clock().now().to_msg(),
                level,
                text,
            )
        )

    def close(self) -> None:
        """Stop the worker thread."""
        self._running = False
        self.slot.close()
        self.worker.join(timeout=5.0)


def usage() -> str:
    """Command-line help: how to start the node and every parameter with its default."""
    lines = [
        "usage: localizer --ros-args [--params-file config/localizer.yaml] -p model:=MODEL.onnx -p map:=MAP_DIR "
        "[-p name:=value ...] [-r image:=/camera/image_raw]",
        "",
        "Visual geo-localization node: subscribes to image (or image/compressed), publishes ~/fix, ~/pose,",
        "~/candidates, ~/debug_image (rendered only while subscribed) and /diagnostics, stamped with the input",
        "image's stamp.",
        "",
        "parameters:",
    ]
    for name, spec in PARAMETERS.items():
        rng = f" [{spec.low:g}, {spec.high:g}]" if spec.low is not None and spec.high is not None else ""
        runtime = ", changeable at runtime" if spec.runtime else ""
        lines.append(f"  {name} (default {default_value(spec)!r}{rng}{runtime}): {descriptor(spec).description}")
    return "\n".join(lines)


def main(args: list[str] | None = None) -> int:
    """`ros2 run vgssl_ros localizer --ros-args -p model:=... -p map:=...`; exit 2 on a start-up error."""
    argv = sys.argv[1:] if args is None else args
    before_ros_args = argv[: argv.index("--ros-args")] if "--ros-args" in argv else argv
    if "-h" in before_ros_args or "--help" in before_ros_args:
        print(usage())
        return 0
    try:
        rclpy.init(args=args)
    except RCLError as exc:  # a -p value that YAML cannot read
        first = str(exc).split(". Error:")[0]
        print(
            f"localizer: error: {first}; a -p value is read as YAML: quote it, e.g. -p \"model:='/path/[x].onnx'\" "
            "(write a single quote inside it twice)",
            file=sys.stderr,
        )
        return 2
    node = None
    try:
        node = LocalizerNode()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except StartupError as exc:
        print(f"localizer: error: {exc}", file=sys.stderr)
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
