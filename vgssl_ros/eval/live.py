"""Live evaluation: play a drive into a running localizer over DDS and score what it publishes.

Ground truth is the drive's NavSatFix interpolated at each image stamp (read from the bag file);
outputs are matched to frames by header stamp, so frames the localizer skipped count as unanswered.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import rclpy
from geometry_msgs.msg import PoseArray
from rcl_interfaces.srv import GetParameters
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import parameter_value_to_python
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import NavSatFix, NavSatStatus

from vgssl_ros.bags import BagError, open_bag, read_drive
from vgssl_ros.core.map import Map
from vgssl_ros.core.settings import SETTINGS
from vgssl_ros.eval.frames import ACCEPTED, DriveFrames, ModeFrames
from vgssl_ros.eval.metrics import DriveOutcome
from vgssl_ros.eval.player import Stamp, header_stamp, play_bag
from vgssl_ros.geo import UtmZone, latlon_to_utm, utm_to_latlon


def image_stamps(bag: Path, image_topic: str) -> list[Stamp]:
    """Header stamps of every image on ``image_topic``, in bag order (no image is decoded)."""
    with open_bag(bag) as reader:
        conns = [c for c in reader.connections if c.topic == image_topic]
        return [header_stamp(raw) for _, _, raw in reader.messages(connections=conns)]


class LiveScorer:
    """Collects a localizer's ~/fix and ~/candidates by stamp; ``outcome`` turns them into a DriveOutcome."""

    def __init__(self, node: rclpy.node.Node, localizer: str) -> None:
        qos = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
        self.fixes: dict[Stamp, tuple[NavSatFix, float]] = {}
        self.candidates: dict[Stamp, PoseArray] = {}
        self.last_output = 0.0
        node.create_subscription(NavSatFix, f"{localizer}/fix", self._on_fix, qos)
        node.create_subscription(PoseArray, f"{localizer}/candidates", self._on_candidates, qos)

    def _on_fix(self, msg: NavSatFix) -> None:
        self.last_output = time.monotonic()
        self.fixes[(msg.header.stamp.sec, msg.header.stamp.nanosec)] = (msg, self.last_output)

    def _on_candidates(self, msg: PoseArray) -> None:
        self.candidates[(msg.header.stamp.sec, msg.header.stamp.nanosec)] = msg

    def outcome(
        self, frames: list[tuple[Stamp, np.ndarray]], geo_map: Map, sent_at: dict[Stamp, float], top_k: int
    ) -> DriveOutcome:
        """One row per ground-truth frame ``(stamp, utm [2])``; unanswered frames have NaN and no candidates."""
        place_index = faiss.IndexFlatL2(2)
        place_index.add(np.ascontiguousarray(geo_map.places.utm - geo_map.origin, dtype=np.float32))
        n = len(frames)
        est = np.full((n, 2), np.nan)
        accepted = np.zeros(n, bool)
        candidates = np.full((n, top_k), -1, np.int64)
        latency = np.full(n, np.nan)
        for i, (stamp, _) in enumerate(frames):
            if stamp in self.fixes:
                fix, received = self.fixes[stamp]
                est[i] = latlon_to_utm(np.array([fix.latitude]), np.array([fix.longitude]), geo_map.zone)[0][0]
                accepted[i] = fix.status.status != NavSatStatus.STATUS_NO_FIX
                if stamp in sent_at:
                    latency[i] = (received - sent_at[stamp]) * 1e3
            if stamp in self.candidates:
                xy = np.array([[p.position.x, p.position.y] for p in self.candidates[stamp].poses[:top_k]], np.float32)
                if len(xy):
                    candidates[i, : len(xy)] = place_index.search(xy.reshape(-1, 2), 1)[1][:, 0]
        return DriveOutcome(np.array([utm for _, utm in frames]), est, accepted, candidates, latency)

    def drive_frames(
        self, frames: list[tuple[Stamp, np.ndarray]], outcome: DriveOutcome, zone: UtmZone, mode: str
    ) -> DriveFrames:
        """The published answers of ``outcome`` as ``mode``'s per-frame records (what ~/fix carries: position,
        status and covariance; score and probability are not published, so unknown)."""
        n = len(frames)
        covariance = np.full((n, 2, 2), np.nan)
        status = []
        for i, (stamp, _) in enumerate(frames):
            if stamp not in self.fixes:
                status.append("no answer received for this frame")
                continue
            fix = self.fixes[stamp][0]
            covariance[i] = np.asarray(fix.position_covariance, float).reshape(3, 3)[:2, :2]
            status.append(ACCEPTED if outcome.accepted[i] else "rejected (published STATUS_NO_FIX)")
        place = outcome.candidates[:, 0] if mode == "single" else np.full(n, -1, np.int64)
        answers = ModeFrames(
            outcome.est_utm, outcome.accepted, status, np.full(n, np.nan), np.full(n, np.nan), covariance, place
        )
        stamps = np.array([sec + 1e-9 * nsec for (sec, nsec), _ in frames])
        return DriveFrames(stamps, outcome.gt_utm, zone, {mode: answers})


