"""Map: a map directory loaded, validated and searched.

A map directory holds ``map.json`` (format_version, descriptor_dim, metric, model_sha256, model metadata,
index type + params, utm_zone, utm_origin [east, north] that poses are published relative to,
place_count, created), ``index.faiss`` (FAISS, inner product on L2-normalised descriptors) and
``places.npz`` (utm, latlon, heading, timestamp, ids; no pickle), and optionally ``thumbnails.npz`` (one small
JPEG per place, named in map.json ``thumbnails``; maps without it load, with ``thumbnails`` None).
`vgssl_ros.mapping.writer` writes it.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from vgssl_ros.core.errors import MapError
from vgssl_ros.core.fields import FileFields, read_json, shown, shown_path
from vgssl_ros.core.places import Places
from vgssl_ros.core.thumbnails import THUMBNAILS_FILE, Thumbnails
from vgssl_ros.geo import UtmZone

log = logging.getLogger(__name__)

MAP_FORMAT = 1
MAP_JSON, INDEX_FILE, PLACES_FILE = "map.json", "index.faiss", "places.npz"
METRIC = "inner_product"
"""Cosine similarity on L2-normalised descriptors, as in evaluation."""
MAX_DIM, MAX_PLACES = 1 << 16, 1 << 31
UTM_EAST_MAX, UTM_NORTH_MAX = 1e6, 1e7
"""UTM coordinates lie in [0, 1e6) east and [0, 1e7) north (metres, false easting / northing included)."""
REBUILD = "rebuild the map with `vgssl-map build`"
INDEX_KINDS: dict[str, tuple[bytes, type[faiss.Index], dict[str, tuple[int, int]]]] = {
    "flat": (b"IxFI", faiss.IndexFlatIP, {}),
    "ivfpq": (
        b"IwPQ",
        faiss.IndexIVFPQ,
        {"nlist": (1, 1 << 24), "m": (1, MAX_DIM), "nbits": (1, 16), "nprobe": (1, 1 << 24)},
    ),
    "hnsw": (b"IHNf", faiss.IndexHNSWFlat, {"M": (1, 1024), "efConstruction": (1, 1 << 16), "efSearch": (1, 1 << 16)}),
}
"""map.json index type -> (FAISS file tag, FAISS class, its params in map.json with their ranges); the keys
are `vgssl_ros.mapping.index_types.INDEX_TYPES`."""
FAISS_HEADER = struct.Struct("<4siqqq?i")
"""FAISS index file header: tag, d, ntotal, two unused int64, is_trained, metric type."""
NORM_TOLERANCE = {"flat": 1e-3, "hnsw": 1e-3, "ivfpq": 0.5}
"""Largest |norm - 1| of a stored descriptor (product quantisation reconstructs them approximately)."""
NORM_SAMPLE = 4096
"""Stored descriptors whose norms are checked at load (all of them in smaller maps)."""


@dataclass
class Map:
    """A loaded map: ``index`` (FAISS), ``places``, ``zone``, ``origin`` [2] UTM metres, ``info`` (map.json),
    ``thumbnails`` (None when the map has none)."""

    path: Path
    info: dict[str, Any]
    index: faiss.Index
    places: Places
    zone: UtmZone
    origin: np.ndarray
    thumbnails: Thumbnails | None = None

    @property
    def dim(self) -> int:
        """Descriptor dimension."""
        return int(self.info["descriptor_dim"])

    @classmethod
    def load(cls, path: str | Path, model_sha256: str | None = None, dim: int | None = None) -> Map:
        """Load and validate ``path`` (map.json fields, the FAISS index against map.json, the places table).

        ``model_sha256`` / ``dim``: the model's, to refuse a map built with another model. Without
        ``model_sha256`` (inspecting a map) the model is not checked, and a log line says so.
        """
        path = Path(path)
        info = _read_info(path)
        if model_sha256 is None:
            log.info(
                "map %s: not checked against a model (none given); it was built with sha256 %s",
                path,
                info["model_sha256"][:12],
            )
        elif info["model_sha256"] != model_sha256:
            raise MapError(
                f"map {path} was built with another model (sha256 {info['model_sha256'][:12]}..., "
                f"this model {model_sha256[:12]}...): rebuild the map with `vgssl-map build --model` "
                f"this model, or use the model the map was built with"
            )
        if dim is not None and info["descriptor_dim"] != dim:
            raise MapError(
                f"map {path} holds {info['descriptor_dim']}-d descriptors, the model gives {dim}-d; "
                f"rebuild the map with this model"
            )
        index = _read_index(path / INDEX_FILE, info)
        places = Places.load(path / PLACES_FILE)
        if len(places) != info["place_count"]:
            raise MapError(
                f"map {path} is inconsistent: {PLACES_FILE} holds {len(places)} places, map.json place_count "
                f"{info['place_count']}; {REBUILD}"
            )
        zone = UtmZone(info["utm_zone"]["number"], info["utm_zone"]["band"])
        thumbnails = Thumbnails.load(path / THUMBNAILS_FILE, len(places)) if "thumbnails" in info else None
        return cls(path, info, index, places, zone, np.asarray(info["utm_origin"], dtype=np.float64), thumbnails)

    def search(self, descriptors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Descriptors [N, dim] -> (similarities [N, k'], place indices [N, k']), k' = min(k, places), best first.

        An approximate index may find fewer than k' places: those slots hold index -1.
        """
        x = np.ascontiguousarray(np.atleast_2d(descriptors), dtype=np.float32)
        if x.shape[1] != self.dim:
            raise ValueError(f"descriptors have dim {x.shape[1]}, the map holds {self.dim}")
        return self.index.search(x, min(int(k), self.index.ntotal))


