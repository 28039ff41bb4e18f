"""`vgssl-map build | info | query` and Map loading: sources, index types, validation, atomic output."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from test.conftest import ORIGIN, REPO, ZONE, place_image
from vgssl_ros.core import Embedder, Map, MapError, Places
from vgssl_ros.datasets import load_rgb, read_vpr_folder
from vgssl_ros.geo import utm_to_latlon
from vgssl_ros.mapping import build_map, write_map
from vgssl_ros.mapping.cli import main
from vgssl_ros.mapping.index_types import AUTO_FLAT_MAX_PLACES, resolve_index_type
from vgssl_ros.mapping.sources import folder_source


@pytest.fixture(scope="module")
def flat_map(tmp_path_factory, onnx_model, session_dataset):
    """A flat map of the session dataset's val database (12 places, 40 m apart)."""
    out = tmp_path_factory.mktemp("maps") / "val"
    assert (
        main(
            [
                "build",
                "--model",
                str(onnx_model),
                "--images",
                str(session_dataset / "images/val/database"),
                "--out",
                str(out),
                "--threads",
                "1",
            ]
        )
        == 0
    )
    return out


@pytest.mark.slow
def test_build_writes_the_map_contract(flat_map, onnx_model, session_dataset):
    info = json.loads((flat_map / "map.json").read_text())
    emb = Embedder(onnx_model)
    assert info["format_version"] == 1 and info["descriptor_dim"] == 1280 and info["metric"] == "inner_product"
    assert info["model_sha256"] == emb.model_sha256 and info["place_count"] == 12
    assert info["index"]["type"] == "flat" and info["utm_zone"] == {"number": 33, "band": "W"}
    assert info["created"]["source"]["kind"] == "images"
    m = Map.load(flat_map, model_sha256=emb.model_sha256, dim=emb.dim)
    assert len(m.places) == 12 and m.index.ntotal == 12
    np.testing.assert_allclose(m.origin, np.round(m.places.utm.mean(axis=0)))
    with np.load(flat_map / "places.npz", allow_pickle=False) as z:
        assert z["ids"].dtype.kind == "U"
    assert m.thumbnails is not None and len(m.thumbnails) == 12
    source = read_vpr_folder(session_dataset / "images/val/database")
    for i, place_id in enumerate(m.places.ids):  # each place's thumbnail is its own source image (64x32: kept)
        assert (
            np.abs(
                m.thumbnails.image(i).astype(float) - load_rgb(source.paths[list(source.ids).index(place_id)])
            ).mean()
            < 10
        )


@pytest.mark.slow
def test_build_without_thumbnails_and_info_says_so(tmp_path, onnx_model, session_dataset, capsys):
    out = tmp_path / "bare"
    folder = str(session_dataset / "images/val/database")
    assert main(["build", "--model", str(onnx_model), "--images", folder, "--out", str(out), "--no-thumbnails"]) == 0
    assert Map.load(out).thumbnails is None and not (out / "thumbnails.npz").exists()
    assert main(["info", str(out)]) == 0
    assert "thumbnails  none" in capsys.readouterr().out


@pytest.mark.slow
def test_quiet_build_prints_the_result_and_no_progress_or_embedder_line(tmp_path, onnx_model, session_dataset, capfd):
    import logging

    folder = str(session_dataset / "images/val/database")
    root = logging.getLogger()
    handler = logging.StreamHandler()  # what the console would show, as `vgssl-map` configures it
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        assert (
            main(["build", "--model", str(onnx_model), "--images", folder, "--out", str(tmp_path / "q"), "--quiet"])
            == 0
        )
        quiet = capfd.readouterr()
        assert main(["build", "--model", str(onnx_model), "--images", folder, "--out", str(tmp_path / "l")]) == 0
        loud = capfd.readouterr()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert "embedder:" not in quiet.err and "embedding map images" not in quiet.err and "12 places" in quiet.out
    assert "embedder:" in loud.err  # a plain build still says which provider runs


