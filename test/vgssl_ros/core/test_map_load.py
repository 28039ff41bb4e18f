"""Map.load field by field: each damaged map.json field, index header and stored descriptor is refused with the
exact one-line message (file, field, range, what to do); every boundary value that is valid still loads."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest

from test.conftest import ORIGIN, ZONE
from vgssl_ros.core import Map, MapError, Places
from vgssl_ros.core.fields import shown
from vgssl_ros.core.thumbnails import Thumbnails, encode_thumbnail
from vgssl_ros.geo import utm_to_latlon
from vgssl_ros.mapping import write_map

SHA, DIM, N = "b" * 64, 16, 12
REBUILD = "rebuild the map with `vgssl-map build`"
FIX = f"the map is damaged or not a vgssl map: {REBUILD}"
DAMAGED = f"the file is truncated or corrupt: {REBUILD}"


def _unit(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _places(n: int) -> Places:
    utm = ORIGIN + np.c_[np.zeros(n), 10.0 * np.arange(n)]
    ids = np.array([f"img{i}" for i in range(n)])
    return Places(utm, utm_to_latlon(utm, ZONE), np.full(n, 90.0), np.arange(n, dtype=float), ids)


def _build(out: Path, index_type: str, n: int = N, thumbnails: bool = False) -> Path:
    thumbs = None
    if thumbnails:
        thumbs = Thumbnails.from_encoded([encode_thumbnail(np.full((8, 16, 3), i, np.uint8), 16) for i in range(n)])
    write_map(out, _unit(n, 0), _places(n), ZONE, SHA, {"vgssl.backbone": "synthetic"}, index_type, {}, False,
              thumbs, 16 if thumbnails else 0)  # fmt: skip
    return out


def _ivfpq(out: Path) -> Path:
    """A 1000-place ivfpq map with small quantisers (nlist 8, m 8, nbits 4: trained in a few ms)."""
    _build(out, "flat", 1000)
    index = faiss.IndexIVFPQ(faiss.IndexFlatIP(DIM), DIM, 8, 8, 4, faiss.METRIC_INNER_PRODUCT)
    index.do_polysemous_training = False
    x = _unit(1000, 0)
    index.train(x)
    index.add(x)
    faiss.write_index(index, str(out / "index.faiss"))
    info = json.loads((out / "map.json").read_text())
    info["index"] = {"type": "ivfpq", "params": {"nlist": 8, "m": 8, "nbits": 4, "nprobe": 2}}
    (out / "map.json").write_text(json.dumps(info))
    return out


@pytest.fixture(scope="module")
def maps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Undamaged maps: flat (12 places), hnsw, ivfpq (1000 places), flat with thumbnails, flat of 5 places."""
    root = tmp_path_factory.mktemp("maps")
    return {
        "flat": _build(root / "flat", "flat"),
        "hnsw": _build(root / "hnsw", "hnsw"),
        "ivfpq": _ivfpq(root / "ivfpq"),
        "thumbs": _build(root / "thumbs", "flat", thumbnails=True),
        "small": _build(root / "small", "flat", 5),
    }


