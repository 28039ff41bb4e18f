"""The one way to build a LocalizerCore: the node, `vgssl-eval` and the demo all call `build_localizer`."""

from __future__ import annotations

from pathlib import Path

import faiss

from vgssl_ros.core.calibration import CALIBRATION_FILE, Calibration
from vgssl_ros.core.embedder import Embedder
from vgssl_ros.core.filter import filter_for_map
from vgssl_ros.core.localizer import LocalizerCore
from vgssl_ros.core.map import Map
from vgssl_ros.core.settings import LocalizerSettings


def calibration_path(option: str, map_dir: str | Path) -> Path | None:
    """The calibration file to apply: ``option``, else MAP/calibration.json if present; None for 'none' or absent."""
    if option == "none":
        return None
    if option:
        return Path(option)
    default = Path(map_dir) / CALIBRATION_FILE
    return default if default.is_file() else None


def build_localizer(
    model: str | Path, map_dir: str | Path, settings: LocalizerSettings, load_calibration: bool = True
) -> LocalizerCore:
    """Load the embedder (``model``), the map (``map_dir``, built with that model), the temporal filter
    (``settings.filter_enabled``) and the calibration (``settings.calibration``, see `calibration_path`;
    skipped with ``load_calibration`` False, e.g. while fitting one). Sets FAISS's OpenMP threads
    (``settings.search_threads``, process-wide). Raises ModelError, MapError or ValueError with what to fix."""
    faiss.omp_set_num_threads(settings.search_threads)
    embedder = Embedder(model, providers=settings.execution_providers, intra_op_threads=settings.intra_op_threads)
    geo_map = Map.load(map_dir, model_sha256=embedder.model_sha256, dim=embedder.dim)
    temporal_filter = (
        filter_for_map(geo_map, settings.filter_config, settings.estimator) if settings.filter_enabled else None
    )
    path = calibration_path(settings.calibration, map_dir) if load_calibration else None
    return LocalizerCore(embedder, geo_map, settings, temporal_filter, Calibration.load(path) if path else None)