@pytest.mark.slow
def test_query_finds_the_place_of_a_new_view(flat_map, onnx_model, session_dataset, capsys):
    queries = read_vpr_folder(session_dataset / "images/val/queries")
    emb = Embedder(onnx_model)
    m = Map.load(flat_map, emb.model_sha256, emb.dim)
    _, idx = m.search(emb.embed([load_rgb(p) for p in queries.paths]), 1)
    found = np.linalg.norm(m.places.utm[idx[:, 0]] - queries.utm, axis=1) < 25
    assert found.mean() >= 0.75
    assert main(["query", str(flat_map), "--model", str(onnx_model), queries.paths[0], "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("sim ") == 2 and "UTM 33W" in out and "lat/lon" in out


@pytest.mark.slow
def test_info_prints_what_the_map_holds(flat_map, capsys):
    assert main(["info", str(flat_map)]) == 0
    out = capsys.readouterr().out
    assert "places      12" in out and "index flat" in out and "zone 33W" in out
    assert "thumbnails  12 JPEG, up to 160 px wide" in out


@pytest.mark.slow
def test_csv_source_and_min_spacing(onnx_model, session_dataset, tmp_path, capsys):
    images = read_vpr_folder(session_dataset / "images/test/database")
    manifest = tmp_path / "photos.csv"
    with manifest.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "lat", "lon"])
        w.writerows([p, f"{lat:.8f}", f"{lon:.8f}"] for p, (lat, lon) in zip(images.paths, images.latlon))
    out = tmp_path / "map"
    assert (
        main(["build", "--model", str(onnx_model), "--csv", str(manifest), "--out", f"{out}/", "--min-spacing", "70"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "6 spacing" in printed and f"wrote {out}: " in printed  # a trailing slash in --out is not echoed
    m = Map.load(out)
    assert len(m.places) == 6
    assert np.all(np.diff(m.places.utm[:, 1]) >= 70)


@pytest.mark.slow
def test_hnsw_agrees_with_flat_and_ivfpq_refuses_tiny_maps(flat_map, onnx_model, session_dataset, tmp_path, capsys):
    folder = str(session_dataset / "images/val/database")
    assert (
        main(["build", "--model", str(onnx_model), "--images", folder, "--out", str(tmp_path / "h"), "--index", "hnsw"])
        == 0
    )
    flat, hnsw = Map.load(flat_map), Map.load(tmp_path / "h")
    assert hnsw.info["index"]["params"]["efSearch"] == hnsw.index.hnsw.efSearch
    probe = np.random.default_rng(0).normal(size=(5, 1280)).astype(np.float32)
    np.testing.assert_array_equal(flat.search(probe, 3)[1], hnsw.search(probe, 3)[1])
    assert (
        main(
            ["build", "--model", str(onnx_model), "--images", folder, "--out", str(tmp_path / "i"), "--index", "ivfpq"]
        )
        == 2
    )
    assert "use --index flat" in capsys.readouterr().err and not (tmp_path / "i").exists()


def _copy_map(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


@pytest.mark.slow
@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda d: (d / "index.faiss").write_bytes((d / "index.faiss").read_bytes()[:100]), "truncated or corrupt"),
        (lambda d: (d / "index.faiss").unlink(), "cannot be read"),
        (lambda d: (d / "map.json").write_text("{"), "not valid JSON"),
        (lambda d: _edit(d, place_count=13), r"does not match map.json .*count"),
        (lambda d: _edit(d, format_version=2), "newer than this vgssl_ros"),
        (lambda d: _edit(d, descriptor_dim="1280"), "descriptor_dim must be an integer"),
        (lambda d: _edit(d, utm_zone={"number": 99, "band": "W"}), r"utm_zone.number must be an integer in \[1, 60\]"),
        (lambda d: (d / "places.npz").write_bytes(b"PK\x03\x04junk"), "places table"),
    ],
)
def test_damaged_maps_are_refused(flat_map, tmp_path, damage, message):
    d = _copy_map(flat_map, tmp_path / "m")
    damage(d)
    with pytest.raises(MapError, match=message):
        Map.load(d)


def _edit(d, **fields):
    info = json.loads((d / "map.json").read_text())
    info.update(fields)
    (d / "map.json").write_text(json.dumps(info))


@pytest.mark.slow
def test_map_of_another_model_or_dim_is_refused(flat_map, tmp_path, onnx_model, capsys):
    with pytest.raises(MapError, match="built with another model"):
        Map.load(flat_map, model_sha256="0" * 64)
    with pytest.raises(MapError, match="rebuild the map with this model"):
        Map.load(flat_map, dim=512)
    _edit(d := _copy_map(flat_map, tmp_path / "m"), model_sha256="f" * 64)
    assert main(["query", str(d), "--model", str(onnx_model), __file__]) == 2
    assert "another model" in capsys.readouterr().err


@pytest.mark.slow
def test_bad_sources_leave_no_map(onnx_model, tmp_path, capsys):
    plain = tmp_path / "plain"
    plain.mkdir()
    cv2.imwrite(str(plain / "IMG_0001.png"), place_image(1))
    out = tmp_path / "map"
    assert main(["build", "--model", str(onnx_model), "--images", str(plain), "--out", str(out)]) == 2
    assert "cannot parse position" in capsys.readouterr().err
    assert main(["build", "--model", str(onnx_model), "--images", str(tmp_path / "nothing"), "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["plain"]


@pytest.mark.slow
def test_failure_midway_leaves_the_old_map_untouched(onnx_model, session_dataset, flat_map, tmp_path):
    d = _copy_map(flat_map, tmp_path / "m")
    before = (d / "map.json").read_text()
    source = folder_source(session_dataset / "images/test/database")
    frames = list(source.frames)

    def broken():
        raise OSError("disk unplugged")

    frames[7].load = broken
    source.frames = iter(frames)
    with pytest.raises(OSError, match="disk unplugged"):
        build_map(Embedder(onnx_model), source, d, "flat", batch_size=4, overwrite=True, progress=False)
    assert (d / "map.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


@pytest.mark.slow
def test_existing_map_is_refused_without_overwrite(flat_map, onnx_model, session_dataset, capsys):
    assert (
        main(
            [
                "build",
                "--model",
                str(onnx_model),
                "--images",
                str(session_dataset / "images/val/database"),
                "--out",
                str(flat_map),
            ]
        )
        == 2
    )
    assert "already exists" in capsys.readouterr().err


@pytest.mark.slow
def test_module_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "vgssl_ros.mapping", "build", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--index" in proc.stdout and "flat,ivfpq,hnsw" in proc.stdout.replace(" ", "").replace("{", ",").replace(
        "}", ","
    )


def test_auto_index_follows_map_size_and_unknown_names_are_refused():
    assert resolve_index_type("auto", AUTO_FLAT_MAX_PLACES) == "flat"
    assert resolve_index_type("auto", AUTO_FLAT_MAX_PLACES + 1) == "ivfpq"
    with pytest.raises(ValueError, match="valid index types: auto, flat, ivfpq, hnsw"):
        resolve_index_type("lsh", 10)


def test_ivfpq_map_round_trip_keeps_search_parameters(tmp_path):
    rng = np.random.default_rng(0)
    n, d = 1500, 32
    centres = rng.standard_normal((n, d)).astype(np.float32)
    db = centres / np.linalg.norm(centres, axis=1, keepdims=True)
    utm = ORIGIN + np.c_[np.zeros(n), 5.0 * np.arange(n)]
    places = Places(
        utm,
        utm_to_latlon(utm, ZONE),
        np.full(n, np.nan),
        np.arange(n, dtype=float),
        np.array([f"img{i}" for i in range(n)]),
    )
    info = write_map(
        tmp_path / "m", db, places, ZONE, "a" * 64, {"vgssl.backbone": "synthetic"}, "ivfpq", {"kind": "test"}
    )
    assert info["index"]["type"] == "ivfpq" and info["model"] == {"backbone": "synthetic"}
    m = Map.load(tmp_path / "m", model_sha256="a" * 64, dim=d)
    assert m.index.nprobe == info["index"]["params"]["nprobe"] > 1
    queries = db[:200] + 0.05 * rng.standard_normal((200, d)).astype(np.float32)
    _, idx = m.search(queries, 1)
    assert np.mean(idx[:, 0] == np.arange(200)) >= 0.95


@pytest.mark.slow
def test_loading_without_a_model_says_the_model_is_not_checked(flat_map, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="vgssl_ros.core.map"):
        Map.load(flat_map)
    assert "not checked against a model" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vgssl_ros.core.map"):
        Map.load(flat_map, model_sha256=json.loads((flat_map / "map.json").read_text())["model_sha256"])
    assert "not checked" not in caplog.text


def test_every_buildable_index_type_is_one_the_loader_checks():
    from vgssl_ros.core.map import INDEX_KINDS
    from vgssl_ros.mapping.index_types import INDEX_TYPES

    assert set(INDEX_TYPES) == set(INDEX_KINDS)
    x = np.random.default_rng(0).standard_normal((1200, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    for name, build in INDEX_TYPES.items():
        index, params = build(x)
        tag, cls, ranges = INDEX_KINDS[name]
        assert isinstance(index, cls) and set(params) == set(ranges)
        assert all(lo <= params[k] <= hi for k, (lo, hi) in ranges.items())
        assert faiss_bytes(index)[:4] == tag


def faiss_bytes(index) -> bytes:
    """The serialised index."""
    import faiss

    return faiss.serialize_index(index).tobytes()


@pytest.mark.parametrize("given", ["world", "world/images", "world/images/test"])
def test_a_dataset_root_images_or_split_folder_is_refused_naming_the_databases(tmp_path, monkeypatch, capsys, given):
    """A map of a whole dataset would mix every split's database and query images: refused, exit 2, one line."""
    for split in ("train", "val", "test"):
        for part in ("database", "queries"):
            (tmp_path / "world" / "images" / split / part).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    rc = main(["build", "--model", "model.onnx", "--images", f"{given}/", "--out", "map"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and not (tmp_path / "map").exists()
    assert f"{given} is a VPR dataset" in err and "world/images/test/database" in err
    if given == "world":
        assert "world/images/train/database" in err and "world/images/val/database" in err
    assert "queries/" not in err and "//" not in err


def test_a_relative_map_path_error_names_the_folder_it_was_resolved_against(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MapError) as err:
        Map.load("maps/val")
    assert f"maps/val (relative to {tmp_path.resolve()}) is not a map directory" in str(err.value)
