"""The localizer node as a separate process, driven over real DDS (the pip rclpy, Fast DDS)."""

from __future__ import annotations

import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from test.conftest import ORIGIN, REPO, place_image
from test.vgssl_ros.node.conftest import node_output
from vgssl_ros.geo import latlon_to_utm

PLACE_SPACING_M = 40.0  # write_vpr_dataset spacing; places 0..11


def true_utm(place: int) -> np.ndarray:
    return ORIGIN + [0.0, place * PLACE_SPACING_M]


def query(place: int) -> np.ndarray:
    return place_image(place, variant=1)


@pytest.mark.slow
def test_fix_and_pose_land_on_the_right_place(start_localizer, client, localizer_assets):
    from vgssl_ros.core.map import Map

    proc = start_localizer("filter_enabled:=false")  # single frames: place 8 right after place 3
    client.wait_ready(proc)
    assert "localizing /image against 12 places" in node_output(proc)
    geo_map = Map.load(localizer_assets["map"])
    for i, place in enumerate((3, 8)):
        client.image_pub.publish(client.image(query(place), (100 + i, 5)))
        assert client.spin_until(lambda i=i: min(len(client.got[k]) for k in ("fix", "pose", "candidates")) > i, 20), (
            node_output(proc)
        )
    for i, place in enumerate((3, 8)):
        fix, pose = client.got["fix"][i], client.got["pose"][i]
        assert (fix.header.stamp.sec, fix.header.stamp.nanosec) == (100 + i, 5)  # input stamp, not the clock
        assert fix.status.status == 0
        en, _ = latlon_to_utm(np.array([fix.latitude]), np.array([fix.longitude]), geo_map.zone)
        assert np.linalg.norm(en[0] - true_utm(place)) < 25.0
        xy = np.array([pose.pose.pose.position.x, pose.pose.pose.position.y])
        assert np.linalg.norm(xy + geo_map.origin - true_utm(place)) < 25.0
        assert pose.header.frame_id == "map"
        assert fix.position_covariance_type == fix.COVARIANCE_TYPE_APPROXIMATED and fix.position_covariance[0] >= 25.0
        assert len(client.got["candidates"][i].poses) == 10
    assert client.spin_until(lambda: client.diagnostic_values().get("processed") == "2", 5)
    values = client.diagnostic_values()
    assert values["execution_provider"] == "CPUExecutionProvider" and values["decode_errors"] == "0"


@pytest.mark.slow
def test_bad_messages_are_counted_and_the_next_frame_answered(start_localizer, client):
    proc = start_localizer("max_image_pixels:=1000000")
    client.wait_ready(proc)
    good = query(5)
    bad = [
        client.image(good, (1, 0), encoding="bayer_rggb16"),  # unknown encoding
        client.image(good, (2, 0), step=good.shape[1] * 3 + 7),  # step/data length mismatch
        client.image(good, (3, 0), data=b""),  # empty data
        client.image(good, (4, 0), height=4000, width=4000, data=b"\0" * 16),  # huge image
    ]
    for msg in bad:
        client.image_pub.publish(msg)
        client.spin_until(lambda: False, 0.3)
    client.image_pub.publish(client.image(good, (5, 0)))
    assert client.spin_until(lambda: any(f.header.stamp.sec == 5 for f in client.got["fix"]), 20), node_output(proc)
    assert all(f.header.stamp.sec == 5 for f in client.got["fix"])  # bad frames published nothing
    assert client.spin_until(lambda: client.diagnostic_values().get("decode_errors") == "4", 5)
    assert proc.poll() is None
    assert "bad image skipped" in node_output(proc)


