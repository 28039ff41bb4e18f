"""GeoPair mining time on nordland64 train at the study's settings, and where it goes.

Times one epoch's mining (``mine_epoch``) per mode with the ImageNet EfficientNet-Lite0 + GeM at 64x128,
counts the images it embeds, and times embedding alone at several batch sizes. Runs against whichever
``vgssl_train`` is on PYTHONPATH, so an older commit (one where ``mine_epoch`` takes keyword arguments)
can be measured the same way:

    PYTHONPATH=. .venv/bin/python benchmarks/mining_speed.py
    git archive REV | tar -x -C /tmp/old && PYTHONPATH=/tmp/old .venv/bin/python benchmarks/mining_speed.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from vgssl_ros.geo import TRAIN_RADIUS_M
from vgssl_train.data import load_split
from vgssl_train.evaluation import embed_paths
from vgssl_train.mining import database_to_embed
from vgssl_train.models import DescriptorModel, ModelSpec
from vgssl_train.training.epoch_pairs import mine_epoch

NORDLAND = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nordland64"


def main() -> None:
    """Print mining seconds per mode and embedding images/s per batch size."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default=str(NORDLAND))
    p.add_argument("--modes", nargs="+", default=["partial", "full"])
    p.add_argument("--sample", type=int, default=500, help="partial mining sample (the study's: %(default)s)")
    p.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 64, 128])
    p.add_argument("--embed-images", type=int, default=512, help="images embedded per batch-size timing")
    args = p.parse_args()
    split = load_split(args.dataset, "train", None)
    model = DescriptorModel(ModelSpec("efficientnet_lite0", "conv5", "gem", 0), weights="imagenet")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {len(split.queries)} queries, "
        f"{len(split.database)} database images, 64x128"
    )
    for mode in args.modes:
        ids = database_to_embed(
            mode, split.positives(TRAIN_RADIUS_M), len(split.database), args.sample, np.random.default_rng([0, 0])
        )
        start = time.perf_counter()
        pairs = mine_epoch(
            model,
            split,
            0,
            mode=mode,
            negatives=1,
            sample_size=args.sample,
            seed=0,
            height=64,
            width=128,
            batch_size=64,
            progress=False,
        )
        seconds = time.perf_counter() - start
        embedded = len(split.queries) + len(ids)
        print(
            f"mining {mode}: {seconds:.1f} s for {len(pairs)} pairs, {embedded} images embedded "
            f"({embedded / seconds:.0f} images/s)"
        )
    paths = split.database.paths[: args.embed_images]
    for batch in args.batch_sizes:
        embed_paths(model, paths[:batch], 64, 128, batch, progress=False)  # warm-up
        start = time.perf_counter()
        embed_paths(model, paths, 64, 128, batch, progress=False)
        print(f"embedding, batch {batch}: {len(paths) / (time.perf_counter() - start):.0f} images/s")


if __name__ == "__main__":
    main()
