"""`vgssl-train dataset`: rosbag2 drives (simulated and hand-made) to a VPR-layout dataset: layout, roles, splits
with no place shared across them, skips by reason, every bad input as one line with nothing written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from test.conftest import REPO, place_image
from vgssl_ros.bags import DriveBagWriter, DriveTopics
from vgssl_ros.datasets import parse_vpr_name, read_vpr_folder
from vgssl_ros.geo.grid import pairs_within
from vgssl_ros.sim import Camera, WorldSpec
from vgssl_ros.sim.drive import DriveSpec, write_drive
from vgssl_ros.sim.world import build_world
from vgssl_train.cli import main
from vgssl_train.drives import frames as drive_frames

COMPRESSED = "/camera/image_raw/compressed"
T0_NS = 1_717_243_200 * 1_000_000_000


@pytest.fixture(scope="module")
def sim_drives(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two simulated traversals of a 500 m route: day (sqlite3, bgr8) and dusk (mcap, rgb8), both also JPEG."""
    world = build_world(WorldSpec(seed=3, route_m=500.0))
    folder = tmp_path_factory.mktemp("drives")
    camera = Camera(width=64, height=48)
    drives = []
    for name, storage, encoding, seed in (("day", "sqlite3", "bgr8", 1), ("dusk", "mcap", "rgb8", 2)):
        spec = DriveSpec(name, speed_mps=10.0, camera_hz=4.0, storage=storage, encoding=encoding, seed=seed)
        write_drive(
            world, folder / name, (0.0, world.length_m), DriveSpec(**{**spec.__dict__, "compressed": True}), camera
        )
        drives.append(folder / name)
    return drives[0], drives[1]


def _files(root: Path) -> list[tuple[str, str, np.ndarray, list[str]]]:
    """(split, role, utm [2], name fields) of every image below root/images."""
    rows = []
    for path in sorted((root / "images").rglob("*.jpg")):
        east, north, *_ = parse_vpr_name(path.name)
        rows.append((path.parent.parent.name, path.parent.name, np.array([east, north]), path.name.split("@")))
    return rows


def _dataset(*args: str | Path) -> int:
    return main(["dataset", "--quiet", *map(str, args)])


@pytest.mark.parametrize("topic", ["/camera/image_raw", COMPRESSED])
def test_sim_drives_make_a_dataset_with_roles_and_leak_free_splits(sim_drives, tmp_path, topic):
    day, dusk = sim_drives
    out = tmp_path / "ds"
    assert _dataset("--drive", day, "--drive", dusk, "--out", out, "--image-topic", topic, "--max-side", "32") == 0
    info = json.loads((out / "dataset.json").read_text())
    rows = _files(out)
    for split in ("train", "val", "test"):
        for role in ("database", "queries"):
            images = read_vpr_folder(out / "images" / split / role)
            assert len(images) == info["counts"][split][role] > 0
    # Roles: the database is the first drive, the queries the second; heading and capture time are in the name.
    assert {r[3][-2] for r in rows if r[1] == "database"} == {"drive0"}
    assert {r[3][-2] for r in rows if r[1] == "queries"} == {"drive1"}
    assert [d["role"] for d in info["drives"]] == ["database", "queries"]
    assert info["drives"][0]["path"] == str(day.resolve()) and info["topics"]["image"] == topic
    headings = np.array([float(r[3][9]) for r in rows if r[3][9]])
    assert len(headings) > 0.9 * len(rows) and ((0 <= headings) & (headings < 360)).all()
    stamps = [float(r[3][13]) for r in sorted(rows, key=lambda r: r[3][7]) if r[1] == "database"]  # by frame id
    assert stamps == sorted(stamps) and stamps[0] > 1.7e9
    # Splits: no place of one split within 25 m of a place of another (database and queries together).
    utm, split = np.stack([r[2] for r in rows]), np.array([r[0] for r in rows])
    a, b, _ = pairs_within(utm, utm, 25.0)
    assert (split[a] == split[b]).all()
    # --min-spacing 2 m: consecutive kept database frames of a split are at least 2 m apart; a 10 m/s drive at
    # 4 Hz moves 2.5 m a frame, so every frame with a good fix is kept or counted.
    db = info["drives"][0]
    assert db["images"] == db["kept"] + sum(db["skipped"].values()) and db["skipped"].get("split_border", 0) > 0
    assert sum(info["counts"][s]["database"] for s in info["counts"]) == db["kept"]
    # --max-side 32: 64x48 frames stored as 32x24.
    import cv2

    assert cv2.imread(str(next((out / "images" / "val" / "queries").iterdir()))).shape == (24, 32, 3)


def test_database_drive_option_swaps_the_roles(sim_drives, tmp_path):
    day, dusk = sim_drives
    out = tmp_path / "ds"
    assert (
        _dataset("--drive", day, "--drive", dusk, "--database-drive", dusk, "--out", out, "--splits", "1", "1", "1")
        == 0
    )
    info = json.loads((out / "dataset.json").read_text())
    assert [Path(d["path"]).name for d in info["drives"]] == ["dusk", "day"]
    assert info["options"]["splits"] == pytest.approx({"train": 1 / 3, "val": 1 / 3, "test": 1 / 3})


