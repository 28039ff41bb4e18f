"""Benchmark: ONNX Runtime vs PyTorch eager on the same descriptor model, batch 1, CPU (target ORT >= 1.3x).

Run: .venv/bin/python benchmarks/ort_vs_torch.py [--resize 64 128] [--threads 2] [--repeats 200]
Both get the same uint8 image and the same number of threads; PyTorch runs the exported wrapper
(normalisation included) under inference_mode, ONNX Runtime the exported model.onnx.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from harness import exported_model, median_seconds

from vgssl_ros.core import Embedder
from vgssl_train.export import RgbUint8Model
from vgssl_train.models import DescriptorModel, ModelSpec


def main() -> None:
    """Time one image through PyTorch eager and through ONNX Runtime."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resize", nargs=2, type=int, default=[64, 128], metavar=("H", "W"))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    h, w = args.resize
    model_path = exported_model(Path(tempfile.gettempdir()) / f"vgssl_bench_{h}x{w}.onnx", h, w)
    wrapper = RgbUint8Model(DescriptorModel(ModelSpec(), weights="imagenet").eval()).eval()
    image = np.random.default_rng(0).integers(0, 256, (1, h, w, 3), dtype=np.uint8)
    x = torch.from_numpy(image)
    print(f"efficientnet_lite0 + GeM, input {h}x{w}, batch 1, median of {args.repeats} runs")
    print(f"{'threads':>7} {'torch ms':>9} {'ORT ms':>8} {'speed-up':>8}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        embedder = Embedder(model_path, ["cpu"], intra_op_threads=threads)
        with torch.inference_mode():
            t_torch = median_seconds(lambda: wrapper(x), args.repeats)
        t_ort = median_seconds(lambda e=embedder: e.embed_resized(image), args.repeats)
        print(f"{threads:>7} {1e3 * t_torch:>9.2f} {1e3 * t_ort:>8.2f} {t_torch / t_ort:>7.2f}x")


if __name__ == "__main__":
    main()
