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


PRECISION_ARGS = {
    "fp32": [],
    "fp16": ["--fp16"],
    "int8": ["--int8", "--calibration-images", str(NORDLAND / "images" / "train" / "database")],
}
"""`vgssl-train export` options per precision (int8 calibrates on Nordland64's train database)."""


def exported_model(
    out: Path,
    height: int,
    width: int,
    precision: str = "fp32",
    parity: Path = NORDLAND / "images" / "val",
    calibration: Path | None = None,
) -> Path:
    """The default off-the-shelf model (ImageNet EfficientNet-Lite0 + GeM) exported to ``out`` in ``precision``
    if absent (``parity``: the images its parity check embeds; ``calibration``: int8 calibration images instead
    of Nordland64's train database)."""
    if not out.is_file():
        from vgssl_train.cli import main

        options = PRECISION_ARGS[precision]
        if calibration is not None and precision == "int8":
            options = ["--int8", "--calibration-images", str(calibration)]
        argv = ["export", "--resize", str(height), str(width), "--out", str(out), *options]
        if main([*argv, "--parity-images", str(parity), "--parity-count", "16"]) != 0:
            raise SystemExit(f"export to {out} failed")
    return out