# --- Hand-made drives: a straight street north, one image and one fix every 5 m (2 Hz at 10 m/s). ---------------


def _write_bag(
    path: Path,
    latlon: np.ndarray,
    std_m: np.ndarray | None = None,
    fix_kept: np.ndarray | None = None,
    image_stamp_index: np.ndarray | None = None,
    topics: DriveTopics = DriveTopics(),
    storage: str = "sqlite3",
) -> Path:
    """A bag with an image and a fix at each of ``latlon`` [N, 2] every 0.5 s; ``std_m`` [N] per fix, ``fix_kept``
    [N] which fixes are written, ``image_stamp_index`` [N] whose stamp each image carries (out of order if shuffled)."""
    n = len(latlon)
    std_m = np.ones(n) if std_m is None else std_m
    fix_kept = np.ones(n, bool) if fix_kept is None else fix_kept
    order = np.arange(n) if image_stamp_index is None else image_stamp_index
    with DriveBagWriter(path, storage, topics) as bag:
        for i in range(n):
            ns = T0_NS + i * 500_000_000
            if fix_kept[i]:
                bag.write_fix(ns, *latlon[i], 0.0, (std_m[i] ** 2, std_m[i] ** 2, 4 * std_m[i] ** 2))
            bag.write_image(T0_NS + int(order[i]) * 500_000_000, place_image(i % 50), receive_ns=ns + 1000)
    return path


def _street(n: int = 121, east_m: float = 0.0, lat: float = 48.78, lon: float = 9.18) -> np.ndarray:
    """lat/lon [n, 2] of a street due north (along a meridian) from (lat, lon) in 5 m steps, ``east_m`` metres east."""
    m_per_deg = 111_320.0
    return np.c_[lat + 5.0 * np.arange(n) / m_per_deg, np.full(n, lon + east_m / (m_per_deg * np.cos(np.radians(lat))))]


def test_skipped_frames_are_counted_by_reason(tmp_path):
    std = np.ones(121)
    std[20:25] = 10.0  # imprecise fixes: above --max-fix-std 5 m
    fix_kept = np.ones(121, bool)
    fix_kept[40:45] = False  # a 3 s gap in the fixes: longer than --max-fix-gap 1 s
    order = np.arange(121)
    order[60] = 10  # an image stamped earlier than the one before it
    db = _write_bag(tmp_path / "db", _street(), std, fix_kept, order)
    query = _write_bag(tmp_path / "q", _street(east_m=3.0))
    out = tmp_path / "ds"
    assert _dataset("--drive", db, "--drive", query, "--out", out, "--min-spacing", "0") == 0
    skipped = json.loads((out / "dataset.json").read_text())["drives"][0]["skipped"]
    assert {k: skipped[k] for k in ("fix_std", "fix_gap", "stamp_order")} == {
        "fix_std": 5,
        "fix_gap": 5,
        "stamp_order": 1,
    }
    assert "spacing" not in skipped  # --min-spacing 0 keeps every frame
    out2 = tmp_path / "ds2"
    assert _dataset("--drive", db, "--drive", query, "--out", out2, "--max-fix-std", "20", "--min-spacing", "12") == 0
    skipped = json.loads((out2 / "dataset.json").read_text())["drives"][1]["skipped"]
    assert skipped["spacing"] == 121 - 41  # every third frame (15 m) of 121 is kept


def test_drives_in_two_utm_zones_share_the_database_zone(tmp_path):
    """Zone 32 ends at 12 deg E: a database drive just west of it and queries 15 m east (zone 33) pair up."""
    db = _write_bag(tmp_path / "db", _street(lon=11.9999))
    query = _write_bag(tmp_path / "q", _street(lon=12.0001))
    out = tmp_path / "ds"
    assert _dataset("--drive", db, "--drive", query, "--out", out) == 0
    info = json.loads((out / "dataset.json").read_text())
    assert [d["utm_zone"] for d in info["drives"]] == ["32U", "33U"] and info["utm_zone"] == "32U"
    rows = _files(out)
    assert {r[3][3] + r[3][4] for r in rows} == {"32U"}
    utm = {role: np.stack([r[2] for r in rows if r[1] == role]) for role in ("database", "queries")}
    gap = np.linalg.norm(utm["queries"][:, None] - utm["database"][None], axis=2).min(axis=1)
    assert np.all((13 < gap) & (gap < 17))  # 0.0002 deg of longitude at 48.78 N is 14.7 m


