"""The localizer as a managed node, driven from this process over real DDS: every lifecycle transition and what is
published in each state, a failed configure, /initialpose, ~/reset and the latched ~/map_places."""

from __future__ import annotations

import signal
import subprocess

import numpy as np
import pytest

from test.vgssl_ros.node.conftest import Client, node_output
from test.vgssl_ros.node.test_localizer_node import query, true_utm

QUIET_S = 1.5  # how long "nothing is published" is watched for


def call(client: Client, srv_type, name: str, request, timeout: float = 60.0):
    """Call service ``name`` and wait for its answer."""
    cli = client.node.create_client(srv_type, name)
    assert cli.wait_for_service(timeout_sec=30), f"no service {name}"
    future = cli.call_async(request)
    assert client.spin_until(future.done, timeout), f"{name} did not answer"
    return future.result()


def transition(client: Client, node: str, transition_id: int) -> bool:
    """lifecycle_msgs ChangeState on ``node``; whether it succeeded."""
    from lifecycle_msgs.msg import Transition
    from lifecycle_msgs.srv import ChangeState

    request = ChangeState.Request(transition=Transition(id=transition_id))
    return bool(call(client, ChangeState, f"/{node}/change_state", request).success)


def state(client: Client, node: str) -> str:
    """The node's lifecycle state label (GetState)."""
    from lifecycle_msgs.srv import GetState

    return str(call(client, GetState, f"/{node}/get_state", GetState.Request()).current_state.label)


def counts(client: Client) -> dict[str, int]:
    """How many messages of each kind the client has received so far."""
    return {key: len(msgs) for key, msgs in client.got.items()}


def quiet(client: Client, before: dict[str, int]) -> bool:
    """Nothing new published for QUIET_S seconds after ``before``."""
    client.spin_until(lambda: False, QUIET_S)
    return counts(client) == before


def map_places(client: Client, topic: str = "/localizer/map_places") -> list:
    """A fresh, late-joining transient-local subscription to ~/map_places: what it receives within a few seconds."""
    from geometry_msgs.msg import PoseArray

    from vgssl_ros.node.outputs import LATCHED

    got: list = []
    sub = client.node.create_subscription(PoseArray, topic, got.append, LATCHED)
    client.spin_until(lambda: bool(got), 5.0)
    client.node.destroy_subscription(sub)
    return got


def initial_pose(client: Client, place: int, frame: str = "map", var: float = 25.0):
    """An /initialpose at ``place`` (map-relative) with x/y variance ``var`` m^2."""
    from geometry_msgs.msg import PoseWithCovarianceStamped

    msg = PoseWithCovarianceStamped()
    msg.header.frame_id = frame
    xy = true_utm(place) - client.map_origin
    msg.pose.pose.position.x, msg.pose.pose.position.y = float(xy[0]), float(xy[1])
    cov = np.zeros((6, 6))
    cov[0, 0] = cov[1, 1] = var
    msg.pose.covariance = [float(v) for v in cov.reshape(-1)]
    return msg


def drive(client: Client, proc: subprocess.Popen, places: list[int], first_stamp: int) -> list[float]:
    """Send one query image per place (waiting for each fix); the fixes' errors (m) to the true places."""
    from vgssl_ros.geo import latlon_to_utm

    errors = []
    for i, place in enumerate(places):
        n = len(client.got["fix"])
        client.image_pub.publish(client.image(query(place), (first_stamp + i, 0)))
        assert client.spin_until(lambda n=n: len(client.got["fix"]) > n, 30), node_output(proc)
        fix = client.got["fix"][-1]
        en, _ = latlon_to_utm(np.array([fix.latitude]), np.array([fix.longitude]), client.map_zone)
        errors.append(float(np.linalg.norm(en[0] - true_utm(place))))
    return errors


def wait_log(client: Client, proc: subprocess.Popen, text: str, times: int = 1, timeout: float = 10.0) -> None:
    """Wait until the node has logged ``text`` ``times`` times."""
    assert client.spin_until(lambda: node_output(proc).count(text) >= times, timeout), node_output(proc)


