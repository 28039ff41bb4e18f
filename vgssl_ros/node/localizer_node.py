"""The localizer node: camera frames in; fix, pose, candidates and diagnostics out.

Thin by design: it converts messages and parameters, and hands frames to `LocalizerCore` on one
worker thread that always takes the newest frame (older unprocessed frames are dropped and counted),
so timers, parameter services and diagnostics keep answering while inference runs.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PoseArray, PoseWithCovarianceStamped
from rcl_interfaces.msg import SetParametersResult
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image, NavSatFix

from vgssl_ros.core.calibration import CALIBRATION_FILE, Calibration
from vgssl_ros.core.embedder import Embedder
from vgssl_ros.core.errors import DecodeError, MapError, ModelError
from vgssl_ros.core.estimate import EstimatorConfig
from vgssl_ros.core.filter import FilterConfig, filter_for_map
from vgssl_ros.core.latest_frame import LatestSlot
from vgssl_ros.core.localizer import LocalizerCore
from vgssl_ros.core.map import Map
from vgssl_ros.core.stats import RuntimeStats
from vgssl_ros.node import messages
from vgssl_ros.node.parameters import FILTER_FIELDS, PARAMETERS, check_value


class StartupError(RuntimeError):
    """The node cannot start: a bad parameter, model or map. The message says what to fix."""


class LocalizerNode(Node):
    """rclpy node around LocalizerCore (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("localizer", **kwargs)
        for name, spec in PARAMETERS.items():
            try:
                self.declare_parameter(name, spec.default, spec.descriptor())
            except Exception as exc:  # rclpy raises InvalidParameterValueException & co. for bad values
                raise StartupError(f"parameter '{name}': {exc}") from None
        p = {name: self.get_parameter(name).value for name in PARAMETERS}
        for name, value in p.items():
            reason = check_value(name, value)
            if reason:
                raise StartupError(reason)
        faiss.omp_set_num_threads(int(p["search_threads"]))
        try:
            embedder = Embedder(
                p["model"], providers=list(p["execution_providers"]), intra_op_threads=int(p["intra_op_threads"])
            )
            geo_map = Map.load(p["map"], model_sha256=embedder.model_sha256, dim=embedder.dim)
            estimator = self._estimator_config(p)
            temporal_filter = None
            if p["filter_enabled"]:
                options = FilterConfig(**{f: type(getattr(FilterConfig, f))(p[f"filter_{f}"]) for f in FILTER_FIELDS})
                temporal_filter = filter_for_map(geo_map, options, estimator)
            self.core = LocalizerCore(
                embedder,
                geo_map,
                int(p["top_k"]),
                estimator,
                int(p["max_image_pixels"]),
                temporal_filter,
                self._calibration(p),
                float(p["min_confidence"]),
            )
        except (ModelError, MapError, ValueError, OSError) as exc:
            raise StartupError(str(exc)) from None
        self.map_frame = str(p["map_frame"])
        self.stats = RuntimeStats()
        self.slot: LatestSlot[tuple[Any, float]] = LatestSlot()
        self._last_warning = 0.0
        self.last_result = None  # written by the worker, read by the diagnostics timer
        self.add_on_set_parameters_callback(self._on_set_parameters)

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
        self.create_subscription(msg_type, topic, self._on_image, qos, event_callbacks=lost)
        self.fix_pub = self.create_publisher(NavSatFix, "~/fix", 10)
        self.pose_pub = self.create_publisher(PoseWithCovarianceStamped, "~/pose", 10)
        self.candidates_pub = self.create_publisher(PoseArray, "~/candidates", 10)
        self.diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.create_timer(float(p["diagnostics_period_s"]), self._publish_diagnostics)

        self._running = True
        self.worker = threading.Thread(target=self._work, name="localizer-worker", daemon=True)
        self.worker.start()
        self.get_logger().info(
            f"localizing {self.get_namespace().rstrip('/')}/{topic} against {len(geo_map.places)} places of "
            f"{geo_map.path} with {embedder.model_path.name} on {embedder.providers[0]}"
        )

    @staticmethod
    def _calibration(p: dict[str, Any]) -> Calibration | None:
        """The calibration file named by the parameter, else MAP/calibration.json when present; 'none': none."""
        if p["calibration"] == "none":
            return None
        path = p["calibration"] or f"{p['map']}/{CALIBRATION_FILE}"
        if not p["calibration"] and not Path(path).is_file():
            return None
        return Calibration.load(path)

    @staticmethod
    def _estimator_config(p: dict[str, Any]) -> EstimatorConfig:
        return EstimatorConfig(
            radius_m=float(p["match_radius_m"]),
            min_similarity=float(p["min_similarity"]),
            min_margin=float(p["min_margin"]),
            min_std_m=float(p["min_std_m"]),
        )

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        """Validate and apply runtime changes (ranges and read-only are checked by rclpy before this)."""
        values = {
            "match_radius_m": self.core.config.radius_m,
            "min_similarity": self.core.config.min_similarity,
            "min_margin": self.core.config.min_margin,
            "min_std_m": self.core.config.min_std_m,
        }
        top_k, max_pixels, min_probability = self.core.top_k, self.core.max_pixels, self.core.min_probability
        for param in params:
            reason = check_value(param.name, param.value) if param.name in PARAMETERS else ""
            if reason:
                return SetParametersResult(successful=False, reason=reason)
            if param.name in values:
                values[param.name] = float(param.value)
            elif param.name == "top_k":
                top_k = int(param.value)
            elif param.name == "max_image_pixels":
                max_pixels = int(param.value)
            elif param.name == "min_confidence":
                min_probability = float(param.value)
        try:
            config = replace(
                self.core.config,
                radius_m=values["match_radius_m"],
                min_similarity=values["min_similarity"],
                min_margin=values["min_margin"],
                min_std_m=values["min_std_m"],
            )
        except ValueError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        self.core.config, self.core.top_k, self.core.max_pixels = config, top_k, max_pixels
        self.core.min_probability = min_probability
        return SetParametersResult(successful=True)

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
            self.last_result = result
            if not result.output.accepted:
                self.stats.count("rejected")
            self.stats.processed((time.perf_counter() - received) * 1e3)

    def _localize(self, msg: Image | CompressedImage):
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

    def _publish(self, stamp, result) -> None:
        geo_map, est = self.core.map, result.output  # the filtered estimate when the filter is on
        heading = float(geo_map.places.heading[est.top1_index])
        self.fix_pub.publish(messages.navsatfix(est, geo_map.zone, stamp, self.map_frame))
        self.pose_pub.publish(messages.pose_with_covariance(est, geo_map.origin, heading, stamp, self.map_frame))
        self.candidates_pub.publish(
            messages.candidate_poses(
                geo_map.places.utm[result.candidates],
                geo_map.places.heading[result.candidates],
                geo_map.origin,
                stamp,
                self.map_frame,
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
        extra = {
            "execution_provider": self.core.embedder.providers[0],
            "map_places": len(self.core.map.places),
            "model_sha256": self.core.embedder.model_sha256[:12],
            **messages.filter_values(self.core.filter is not None, self.last_result),
        }
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
        "~/candidates and /diagnostics, stamped with the input image's stamp.",
        "",
        "parameters:",
    ]
    for name, spec in PARAMETERS.items():
        rng = f" [{spec.low:g}, {spec.high:g}]" if spec.low is not None else ""
        lines.append(
            f"  {name} (default {spec.default!r}{rng}{', read-only' if spec.read_only else ''}): {spec.description}"
        )
    return "\n".join(lines)


def main(args: list[str] | None = None) -> int:
    """`ros2 run vgssl_ros localizer --ros-args -p model:=... -p map:=...`; exit 2 on a start-up error."""
    argv = sys.argv[1:] if args is None else args
    before_ros_args = argv[: argv.index("--ros-args")] if "--ros-args" in argv else argv
    if "-h" in before_ros_args or "--help" in before_ros_args:
        print(usage())
        return 0
    rclpy.init(args=args)
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
