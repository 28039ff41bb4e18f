"""Thumbnails: one small JPEG per map place, all in one pickle-free npz beside the index (optional).

The file holds ``jpeg`` (uint8 [total bytes], every thumbnail's JPEG one after the other) and ``offsets``
(int64 [N + 1]: thumbnail i is ``jpeg[offsets[i]:offsets[i + 1]]``). `vgssl-map build` writes it; the
node's debug view shows the thumbnail of the published place.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vgssl_ros.core.errors import DecodeError, MapError

THUMBNAILS_FILE = "thumbnails.npz"
THUMBNAIL_WIDTH = 160
"""Thumbnail width in pixels (smaller source images are kept at their size)."""
THUMBNAIL_QUALITY = 80
"""JPEG quality of a thumbnail (0-100)."""
JPEG_START, JPEG_END = b"\xff\xd8", b"\xff\xd9"


def encode_thumbnail(rgb: np.ndarray, width: int = THUMBNAIL_WIDTH, quality: int = THUMBNAIL_QUALITY) -> bytes:
    """uint8 RGB [H, W, 3] -> JPEG bytes of the image scaled to ``width`` pixels wide (never enlarged)."""
    h, w = rgb.shape[:2]
    if w > width:
        rgb = cv2.resize(rgb, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"cannot encode a {w}x{h} thumbnail as JPEG")
    return jpeg.tobytes()


@dataclass
class Thumbnails:
    """The thumbnails of a map's places: ``jpeg`` uint8 [total bytes], ``offsets`` int64 [N + 1]."""

    jpeg: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def from_encoded(cls, encoded: list[bytes]) -> Thumbnails:
        """Pack JPEG byte strings (one per place, in place order)."""
        offsets = np.zeros(len(encoded) + 1, np.int64)
        offsets[1:] = np.cumsum([len(b) for b in encoded])
        return cls(np.frombuffer(b"".join(encoded), np.uint8).copy(), offsets)

    def image(self, place: int) -> np.ndarray:
        """Decoded uint8 RGB [h, w, 3] thumbnail of ``place``; DecodeError if its JPEG is damaged."""
        if not 0 <= place < len(self):
            raise IndexError(f"place {place} is not in 0..{len(self) - 1}")
        bgr = cv2.imdecode(self.jpeg[self.offsets[place] : self.offsets[place + 1]], cv2.IMREAD_COLOR)
        if bgr is None:
            raise DecodeError(f"thumbnail of place {place} is not a readable JPEG")
        return np.ascontiguousarray(bgr[:, :, ::-1])

    def save(self, path: str | Path) -> None:
        """Write ``path`` (npz, no pickled objects)."""
        with open(path, "wb") as f:
            np.savez(f, jpeg=self.jpeg.astype(np.uint8), offsets=self.offsets.astype(np.int64))

    @classmethod
    def load(cls, path: str | Path, count: int) -> Thumbnails:
        """Read and check a thumbnails file of ``count`` places (MapError naming what is wrong)."""
        fix = "the map's thumbnails are damaged: rebuild the map with `vgssl-map build` (or delete the file)"
        try:
            with np.load(path, allow_pickle=False) as z:
                jpeg, offsets = z["jpeg"], z["offsets"]
        except (OSError, ValueError, KeyError, EOFError, MemoryError, zipfile.BadZipFile, zlib.error) as exc:
            raise MapError(f"thumbnails {path} cannot be read ({exc}); {fix}") from None
        if jpeg.dtype != np.uint8 or jpeg.ndim != 1 or offsets.dtype.kind not in "iu" or offsets.ndim != 1:
            raise MapError(
                f"thumbnails {path} hold jpeg {jpeg.dtype}{list(jpeg.shape)} and offsets "
                f"{offsets.dtype}{list(offsets.shape)}, expected uint8 [bytes] and int64 [places + 1]; {fix}"
            )
        if len(offsets) != count + 1:
            raise MapError(f"thumbnails {path} hold {len(offsets) - 1} thumbnails for {count} places; {fix}")
        offsets = offsets.astype(np.int64)
        if offsets[0] != 0 or offsets[-1] != len(jpeg) or (np.diff(offsets) < 4).any():
            raise MapError(f"thumbnails {path}: offsets do not cut {len(jpeg)} bytes into {count} JPEGs; {fix}")
        starts = jpeg[offsets[:-1, None] + [0, 1]]
        ends = jpeg[offsets[1:, None] - [2, 1]]
        bad = ~((starts == list(JPEG_START)).all(axis=1) & (ends == list(JPEG_END)).all(axis=1))
        if bad.any():
            raise MapError(
                f"thumbnails {path}: {int(bad.sum())} entries are not JPEG data, first at place "
                f"{int(np.flatnonzero(bad)[0])}; {fix}"
            )
        return cls(jpeg, offsets)