@pytest.mark.slow
def test_lifecycle_initial_pose_reset_and_map_places(start_localizer, client, localizer_assets, tmp_path):
    from geometry_msgs.msg import PoseWithCovarianceStamped
    from lifecycle_msgs.msg import Transition
    from std_srvs.srv import Trigger

    from vgssl_ros.core.map import Map

    geo_map = Map.load(localizer_assets["map"])
    client.map_origin, client.map_zone = geo_map.origin, geo_map.zone
    broken = start_localizer(
        "autostart:=false", geo_map=tmp_path / "no_map", remap=("__node:=broken",)
    )  # both start together
    proc = start_localizer("autostart:=false", "qos_reliability:=reliable")

    # A configure that fails (the map is missing): the node says why, stays unconfigured and alive.
    assert state(client, "broken") == "unconfigured"
    assert not transition(client, "broken", Transition.TRANSITION_CONFIGURE)
    assert state(client, "broken") == "unconfigured" and broken.poll() is None
    assert "configure failed" in node_output(broken) and "no_map" in node_output(broken)
    assert transition(client, "broken", Transition.TRANSITION_UNCONFIGURED_SHUTDOWN)
    assert state(client, "broken") == "finalized"

    # Unconfigured: no publisher, nothing published, frames ignored.
    assert state(client, "localizer") == "unconfigured"
    before = counts(client)
    client.image_pub.publish(client.image(query(3), (1, 0)))
    assert quiet(client, before) and client.node.count_publishers("/localizer/fix") == 0

    # Inactive: map loaded, publishers exist but publish nothing (not even /diagnostics or ~/map_places).
    assert transition(client, "localizer", Transition.TRANSITION_CONFIGURE)
    assert state(client, "localizer") == "inactive" and client.node.count_publishers("/localizer/fix") == 1
    client.image_pub.publish(client.image(query(3), (2, 0)))
    assert quiet(client, before) and not map_places(client)
    assert client.image_pub.get_subscription_count() == 0

    # Active: ~/map_places for a late joiner, /diagnostics, fixes.
    assert transition(client, "localizer", Transition.TRANSITION_ACTIVATE)
    assert state(client, "localizer") == "active"
    places = map_places(client)
    assert len(places) == 1 and places[0].header.frame_id == "map" and len(places[0].poses) == len(geo_map.places)
    xy = np.array([[p.position.x, p.position.y] for p in places[0].poses])
    assert np.allclose(xy + geo_map.origin, geo_map.places.utm)
    client.wait_ready(proc)

    # /initialpose: other frame or non-finite covariance refused; a right one is right from the first frame.
    client.initial_pose_pub = client.node.create_publisher(PoseWithCovarianceStamped, "/initialpose", 10)
    assert client.spin_until(lambda: client.initial_pose_pub.get_subscription_count() > 0, 10)
    client.initial_pose_pub.publish(initial_pose(client, 3, frame="odom"))
    wait_log(client, proc, "initial pose in frame 'odom' refused: send it in map_frame 'map'")
    client.initial_pose_pub.publish(initial_pose(client, 3, var=float("nan")))
    wait_log(client, proc, "is not finite")
    client.initial_pose_pub.publish(initial_pose(client, 3))
    wait_log(client, proc, "taken: the filter starts from it")
    assert max(drive(client, proc, [3, 4, 5], first_stamp=10)) < 25.0
    wait_log(client, proc, "belief seeded on")

    # ~/reset: the filter starts again (frames since reset: 1 after one frame).
    response = call(client, Trigger, "/localizer/reset", Trigger.Request())
    assert response.success and "re-acquires" in response.message
    drive(client, proc, [6], first_stamp=13)
    assert client.spin_until(lambda: client.diagnostic_values().get("filter_frames") == "1", 5)

    # A wrong initial pose far from the truth (440 m): believed at first, then the drive wins.
    client.initial_pose_pub.publish(initial_pose(client, 11))
    wait_log(client, proc, "taken: the filter starts from it", times=2)
    errors = drive(client, proc, list(range(12)), first_stamp=14)
    assert errors[0] > 25.0 and max(errors[6:]) < 25.0, errors

    # Deactivate: frames are no longer taken; the map stays loaded (activating again needs no configure).
    assert transition(client, "localizer", Transition.TRANSITION_DEACTIVATE)
    assert state(client, "localizer") == "inactive"
    before = counts(client)
    client.image_pub.publish(client.image(query(2), (40, 0)))
    assert quiet(client, before)
    assert transition(client, "localizer", Transition.TRANSITION_ACTIVATE)
    assert max(drive(client, proc, [3], first_stamp=41)) < 25.0
    wait_log(client, proc, "localizing /image against 12 places", times=2)

    # Cleanup releases the publishers; configured again it works; shutdown (from active) stops it all and
    # finalizes; the process then exits cleanly on SIGINT.
    assert transition(client, "localizer", Transition.TRANSITION_DEACTIVATE)
    assert transition(client, "localizer", Transition.TRANSITION_CLEANUP)
    assert state(client, "localizer") == "unconfigured"
    assert client.spin_until(lambda: client.node.count_publishers("/localizer/fix") == 0, 5)
    assert transition(client, "localizer", Transition.TRANSITION_CONFIGURE)
    assert transition(client, "localizer", Transition.TRANSITION_ACTIVATE)
    assert max(drive(client, proc, [4], first_stamp=42)) < 25.0
    assert transition(client, "localizer", Transition.TRANSITION_ACTIVE_SHUTDOWN)
    assert state(client, "localizer") == "finalized"
    assert client.spin_until(lambda: client.node.count_publishers("/localizer/fix") == 0, 5)
    assert client.image_pub.get_subscription_count() == 0
    for p in (proc, broken):
        p.send_signal(signal.SIGINT)
        assert p.wait(20) == 0, node_output(p)
    assert "Traceback" not in node_output(proc) + node_output(broken)
