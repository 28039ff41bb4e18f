"""write_map: a map directory appears complete or not at all, even when a write fails part-way."""

from __future__ import annotations

import datetime as dt
import json
import platform
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest

from test.conftest import ORIGIN, ZONE
from vgssl_ros.core import Map, Places
from vgssl_ros.core.map import INDEX_FILE, MAP_JSON, PLACES_FILE
from vgssl_ros.geo import utm_to_latlon
from vgssl_ros.mapping import write_map
from vgssl_ros.mapping import writer as writer_module

SHA = "b" * 64


def _inputs(n: int, seed: int) -> tuple[np.ndarray, Places]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 16)).astype(np.float32)
    utm = ORIGIN + np.c_[np.zeros(n), 10.0 * np.arange(n)]
    ids = np.array([f"img{i}" for i in range(n)])
    places = Places(utm, utm_to_latlon(utm, ZONE), np.full(n, 90.0), np.arange(n, dtype=float), ids)
    return x / np.linalg.norm(x, axis=1, keepdims=True), places


def _write(out: Path, n: int, seed: int, overwrite: bool = False) -> dict:
    x, places = _inputs(n, seed)
    return write_map(out, x, places, ZONE, SHA, {"vgssl.backbone": "synthetic"}, "flat", {"kind": "test"}, overwrite)


def _partial_then_raise(path: str | Path) -> None:
    with open(path, "wb") as f:
        f.write(b"\x00partial")
    raise OSError(28, "No space left on device")


def _break_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faiss, "write_index", lambda index, path: _partial_then_raise(path))


def _break_places(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Places, "save", lambda self, path: _partial_then_raise(path))


def _break_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "write_json_atomic", lambda path, payload: _partial_then_raise(path))


BREAKS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "index": _break_index,
    "places": _break_places,
    "map.json": _break_json,
}


@pytest.mark.parametrize("broken", BREAKS)
def test_overwrite_failing_part_way_keeps_the_old_map_and_leaves_nothing_partial(tmp_path, monkeypatch, broken):
    out = tmp_path / "m"
    _write(out, 6, seed=0)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    BREAKS[broken](monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        _write(out, 9, seed=1, overwrite=True)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    old = Map.load(out, model_sha256=SHA, dim=16)
    assert len(old.places) == 6 and old.index.ntotal == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no staging folder or temporary under any name


@pytest.mark.parametrize("broken", BREAKS)
def test_a_new_map_failing_part_way_does_not_appear(tmp_path, monkeypatch, broken):
    BREAKS[broken](monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        _write(tmp_path / "m", 6, seed=0)
    assert list(tmp_path.iterdir()) == []


def test_map_json_records_model_files_and_provenance(tmp_path):
    x, places = _inputs(4, seed=0)
    metadata = {"vgssl.backbone": "synthetic", "vgssl.descriptor_dim": "16", "other.key": "dropped"}
    info = write_map(tmp_path / "m", x, places, ZONE, SHA, metadata, "flat", {"kind": "test", "images": "/data"})
    on_disk = json.loads((tmp_path / "m" / MAP_JSON).read_text())
    assert on_disk == info
    assert info["model"] == {"backbone": "synthetic", "descriptor_dim": "16"} and info["model_sha256"] == SHA
    assert info["index"]["file"] == INDEX_FILE and info["places_file"] == PLACES_FILE
    assert (tmp_path / "m" / INDEX_FILE).is_file() and (tmp_path / "m" / PLACES_FILE).is_file()
    created = info["created"]
    assert created["tool"] == "vgssl-map build" and created["source"] == {"kind": "test", "images": "/data"}
    assert created["host"] == platform.node()
    made = dt.datetime.fromisoformat(created["time"])
    assert made.utcoffset() == dt.timedelta(0) and abs(dt.datetime.now(dt.UTC) - made) < dt.timedelta(minutes=5)


def test_an_existing_map_is_refused_unless_overwrite_and_counts_must_match(tmp_path):
    _write(tmp_path / "m", 4, seed=0)
    x, places = _inputs(4, seed=0)
    with pytest.raises(FileExistsError, match="already exists"):
        write_map(tmp_path / "m", x, places, ZONE, SHA, {}, "flat", {"kind": "test"})  # overwrite defaults to False
    with pytest.raises(ValueError, match="^3 descriptors for 4 places$"):
        write_map(tmp_path / "n", x[:3], places, ZONE, SHA, {}, "flat", {"kind": "test"})