def _fails(capsys, *args) -> str:
    """Run the command, expect exit 2 and one line on stderr; return that line."""
    assert _dataset(*args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vgssl-train dataset: error:") and "\n" not in err
    return err


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    db = _write_bag(tmp_path / "db", _street())
    out = tmp_path / "ds"
    far = _write_bag(tmp_path / "far", _street(east_m=100.0))
    err = _fails(capsys, "--drive", db, "--drive", far, "--out", out, "--image-topic", "/nope")
    assert "/nope is missing" in err and "Topics: /camera/image_raw (sensor_msgs/msg/Image), /gnss/fix" in err
    no_fix = _write_bag(tmp_path / "nofix", _street(), std_m=np.full(121, 9.0))
    err = _fails(capsys, "--drive", no_fix, "--drive", db, "--out", out)
    assert "no usable NavSatFix (0 with NO_FIX status, 121 with a horizontal standard deviation above 5 m)" in err
    err = _fails(capsys, "--drive", db, "--drive", far, "--out", out)
    assert "never comes within 25 m" in err and "(closest 100 m)" in err
    err = _fails(capsys, "--drive", db, "--out", out)
    assert "one drive only" in err and "--database-only" in err
    err = _fails(capsys, "--drive", db, "--drive", db, "--out", out)
    assert "given twice" in err
    backwards = _write_bag(tmp_path / "back", _street(east_m=3.0), image_stamp_index=np.arange(121)[::-1])
    err = _fails(capsys, "--drive", db, "--drive", backwards, "--out", out)
    assert "120 of 121 images have a header stamp not after the image before them" in err
    short = _write_bag(tmp_path / "short", _street(n=15, east_m=3.0))
    err = _fails(capsys, "--drive", short, "--drive", db, "--out", out)
    assert "split val gets 0 database" in err and "drive a longer route or change --splits" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back", "db", "far", "nofix", "short"]  # no ds, no .partial
    # An existing output is refused, not mixed into.
    out.mkdir()
    err = _fails(capsys, "--drive", db, "--drive", far, "--out", out)
    assert "already exists" in err


def test_one_drive_with_database_only_writes_map_images(tmp_path):
    db = _write_bag(tmp_path / "db", _street(n=21), storage="mcap")
    out = tmp_path / "ds"
    assert _dataset("--drive", db, "--out", out, "--database-only", "--min-spacing", "9") == 0
    images = read_vpr_folder(out / "database")
    assert len(images) == 11 and json.loads((out / "dataset.json").read_text())["counts"] == {"database": 11}
    assert not (out / "images").exists()


def test_an_interrupted_run_leaves_no_dataset(tmp_path, monkeypatch):
    db = _write_bag(tmp_path / "db", _street())
    query = _write_bag(tmp_path / "q", _street(east_m=3.0))
    written = []

    def interrupt(path, rgb, quality):
        written.append(path)
        if len(written) == 150:
            raise KeyboardInterrupt
        cv2.imwrite(str(path), rgb)

    import cv2

    monkeypatch.setattr(drive_frames, "_write_jpeg", interrupt)
    with pytest.raises(KeyboardInterrupt):
        _dataset("--drive", db, "--drive", query, "--out", tmp_path / "ds")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db", "q"]


@pytest.mark.slow
def test_a_killed_run_leaves_no_dataset_and_the_next_run_cleans_up(sim_drives, tmp_path):
    day, dusk = sim_drives
    out = tmp_path / "ds"
    cmd = [sys.executable, "-m", "vgssl_train", "dataset", "--drive", str(day), "--drive", str(dusk), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".ds.*.partial/.frames/0/*.jpg")) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists() and list(tmp_path.glob(".ds.*.partial"))
    assert subprocess.run(cmd + ["--quiet"], cwd=REPO, env=env, capture_output=True).returncode == 0
    assert out.is_dir() and not list(tmp_path.glob(".ds.*.partial"))


@pytest.mark.slow
def test_the_dataset_trains_and_builds_a_map(sim_drives, tmp_path, onnx_model):
    from vgssl_ros.core import Map
    from vgssl_ros.mapping.cli import main as map_main

    day, dusk = sim_drives
    out = tmp_path / "ds"
    assert _dataset("--drive", day, "--drive", dusk, "--out", out) == 0
    run = tmp_path / "run"
    tiny = ["--resize", "32", "64", "--batch-size", "4", "--method-arg", "proj_dim=32", "--no-progress"]
    assert (
        main(["train", "--method", "simclr", "--dataset", str(out), "--out", str(run), *tiny, "--max-steps", "2"]) == 0
    )
    assert (run / "best.pt").is_file()
    database = out / "images" / "test" / "database"
    args = ["build", "--model", str(onnx_model), "--images", str(database), "--out", str(tmp_path / "map"), "--quiet"]
    assert map_main(args) == 0
    assert len(Map.load(tmp_path / "map").places) == len(list(database.iterdir()))


@pytest.mark.slow
def test_reading_drives_needs_no_torch():
    code = (
        "import sys, vgssl_train.drives, vgssl_train.commands.dataset; "
        "bad = [m for m in ('torch', 'torchvision') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