def _copy(maps: dict[str, Path], name: str, tmp_path: Path, edit: Callable[[dict[str, Any]], None] | None = None):
    """A copy of map ``name`` with ``edit`` applied to its map.json."""
    out = Path(shutil.copytree(maps[name], tmp_path / name))
    if edit is not None:
        info = json.loads((out / "map.json").read_text())
        edit(info)
        (out / "map.json").write_text(json.dumps(info))
    return out


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set a dotted map.json key (``index.params.efSearch``)."""

    def edit(info: dict[str, Any]) -> None:
        *path, last = key.split(".")
        for part in path:
            info = info[part]
        info[last] = value

    return edit


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def edit(info: dict[str, Any]) -> None:
        *path, last = key.split(".")
        for part in path:
            info = info[part]
        del info[last]

    return edit


def _refused(path: Path, **kwargs: Any) -> str:
    with pytest.raises(MapError) as err:
        Map.load(path, **kwargs)
    return str(err.value)


FIELD_CASES = [
    ("flat", _set("format_version", 0), "format_version must be an integer in [1, 1], got 0"),
    ("flat", _set("format_version", True), "format_version must be an integer in [1, 1], got True"),
    ("flat", _set("format_version", 2.5), "format_version must be an integer in [1, 1], got 2.5"),
    ("flat", _set("format_version", "2"), "format_version must be an integer in [1, 1], got '2'"),
    ("flat", _drop("format_version"), "format_version is missing"),
    ("flat", _set("descriptor_dim", 0), "descriptor_dim must be an integer in [1, 65536], got 0"),
    ("flat", _set("descriptor_dim", 65537), "descriptor_dim must be an integer in [1, 65536], got 65537"),
    ("flat", _drop("descriptor_dim"), "descriptor_dim is missing"),
    ("flat", _set("metric", "L2"), "metric is 'L2'; this vgssl_ros supports 'inner_product' only"),
    ("flat", _set("metric", 3), "metric must be a string (at most 4096 characters), got 3"),
    ("flat", _drop("metric"), "metric is missing"),
    ("flat", _set("model_sha256", "abc"), "model_sha256 must be 64 lower-case hex digits, got 'abc'"),
    ("flat", _set("model_sha256", "B" * 64), f"model_sha256 must be 64 lower-case hex digits, got {shown('B' * 64)}"),
    ("flat", _set("model_sha256", "X" * 64), f"model_sha256 must be 64 lower-case hex digits, got {shown('X' * 64)}"),
    ("flat", _set("model_sha256", "b" * 63), f"model_sha256 must be 64 lower-case hex digits, got {shown('b' * 63)}"),
    ("flat", _set("model_sha256", "b" * 65), f"model_sha256 must be 64 lower-case hex digits, got {shown('b' * 65)}"),
    ("flat", _drop("model_sha256"), "model_sha256 is missing"),
    ("flat", _set("model_sha256", 5), "model_sha256 must be a string (at most 4096 characters), got 5"),
    ("flat", _set("model", "x"), "model must be a JSON object, got 'x'"),
    ("flat", _set("model", {"backbone": {"nested": 1}}), "model.backbone must be a string, got {'nested': 1}"),
    ("flat", _set("model", {"a": [1]}), "model.a must be a string, got [1]"),
    ("flat", _set("index", "x"), "index must be a JSON object, got 'x'"),
    ("flat", _drop("index"), "index is missing"),
    ("flat", _drop("index.type"), "index.type is missing"),
    ("flat", _set("index.type", "lsh"), "index.type is 'lsh'; known index types: flat, ivfpq, hnsw"),
    ("flat", _set("index.type", 7), "index.type must be a string (at most 4096 characters), got 7"),
    ("flat", _drop("index.params"), "index.params is missing"),
    ("flat", _set("index.params", [1]), "index.params must be a JSON object, got [1]"),
    (
        "flat",
        _set("index.params", {"nprobe": 4, "m": 2}),
        "index.params has parameters ['m', 'nprobe'] that a flat index does not take (valid: [])",
    ),
    ("hnsw", _drop("index.params.efSearch"), "index.params lacks ['efSearch'] for a hnsw index"),
    ("hnsw", _set("index.params.M", 0), "index.params.M must be an integer in [1, 1024], got 0"),
    (
        "hnsw",
        _set("index.params.efConstruction", 0),
        "index.params.efConstruction must be an integer in [1, 65536], got 0",
    ),
    ("hnsw", _set("index.params.efSearch", 65537), "index.params.efSearch must be an integer in [1, 65536], got 65537"),
    ("hnsw", _set("index.params.efSearch", "64"), "index.params.efSearch must be an integer in [1, 65536], got '64'"),
    ("ivfpq", _set("index.params.nlist", 0), "index.params.nlist must be an integer in [1, 16777216], got 0"),
    ("ivfpq", _set("index.params.m", 0), "index.params.m must be an integer in [1, 65536], got 0"),
    ("ivfpq", _set("index.params.nbits", 17), "index.params.nbits must be an integer in [1, 16], got 17"),
    ("ivfpq", _set("index.params.nprobe", 0), "index.params.nprobe must be an integer in [1, 16777216], got 0"),
    ("flat", _set("utm_zone", 5), "utm_zone must be a JSON object, got 5"),
    ("flat", _drop("utm_zone"), "utm_zone is missing"),
    ("flat", _drop("utm_zone.number"), "utm_zone.number is missing"),
    ("flat", _set("utm_zone.number", 0), "utm_zone.number must be an integer in [1, 60], got 0"),
    ("flat", _set("utm_zone.number", 61), "utm_zone.number must be an integer in [1, 60], got 61"),
    ("flat", _drop("utm_zone.band"), "utm_zone.band is missing"),
    ("flat", _set("utm_zone.band", "WW"), "utm_zone.band must be a string (at most 1 characters), got 'WW'"),
    ("flat", _drop("utm_origin"), "utm_origin is missing"),
    ("flat", _set("utm_origin", "ab"), "utm_origin must be [east, north] in metres, got 'ab'"),
    ("flat", _set("utm_origin", [1.0]), "utm_origin must be [east, north] in metres, got [1.0]"),
    ("flat", _set("utm_origin", [1.0, 2.0, 3.0]), "utm_origin must be [east, north] in metres, got [1.0, 2.0, 3.0]"),
    ("flat", _set("utm_origin", [-1.0, 5.0]), "utm_origin east must be a finite number in [0, 1e+06], got -1.0"),
    (
        "flat",
        _set("utm_origin", [1e6 + 1, 5.0]),
        "utm_origin east must be a finite number in [0, 1e+06], got 1000001.0",
    ),
    ("flat", _set("utm_origin", [5.0, -1.0]), "utm_origin north must be a finite number in [0, 1e+07], got -1.0"),
    ("flat", _set("utm_origin", [5.0, 2e7]), "utm_origin north must be a finite number in [0, 1e+07], got 20000000.0"),
    ("flat", _drop("place_count"), "place_count is missing"),
    ("flat", _set("place_count", 0), "place_count must be an integer in [1, 2147483648], got 0"),
    ("flat", _drop("created"), "created is missing"),
    ("flat", _set("created", "today"), "created must be a JSON object, got 'today'"),
    ("thumbs", _set("thumbnails", "x"), "thumbnails must be a JSON object, got 'x'"),
    ("thumbs", _drop("thumbnails.file"), "thumbnails.file is missing"),
    ("thumbs", _set("thumbnails.file", 3), "thumbnails.file must be a string (at most 4096 characters), got 3"),
    (
        "thumbs",
        _set("thumbnails.file", "t.npz"),
        "thumbnails.file is 't.npz'; thumbnails are stored in 'thumbnails.npz'",
    ),
    ("thumbs", _drop("thumbnails.width"), "thumbnails.width is missing"),
    ("thumbs", _set("thumbnails.width", 0), "thumbnails.width must be an integer in [1, 65536], got 0"),
    (
        "flat",
        _set("thumbnails", {"file": "thumbnails.npz", "width": 16}),
        "thumbnails names thumbnails.npz, which is missing from the map directory",
    ),  # fmt: skip
]


@pytest.mark.parametrize("name,edit,problem", FIELD_CASES, ids=[c[2][:60] for c in FIELD_CASES])
def test_each_damaged_field_is_named_with_its_range(maps, tmp_path, name, edit, problem):
    path = _copy(maps, name, tmp_path, edit)
    assert _refused(path) == f"{path / 'map.json'}: {problem}; {FIX}"


def test_bad_utm_bands_and_ivfpq_parameter_combinations_are_named(maps, tmp_path):
    path = _copy(maps, "flat", tmp_path, _set("utm_zone.band", "I"))
    band = "utm_zone.band UTM band must be one letter C..X (not I/O), got 'I'"
    assert _refused(path) == f"{path / 'map.json'}: {band}; {FIX}"
    params = json.loads((maps["ivfpq"] / "map.json").read_text())["index"]["params"]
    for bad in ({**params, "nprobe": params["nlist"] + 1}, {**params, "m": 3}):
        path = _copy(maps, "ivfpq", tmp_path / str(bad["m"]), _set("index.params", bad))
        problem = f"index.params nprobe must be <= nlist and m divide descriptor_dim {DIM}, got {bad}"
        assert _refused(path) == f"{path / 'map.json'}: {problem}; {FIX}"


def test_a_newer_format_says_upgrade(maps, tmp_path):
    path = _copy(maps, "flat", tmp_path, _set("format_version", 2))
    assert _refused(path) == (
        f"map {path} has format_version 2, newer than this vgssl_ros (1); upgrade vgssl_ros or rebuild the map "
        "with this version"
    )


def test_a_map_json_that_is_not_an_object(maps, tmp_path):
    path = _copy(maps, "flat", tmp_path)
    (path / "map.json").write_text("[1]")
    assert _refused(path) == f"{path / 'map.json'}: the document must be a JSON object, got [1]; {FIX}"


def test_not_a_map_directory(tmp_path):
    assert _refused(tmp_path) == f"{tmp_path} is not a map directory (no map.json); build one with `vgssl-map build`"


@pytest.mark.parametrize(
    "edit",
    [
        _set("model", {"a": None, "b": 1, "c": 1.5, "d": "x"}),
        _drop("model"),
        _set("utm_zone.number", 60),
        _set("utm_zone.number", 1),
        _set("utm_origin", [0, 1e7]),
        _set("utm_origin", [1e6, 0.0]),
        _set("utm_origin", [450000, 7250000]),  # JSON integers: the origin is float64 all the same
        _set("created", {}),
    ],
)
def test_boundary_values_still_load(maps, tmp_path, edit):
    path = _copy(maps, "flat", tmp_path, edit)
    info = json.loads((path / "map.json").read_text())
    m = Map.load(path)
    assert m.origin.dtype == np.float64 and m.origin.tolist() == [float(v) for v in info["utm_origin"]]
    assert (m.zone.number, m.zone.band) == (info["utm_zone"]["number"], info["utm_zone"]["band"])
    assert m.thumbnails is None and len(m.places) == N


def test_a_one_place_map_and_a_one_dimension_map_load(tmp_path):
    utm = ORIGIN[None, :]
    one = Places(utm, utm_to_latlon(utm, ZONE), np.full(1, 90.0), np.zeros(1), np.array(["a"]))
    write_map(tmp_path / "one", np.ones((1, 1), np.float32), one, ZONE, SHA, {}, "flat", {})
    m = Map.load(tmp_path / "one", model_sha256=SHA, dim=1)
    assert m.dim == 1 and len(m.places) == 1
    sims, idx = m.search(np.ones(1, np.float32), 5)
    assert idx.tolist() == [[0]] and sims.shape == (1, 1)


def test_the_model_is_checked_when_given_and_a_log_line_says_when_not(maps, caplog):
    path = maps["flat"]
    other = "c" * 64
    assert _refused(path, model_sha256=other) == (
        f"map {path} was built with another model (sha256 {SHA[:12]}..., this model {other[:12]}...): rebuild the "
        "map with `vgssl-map build --model` this model, or use the model the map was built with"
    )
    assert _refused(path, model_sha256=SHA, dim=8) == (
        f"map {path} holds {DIM}-d descriptors, the model gives 8-d; rebuild the map with this model"
    )
    with caplog.at_level(logging.INFO, logger="vgssl_ros.core.map"):
        Map.load(path)
    assert caplog.messages == [
        f"map {path}: not checked against a model (none given); it was built with sha256 bbbbbbbbbbbb"
    ]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vgssl_ros.core.map"):
        assert Map.load(path, model_sha256=SHA, dim=DIM).dim == DIM
    assert caplog.messages == []


def test_thumbnails_load_when_named(maps):
    m = Map.load(maps["thumbs"])
    assert m.thumbnails is not None and len(m.thumbnails) == N and m.thumbnails.image(3).shape == (8, 16, 3)


def test_search_returns_at_most_the_places_and_checks_the_dimension(maps):
    m = Map.load(maps["flat"])
    x = _unit(N, 0)
    sims, idx = m.search(x[4].astype(np.float64), 100)  # one descriptor, 1-d, float64
    assert idx.shape == (1, N) and idx[0, 0] == 4 and sims[0, 0] == pytest.approx(1.0, abs=1e-5)
    sims, idx = m.search(x[[1, 2]], 3)
    assert idx.shape == (2, 3) and idx[:, 0].tolist() == [1, 2]
    with pytest.raises(ValueError, match=f"^descriptors have dim 8, the map holds {DIM}$"):
        m.search(np.ones((1, 8), np.float32), 1)


def test_search_parameters_come_from_map_json(maps, tmp_path):
    hnsw = Map.load(_copy(maps, "hnsw", tmp_path, _set("index.params.efSearch", 7)))
    assert hnsw.index.hnsw.efSearch == 7
    params = json.loads((maps["ivfpq"] / "map.json").read_text())["index"]["params"]
    ivf = Map.load(_copy(maps, "ivfpq", tmp_path, _set("index.params.nprobe", params["nlist"])))
    assert ivf.index.nprobe == params["nlist"] and ivf.index.direct_map.type == faiss.DirectMap.NoMap
    sims, idx = ivf.search(_unit(1000, 0)[:3], 1)
    assert idx[:, 0].tolist() == [0, 1, 2]


@pytest.mark.parametrize("key", ["nlist", "m", "nbits"])
def test_ivfpq_build_parameters_must_match_the_index(maps, tmp_path, key):
    params = json.loads((maps["ivfpq"] / "map.json").read_text())["index"]["params"]
    wrong = {**params, key: params[key] // 2, "nprobe": 1}
    path = _copy(maps, "ivfpq", tmp_path, _set("index.params", wrong))
    built = {k: params[k] for k in ("nlist", "m", "nbits")}
    assert _refused(path) == f"FAISS index {path / 'index.faiss'} has {built}, map.json says {wrong}; {REBUILD}"


def test_index_files_that_are_missing_short_or_of_the_wrong_size_are_named(maps, tmp_path):
    path = _copy(maps, "flat", tmp_path)
    file = path / "index.faiss"
    data = file.read_bytes()
    file.write_bytes(data + b"\0\0\0\0")
    expected = len(data)
    assert _refused(path) == (
        f"FAISS index {file} is {expected + 4} bytes, a flat index of {N} x {DIM} floats is {expected}; {DAMAGED}"
    )
    file.write_bytes(data[:36])
    assert _refused(path) == f"FAISS index {file} cannot be read (only 36 bytes); {DAMAGED}"
    file.unlink()
    assert _refused(path) == f"FAISS index {file} cannot be read (No such file or directory); {REBUILD}"


@pytest.mark.parametrize(
    "edit,wrong",
    [
        (_set("descriptor_dim", 8), {"d (descriptor_dim)": f"{DIM} (map.json says 8)"}),
        (_set("place_count", N + 1), {"ntotal (place_count)": f"{N} (map.json says {N + 1})"}),
        (_set("index.type", "hnsw"), None),
    ],
)
def test_an_index_header_that_disagrees_with_map_json_is_named(maps, tmp_path, edit, wrong):
    path = _copy(maps, "flat", tmp_path, edit)
    file = path / "index.faiss"
    if wrong is None:
        _set("index.params", {"M": 32, "efConstruction": 64, "efSearch": 64})(
            info := json.loads((path / "map.json").read_text())
        )
        (path / "map.json").write_text(json.dumps(info))
        wrong = {"tag (index.type)": "b'IxFI' (map.json says b'IHNf')"}
    kind = json.loads((path / "map.json").read_text())["index"]["type"]
    assert _refused(path) == f"FAISS index {file} does not match map.json ({kind} index): {wrong}; {DAMAGED}"


@pytest.mark.parametrize("offset,value,wrong", [(33, b"\x01\x00\x00\x00", "metric (metric)': '1 (map.json says 0)"),
                                                (32, b"\x00", "is_trained': 'False (map.json says True)")])  # fmt: skip
def test_an_index_with_another_metric_or_untrained_is_named(maps, tmp_path, offset, value, wrong):
    path = _copy(maps, "flat", tmp_path)
    file = path / "index.faiss"
    data = bytearray(file.read_bytes())
    data[offset : offset + len(value)] = value
    file.write_bytes(bytes(data))
    assert _refused(path) == f"FAISS index {file} does not match map.json (flat index): {{'{wrong}'}}; {DAMAGED}"


def _rewrite_flat(path: Path, vectors: np.ndarray) -> None:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors.astype(np.float32))
    faiss.write_index(index, str(path / "index.faiss"))


@pytest.mark.parametrize(
    "place,scale,refused",
    [(N - 1, 2.0, True), (0, 0.5, True), (5, 1.0 + 5e-4, False), (5, 1.0 + 2e-3, True), (5, np.nan, True)],
)
def test_stored_descriptors_must_be_finite_unit_vectors(maps, tmp_path, place, scale, refused):
    path = _copy(maps, "flat", tmp_path)
    x = _unit(N, 0).astype(np.float64)
    x[place] *= scale
    _rewrite_flat(path, x)
    if not refused:
        assert Map.load(path).index.ntotal == N
        return
    norm = np.linalg.norm(x[place].astype(np.float32).astype(np.float64))
    assert _refused(path) == (
        f"FAISS index {path / 'index.faiss'} holds 1 of {N} checked descriptors that are not finite unit vectors "
        f"(e.g. place {place}, norm {norm:.4g}); the index data is corrupt: {REBUILD}"
    )


def test_places_table_must_hold_place_count_places(maps, tmp_path):
    path = _copy(maps, "flat", tmp_path)
    shutil.copy(maps["small"] / "places.npz", path / "places.npz")
    assert _refused(path) == (
        f"map {path} is inconsistent: places.npz holds 5 places, map.json place_count {N}; {REBUILD}"
    )


def test_an_index_faiss_cannot_read_quotes_the_last_line_of_its_error(maps, tmp_path, monkeypatch):
    path = _copy(maps, "hnsw", tmp_path)
    file = path / "index.faiss"
    file.write_bytes(file.read_bytes()[:200])  # the header is intact, the graph is cut
    with pytest.raises(RuntimeError) as faiss_error:
        faiss.read_index(str(file))
    last = str(faiss_error.value).strip().splitlines()[-1]
    assert _refused(path) == f"FAISS index {file} cannot be read ({last}); {DAMAGED}"

    def out_of_memory(name: str) -> faiss.Index:
        raise MemoryError

    monkeypatch.setattr(faiss, "read_index", out_of_memory)
    assert _refused(_copy(maps, "hnsw", tmp_path / "m")) == (
        f"FAISS index {tmp_path / 'm' / 'hnsw' / 'index.faiss'} cannot be read (MemoryError); {DAMAGED}"
    )


def test_an_index_whose_vectors_cannot_be_read_back_is_named(maps, tmp_path, monkeypatch):
    def fails(self, ids):
        raise RuntimeError("reconstruct not implemented")

    monkeypatch.setattr(faiss.IndexFlatIP, "reconstruct_batch", fails)
    path = _copy(maps, "flat", tmp_path)
    assert _refused(path) == (
        f"FAISS index {path / 'index.faiss'} cannot be read back (reconstruct not implemented); {REBUILD}"
    )


def test_every_descriptor_of_a_map_under_the_sample_size_is_checked(tmp_path):
    n = 100  # below NORM_SAMPLE: all of them, not an evenly spaced few
    write_map(tmp_path / "m", _unit(n, 1), _places(n), ZONE, SHA, {}, "flat", {})
    x = _unit(n, 1)
    x[1] *= 2.0
    _rewrite_flat(tmp_path / "m", x)
    assert "holds 1 of 100 checked descriptors" in _refused(tmp_path / "m")
