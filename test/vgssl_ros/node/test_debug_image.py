"""~/debug_image over real DDS: a subscriber gets the camera frame beside the thumbnail of the published place (with
the model's activation map over the frame where the model was exported with it)."""

from __future__ import annotations

import numpy as np
import pytest

from test.conftest import place_image
from test.vgssl_ros.activation_model import half_red, red_model
from test.vgssl_ros.node.conftest import node_output

RELIABLE = "qos_reliability:=reliable"
"""The tests are about the view, not the camera QoS: with the best-effort default, a 922 kB frame between processes
goes out as UDP fragments that a busy machine can drop, every one of them (README, Fast DDS)."""


@pytest.mark.slow
def test_debug_image_shows_the_frame_beside_the_matched_place(start_localizer, debug_client, localizer_assets):
    from vgssl_ros.core.map import Map
    from vgssl_ros.geo import latlon_to_utm

    client = debug_client
    views = client.got["debug_image"]
    proc = start_localizer("filter_enabled:=false", RELIABLE)
    client.wait_ready(proc)
    assert client.spin_until(lambda: client.node.count_publishers("/localizer/debug_image") > 0, 10)
    frame = place_image(3, 480, 640, variant=1)
    for i in range(30):  # until the node has matched our subscription (it renders only for a known subscriber)
        client.image_pub.publish(client.image(frame, (42, i)))
        if client.spin_until(lambda: bool(views), 3):
            break
    fixes = len(client.got["fix"])
    assert views, f"no debug view after {i + 1} frames ({fixes} fixes came back); node said:\n{node_output(proc)}"
    msg = views[0]
    assert msg.header.stamp.sec == 42 and msg.encoding == "rgb8"
    assert msg.step == 3 * msg.width
    view = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.width, 3).astype(float)
    caption, height = 22, 240
    camera = view[caption : caption + height, :320]
    assert np.abs(camera - place_image(3, height, 320, variant=1)).mean() < 10

    def same() -> list:
        return [f for f in client.got["fix"] if f.header.stamp == msg.header.stamp]

    assert client.spin_until(lambda: bool(same()), 5)
    fix, geo_map = same()[0], Map.load(localizer_assets["map"])
    utm = latlon_to_utm(np.array([fix.latitude]), np.array([fix.longitude]), geo_map.zone)[0][0]
    published = int(np.argmin(np.linalg.norm(geo_map.places.utm - utm, axis=1)))  # the place ~/fix published
    shown = view[caption : caption + height, 324 : 324 + 480]  # a 64x32 map image, scaled
    errors = [np.abs(shown - place_image(p, height, 480)).mean() for p in range(12)]  # place p's map image
    assert int(np.argmin(errors)) == published and errors[published] < 15, errors


@pytest.mark.slow
def test_debug_image_lays_the_activation_map_over_the_frame(start_localizer, debug_client, localizer_assets, tmp_path):
    from vgssl_ros.mapping.cli import main as vgssl_map

    model, geo_map = red_model(tmp_path / "red.onnx"), tmp_path / "map"
    database = localizer_assets["dataset"] / "images" / "test" / "database"
    assert vgssl_map(["build", "--model", str(model), "--images", str(database), "--out", str(geo_map), "--quiet"]) == 0
    client = debug_client
    views = client.got["debug_image"]
    proc = start_localizer("filter_enabled:=false", RELIABLE, model=model, geo_map=geo_map)
    client.wait_ready(proc)
    frame = half_red(480, 640)  # the model looks where the frame is redder than green: its left half
    for i in range(30):
        client.image_pub.publish(client.image(frame, (7, i)))
        if client.spin_until(lambda: bool(views), 3):
            break
    assert views, f"no debug view after {i + 1} frames; node said:\n{node_output(proc)}"
    msg = views[0]
    view = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.width, 3).astype(int)
    camera = view[22 : 22 + 240, :320]
    left, right = camera[:, 20:140].reshape(-1, 3).mean(axis=0), camera[:, 180:300].reshape(-1, 3).mean(axis=0)
    assert left[0] - left[2] > 40 and right[2] - right[0] > 40, (left, right)  # red where it looked, blue elsewhere
