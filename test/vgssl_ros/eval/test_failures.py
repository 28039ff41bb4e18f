"""The failure gallery: the longest wrong stretches, the map's own images where it can still find them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from test.vgssl_ros.eval.drive_frames import PLACE_IDS, PLACES_UTM, made_up_drive
from vgssl_ros.core.map import Map
from vgssl_ros.core.places import Places
from vgssl_ros.eval.failures import plot_failures, worst_stretches
from vgssl_ros.eval.metrics import DriveOutcome
from vgssl_ros.eval.place_images import place_image_loader
from vgssl_ros.eval.plots import plot_trajectory
from vgssl_ros.geo import UtmZone

PNG = b"\x89PNG\r\n\x1a\n"


def _map(source: dict, path: Path) -> Map:
    n = len(PLACES_UTM)
    places = Places(PLACES_UTM, np.zeros((n, 2)), np.full(n, np.nan), np.full(n, np.nan), PLACE_IDS)
    return Map(path, {"created": {"source": source}}, None, places, UtmZone(33, "W"), PLACES_UTM.mean(axis=0))


def test_stretches_longest_first_with_their_worst_frame():
    frames = made_up_drive(single_wrong=(2, 3, 4, 7))
    frames.modes["single"].position[3] += [0.0, 50.0]  # frame 3 is the worst of the first stretch
    found = worst_stretches(frames, "single", 25.0)
    assert [(s.first, s.last) for s in found] == [(2, 4), (7, 7)]
    assert found[0].worst == 3 and found[0].error_m == np.float64(150.0) and found[0].probability == 0.95
    assert found[0].seconds == 1.5 and found[0].metres == 30.0
    assert len(worst_stretches(frames, "single", 25.0, n=1)) == 1
    assert worst_stretches(frames, "single", 200.0) == []  # nothing wrong within 200 m
    assert [(s.first, s.last) for s in worst_stretches(frames, "filtered", 25.0)] == [(5, 5)]


def test_place_images_come_from_the_map_source_while_it_exists(tmp_path):
    folder = tmp_path / "database"
    (folder / "sub").mkdir(parents=True)
    cv2.imwrite(str(folder / "place1.jpg"), np.full((8, 8, 3), 200, np.uint8))
    cv2.imwrite(str(folder / "sub" / "place2.jpg"), np.zeros((8, 8, 3), np.uint8))  # VPR folders are read recursively
    found = place_image_loader(_map({"kind": "images", "path": str(folder)}, tmp_path / "map"))([0, 1, 2])
    assert sorted(found) == [1, 2] and found[1].shape == (8, 8, 3) and found[1].mean() == 200
    (tmp_path / "manifest.csv").write_text("image,lat,lon\n")
    cv2.imwrite(str(tmp_path / "place4.jpg"), np.zeros((4, 4, 3), np.uint8))
    by_csv = place_image_loader(_map({"kind": "csv", "path": str(tmp_path / "manifest.csv")}, tmp_path))([4, 5])
    assert list(by_csv) == [4]
    gone = place_image_loader(_map({"kind": "images", "path": str(tmp_path / "moved")}, tmp_path))([1])
    assert gone == {}
    assert place_image_loader(_map({}, tmp_path))([1]) == {}  # a map that does not say where its images were


def test_gallery_and_route_plot_are_written(tmp_path):
    frames = made_up_drive()
    stretches = worst_stretches(frames, "single", 25.0)
    query = {float(frames.stamps[s.worst]): np.zeros((6, 8, 3), np.uint8) for s in stretches[:1]}
    out = plot_failures(
        frames, "single", stretches, query, lambda p: {}, PLACE_IDS, PLACES_UTM, tmp_path / "failures.png", "drive"
    )
    assert out.read_bytes()[:8] == PNG
    empty = plot_failures(frames, "single", [], {}, lambda p: {}, PLACE_IDS, PLACES_UTM, tmp_path / "none.png", "d")
    assert empty.read_bytes()[:8] == PNG
    m = frames.modes["single"]
    outcome = DriveOutcome(frames.gt_utm, m.position, m.accepted, np.zeros((10, 1), np.int64), np.ones(10))
    marked = [(s.first, s.last) for s in stretches]
    route = plot_trajectory({"single": outcome}, PLACES_UTM, tmp_path / "t.png", "d", stretches={"single": marked})
    assert route.read_bytes()[:8] == PNG


def _coloured_columns(png: Path) -> list[tuple[float, float]]:
    """Per third of the figure (query, answered, true): mean x of its reddish and of its bluish pixels (nan: none)."""
    rgb = cv2.cvtColor(cv2.imread(str(png)), cv2.COLOR_BGR2RGB).astype(int)
    third = rgb.shape[1] // 3
    out = []
    for c in range(3):
        part = rgb[:, c * third : (c + 1) * third]
        red = np.nonzero(part[..., 0] - part[..., 2] > 40)[1]
        blue = np.nonzero(part[..., 2] - part[..., 0] > 40)[1]
        out.append((red.mean() if len(red) else np.nan, blue.mean() if len(blue) else np.nan))
    return out


def test_gallery_lays_the_activation_map_over_every_picture(tmp_path):
    from test.vgssl_ros.activation_model import half_red, red_model
    from vgssl_ros.core import Embedder

    frames = made_up_drive()
    stretches = worst_stretches(frames, "single", 25.0)
    queries = {float(frames.stamps[s.worst]): half_red(60, 80) for s in stretches}  # redder on the left
    places = lambda ps: {p: half_red(40, 80, red_left=False) for p in ps}  # noqa: E731 (redder on the right)
    args = (frames, "single", stretches, queries, places, PLACE_IDS, PLACES_UTM)
    plain = plot_failures(*args, tmp_path / "plain.png", "drive")
    embedder = Embedder(red_model(tmp_path / "red.onnx"))
    heat = plot_failures(*args, tmp_path / "heat.png", "drive", activations=embedder.activations)
    assert all(np.isnan(red) and np.isnan(blue) for red, blue in _coloured_columns(plain))  # grey pictures, no heat
    (query_red, query_blue), *places_shown = _coloured_columns(heat)
    assert query_red < query_blue  # the query's map is high on its left: red there, blue on the right
    assert all(red > blue for red, blue in places_shown)  # the places' maps are high on their right
