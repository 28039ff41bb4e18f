"""Shared by the benchmark scripts: the exported model they time, and median timings."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

NORDLAND = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nordland64"


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 3) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def exported_model(
    out: Path, height: int, width: int, extra: tuple[str, ...] = (), parity: Path = NORDLAND / "images" / "val"
) -> Path:
    """The default off-the-shelf model (ImageNet EfficientNet-Lite0 + GeM) exported to ``out`` if absent (``extra``:
    more `vgssl-train export` flags, e.g. --fp16; ``parity``: the images its parity check embeds)."""
    if not out.is_file():
        from vgssl_train.cli import main

        if (
            main(
                [
                    "export",
                    "--resize",
                    str(height),
                    str(width),
                    "--out",
                    str(out),
                    "--parity-images",
                    str(parity),
                    "--parity-count",
                    "16",
                    *extra,
                ]
            )
            != 0
        ):
            raise SystemExit(f"export to {out} failed")
    return out
