"""Map: a map directory loaded, validated and searched.

A map directory holds ``map.json`` (format_version, descriptor_dim, metric, model_sha256, model metadata,
index type + params, utm_zone, utm_origin [east, north] that poses are published relative to,
place_count, created), ``index.faiss`` (FAISS, inner product on L2-normalised descriptors) and
``places.npz`` (utm, latlon, heading, timestamp, ids; no pickle). `vgssl_ros.mapping.writer` writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from vgssl_ros.core.errors import MapError
from vgssl_ros.core.places import Places
from vgssl_ros.geo import UtmZone

MAP_FORMAT = 1
MAP_JSON, INDEX_FILE, PLACES_FILE = "map.json", "index.faiss", "places.npz"
REQUIRED_FIELDS = {
    "format_version": int,
    "descriptor_dim": int,
    "metric": str,
    "model_sha256": str,
    "index": dict,
    "utm_zone": dict,
    "utm_origin": list,
    "place_count": int,
    "created": dict,
}
"""map.json fields and their JSON types."""
METRIC = "inner_product"
"""Cosine similarity on L2-normalised descriptors, as in evaluation."""
SEARCH_PARAMS = {"nprobe", "efSearch"}
"""Index parameters that set search-time behaviour (faiss ParameterSpace names)."""


@dataclass
class Map:
    """A loaded map: ``index`` (FAISS), ``places``, ``zone``, ``origin`` [2] UTM metres, ``info`` (map.json)."""

    path: Path
    info: dict[str, Any]
    index: faiss.Index
    places: Places
    zone: UtmZone
    origin: np.ndarray

    @property
    def dim(self) -> int:
        """Descriptor dimension."""
        return int(self.info["descriptor_dim"])

    @classmethod
    def load(cls, path: str | Path, model_sha256: str | None = None, dim: int | None = None) -> Map:
        """Load ``path``; refuse a newer format, another model (sha256), another dim, or mismatched counts."""
        path = Path(path)
        info = _read_info(path)
        if info["format_version"] > MAP_FORMAT:
            raise MapError(
                f"map {path} has format {info['format_version']}, newer than this vgssl_ros ({MAP_FORMAT}); "
                f"upgrade vgssl_ros or rebuild the map with this version"
            )
        if model_sha256 is not None and info["model_sha256"] != model_sha256:
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
        if info["metric"] != METRIC:
            raise MapError(f"map {path} uses metric {info['metric']!r}; this vgssl_ros supports {METRIC!r}")
        try:
            index = faiss.read_index(str(path / INDEX_FILE))
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise MapError(
                f"FAISS index {path / INDEX_FILE} cannot be read ({first}); the file is missing, "
                f"truncated or corrupt: rebuild the map with `vgssl-map build`"
            ) from None
        places = Places.load(path / PLACES_FILE)
        counts = {"map.json": info["place_count"], INDEX_FILE: index.ntotal, PLACES_FILE: len(places)}
        if len(set(counts.values())) != 1 or index.d != info["descriptor_dim"]:
            raise MapError(
                f"map {path} is inconsistent: place counts {counts}, index dim {index.d} vs "
                f"{info['descriptor_dim']}; rebuild the map with `vgssl-map build`"
            )
        _apply_search_params(index, info["index"].get("params", {}))
        zone = UtmZone(int(info["utm_zone"]["number"]), str(info["utm_zone"]["band"]))
        return cls(path, info, index, places, zone, np.asarray(info["utm_origin"], dtype=np.float64))

    def search(self, descriptors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Descriptors [N, dim] -> (similarities [N, k'], place indices [N, k']), k' = min(k, places), best first.

        An approximate index may find fewer than k' places: those slots hold index -1.
        """
        x = np.ascontiguousarray(np.atleast_2d(descriptors), dtype=np.float32)
        if x.shape[1] != self.dim:
            raise ValueError(f"descriptors have dim {x.shape[1]}, the map holds {self.dim}")
        return self.index.search(x, min(int(k), self.index.ntotal))


def _read_info(path: Path) -> dict[str, Any]:
    file = path / MAP_JSON
    if not file.is_file():
        raise MapError(f"{path} is not a map directory (no {MAP_JSON}); build one with `vgssl-map build`")
    try:
        info = json.loads(file.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise MapError(f"{file} is not valid JSON ({exc}); rebuild the map with `vgssl-map build`") from None
    if not isinstance(info, dict):
        raise MapError(f"{file} is not a JSON object; it is not a vgssl map or is damaged: rebuild it")
    missing = [k for k in REQUIRED_FIELDS if k not in info]
    wrong = [k for k, t in REQUIRED_FIELDS.items() if k in info and not isinstance(info[k], t)]
    if missing or wrong:
        raise MapError(
            f"{file} lacks fields {missing} or has fields of the wrong type {wrong}; "
            f"it is not a vgssl map or is damaged: rebuild it with `vgssl-map build`"
        )
    try:
        UtmZone(int(info["utm_zone"]["number"]), str(info["utm_zone"]["band"]))
        if len(info["utm_origin"]) != 2 or "type" not in info["index"]:
            raise ValueError("utm_origin must be [east, north] and index must name its type")
    except (KeyError, TypeError, ValueError) as exc:
        raise MapError(f"{file}: bad utm_zone, utm_origin or index ({exc}); rebuild the map") from None
    return info


def _apply_search_params(index: faiss.Index, params: dict[str, Any]) -> None:
    """Set search-time parameters (nprobe, efSearch) stored in map.json on the loaded index."""
    space = faiss.ParameterSpace()
    for name in SEARCH_PARAMS & params.keys():
        space.set_index_parameter(index, name, params[name])
