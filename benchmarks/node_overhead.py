"""Node overhead: end-to-end latency (Image published -> ~/fix received, over DDS) divided by bare
ONNX Runtime inference on the same frames. 640x480 rgb8 camera frames, CPU. Target <= 1.15.

    PYTHONPATH=. .venv/bin/python benchmarks/node_overhead.py --model model.onnx --map map_dir

Without --model/--map it exports ImageNet EfficientNet-Lite0 + GeM at --resize (default 480x640, the
paper's input) and builds a map of --images (default: Nordland64 test database) first.

--debug-image on|both: the benchmark also subscribes to ~/debug_image (rendered only while someone subscribes)
and waits for each frame's view too; it prints that view's latency beside the ~/fix one. off (default): no
subscriber, so the node renders nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "config" / "fastdds_large_images.xml"
PROFILE_VAR = "FASTDDS_DEFAULT_PROFILES_FILE"
NORDLAND_DB = REPO.parent / "shared" / "data" / "nordland64" / "images" / "test" / "database"


def prepare(images: Path, resize: tuple[int, int], work: Path) -> tuple[Path, Path]:
    """Export an off-the-shelf model and build a flat map of ``images``."""
    from vgssl_ros.mapping.cli import main as vgssl_map
    from vgssl_train.cli import main as vgssl_train

    model, geo_map = work / "model.onnx", work / "map"
    assert (
        vgssl_train(
            [
                "export",
                "--resize",
                *map(str, resize),
                "--out",
                str(model),
                "--parity-images",
                str(images),
                "--parity-count",
                "8",
            ]
        )
        == 0
    )
    assert vgssl_map(["build", "--model", str(model), "--images", str(images), "--out", str(geo_map)]) == 0
    return model, geo_map


def camera_frames(images: Path, n: int) -> list[np.ndarray]:
    """``n`` RGB frames of 640x480 made from the image folder (upscaled)."""
    from vgssl_ros.datasets import load_rgb

    files = sorted(images.glob("*"))[:: max(1, len(list(images.glob("*"))) // n)][:n]
    return [cv2.resize(load_rgb(str(f)), (640, 480), interpolation=cv2.INTER_LINEAR) for f in files]


def end_to_end_ms(
    model: Path,
    geo_map: Path,
    frames: list[np.ndarray],
    threads: int,
    repeats: int,
    dds_profile: Path | None,
    debug_image: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame, interleaved so both see the same machine load: bare ORT inference on the frame resized
    to the model input, then publish it and wait for its ~/fix from a real node process (ms, ms); with
    ``debug_image``, subscribe to ~/debug_image and wait for the frame's view as well (its latency, ms)."""
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import Image, NavSatFix

    from vgssl_ros.core.embedder import Embedder
    from vgssl_ros.datasets import resize_rgb

    env = dict(os.environ, ROS_DOMAIN_ID=str(150 + os.getpid() % 50), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    env.pop(PROFILE_VAR, None)
    if dds_profile is not None:
        env[PROFILE_VAR] = str(dds_profile)
    os.environ.clear()
    os.environ.update(env)  # this process's participant is created by rclpy.init below
    node_proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vgssl_ros.node.localizer_node",
            "--ros-args",
            "--params-file",
            str(REPO / "config" / "localizer.yaml"),
            "-p",
            f"model:={model}",
            "-p",
            f"map:={geo_map}",
            "-p",
            f"intra_op_threads:={threads}",
            "-p",
            "qos_reliability:=reliable",
            "-p",
            "filter_enabled:=false",  # transport overhead against bare inference: single frames, as measured
        ],
        cwd=REPO,
        env=env,
    )
    rclpy.init()
    node = rclpy.create_node("overhead_bench")
    pub = node.create_publisher(Image, "image", 10)
    got: dict[int, float] = {}
    answered = threading.Event()

    def on_fix(msg: NavSatFix) -> None:
        got[msg.header.stamp.sec] = time.perf_counter()
        answered.set()

    node.create_subscription(NavSatFix, "/localizer/fix", on_fix, 10)
    views: dict[int, float] = {}
    viewed = threading.Event()

    def on_view(msg: Image) -> None:
        views[msg.header.stamp.sec] = time.perf_counter()
        viewed.set()

    if debug_image:
        node.create_subscription(Image, "/localizer/debug_image", on_view, 10)
    diagnostics: list = []
    node.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        deadline = time.monotonic() + 60
        while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        while debug_image and node.count_publishers("/localizer/debug_image") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        msgs = []
        for f in frames:
            m = Image(height=480, width=640, encoding="rgb8", step=640 * 3)
            m.data = f.tobytes()
            msgs.append(m)
        emb = Embedder(model, intra_op_threads=threads)
        resized = [resize_rgb(f, *emb.input_size)[None] for f in frames]
        latencies, bare, view_latencies = [], [], []
        stamp = 0
        for r in range(repeats + 1):
            for m, x in zip(msgs, resized):
                t0 = time.perf_counter()
                emb.embed_resized(x)
                if r > 0:
                    bare.append((time.perf_counter() - t0) * 1e3)
                stamp += 1
                m.header.stamp.sec = stamp
                answered.clear()
                viewed.clear()
                t0 = time.perf_counter()
                pub.publish(m)
                answered.wait(30)  # blocks without spinning a core away from the node
                if stamp not in got:
                    raise RuntimeError("the node did not answer within 30 s")
                while debug_image and stamp not in views and viewed.wait(30):
                    viewed.clear()
                if debug_image and stamp not in views:
                    raise RuntimeError("the node sent no ~/debug_image within 30 s")
                if r > 0:  # the first pass warms up DDS, ORT and the caches
                    latencies.append((got[stamp] - t0) * 1e3)
                    if debug_image:
                        view_latencies.append((views[stamp] - t0) * 1e3)
        time.sleep(1.5)
        if diagnostics:
            values = {kv.key: kv.value for kv in diagnostics[-1].status[0].values}
            print(
                f"inside the node (receipt -> outputs published): p50 {values['latency_p50_ms']} ms, "
                f"p95 {values['latency_p95_ms']} ms"
            )
        return np.array(latencies), np.array(bare), np.array(view_latencies)
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
        node_proc.terminate()
        node_proc.wait(10)