@pytest.mark.slow
def test_compressed_input_and_corrupt_jpeg(start_localizer, client):
    from sensor_msgs.msg import CompressedImage

    proc = start_localizer("compressed:=true")
    client.wait_ready(proc)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(query(2), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    corrupt = CompressedImage(format="jpeg", data=jpeg.tobytes()[:40])
    corrupt.header.stamp.sec = 1
    client.compressed_pub.publish(corrupt)
    client.spin_until(lambda: False, 0.3)
    good = CompressedImage(format="jpeg", data=jpeg.tobytes())
    good.header.stamp.sec = 2
    client.compressed_pub.publish(good)
    assert client.spin_until(lambda: len(client.got["fix"]) == 1, 20), node_output(proc)
    assert client.got["fix"][0].header.stamp.sec == 2
    assert client.spin_until(lambda: client.diagnostic_values().get("decode_errors") == "1", 5)


@pytest.mark.slow
def test_burst_keeps_latency_bounded_and_counts_drops(start_localizer, client):
    # Reliable transport, so that every frame reaches the node and skipping is the node's own doing
    # (best-effort 900 kB frames at 30 Hz are mostly lost in UDP fragments here; the node counts those as "lost").
    proc = start_localizer("qos_reliability:=reliable")
    client.wait_ready(proc)
    frame = cv2.resize(query(4), (640, 480))
    sent_at = {}
    for i in range(90):  # 0.45 s at 200 Hz into a node that needs ~30 ms per 640x480 frame here
        stamp = (1000 + i, 0)
        sent_at[stamp] = time.monotonic()
        client.image_pub.publish(client.image(frame, stamp))
        time.sleep(max(0.0, sent_at[stamp] + 1 / 200 - time.monotonic()))

    def settled() -> bool:
        v = client.diagnostic_values()
        return int(v["received"]) > 0 and int(v["processed"]) + int(v["dropped"]) == int(v["received"])

    assert client.spin_until(settled, 30), client.diagnostic_values()
    values = client.diagnostic_values()
    # The node skipped work instead of queueing it: older frames were replaced in its one-frame slot
    # (dropped) or, when the executor itself fell behind, overwritten in the DDS history (lost).
    assert int(values["processed"]) < 90 and int(values["dropped"]) + int(values["lost"]) > 0, (
        values,
        node_output(proc),
    )

    def fixes() -> list[float]:
        return [client.received_at[s] - sent_at[s] for s in list(client.received_at) if s in sent_at]

    # /diagnostics and ~/fix are separate topics: the last fix may arrive after the diagnostics counting it.
    assert client.spin_until(lambda: len(fixes()) >= int(values["processed"]), 5), (len(fixes()), values)
    latencies = fixes()
    # at least the frame it was working on when the burst began and the newest one after it (a loaded machine
    # processes few frames in 0.45 s: the count says nothing of queueing, the latencies below do)
    assert len(latencies) == int(values["processed"]) >= 2
    # Newest-frame-only: no frame waits behind a backlog. A queue of 90 frames would take seconds.
    per_frame = float(values["latency_p50_ms"]) / 1e3
    assert max(latencies) < max(0.5, 6 * per_frame), (max(latencies), values)


@pytest.mark.slow
def test_runtime_parameter_changes_are_validated(start_localizer, client):
    from rcl_interfaces.msg import Parameter as ParameterMsg
    from rcl_interfaces.msg import ParameterType, ParameterValue
    from rcl_interfaces.srv import DescribeParameters, SetParameters

    from vgssl_ros.node.parameters import PARAMETERS, descriptor

    proc = start_localizer()
    client.wait_ready(proc)
    cli = client.node.create_client(SetParameters, "/localizer/set_parameters")
    assert cli.wait_for_service(timeout_sec=10)

    def set_param(name: str, value: ParameterValue):
        future = cli.call_async(SetParameters.Request(parameters=[ParameterMsg(name=name, value=value)]))
        assert client.spin_until(future.done, 10)
        return future.result().results[0]

    describe = client.node.create_client(DescribeParameters, "/localizer/describe_parameters")
    assert describe.wait_for_service(timeout_sec=10)
    future = describe.call_async(DescribeParameters.Request(names=list(PARAMETERS)))
    assert client.spin_until(future.done, 10)
    declared = {d.name: d for d in future.result().descriptors}
    for name, spec in PARAMETERS.items():  # every parameter is declared as the table says
        assert declared[name].description == descriptor(spec).description, name
        assert declared[name].read_only == (not spec.runtime), name
    double = ParameterType.PARAMETER_DOUBLE
    # With the filter on (the default) min_similarity gates single frames only; filter_min_confidence the fix.
    assert set_param("min_similarity", ParameterValue(type=double, double_value=0.99)).successful
    assert not set_param("min_similarity", ParameterValue(type=double, double_value=3.0)).successful
    assert not set_param("model", ParameterValue(type=ParameterType.PARAMETER_STRING, string_value="x.onnx")).successful
    assert not set_param(
        "filter_enabled", ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=False)
    ).successful
    for i, place in enumerate((2, 3, 4, 5)):  # a short drive: the filter locks on
        client.image_pub.publish(client.image(query(place), (10 + i, 0)))
        assert client.spin_until(lambda i=i: len(client.got["fix"]) > i, 20), node_output(proc)
    assert client.got["fix"][3].status.status == 0  # the filtered fix is not gated by min_similarity
    assert client.spin_until(lambda: client.diagnostic_values().get("processed") == "4", 5)
    rejected = int(client.diagnostic_values()["rejected"])
    assert set_param("filter_min_confidence", ParameterValue(type=double, double_value=1.0)).successful
    client.image_pub.publish(client.image(query(6), (14, 0)))
    assert client.spin_until(lambda: len(client.got["fix"]) == 5, 20), node_output(proc)
    assert client.got["fix"][4].status.status == -1  # the accepted threshold rejects every filtered fix now
    assert client.spin_until(lambda: client.diagnostic_values().get("rejected") == str(rejected + 1), 5)


