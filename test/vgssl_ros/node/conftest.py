"""A real localizer process over DDS, with a model and map the fixtures export and build."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from reliability.node_process import spin_until_shutdown
from test.conftest import REPO, write_vpr_dataset

rclpy = pytest.importorskip("rclpy", reason="rclpy (ROS 2 Python) is not installed; make setup installs the wheels")

MODEL_SIZE = (480, 640)  # the paper's input size: one CPU thread needs ~0.1-0.3 s a frame, slower than 30 Hz


@pytest.fixture(scope="session")
def localizer_assets(tmp_path_factory) -> dict[str, Path]:
    """model.onnx (ImageNet EfficientNet-Lite0 + GeM, off the shelf) and a map of the test split's 12 places."""
    from vgssl_ros.mapping.cli import main as vgssl_map
    from vgssl_train.cli import main as vgssl_train

    root = tmp_path_factory.mktemp("localizer")
    dataset = write_vpr_dataset(root / "ds", splits=("test",))
    database = dataset / "images" / "test" / "database"
    model, geo_map = root / "model.onnx", root / "map"
    assert (
        vgssl_train(
            ["export", "--resize", *map(str, MODEL_SIZE), "--out", str(model), "--parity-images", str(database)]
        )
        == 0
    )
    assert vgssl_map(["build", "--model", str(model), "--images", str(database), "--out", str(geo_map)]) == 0
    return {"model": model, "map": geo_map, "dataset": dataset}


@pytest.fixture(scope="session")
def ros_env() -> dict[str, str]:
    """Environment for DDS on this machine only, in a domain no other test run uses."""
    env = dict(os.environ)
    env["ROS_DOMAIN_ID"] = str(100 + os.getpid() % 100)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["PYTHONUNBUFFERED"] = "1"
    os.environ.update({k: env[k] for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")})
    return env


@pytest.fixture
def start_localizer(localizer_assets, ros_env, tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start `localizer` as its own process with config/localizer.yaml; stops it after the test."""
    procs: list[subprocess.Popen] = []

    def start(
        *params: str, model: Path | None = None, geo_map: Path | None = None, remap: tuple[str, ...] = ()
    ) -> subprocess.Popen:
        cmd = [
            sys.executable,
            "-m",
            "vgssl_ros.node.localizer_node",
            "--ros-args",
            "--params-file",
            str(REPO / "config" / "localizer.yaml"),
            "-p",
            f"model:={model or localizer_assets['model']}",
            "-p",
            f"map:={geo_map or localizer_assets['map']}",
            "-p",
            "intra_op_threads:=1",
        ]
        for p in params:
            cmd += ["-p", p]
        for r in remap:
            cmd += ["-r", r]
        # Append mode: the node writes at the end whatever offset a reader leaves on this shared file description.
        log = open(tmp_path / f"node{len(procs)}.log", "a+")
        proc = subprocess.Popen(cmd, cwd=REPO, env=ros_env, stdout=log, stderr=subprocess.STDOUT, text=True)
        proc.log = log  # type: ignore[attr-defined]
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.log.close()


def node_output(proc: subprocess.Popen) -> str:
    """What the node process printed so far."""
    return Path(proc.log.name).read_text()  # its own file description: seeking the node's would move its writes


class Client:
    """An in-test rclpy node: publishes camera frames and collects what the localizer publishes."""

    def __init__(self, debug_image: bool = False) -> None:
        """``debug_image``: also subscribe to /localizer/debug_image (the node renders it only for a subscriber)."""
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import PoseArray, PoseWithCovarianceStamped
        from sensor_msgs.msg import CompressedImage, Image, NavSatFix

        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("test_client", context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.image_pub = self.node.create_publisher(Image, "image", 50)
        self.compressed_pub = self.node.create_publisher(CompressedImage, "image/compressed", 50)
        self.got: dict[str, list] = {"fix": [], "pose": [], "candidates": [], "diagnostics": [], "debug_image": []}
        self.received_at: dict[tuple[int, int], float] = {}
        self._lock = threading.Lock()
        for key, msg_type, topic in (
            ("fix", NavSatFix, "/localizer/fix"),
            ("pose", PoseWithCovarianceStamped, "/localizer/pose"),
            ("candidates", PoseArray, "/localizer/candidates"),
            ("diagnostics", DiagnosticArray, "/diagnostics"),
        ) + ((("debug_image", Image, "/localizer/debug_image"),) if debug_image else ()):
            self.node.create_subscription(msg_type, topic, self._collector(key), 50)
        self._spinner = threading.Thread(target=spin_until_shutdown, args=(self.context, self.executor), daemon=True)
        self._spinner.start()

    def _collector(self, key: str) -> Callable:
        def collect(msg) -> None:
            if key == "fix":
                self.received_at[(msg.header.stamp.sec, msg.header.stamp.nanosec)] = time.monotonic()
            with self._lock:
                self.got[key].append(msg)

        return collect

    def spin_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Spin until ``done()`` or ``timeout`` seconds; returns done()."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and not done():
            time.sleep(0.02)
        return done()

    def wait_ready(self, proc: subprocess.Popen, timeout: float = 60.0) -> None:
        """Wait for the localizer's first /diagnostics and for it to subscribe to our images."""
        ok = self.spin_until(
            lambda: (
                proc.poll() is not None
                or (
                    self.got["diagnostics"]
                    and self.image_pub.get_subscription_count() + self.compressed_pub.get_subscription_count() > 0
                )
            ),
            timeout,
        )
        assert ok and proc.poll() is None, f"localizer did not come up:\n{node_output(proc)}"

    def image(
        self,
        rgb: np.ndarray,
        stamp: tuple[int, int],
        encoding: str = "rgb8",
        step: int | None = None,
        data: bytes | None = None,
        height: int | None = None,
        width: int | None = None,
    ):
        """A sensor_msgs/Image (fields overridable to make bad messages)."""
        from sensor_msgs.msg import Image

        msg = Image()
        msg.header.stamp.sec, msg.header.stamp.nanosec = stamp
        msg.header.frame_id = "camera"
        msg.height = rgb.shape[0] if height is None else height
        msg.width = rgb.shape[1] if width is None else width
        msg.encoding = encoding
        msg.step = rgb.shape[1] * 3 if step is None else step
        msg.data = rgb.tobytes() if data is None else data
        return msg

    def diagnostic_values(self) -> dict[str, str]:
        """Key/values of the newest /diagnostics status."""
        return {kv.key: kv.value for kv in self.got["diagnostics"][-1].status[0].values}

    def close(self) -> None:
        rclpy.shutdown(context=self.context)
        self._spinner.join(5)
        self.executor.shutdown()
        self.node.destroy_node()


@pytest.fixture
def client(ros_env) -> Iterator[Client]:
    """A DDS client node in the test's ROS domain."""
    c = Client()
    yield c
    c.close()


@pytest.fixture
def debug_client(ros_env) -> Iterator[Client]:
    """A client that also subscribes to /localizer/debug_image, from before the node starts."""
    c = Client(debug_image=True)
    yield c
    c.close()
