"""Places: the positions of a map's entries, stored as a pickle-free npz."""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vgssl_ros.core.errors import MapError

COLUMNS = ("utm", "latlon", "heading", "timestamp", "ids")


@dataclass
class Places:
    """Per place: ``utm`` [N, 2] east/north m, ``latlon`` [N, 2] deg, ``heading`` [N] deg or NaN,
    ``timestamp`` [N] s or NaN, ``ids`` [N] source image id (str)."""

    utm: np.ndarray
    latlon: np.ndarray
    heading: np.ndarray
    timestamp: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.utm)

    def save(self, path: str | Path) -> None:
        """Write the columns to ``path`` (npz, no pickled objects)."""
        with open(path, "wb") as f:
            np.savez(
                f,
                utm=self.utm.astype(np.float64),
                latlon=self.latlon.astype(np.float64),
                heading=self.heading.astype(np.float64),
                timestamp=self.timestamp.astype(np.float64),
                ids=np.asarray(self.ids, dtype=str),
            )

    @classmethod
    def load(cls, path: str | Path) -> Places:
        """Read and check a places table written by ``save``."""
        try:
            with np.load(path, allow_pickle=False) as z:
                cols = {k: z[k] for k in COLUMNS}
        except (
            OSError,
            ValueError,
            KeyError,
            EOFError,
            MemoryError,
            NotImplementedError,
            zipfile.BadZipFile,
            zlib.error,
        ) as exc:
            raise MapError(
                f"places table {path} cannot be read ({exc}); rebuild the map with `vgssl-map build`"
            ) from None
        _check_columns(Path(path), cols)
        return cls(**cols)


def _check_columns(path: Path, cols: dict[str, np.ndarray]) -> None:
    """Shapes, dtypes and values of the columns: positions finite and in range, heading/timestamp finite or NaN."""
    fix = "the map is damaged: rebuild it with `vgssl-map build`"
    kinds = {k: ("U" if k == "ids" else "fiu") for k in COLUMNS}
    wrong = {k: str(v.dtype) for k, v in cols.items() if v.dtype.kind not in kinds[k]}
    if wrong:
        raise MapError(f"places table {path} has columns of the wrong type {wrong} (ids text, others numbers); {fix}")
    n = len(cols["utm"]) if cols["utm"].ndim else -1
    shapes_ok = (
        cols["utm"].shape == (n, 2)
        and cols["latlon"].shape == (n, 2)
        and all(cols[k].shape == (n,) for k in ("heading", "timestamp", "ids"))
    )
    if not shapes_ok:
        raise MapError(
            f"places table {path} has inconsistent columns { ({k: v.shape for k, v in cols.items()}) }; {fix}"
        )
    utm, latlon = cols["utm"].astype(np.float64), cols["latlon"].astype(np.float64)
    checks = {
        "utm (finite, 0..1e6 east, 0..1e7 north)": np.isfinite(utm).all(axis=1)
        & (utm[:, 0] >= 0)
        & (utm[:, 0] <= 1e6)
        & (utm[:, 1] >= 0)
        & (utm[:, 1] <= 1e7),
        "latlon (finite degrees)": (np.abs(latlon) <= [90.0, 180.0]).all(axis=1),
        "heading (degrees or NaN)": np.isnan(cols["heading"]) | (np.abs(cols["heading"]) <= 720.0),
        "timestamp (finite or NaN)": ~np.isinf(cols["timestamp"]),
    }
    for what, ok in checks.items():
        if not ok.all():
            first = int(np.flatnonzero(~ok)[0])
            raise MapError(
                f"places table {path}: {int((~ok).sum())} bad values in {what}, first at place {first}; {fix}"
            )