@pytest.mark.slow
def test_start_up_log_names_the_remapped_topic(start_localizer, client):
    proc = start_localizer(remap=("image:=/camera/image_raw",))
    assert client.spin_until(lambda: "localizing" in node_output(proc) or proc.poll() is not None, 60)
    assert "localizing /camera/image_raw against" in node_output(proc), node_output(proc)


@pytest.mark.slow
@pytest.mark.parametrize(
    "params,expect",
    [
        ([], "parameter 'model' is required"),
        (["-p", "model:=/nonexistent/model.onnx", "-p", "map:=/nonexistent/map"], "does not exist"),
        (["-p", "model:=m.onnx", "-p", "map:=m", "-p", "top_k:=0"], "top_k"),
        (
            ["-p", "model:=m.onnx", "-p", "map:=m", "-p", "qos_reliability:=sometimes"],
            "valid values: best_effort, reliable",
        ),
        (["-p", "model:=/tmp/a'b/model.onnx", "-p", "map:=m"], "model /tmp/a'b/model.onnx does not exist"),
        (["-p", "model:='/tmp/a", "-p", "map:=m"], "a -p value is read as YAML: quote it"),
    ],
)
def test_bad_start_up_exits_with_a_clear_error(params, expect, ros_env):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vgssl_ros.node.localizer_node",
            "--ros-args",
            "--params-file",
            str(REPO / "config" / "localizer.yaml"),
            *params,
        ],
        cwd=REPO,
        env=ros_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert expect in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_map_of_another_model_is_refused(localizer_assets, ros_env, tmp_path):
    from vgssl_train.cli import main as vgssl_train

    other = tmp_path / "other.onnx"
    database = localizer_assets["dataset"] / "images" / "test" / "database"
    assert vgssl_train(["export", "--resize", "32", "64", "--out", str(other), "--parity-images", str(database)]) == 0
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vgssl_ros.node.localizer_node",
            "--ros-args",
            "-p",
            f"model:={other}",
            "-p",
            f"map:={localizer_assets['map']}",
        ],
        cwd=REPO,
        env=ros_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "built with another model" in proc.stderr


@pytest.mark.slow
def test_help_lists_parameters():
    proc = subprocess.run(
        [sys.executable, "-m", "vgssl_ros.node.localizer_node", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "min_similarity" in proc.stdout and "usage: localizer" in proc.stdout
