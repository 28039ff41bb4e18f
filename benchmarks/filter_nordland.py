"""Temporal filter on the Nordland64 test drive: filtered Recall@1 and recovery after kidnappings.

Winter queries (route order) against the summer database of one split. Descriptors come from the
model once; each frame then goes through a FAISS top-k search and `PlaceFilter.step`, as in the node.
Kidnapping: the drive is cut at place A and continues from place B (far away); recovery is the
number of frames after the jump until the filtered place is correct for 3 frames in a row.

    PYTHONPATH=. .venv/bin/python benchmarks/filter_nordland.py --model MODEL.onnx [--split test]
"""

from __future__ import annotations

import argparse
import json

import faiss
import numpy as np

from vgssl_ros.core.embedder import Embedder
from vgssl_ros.core.filter import FilterConfig, ObservationModel, PlaceFilter, PlaceLayout
from vgssl_ros.datasets import load_rgb, read_vpr_folder
from vgssl_ros.geo import EVAL_RADIUS_M

DATA = "../shared/data/nordland64/images"


def embed_split(model: str, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(database descriptors [N, D], database UTM [N, 2], query descriptors [M, D], query UTM [M, 2])."""
    embedder = Embedder(model, intra_op_threads=2)
    out = []
    for role in ("database", "queries"):
        images = read_vpr_folder(f"{DATA}/{split}/{role}")
        out += [embedder.embed([load_rgb(p) for p in images.paths]), images.utm]
    return tuple(out)  # type: ignore[return-value]


def run_drive(
    db: np.ndarray, db_utm: np.ndarray, q: np.ndarray, q_utm: np.ndarray, order: np.ndarray, config: FilterConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``order`` [T] through search + filter: (filtered correct [T], single-frame correct [T])."""
    index = faiss.IndexFlatIP(db.shape[1])
    index.add(db)
    f = PlaceFilter(
        PlaceLayout.build(db_utm, config.step_radius_m),
        ObservationModel(db, config.temperature, config.query_mean_rate, config.reference_places),
        config,
    )
    _, seeds = index.search(q[order], max(config.seed_k, 1))
    filtered, single = [], []
    for t, i in enumerate(order):
        state = f.step(q[i], seeds[t], 0.1 * t)
        filtered.append(np.linalg.norm(state.position - q_utm[i]) <= EVAL_RADIUS_M)
        single.append(np.linalg.norm(db_utm[seeds[t][0]] - q_utm[i]) <= EVAL_RADIUS_M)
    return np.array(filtered), np.array(single)


def recovery(correct: np.ndarray, start: int, hold: int = 3) -> int | None:
    """Frames after ``start`` until ``hold`` correct frames in a row begin; None if never."""
    for t in range(start, len(correct) - hold + 1):
        if correct[t : t + hold].all():
            return t - start
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--kidnaps", type=int, default=24, help="kidnapping trials")
    args = p.parse_args()
    db, db_utm, q, q_utm = embed_split(args.model, args.split)
    config = FilterConfig()
    filtered, single = run_drive(db, db_utm, q, q_utm, np.arange(len(q)), config)
    result = {
        "split": args.split,
        "frames": len(q),
        "single_recall1": 100 * single.mean(),
        "filtered_recall1": 100 * filtered.mean(),
        "filtered_recall1_after_100_frames": 100 * filtered[100:].mean(),
        "config": str(config),
    }
    rng = np.random.default_rng(0)
    trials = []
    n = len(q)
    for _ in range(args.kidnaps):  # 150 frames from A, then 150 frames from B, at least n/3 places away
        a = int(rng.integers(0, n - 150))
        b = int((a + 150 + rng.integers(n // 3, 2 * n // 3)) % (n - 150))
        order = np.concatenate([np.arange(a, a + 150), np.arange(b, b + 150)])
        ok, _ = run_drive(db, db_utm, q, q_utm, order, config)
        trials.append(
            {
                "from": a + 149,
                "to": b,
                "correct_before_jump": bool(ok[140:150].all()),
                "frames_to_recover": recovery(ok, 150),
            }
        )
    recovered = [t["frames_to_recover"] for t in trials]
    if trials:
        result["kidnapping"] = {
            "trials": trials,
            "recovered_within_20": sum(r is not None and r <= 20 for r in recovered),
            "median_frames": float(np.median([r if r is not None else np.inf for r in recovered])),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