def _read_info(path: Path) -> dict[str, Any]:
    """map.json, every field checked for type and range (a damaged file raises MapError naming the field)."""
    file = path / MAP_JSON
    if not file.is_file():
        raise MapError(f"{shown_path(path)} is not a map directory (no {MAP_JSON}); build one with `vgssl-map build`")
    fix = f"the map is damaged or not a vgssl map: {REBUILD}"
    f = FileFields(file, MapError, fix)
    info = f.mapping(read_json(file, MapError, fix), "the document")
    version = f.get(info, "format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > MAP_FORMAT:
        raise MapError(
            f"map {path} has format_version {version}, newer than this vgssl_ros ({MAP_FORMAT}); "
            f"upgrade vgssl_ros or rebuild the map with this version"
        )
    f.integer(version, "format_version", 1, MAP_FORMAT)
    dim = f.integer(f.get(info, "descriptor_dim"), "descriptor_dim", 1, MAX_DIM)
    metric = f.text(f.get(info, "metric"), "metric")
    if metric != METRIC:
        f.fail("metric", f"is {shown(metric)}; this vgssl_ros supports {METRIC!r} only")
    sha = f.text(f.get(info, "model_sha256"), "model_sha256")
    if not (len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
        f.fail("model_sha256", f"must be 64 lower-case hex digits, got {shown(sha)}")
    for key, value in f.mapping(info.get("model", {}), "model").items():
        if value is not None and not isinstance(value, str | int | float):
            f.fail(f"model.{key}", f"must be a string, got {shown(value)}")
    _check_index_info(f, f.mapping(f.get(info, "index"), "index"), dim)
    zone = f.mapping(f.get(info, "utm_zone"), "utm_zone")
    number = f.integer(f.get(zone, "number", "utm_zone.number"), "utm_zone.number", 1, 60)
    band = f.text(f.get(zone, "band", "utm_zone.band"), "utm_zone.band", 1)
    try:
        UtmZone(number, band)
    except ValueError as exc:
        f.fail("utm_zone.band", str(exc))
    origin = f.get(info, "utm_origin")
    if not isinstance(origin, list) or len(origin) != 2:
        f.fail("utm_origin", f"must be [east, north] in metres, got {shown(origin)}")
    f.number(origin[0], "utm_origin east", 0.0, UTM_EAST_MAX)
    f.number(origin[1], "utm_origin north", 0.0, UTM_NORTH_MAX)
    f.integer(f.get(info, "place_count"), "place_count", 1, MAX_PLACES)
    f.mapping(f.get(info, "created"), "created")
    if "thumbnails" in info:
        thumbs = f.mapping(info["thumbnails"], "thumbnails")
        name = f.text(f.get(thumbs, "file", "thumbnails.file"), "thumbnails.file")
        if name != THUMBNAILS_FILE:
            f.fail("thumbnails.file", f"is {shown(name)}; thumbnails are stored in {THUMBNAILS_FILE!r}")
        f.integer(f.get(thumbs, "width", "thumbnails.width"), "thumbnails.width", 1, MAX_DIM)
        if not (path / THUMBNAILS_FILE).is_file():
            f.fail("thumbnails", f"names {THUMBNAILS_FILE}, which is missing from the map directory")
    return info


def _check_index_info(f: FileFields, index: dict[str, Any], dim: int) -> None:
    """map.json ``index``: a known type and its parameters, each an integer in range."""
    kind = f.text(f.get(index, "type", "index.type"), "index.type")
    if kind not in INDEX_KINDS:
        f.fail("index.type", f"is {shown(kind)}; known index types: {', '.join(INDEX_KINDS)}")
    params = f.mapping(f.get(index, "params", "index.params"), "index.params")
    ranges = INDEX_KINDS[kind][2]
    unknown = sorted(set(params) - set(ranges))
    if unknown:
        f.fail("index.params", f"has parameters {unknown} that a {kind} index does not take (valid: {sorted(ranges)})")
    missing = sorted(set(ranges) - set(params))
    if missing:
        f.fail("index.params", f"lacks {missing} for a {kind} index")
    for name, (lo, hi) in ranges.items():
        f.integer(params[name], f"index.params.{name}", lo, hi)
    if kind == "ivfpq" and (params["nprobe"] > params["nlist"] or dim % params["m"]):
        f.fail("index.params", f"nprobe must be <= nlist and m divide descriptor_dim {dim}, got {params}")


def _read_index(file: Path, info: dict[str, Any]) -> faiss.Index:
    """Read the FAISS index after checking its header against map.json, then check its vectors' norms."""
    kind, dim, count = info["index"]["type"], info["descriptor_dim"], info["place_count"]
    tag, cls, _ = INDEX_KINDS[kind]
    damaged = f"the file is truncated or corrupt: {REBUILD}"
    try:
        size = file.stat().st_size
        with open(file, "rb") as stream:
            head = stream.read(FAISS_HEADER.size)
    except OSError as exc:
        raise MapError(f"FAISS index {file} cannot be read ({exc.strerror or exc}); {REBUILD}") from None
    if len(head) < FAISS_HEADER.size:
        raise MapError(f"FAISS index {file} cannot be read (only {size} bytes); {damaged}")
    got_tag, d, ntotal, _, _, trained, metric = FAISS_HEADER.unpack(head)
    found = {"tag (index.type)": got_tag, "d (descriptor_dim)": d, "ntotal (place_count)": ntotal}
    wanted: dict[str, object] = {"tag (index.type)": tag, "d (descriptor_dim)": dim, "ntotal (place_count)": count}
    found.update({"metric (metric)": metric, "is_trained": trained})
    wanted.update({"metric (metric)": faiss.METRIC_INNER_PRODUCT, "is_trained": True})
    wrong = {k: f"{found[k]!r} (map.json says {wanted[k]!r})" for k in found if found[k] != wanted[k]}
    if wrong:
        raise MapError(f"FAISS index {file} does not match {MAP_JSON} ({kind} index): {wrong}; {damaged}")
    if kind == "flat" and size != FAISS_HEADER.size + 8 + 4 * dim * count:
        raise MapError(
            f"FAISS index {file} is {size} bytes, a flat index of {count} x {dim} floats is "
            f"{FAISS_HEADER.size + 8 + 4 * dim * count}; {damaged}"
        )
    try:
        index = faiss.read_index(str(file))
    except (RuntimeError, MemoryError) as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise MapError(f"FAISS index {file} cannot be read ({first}); {damaged}") from None
    if not isinstance(index, cls) or index.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise MapError(f"FAISS index {file} is a {type(index).__name__}, map.json says {kind}; {damaged}")
    _apply_params(file, index, kind, info["index"]["params"])
    _check_norms(file, index, kind)
    return index


def _apply_params(file: Path, index: faiss.Index, kind: str, params: dict[str, int]) -> None:
    """Check the index's build parameters against map.json and set its search parameters (nprobe, efSearch)."""
    if isinstance(index, faiss.IndexIVFPQ):
        built = {"nlist": index.nlist, "m": index.pq.M, "nbits": index.pq.nbits}
        if any(built[k] != params[k] for k in built):
            raise MapError(f"FAISS index {file} has {built}, map.json says {params}; {REBUILD}")
        index.nprobe = params["nprobe"]
    elif isinstance(index, faiss.IndexHNSWFlat):
        index.hnsw.efSearch = params["efSearch"]


def _check_norms(file: Path, index: faiss.Index, kind: str) -> None:
    """Reconstructed descriptors [sample, D] must be finite and of norm 1 within NORM_TOLERANCE[kind]."""
    ids = np.unique(np.linspace(0, index.ntotal - 1, min(index.ntotal, NORM_SAMPLE)).astype(np.int64))
    ivf = index if isinstance(index, faiss.IndexIVFPQ) else None
    if ivf is not None:
        ivf.make_direct_map()  # IVF lists are found by id only through a direct map
    try:
        vectors = index.reconstruct_batch(ids)
    except RuntimeError as exc:
        raise MapError(f"FAISS index {file} cannot be read back ({exc}); {REBUILD}") from None
    finally:
        if ivf is not None:
            ivf.set_direct_map_type(0)  # DirectMap.NoMap: drop it again
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
    bad = ~np.isfinite(norms) | (np.abs(norms - 1.0) > NORM_TOLERANCE[kind])
    if bad.any():
        raise MapError(
            f"FAISS index {file} holds {int(bad.sum())} of {len(ids)} checked descriptors that are not finite "
            f"unit vectors (e.g. place {int(ids[bad][0])}, norm {norms[bad][0]:.4g}); the index data is corrupt: "
            f"{REBUILD}"
        )
