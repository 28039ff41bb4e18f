"""Benchmark: `vgssl-map build` throughput vs raw batched ONNX Runtime throughput (target >= 0.9).

Run: .venv/bin/python benchmarks/map_build.py [--resize 64 128] [--batch-size 32] [--repeats 3]
Raw: embed_resized on batches already decoded and resized in memory. Build: build_map from the
Nordland64 test database folder (decode, resize, embed, flat index, atomic write), images per second, with the
per-place JPEG thumbnails (default) and without (--no-thumbnails): thumbnails may cost at most 10 %.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import NORDLAND, exported_model

from vgssl_ros.core import Embedder
from vgssl_ros.core.thumbnails import THUMBNAIL_WIDTH
from vgssl_ros.datasets import load_rgb, read_vpr_folder, resize_rgb
from vgssl_ros.mapping import build_map
from vgssl_ros.mapping.sources import folder_source


def main() -> None:
    """Print raw and build throughput and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resize", nargs=2, type=int, default=[64, 128], metavar=("H", "W"))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--images", default=str(NORDLAND / "images" / "test" / "database"), help="VPR-layout folder to map"
    )
    args = parser.parse_args()
    h, w = args.resize
    folder = Path(args.images)
    model = exported_model(Path(tempfile.gettempdir()) / f"vgssl_bench_{h}x{w}.onnx", h, w)
    embedder = Embedder(model, ["cpu"], intra_op_threads=args.threads)
    images = np.stack([resize_rgb(load_rgb(p), h, w) for p in read_vpr_folder(folder).paths])
    n = len(images)
    raw, build, bare = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            start = time.perf_counter()
            for i in range(0, n, args.batch_size):
                embedder.embed_resized(images[i : i + args.batch_size])
            raw.append(n / (time.perf_counter() - start))
            for width, rates in ((THUMBNAIL_WIDTH, build), (0, bare)):
                start = time.perf_counter()
                build_map(
                    embedder,
                    folder_source(folder),
                    Path(tmp) / f"map{r}_{width}",
                    "flat",
                    batch_size=args.batch_size,
                    progress=False,
                    thumbnail_width=width,
                )
                rates.append(n / (time.perf_counter() - start))
    print(
        f"{n} images of {folder.name} ({'x'.join(map(str, load_rgb(read_vpr_folder(folder).paths[0]).shape[:2]))}) "
        f"at {h}x{w}, batch {args.batch_size}, {args.threads} ORT threads, "
        f"median of {args.repeats}"
    )
    print(f"raw ORT  {statistics.median(raw):8.1f} img/s")
    print(f"map build {statistics.median(build):7.1f} img/s (with {THUMBNAIL_WIDTH} px thumbnails)")
    print(f"ratio    {statistics.median(build) / statistics.median(raw):8.2f}")
    print(
        f"no thumbnails {statistics.median(bare):6.1f} img/s: thumbnails cost "
        f"{100 * (statistics.median(bare) / statistics.median(build) - 1):.1f} % build time"
    )


if __name__ == "__main__":
    main()
