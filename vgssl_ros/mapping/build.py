"""Build a map: frames -> batched ONNX Runtime embedding (loading overlapped) -> FAISS index + places."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from vgssl_ros.core.embedder import Embedder
from vgssl_ros.core.places import Places
from vgssl_ros.core.thumbnails import THUMBNAIL_WIDTH, Thumbnails, encode_thumbnail
from vgssl_ros.datasets import DatasetError, resize_rgb
from vgssl_ros.io.progress import Progress
from vgssl_ros.mapping.sources import FrameSource, GeoFrame, keep_spaced
from vgssl_ros.mapping.writer import write_map


def build_map(
    embedder: Embedder,
    source: FrameSource,
    out: str | Path,
    index_type: str,
    min_spacing_m: float = 0.0,
    batch_size: int = 32,
    overwrite: bool = False,
    progress: bool = True,
    thumbnail_width: int = THUMBNAIL_WIDTH,
) -> dict[str, Any]:
    """Embed the frames of ``source`` kept every ``min_spacing_m`` metres and write the map ``out`` with a JPEG
    thumbnail per place ``thumbnail_width`` px wide (0: none); returns map.json."""
    frames = keep_spaced(source.frames, min_spacing_m, source.skipped)
    descriptors, kept, thumbs = [], [], []
    with Progress("embedding map images", "images", quiet=not progress) as bar:
        batches = _load_batches(frames, batch_size, embedder.input_size, thumbnail_width)
        for batch, batch_frames, batch_thumbs in _prefetched(batches):
            descriptors.append(embedder.embed_resized(batch))
            kept.extend(batch_frames)
            thumbs.extend(batch_thumbs)
            bar.update(len(batch_frames))
    if not kept:
        raise DatasetError(
            f"no geo-tagged images to map from {source.description.get('path')} "
            f"(skipped: {source.skipped}); check the source and its positions"
        )
    places = Places(
        utm=np.stack([f.utm for f in kept]),
        latlon=np.stack([f.latlon for f in kept]),
        heading=np.array([f.heading for f in kept], np.float64),
        timestamp=np.array([f.timestamp for f in kept], np.float64),
        ids=np.array([f.id for f in kept], dtype=str),
    )
    description = {**source.description, "min_spacing_m": min_spacing_m, "skipped": dict(source.skipped)}
    return write_map(
        out,
        np.concatenate(descriptors),
        places,
        source.zone,
        embedder.model_sha256,
        embedder.metadata,
        index_type,
        description,
        overwrite,
        Thumbnails.from_encoded(thumbs) if thumbnail_width > 0 else None,
        thumbnail_width,
    )


Batch = tuple[np.ndarray, list[GeoFrame], list[bytes]]


def _load_batches(
    frames: Iterable[GeoFrame], batch_size: int, size: tuple[int, int], thumbnail_width: int
) -> Iterator[Batch]:
    """Batches of uint8 [B, H, W, 3] resized images with their frames and JPEG thumbnails (none when the width is 0)."""
    it = iter(frames)
    while chunk := list(islice(it, batch_size)):
        images = [f.load() for f in chunk]
        thumbs = [encode_thumbnail(rgb, thumbnail_width) for rgb in images] if thumbnail_width > 0 else []
        yield np.stack([resize_rgb(rgb, *size) for rgb in images]), chunk, thumbs


def _prefetched(batches: Iterator[Batch]) -> Iterator[Batch]:
    """Load the next batch in a thread while the caller embeds this one (decoding and ORT release the GIL)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, batches, None)
        while (item := pending.result()) is not None:
            pending = pool.submit(next, batches, None)
            yield item