def score_live(
    bag: str | Path,
    map_dir: str | Path,
    image_topic: str,
    fix_topic: str,
    localizer: str = "/localizer",
    localizer_input: str = "/image",
    play: bool = True,
    rate: float = 1.0,
    expected: dict[str, Any] | None = None,
    wait_for_localizer_s: float = 60.0,
    settle_s: float = 5.0,
) -> tuple[DriveOutcome, DriveFrames, dict[str, int], dict[str, Any]]:
    """Play ``bag``'s camera topic onto ``localizer_input`` (or, with ``play`` False, listen while someone else
    plays it) and score the outputs of ``localizer`` against the bag's ground truth.

    Returns the outcome, its per-frame records (the published answer's mode), skip counts and the settings the
    localizer runs with (read from its parameters);
    RuntimeError before anything plays when a setting in ``expected`` differs from the node's."""
    bag = Path(bag)
    geo_map = Map.load(map_dir)
    drive = read_drive(bag, image_topic, fix_topic)
    frames, skipped = [], {"no_fix": 0}
    for stamp in image_stamps(bag, image_topic):
        utm = drive.track.at(stamp[0] + 1e-9 * stamp[1], drive.max_gap_s)
        if utm is None:
            skipped["no_fix"] += 1
            continue
        latlon = utm_to_latlon(utm[None], drive.track.zone)[0]
        frames.append((stamp, latlon_to_utm(latlon[:1], latlon[1:], geo_map.zone)[0][0]))
    if not frames:
        raise BagError(f"{bag}: no image on {image_topic} has a ground-truth fix on {fix_topic}")

    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node("vgssl_eval_live", context=context)
    scorer = LiveScorer(node, localizer.rstrip("/"))
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    sent_at: dict[Stamp, float] = {}
    try:
        if play:
            _wait_for_localizer(node, localizer_input, wait_for_localizer_s, localizer)
        settings = localizer_settings(node, localizer.rstrip("/"), wait_for_localizer_s)
        check_expected(settings, expected or {})
        if play:
            play_bag(
                node,
                bag,
                [image_topic],
                rate=rate,
                remap={image_topic: localizer_input},
                on_frame=lambda topic, stamp, wall: sent_at.__setitem__(stamp, wall),
            )
            end = time.monotonic() + settle_s
            while time.monotonic() < end and len(scorer.fixes) < len(frames):
                time.sleep(0.05)
        else:
            start = time.monotonic()
            while time.monotonic() - start < wait_for_localizer_s and not scorer.fixes:
                time.sleep(0.1)
            while scorer.fixes and time.monotonic() - scorer.last_output < settle_s and len(scorer.fixes) < len(frames):
                time.sleep(0.1)
        outcome = scorer.outcome(frames, geo_map, sent_at, int(settings["top_k"]))
        mode = "filtered" if settings.get("filter_enabled", True) else "single"
        return outcome, scorer.drive_frames(frames, outcome, geo_map.zone, mode), skipped, settings
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        spinner.join(5)


def _wait_for_localizer(node: rclpy.node.Node, topic: str, timeout: float, localizer: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if node.count_subscribers(topic) > 0 and node.count_publishers(f"{localizer.rstrip('/')}/fix") > 0:
            return
        time.sleep(0.1)
    raise RuntimeError(
        f"no localizer is listening on {topic} and publishing {localizer}/fix after {timeout:g} s: "
        f"start it first with its input on {topic} (ros2 launch vgssl_ros localize.launch.py image_topic:={topic} "
        f"..., or localizer --ros-args -r image:={topic} ...), in the same ROS_DOMAIN_ID, or pass "
        f"--localizer-input TOPIC (the topic it subscribes to) and --localizer NAME"
    )


def localizer_settings(node: rclpy.node.Node, localizer: str, timeout: float) -> dict[str, Any]:
    """Every setting of the table as the running ``localizer`` node has it (its get_parameters service)."""
    client = node.create_client(GetParameters, f"{localizer}/get_parameters")
    if not client.wait_for_service(timeout_sec=timeout):
        raise RuntimeError(
            f"no localizer {localizer} answers on {localizer}/get_parameters after {timeout:g} s: start it first "
            f"(ros2 launch vgssl_ros localize.launch.py ...), in the same ROS_DOMAIN_ID, or pass --localizer NAME"
        )
    future = client.call_async(GetParameters.Request(names=list(SETTINGS)))
    end = time.monotonic() + timeout
    while not future.done() and time.monotonic() < end:
        time.sleep(0.02)
    if not future.done() or future.result() is None:
        raise RuntimeError(f"the localizer {localizer} did not answer get_parameters within {timeout:g} s")
    values = [parameter_value_to_python(v) for v in future.result().values]
    return {name: list(v) if isinstance(v, (list, tuple)) else v for name, v in zip(SETTINGS, values)}


def check_expected(node_settings: dict[str, Any], expected: dict[str, Any]) -> None:
    """RuntimeError naming each setting in ``expected`` (typed as the table says, lists for arrays) whose value
    differs from the running node's."""
    differ = [
        f"{name}={value!r} (the node has {node_settings.get(name)!r})"
        for name, value in expected.items()
        if value != node_settings.get(name)
    ]
    if differ:
        raise RuntimeError(
            f"--live scores the localizer as it runs, and it runs with other settings: {'; '.join(differ)}. "
            "Start the node with these values (-p name:=value, or `ros2 param set` for runtime settings) "
            "or drop the options"
        )
