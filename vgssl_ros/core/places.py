"""Places: the positions of a map's entries, stored as a pickle-free npz."""

from __future__ import annotations

import zipfile
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
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise MapError(
                f"places table {path} cannot be read ({exc}); rebuild the map with `vgssl-map build`"
            ) from None
        n = len(cols["utm"])
        shapes_ok = (
            cols["utm"].shape == (n, 2)
            and cols["latlon"].shape == (n, 2)
            and all(cols[k].shape == (n,) for k in ("heading", "timestamp", "ids"))
        )
        if not shapes_ok:
            raise MapError(
                f"places table {path} has inconsistent columns "
                f"{ {k: v.shape for k, v in cols.items()} }; rebuild the map"
            )
        return cls(**cols)
