"""The localizer node: camera frames in; fix, pose, candidates and diagnostics out. A managed (lifecycle) node.

Thin by design: it converts messages and parameters, and hands frames to `LocalizerCore` on one
worker thread that always takes the newest frame (older unprocessed frames are dropped and counted),
so timers, parameter services and diagnostics keep answering while inference runs.

Lifecycle: configure loads model, map, filter and calibration and creates the publishers (outputs.py) and
~/reset; activate subscribes to the images and /initialpose, starts the worker and publishes ~/map_places;
deactivate stops taking frames (everything stays loaded); cleanup releases it all. ``autostart`` (default) does
configure + activate at start, so `ros2 run` and the launch file need no lifecycle manager.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import PoseWithCovarianceStamped
from rcl_interfaces.msg import SetParametersResult
from rclpy._rclpy_pybind11 import RCLError
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.timer import Timer
from sensor_msgs.msg import CompressedImage, Image
from std_srvs.srv import Trigger

from vgssl_ros.core.assemble import build_localizer
from vgssl_ros.core.calibration_checks import loaded_calibration_warnings
from vgssl_ros.core.errors import DecodeError, MapError, ModelError
from vgssl_ros.core.latest_frame import LatestSlot
from vgssl_ros.core.localizer import FrameResult, LocalizerCore
from vgssl_ros.core.settings import SETTINGS, LocalizerSettings
from vgssl_ros.core.stats import RuntimeStats
from vgssl_ros.node import messages
from vgssl_ros.node.belief import BeliefRequests, describe, initial_pose
from vgssl_ros.node.outputs import Outputs
from vgssl_ros.node.parameters import PARAMETERS, check_value, default_value, descriptor


class StartupError(RuntimeError):
    """The node cannot start: a bad parameter, model or map. The message says what to fix."""


class LocalizerNode(LifecycleNode):
    """Managed rclpy node around LocalizerCore (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("localizer", **kwargs)
        for name, spec in PARAMETERS.items():
            try:
                self.declare_parameter(name, default_value(spec), descriptor(spec))
            except Exception as exc:  # rclpy raises InvalidParameterValueException & co. for bad values
                raise StartupError(f"parameter '{name}': {exc}") from None
        self.autostart = bool(self.get_parameter("autostart").value)
        self.configure_error = ""
        """Why the last configure failed ('' if it did not)."""
        self.core: LocalizerCore | None = None
        self.outputs: Outputs | None = None
        self.stats = RuntimeStats()
        self.requests = BeliefRequests()
        self.last_result: FrameResult | None = None  # written by the worker, read by the diagnostics timer
        self._last_warning = 0.0
        self._configured: list[Any] = []  # services of a configured node
        self._active: list[Any] = []  # subscriptions and timers of an active node
        self._running = False
        self.slot: LatestSlot[tuple[Any, float]] = LatestSlot()
        self.worker: threading.Thread | None = None
        self.add_on_set_parameters_callback(self._check_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)

    def start(self) -> None:
        """Configure and activate (``autostart``); StartupError with the reason if configuring fails."""
        if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
            raise StartupError(self.configure_error or "configure failed (see the log)")
        if self.trigger_activate() != TransitionCallbackReturn.SUCCESS:
            raise StartupError("activate failed (see the log)")

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load model, map, filter and calibration; create the publishers and ~/reset. Failure: stay unconfigured."""
        try:
            self._configure()
        except Exception as exc:  # StartupError says what to fix; anything else is named rather than lost
            self.configure_error = str(exc) if isinstance(exc, StartupError) else f"{type(exc).__name__}: {exc}"
            if not self.autostart:  # with autostart, main() prints it and exits 2
                self.get_logger().error(f"configure failed: {self.configure_error}")
            self._release()
            return TransitionCallbackReturn.FAILURE
        self.configure_error = ""
        return super().on_configure(state)

    def _configure(self) -> None:
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
        if self.core.calibration is not None:
            for warning in loaded_calibration_warnings(self.core.calibration):
                self.get_logger().warning(warning)
        self.map_frame = str(p["map_frame"])
        self.identity = {
            "execution_provider": embedder.providers[0],
            "map_places": str(len(geo_map.places)),
            "model_sha256": embedder.model_sha256[:12],
        }
        self.outputs = Outputs(self, self.core, self.map_frame)
        self.stats, self.last_result, self.requests = RuntimeStats(), None, BeliefRequests()
        self._configured = [self.create_service(Trigger, "~/reset", self._on_reset)]

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe to images and /initialpose, start the worker, publish ~/map_places."""
        result = super().on_activate(state)  # enables the lifecycle publishers
        core, outputs = self.core, self.outputs
        assert core is not None and outputs is not None  # activate is only reachable from inactive
        p = {name: self.get_parameter(name).value for name in ("qos_depth", "qos_reliability", "compressed")}
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
        self._active = [
            subscription,
            self.create_subscription(PoseWithCovarianceStamped, "/initialpose", self._on_initial_pose, 10),
            self.create_timer(float(self.get_parameter("diagnostics_period_s").value), self._publish_diagnostics),
        ]
        self.slot = LatestSlot()
        self._running = True
        self.worker = threading.Thread(target=self._work, name="localizer-worker", daemon=True)
        self.worker.start()
        outputs.places(core.map.places, self.get_clock().now().to_msg())
        self.get_logger().info(
            f"localizing {subscription.topic_name} against {len(core.map.places)} places of {core.map.path} with "
            f"{core.embedder.model_path.name} on {core.embedder.providers[0]}, temporal filter "
            f"{'on' if core.filter is not None else 'off'}"
        )
        for reason in core.embedder.fallbacks:
            self.get_logger().warning(reason)
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop taking frames (the map, model and filter stay loaded)."""
        self._stop()
        self.get_logger().info("deactivated: not taking frames")
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release the model, the map, the publishers and ~/reset."""
        self._release()
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """From any primary state: stop and release everything."""
        self._release()
        return super().on_shutdown(state)

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """A transition raised: release everything and go back to unconfigured."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _stop(self) -> None:
        """Undo activate: the worker stops after its current frame, subscriptions and timer are removed."""
        self._running = False
        self.slot.close()
        if self.worker is not None:
            self.worker.join(timeout=10.0)
            self.worker = None
        for entity in self._active:
            if isinstance(entity, Timer):
                self.destroy_timer(entity)
            else:
                self.destroy_subscription(entity)
        self._active = []

    def _release(self) -> None:
        """Undo configure (and activate where needed)."""
        self._stop()
        for service in self._configured:
            self.destroy_service(service)
        self._configured = []
        if self.outputs is not None:
            self.outputs.destroy()
        self.outputs, self.core, self.last_result = None, None, None

    def close(self) -> None:
        """Stop the worker thread and release what configure loaded (process exit)."""
        self._release()

    def _settings_with(self, params: list[Parameter[Any]]) -> LocalizerSettings:
        """The settings with ``params`` applied (ValueError with the reason when they are not valid)."""
        values = {name: self.get_parameter(name).value for name in SETTINGS}
        changes = {param.name: param.value for param in params if param.name in SETTINGS}
        return LocalizerSettings.from_values({**values, **changes})

    def _check_parameters(self, params: list[Parameter[Any]]) -> SetParametersResult:
        """Refuse invalid runtime changes (ranges and read-only are checked by rclpy before this)."""
        for param in params:
            reason = check_value(param.name, param.value) if param.name in PARAMETERS else ""
            if reason:
                return SetParametersResult(successful=False, reason=reason)
        try:
            self._settings_with(params)
        except ValueError as exc:
            return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    def _apply_parameters(self, params: list[Parameter[Any]]) -> None:
        """Apply accepted changes: new settings swapped into the core in one assignment (frames read it once)."""
        core = self.core
        if core is not None:
            core.settings = self._settings_with(params)

    def _on_image(self, msg: Image | CompressedImage) -> None:
        """Executor callback: only stash the newest frame; the worker does the work."""
        self.stats.count("received")
        if self.slot.put((msg, time.perf_counter())):
            self.stats.count("dropped")

    def _on_initial_pose(self, msg: PoseWithCovarianceStamped) -> None:
        """/initialpose: seed the filter around it before the next frame; refused with a warning when unusable."""
        core = self.core
        if core is None:
            return
        if core.filter is None:
            self.get_logger().warning("/initialpose ignored: the temporal filter is off (filter_enabled:=false)")
            return
        try:
            position, covariance = initial_pose(msg, self.map_frame, core.map.origin)
        except ValueError as exc:
            self.get_logger().warning(str(exc))
            return
        self.requests.seed(position, covariance)
        self.get_logger().info(
            f"initial pose {describe(position, covariance, core.map.origin)} taken: the filter starts from it"
        )

    def _on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        """~/reset: the filter forgets where the robot is before the next frame."""
        core = self.core
        if core is None or core.filter is None:
            response.success, response.message = False, "no temporal filter (filter_enabled:=false): nothing to reset"
            return response
        self.requests.reset()
        response.success, response.message = True, "the filter re-acquires from the next frame"
        self.get_logger().info("~/reset: the filter re-acquires from the next frame")
        return response

    def _warn(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last_warning > 1.0:
            self._last_warning = now
            self.get_logger().warning(text)

    def _work(self) -> None:
        core, outputs, slot = self.core, self.outputs, self.slot
        assert core is not None and outputs is not None
        while self._running:
            item = slot.take(timeout=0.2)
            if item is None:
                continue
            msg, received = item
            if core.filter is not None:
                try:
                    done = self.requests.apply(core.filter)
                except ValueError as exc:
                    self.get_logger().warning(f"initial pose refused: {exc}")
                else:
                    if done:
                        self.get_logger().info(done)
            try:
                result = self._localize(core, msg, outputs.debug_image.wants_activation())
            except DecodeError as exc:
                self.stats.count("decode_errors")
                self._warn(f"bad image skipped: {exc}")
                continue
            except Exception as exc:  # the node must survive anything one frame can do
                self.stats.count("inference_errors")
                self._warn(f"frame failed ({type(exc).__name__}: {exc}); waiting for the next one")
                continue
            try:
                outputs.frame(msg.header.stamp, result)
            except RCLError:
                if not self.context.ok():  # shut down (Ctrl-C, SIGTERM) while this frame was in flight
                    return
                raise
            try:
                outputs.debug_image.publish(msg, result)
            except Exception as exc:  # a view that cannot be drawn must not stop localizing
                self._warn(f"debug view not drawn ({type(exc).__name__}: {exc})")
            self.last_result = result
            if not result.answer.accepted:
                self.stats.count("rejected")
            self.stats.processed((time.perf_counter() - received) * 1e3)

    def _localize(self, core: LocalizerCore, msg: Image | CompressedImage, activation: bool) -> FrameResult:
        stamp = msg.header.stamp
        stamp_s = messages.stamp_seconds(stamp)
        if stamp_s is None:
            self._warn(
                f"image stamp {stamp.sec} s {stamp.nanosec} ns is not a time (nanosec >= 1e9): the filter takes the "
                "frame as unstamped; fix the camera driver's stamps"
            )
        if self.compressed:
            return core.localize_compressed(msg.format, np.frombuffer(msg.data, np.uint8), stamp_s, activation)
        return core.localize_image(
            msg.encoding,
            msg.height,
            msg.width,
            msg.step,
            bool(msg.is_bigendian),
            np.frombuffer(msg.data, np.uint8),
            stamp_s,
            activation,
        )

    def _publish_diagnostics(self) -> None:
        core, outputs = self.core, self.outputs
        if core is None or outputs is None:
            return
        snap = self.stats.snapshot()
        errors = snap["decode_errors"] + snap["inference_errors"]
        level, text = DiagnosticStatus.OK, "localizing"
        if snap["received"] == 0:
            level, text = DiagnosticStatus.WARN, "no images received yet"
        elif errors:
            level, text = DiagnosticStatus.WARN, f"{int(errors)} frames failed (see counters)"
        extra = {**self.identity, **messages.filter_values(core.filter is not None, self.last_result)}
        outputs.diagnostics.publish(
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


def usage() -> str:
    """Command-line help: how to start the node and every parameter with its default."""
    lines = [
        "usage: localizer --ros-args [--params-file config/localizer.yaml] -p model:=MODEL.onnx -p map:=MAP_DIR "
        "[-p name:=value ...] [-r image:=/camera/image_raw]",
        "",
        "Visual geo-localization node (managed: lifecycle_msgs ~/change_state; autostart:=false waits for a manager):",
        "subscribes to image (or image/compressed) and /initialpose, publishes ~/fix, ~/pose, ~/candidates",
        "(stamped with the input image's stamp), ~/debug_image (rendered only while subscribed), ~/map_places",
        "(latched) and /diagnostics; ~/reset forgets the pose.",
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
        if node.autostart:
            node.start()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        executor.spin()
    except StartupError as exc:
        print(f"localizer: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        # A stop (Ctrl-C, SIGTERM) that shuts the context down while the executor builds its wait set surfaces
        # as an RCLError or InvalidHandle from spin(): that is the stop, not a failure. Anything else is raised.
        if rclpy.ok():
            raise
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
