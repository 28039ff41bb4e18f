"""The real localizer process under a campaign's traffic: its assets, the process, a DDS camera client.

    model, geo_map = tiny_assets(work)                      # 8x8 ONNX model + 12-place map (fast frames)
    node = NodeProcess.start(work, model, geo_map, domain=domain_for("soak"))
    client = CameraClient(node.domain)
    client.wait_ready(node)
    client.publish(image_msg(rgb, (sec, nanosec)))           # or compressed_msg(jpeg_bytes, stamp)
    client.wait_for(lambda: client.fix_count() >= 1, 5.0)
    node.rss_mib(), node.threads(), node.fds(); client.counters()
    client.close(); node.stop()

DDS stays on this machine (ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) in a domain of the campaign's own.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]


DOMAINS = range(200, 233)
"""ROS domain ids the campaigns claim: above the test suite's 100-199, below Fast DDS's port limit (232)."""
_claimed: dict[int, int] = {}


def domain_for(name: str) -> int:
    """A ROS domain id in DOMAINS that no other campaign on this machine holds, claimed for this process' lifetime
    (an flock on /tmp/vgssl-ros-domain-ID.lock): parallel runs must not hear each other's frames. The search starts
    at a hash of ``name``; RuntimeError when all are taken."""
    import fcntl

    start = zlib.crc32(name.encode()) % len(DOMAINS)
    for k in range(len(DOMAINS)):
        domain = DOMAINS[(start + k) % len(DOMAINS)]
        if domain in _claimed:
            continue
        fd = os.open(f"/tmp/vgssl-ros-domain-{domain}.lock", os.O_CREAT | os.O_RDWR, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _claimed[domain] = fd
        return domain
    raise RuntimeError(f"every ROS domain in {DOMAINS.start}-{DOMAINS.stop - 1} is held by another campaign")


LARGE_IMAGES = {
    "FASTDDS_DEFAULT_PROFILES_FILE": str(REPO / "config" / "fastdds_large_images.xml"),
    "RMW_FASTRTPS_PUBLICATION_MODE": "SYNCHRONOUS",
}
"""The DDS set-up README recommends for camera frames (whole frames through a 16 MB shared-memory segment)."""


def ros_env(domain: int, large_images: bool = False) -> dict[str, str]:
    """This process' environment with DDS on this machine only, in ``domain``, and this checkout importable
    (``large_images``: with the LARGE_IMAGES set-up)."""
    env = dict(os.environ)
    if large_images:
        env.update(LARGE_IMAGES)
    env.update(ROS_DOMAIN_ID=str(domain), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def tiny_assets(work: Path) -> tuple[Path, Path]:
    """(model.onnx, map folder): the 8x8 random-projection model and a 12-place map (reliability/map_damage.py)."""
    from reliability.map_damage import tiny_map, tiny_model

    work.mkdir(parents=True, exist_ok=True)
    model = work / "model.onnx"
    if not model.is_file():
        tiny_model(model)
    geo_map = work / "map"
    if not geo_map.is_dir():
        tiny_map(geo_map, model)
    return model, geo_map


@dataclass
class NodeProcess:
    """One `localizer` process (config/localizer.yaml plus ``params``), its log file and its domain."""

    proc: subprocess.Popen[str]
    log: Path
    domain: int

    @classmethod
    def start(
        cls,
        work: Path,
        model: Path,
        geo_map: Path,
        domain: int,
        params: dict[str, str] | None = None,
        large_images: bool = False,
    ) -> NodeProcess:
        """Start the node on ``model`` and ``geo_map`` with ``params`` (name -> ROS value text) in ``domain``.

        The image subscription is reliable unless ``params`` say otherwise: with the shipped best-effort default,
        Fast DDS loses raw 640x480 frames (922 kB, sent as UDP fragments) between processes without the large-image
        profile, and a campaign needs every valid frame delivered."""
        cmd = [sys.executable, "-m", "vgssl_ros.node.localizer_node", "--ros-args"]
        cmd += ["--params-file", str(REPO / "config" / "localizer.yaml")]
        values = {"model": str(model), "map": str(geo_map), "intra_op_threads": "1", "qos_reliability": "reliable"}
        values.update(params or {})
        for name, value in values.items():
            cmd += ["-p", f"{name}:={value}"]
        work.mkdir(parents=True, exist_ok=True)
        log = work / f"node-{time.monotonic_ns()}.log"
        with log.open("w") as out:
            env = ros_env(domain, large_images)
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=work, text=True)
        return cls(proc, log, domain)

    def output(self) -> str:
        """What the node printed so far."""
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        """The process is still running."""
        return self.proc.poll() is None

    def _status(self, key: str) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def rss_mib(self) -> float:
        """Resident memory (MiB) from /proc."""
        return self._status("VmRSS") / 1024.0

    def threads(self) -> int:
        """Thread count from /proc."""
        return self._status("Threads")

    def fds(self) -> int:
        """Open file descriptors from /proc."""
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout_s``; the exit code."""
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


_CLIENT_IDS = itertools.count()


def image_msg(rgb: np.ndarray, stamp: tuple[int, int], encoding: str = "rgb8", **fields: Any) -> Any:
    """A sensor_msgs/Image of ``rgb`` [H, W, 3] uint8 (any field overridable: ``step=``, ``data=``, ...)."""
    from sensor_msgs.msg import Image

    msg = Image()
    msg.header.stamp.sec, msg.header.stamp.nanosec = stamp
    msg.header.frame_id = "camera"
    msg.height, msg.width = int(rgb.shape[0]), int(rgb.shape[1])
    msg.encoding, msg.step = encoding, int(rgb.shape[1] * 3)
    msg.data = rgb.tobytes()
    for name, value in fields.items():
        setattr(msg, name, value)
    return msg