def render_ms(frames: list[np.ndarray], repeats: int = 20) -> float:
    """Median in-process cost (ms) of what a frame costs the node with a ~/debug_image subscriber: decode the
    640x480 rgb8 frame again, draw the view beside a 160 px thumbnail and pack the rgb8 message data."""
    from vgssl_ros.core.debug_view import render_debug_view
    from vgssl_ros.core.decode import decode_image
    from vgssl_ros.core.thumbnails import Thumbnails, encode_thumbnail

    thumbs = Thumbnails.from_encoded([encode_thumbnail(frames[0])])
    lines = [("filtered answer: place 12 (@450000.00@7745200.00@33@W@69.8@13.7@x@.png)", (235, 235, 235))] * 4
    data = [np.frombuffer(f.tobytes(), np.uint8) for f in frames]
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        rgb = decode_image("rgb8", 480, 640, 640 * 3, False, data[i % len(data)])
        view = render_debug_view(rgb, thumbs.image(0), lines)
        view.tobytes()
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model")
    p.add_argument("--map")
    p.add_argument("--images", default=str(NORDLAND_DB), help="folder of geo-tagged images (map and frames)")
    p.add_argument("--resize", nargs=2, type=int, default=[480, 640])
    p.add_argument("--frames", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2, help="ORT intra-op threads, in the node and bare")
    p.add_argument(
        "--debug-image",
        choices=("off", "on", "both"),
        default="off",
        help="subscribe to ~/debug_image: off, on, or both runs one after the other (default: %(default)s)",
    )
    p.add_argument(
        "--dds",
        choices=("default", "profile", "both"),
        default="both",
        help=f"Fast DDS transports: default, the {PROFILE.name} profile, or both (default: %(default)s)",
    )
    args = p.parse_args()
    profiles = {"default Fast DDS transports": None, PROFILE.name: PROFILE}
    if args.dds != "both":
        profiles = dict([list(profiles.items())[0 if args.dds == "default" else 1]])
    debug_runs = {"off": [False], "on": [True], "both": [False, True]}[args.debug_image]
    with tempfile.TemporaryDirectory() as tmp:
        if args.model and args.map:
            model, geo_map = Path(args.model), Path(args.map)
        else:
            model, geo_map = prepare(Path(args.images), tuple(args.resize), Path(tmp))
        frames = camera_frames(Path(args.images), args.frames)
        results = {
            f"{name}, {'a' if debug else 'no'} ~/debug_image subscriber": end_to_end_ms(
                model, geo_map, frames, args.threads, args.repeats, profile, debug
            )
            for name, profile in profiles.items()
            for debug in debug_runs
        }
    print(
        f"frames: {len(frames)} x {args.repeats} repeats, 640x480 rgb8 -> model {args.resize[0]}x{args.resize[1]}, "
        f"{args.threads} ORT threads"
    )
    if True in debug_runs:
        print(f"~/debug_image in process (decode again + render + pack): median {render_ms(frames):.2f} ms a frame")
    for name, (e2e, bare, views) in results.items():
        print(f"[{name}]")
        print(f"  bare ORT inference  median {np.median(bare):7.2f} ms  p95 {np.percentile(bare, 95):.2f} ms")
        print(f"  end-to-end via node median {np.median(e2e):7.2f} ms  p95 {np.percentile(e2e, 95):.2f} ms")
        if len(views):
            print(f"  ~/debug_image       median {np.median(views):7.2f} ms  p95 {np.percentile(views, 95):.2f} ms")
        print(f"  overhead ratio (median e2e / median bare) = {np.median(e2e) / np.median(bare):.3f}  (target <= 1.15)")


if __name__ == "__main__":
    main()
