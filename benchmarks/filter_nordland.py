"""Temporal filter on the Nordland64 test drive: filtered Recall@1 and recovery after kidnappings.

Winter queries (route order) against the summer database of one split. Descriptors come from the
model once; each frame then goes through a FAISS top-k search and `PlaceFilter.step`, as in the node.
Kidnapping: the drive is cut at place A and continues from place B (far away); recovery is the
number of frames after the jump until the filtered place is correct for 3 frames in a row.

Robot metrics of the drive in route order (`vgssl_ros.eval.robustness`, as `vgssl-eval` reports them), for the
single-frame answer (top-1 place, always published, probability = its similarity as the node gives it without
calibration) and the filtered fix (published as the node does: `filtered_answer` at the default
``min_confidence``, probability = the filter's confidence): acquisition, wrong streaks, confidently wrong. Seconds
are at Nordland's own rate: its frames were taken once a second (about 20 m apart, the pseudo-positions' 20 m per
frame number) and nordland64 keeps every 10th, so one frame every FRAME_PERIOD_S = 10 s (200 m). The filter
itself is given 0.1 s steps, as always here: it uses stamps only to reset on a gap over ``max_gap_s`` (10 s).

    PYTHONPATH=. .venv/bin/python benchmarks/filter_nordland.py --model MODEL.onnx [--split test]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

import faiss
import numpy as np
from robot_table import ROBOT_ALIGN, ROBOT_HEADER, robot_cells

from vgssl_ros.core.calibration import mode_probability
from vgssl_ros.core.embedder import Embedder
from vgssl_ros.core.estimate import EstimatorConfig
from vgssl_ros.core.filter import FilterConfig, ObservationModel, PlaceFilter, PlaceLayout
from vgssl_ros.core.filter.output import filtered_answer
from vgssl_ros.datasets import load_rgb, read_vpr_folder
from vgssl_ros.eval.robustness import robustness_metrics
from vgssl_ros.geo import EVAL_RADIUS_M

DATA = "../shared/data/nordland64/images"
FRAME_PERIOD_S = 10.0
"""Time between nordland64 frames: the source frames are 1 s apart and every 10th is kept (module docstring)."""
FILTER_STEP_S = 0.1
"""Stamp step given to the filter (below its max_gap_s; it uses stamps for nothing else)."""


@dataclass
class DriveAnswers:
    """Per frame [T] of a drive through search + filter: the single-frame top-1 place right (``single_correct``)
    and its ``single_probability``; the filter's place right, published or not (``filtered_correct``), whether the
    node would publish it (``filtered_accepted``) and its ``filtered_probability``."""

    single_correct: np.ndarray
    single_probability: np.ndarray
    filtered_correct: np.ndarray
    filtered_accepted: np.ndarray
    filtered_probability: np.ndarray


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
) -> DriveAnswers:
    """Frames ``order`` [T] through search + filter, each answer scored and gated as the node does."""
    index = faiss.IndexFlatIP(db.shape[1])
    index.add(db)
    f = PlaceFilter(
        PlaceLayout.build(db_utm, config.step_radius_m),
        ObservationModel(db, config.temperature, config.query_mean_rate, config.reference_places),
        config,
    )
    similarity, seeds = index.search(q[order], max(config.seed_k, 1))
    single = np.linalg.norm(db_utm[seeds[:, 0]] - q_utm[order], axis=1) <= EVAL_RADIUS_M
    filtered, accepted, probability = [], [], []
    for t, i in enumerate(order):
        state = f.step(q[i], seeds[t], FILTER_STEP_S * t)
        p = mode_probability(None, "filtered", state.confidence)
        answer = filtered_answer(state, p, 1.0, config.min_confidence, EstimatorConfig.min_std_m, float("nan"))
        filtered.append(np.linalg.norm(state.position - q_utm[i]) <= EVAL_RADIUS_M)
        accepted.append(answer.accepted)
        probability.append(p)
    single_p = np.array([mode_probability(None, "single", s) for s in similarity[:, 0]])
    return DriveAnswers(single, single_p, np.array(filtered), np.array(accepted, bool), np.array(probability))


def robot_metrics(answers: DriveAnswers, q_utm: np.ndarray) -> dict[str, dict[str, float]]:
    """`robustness_metrics` of the single-frame and the filtered answers of a drive in route order (true path
    ``q_utm`` [T, 2]), at FRAME_PERIOD_S per frame."""
    stamps = FRAME_PERIOD_S * np.arange(len(q_utm))
    single = robustness_metrics(
        np.ones(len(q_utm), bool), answers.single_correct, answers.single_probability, stamps, gt_utm=q_utm
    )
    filtered = robustness_metrics(
        answers.filtered_accepted, answers.filtered_correct, answers.filtered_probability, stamps, gt_utm=q_utm
    )
    return {"single": single, "filtered": filtered}


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
    drive = run_drive(db, db_utm, q, q_utm, np.arange(len(q)), config)
    filtered = drive.filtered_correct
    robot = robot_metrics(drive, q_utm)
    result = {
        "split": args.split,
        "frames": len(q),
        "single_recall1": 100 * drive.single_correct.mean(),
        "filtered_recall1": 100 * filtered.mean(),
        "filtered_recall1_after_100_frames": 100 * filtered[100:].mean(),
        "filtered_answered": 100 * drive.filtered_accepted.mean(),
        "frame_period_s": FRAME_PERIOD_S,
        "robustness": robot,
        "config": str(config),
    }
    rng = np.random.default_rng(0)
    trials = []
    n = len(q)
    for _ in range(args.kidnaps):  # 150 frames from A, then 150 frames from B, at least n/3 places away
        a = int(rng.integers(0, n - 150))
        b = int((a + 150 + rng.integers(n // 3, 2 * n // 3)) % (n - 150))
        order = np.concatenate([np.arange(a, a + 150), np.arange(b, b + 150)])
        ok = run_drive(db, db_utm, q, q_utm, order, config).filtered_correct
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
    r1 = {"single": result["single_recall1"], "filtered": result["filtered_recall1"]}
    answered = {"single": 100.0, "filtered": result["filtered_answered"]}
    print(f"\n| drive | answer | R@1 | answered | {ROBOT_HEADER} |")
    print(f"| --- | --- | ---: | ---: | {ROBOT_ALIGN} |")
    for mode in ("single", "filtered"):
        print(
            f"| {args.split if mode == 'single' else ''} | {mode} | {r1[mode]:.1f} | {answered[mode]:.1f} % "
            f"| {robot_cells(robot[mode])} |"
        )


if __name__ == "__main__":
    main()