def compressed_msg(data: bytes, stamp: tuple[int, int], fmt: str = "jpeg") -> Any:
    """A sensor_msgs/CompressedImage holding ``data`` (JPEG/PNG bytes, or anything)."""
    from sensor_msgs.msg import CompressedImage

    msg = CompressedImage()
    msg.header.stamp.sec, msg.header.stamp.nanosec = stamp
    msg.header.frame_id = "camera"
    msg.format, msg.data = fmt, data
    return msg


def spin_until_shutdown(context: Any, executor: Any) -> None:
    """Spin ``executor`` until ``context`` is shut down (a thread's target: arrival times stay real while another
    thread publishes); an exception during the shutdown race is swallowed, any other is raised."""
    while context.ok():
        try:
            executor.spin_once(timeout_sec=0.05)
        except Exception:
            if context.ok():
                raise


@dataclass
class Received:
    """What the client heard: ~/fix stamps with their arrival times, and /diagnostics counters."""

    fixes: list[tuple[tuple[int, int], float]] = field(default_factory=list)
    diagnostics: list[dict[str, str]] = field(default_factory=list)


class CameraClient:
    """An rclpy node in ``domain`` that publishes camera frames (reliable, depth ``depth``) on ``image`` and
    ``image/compressed`` and collects /localizer/fix and /diagnostics, spinning in a background thread.
    ``large_images``: the LARGE_IMAGES set-up for this process (Fast DDS reads it when the process' first
    participant is created, so it only takes effect for the first client of a process)."""

    def __init__(self, domain: int, depth: int = 10, large_images: bool = False) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.executors import SingleThreadedExecutor
        from sensor_msgs.msg import CompressedImage, Image, NavSatFix

        saved = {k: os.environ.get(k) for k in LARGE_IMAGES}
        if large_images:
            os.environ.update(LARGE_IMAGES)
        try:
            self.context = rclpy.Context()
            rclpy.init(context=self.context, domain_id=domain)
            # One name per client: rosout warns when two nodes of a process share one.
            self.node = rclpy.create_node(f"reliability_camera_{next(_CLIENT_IDS)}", context=self.context)
        finally:  # the participant exists now; other clients of this process (a test session) keep their set-up
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.image_pub = self.node.create_publisher(Image, "image", depth)
        self.compressed_pub = self.node.create_publisher(CompressedImage, "image/compressed", depth)
        self.received = Received()
        self._stamps: set[tuple[int, int]] = set()
        self._lock = threading.Lock()
        self.node.create_subscription(NavSatFix, "/localizer/fix", self._on_fix, 50)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 10)
        self._spinner = threading.Thread(target=spin_until_shutdown, args=(self.context, self.executor), daemon=True)
        self._spinner.start()

    def _on_fix(self, msg: Any) -> None:
        stamp = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        with self._lock:
            self.received.fixes.append((stamp, time.monotonic()))
            self._stamps.add(stamp)

    def _on_diagnostics(self, msg: Any) -> None:
        if msg.status:
            with self._lock:
                self.received.diagnostics.append({kv.key: kv.value for kv in msg.status[0].values})

    def publish(self, msg: Any) -> None:
        """Publish an Image or CompressedImage on its topic."""
        (self.compressed_pub if hasattr(msg, "format") else self.image_pub).publish(msg)

    def fix_count(self) -> int:
        """~/fix messages heard so far."""
        with self._lock:
            return len(self.received.fixes)

    def fix_stamps(self) -> set[tuple[int, int]]:
        """Stamps of the ~/fix messages heard so far (a copy: O(fixes); poll with ``has_fix``)."""
        with self._lock:
            return set(self._stamps)

    def has_fix(self, stamp: tuple[int, int]) -> bool:
        """A ~/fix with ``stamp`` was heard (O(1): fit for polling in a loop of 50,000 frames)."""
        with self._lock:
            return stamp in self._stamps

    def counters(self) -> dict[str, str]:
        """The newest /diagnostics key/values ({} before the first)."""
        with self._lock:
            return dict(self.received.diagnostics[-1]) if self.received.diagnostics else {}

    def wait_for(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Poll ``done()`` until it is true or ``timeout_s`` passes; returns ``done()``."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and not done():
            time.sleep(0.0005)
        return done()

    def wait_ready(self, node: NodeProcess, timeout_s: float = 60.0) -> None:
        """Wait for the node's first /diagnostics and its subscriptions; RuntimeError with its log otherwise."""
        subscribed = lambda: self.image_pub.get_subscription_count() + self.compressed_pub.get_subscription_count()  # noqa: E731
        ok = self.wait_for(lambda: not node.alive() or (bool(self.counters()) and subscribed() > 0), timeout_s)
        if not ok or not node.alive():
            raise RuntimeError(f"the localizer did not come up in {timeout_s:.0f} s:\n{node.output()[-2000:]}")

    def close(self) -> None:
        """Shut the client's context down."""
        import rclpy

        rclpy.shutdown(context=self.context)
        self._spinner.join(5)
        self.executor.shutdown()
        self.node.destroy_node()
