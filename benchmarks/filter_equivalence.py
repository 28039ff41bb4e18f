"""Temporal filter equivalence: every FilterState field, frame by frame, against another revision of the filter.

Both implementations run the same inputs in their own process (the reference is `git archive`d from
``--reference`` into a temporary folder and put first on PYTHONPATH): synthetic drives (the world of
test_filter.py: dense drive with a stop, sparse drive, kidnapping, map gaps, a map end, a reversal, a
winding 2-d road, views of nowhere, a one-place map, stamp gaps, out-of-order and missing stamps, a stamp
far back) and, with ``--model``, the Nordland64 val and test drives in route order plus 24 kidnappings of
the test drive (seeds from an exact FAISS search, as in filter_nordland.py). Prints per drive the largest
difference of each field (0 = bit-exact) and the frames right (within 25 m) with each implementation.

    PYTHONPATH=. .venv/bin/python benchmarks/filter_equivalence.py --reference 6949fe7 [--model ots.onnx]

A drive whose stamps go back by more than ``max_gap_s`` is marked: issue 16 changed that rule on purpose
(such a stamp now resets the filter instead of being ignored as out of order).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "nordland64" / "images"
FIELDS = (
    "position",
    "covariance",
    "confidence",
    "place",
    "candidates",
    "lost_mass",
    "support",
    "status",
    "frames",
    "anywhere",
    "motion",
)
TOP_K = 10
Frame = tuple[np.ndarray, np.ndarray, float | None]


# ---- inputs (made in the parent process, identical for both implementations) -----------------------------------


def _world(n: int = 300, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Places on a line every 10 m [n, 2] and unit descriptors [n, dim] (as in test_filter.py)."""
    rng = np.random.default_rng(seed)
    desc = rng.normal(size=(n, dim)).astype(np.float32)
    desc /= np.linalg.norm(desc, axis=1, keepdims=True)
    return np.stack([np.zeros(n), np.arange(n) * 10.0], axis=1) + [450000.0, 7250000.0], desc


def _road(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Places 10 m apart on a winding 2-d road [n, 2] and unit descriptors [n, dim] (as in filter_cost.py)."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.05, n))
    utm = np.cumsum(10.0 * np.stack([np.cos(heading), np.sin(heading)], axis=1), axis=0) + [450000.0, 7250000.0]
    desc = rng.normal(size=(n, dim)).astype(np.float32)
    return utm, desc / np.linalg.norm(desc, axis=1, keepdims=True)


def _views(desc: np.ndarray, route: list[int], noise: float, seed: int) -> list[np.ndarray]:
    """Noisy unit views [dim] of the route's places."""
    rng = np.random.default_rng(seed)
    out = []
    for place in route:
        q = desc[place] + noise * rng.normal(size=desc.shape[1]).astype(np.float32)
        out.append(q / np.linalg.norm(q))
    return out


def _frames(desc: np.ndarray, views: list[np.ndarray], stamps: list[float | None], seed_k: int) -> list[Frame]:
    """Frames (view, its exact top ``seed_k`` places, stamp)."""
    return [(q, np.argsort(-(desc @ q))[:seed_k], s) for q, s in zip(views, stamps)]


Drive = tuple[str, dict[str, Any], np.ndarray, np.ndarray, list[Frame], np.ndarray]
"""(name, FilterConfig kwargs, map UTM [N, 2], map descriptors [N, D], frames, true position [T, 2] (NaN: none))."""


def synthetic_drives() -> Iterator[Drive]:
    """The synthetic drives (see the module docstring)."""
    utm, desc = _world()
    nowhere = np.full(2, np.nan)

    def drive(
        name: str, cfg: dict[str, Any], route: list[int], noise: float, seed: int, stamps: list[float | None]
    ) -> Drive:
        views = _views(desc, route, noise, seed)
        return name, cfg, utm, desc, _frames(desc, views, stamps, cfg.get("seed_k", 50)), utm[route]

    yield drive("sparse", {"seed_k": 20}, list(range(20, 220)), 0.3, 1, [0.1 * i for i in range(200)])
    dense = [20 + int(round(0.25 * i)) for i in range(400)]
    yield drive("dense", {"seed_k": 20}, dense, 0.3, 1, [0.1 * i for i in range(400)])
    smooth = np.stack([np.convolve(desc[:, d], np.ones(7) / 7, mode="same") for d in range(desc.shape[1])], axis=1)
    smooth = (smooth / np.linalg.norm(smooth, axis=1, keepdims=True)).astype(np.float32)
    rng, views = np.random.default_rng(1), []
    route = [20 + i // 4 for i in range(160)] + [60] * 200 + [60 + i // 4 for i in range(160)]
    for i, place in enumerate(route):
        if 160 <= i < 360:  # standing still at an ambiguous view: sensor noise only
            q = 0.5 * smooth[60] + 0.5 * smooth[200] + 0.02 * rng.normal(size=desc.shape[1]).astype(np.float32)
        else:
            q = smooth[place] + 0.3 * rng.normal(size=desc.shape[1]).astype(np.float32)
        views.append(q / np.linalg.norm(q))
    stamps: list[float | None] = [0.1 * i for i in range(520)]
    yield "dense_stop", {"seed_k": 20}, utm, smooth, _frames(smooth, views, stamps, 20), utm[route]
    route = list(range(10, 90)) + list(range(200, 240))
    views = _views(desc, route[:80], 0.3, 1) + _views(desc, route[80:], 0.3, 2)
    stamps = [0.1 * i for i in range(80)] + [8.0 + 0.1 * i for i in range(40)]
    yield "kidnap", {"seed_k": 20}, utm, desc, _frames(desc, views, stamps, 20), utm[route]
    route = list(range(40, 120)) + list(range(119, 60, -1))  # forward, then back
    yield drive("reversal", {"seed_k": 20}, route, 0.3, 4, [0.1 * i for i in range(len(route))])
    gapped = utm.copy()
    for start in (80, 140, 200):
        gapped[start:, 1] += 120.0
    route = list(range(20, 280))
    views = _views(desc, route, 0.3, 1)
    stamps = [0.1 * i for i in range(260)]
    yield "map_gaps", {"seed_k": 20}, gapped, desc, _frames(desc, views, stamps, 20), gapped[route]
    route = list(range(150, 260))  # the road goes on past place 199, the last mapped one
    views, stamps = _views(desc, route, 0.3, 3), [0.1 * i for i in range(110)]
    yield "map_end", {"seed_k": 20}, utm[:200], desc[:200], _frames(desc[:200], views, stamps, 20), utm[route]
    rng = np.random.default_rng(9)
    noise = [q / np.linalg.norm(q) for q in rng.normal(size=(60, desc.shape[1])).astype(np.float32)]
    views = _views(desc, list(range(30, 80)), 0.1, 1) + noise
    stamps = [0.1 * i for i in range(50)] + [10 + 0.1 * i for i in range(60)]
    truth = np.concatenate([utm[30:80], np.tile(nowhere, (60, 1))])
    yield "nowhere", {}, utm, desc, _frames(desc, views, stamps, 50), truth
    stamps = [0.1 * i for i in range(100)]
    stamps[30], stamps[31], stamps[40] = 1.0, stamps[29], None  # older, equal, missing
    stamps[50] = float("nan")
    stamps[60:] = [100.0 + 0.1 * i for i in range(40)]  # forward gap > max_gap_s: reset
    stamps[70] = 100.0 + 0.1 * 9 - 4.0  # back by less than max_gap_s: out of order
    yield drive("stamps", {"max_gap_s": 5.0}, list(range(30, 130)), 0.2, 5, stamps)
    stamps = [0.1 * i for i in range(30)] + [2147483647.0] + [3.0 + 0.1 * i for i in range(29)]
    yield drive("stamp_far_future", {}, list(range(30, 90)), 0.2, 6, stamps)
    cfg = {"max_support": 100, "seed_k": 10, "query_mean_rate": 0.0}
    yield drive("small_support", cfg, list(range(30, 130)), 0.3, 7, [None] * 100)
    road_utm, road_desc = _road(2000, 64)
    route = [100 + int(0.6 * i) for i in range(300)]
    views, stamps = _views(road_desc, route, 0.6, 8), [0.1 * i for i in range(300)]
    cfg = {"step_radius_m": 40.0, "speed_std_m": 3.0, "jump_prob": 0.1, "temperature": 1.5}
    yield "road_2d", cfg, road_utm, road_desc, _frames(road_desc, views, stamps, 50), road_utm[route]
    frames: list[Frame] = [(desc[0], np.array([0, -1]), float(i)) for i in range(5)]
    yield "one_place", {}, utm[:1], desc[:1], frames, np.tile(utm[0], (5, 1))


def nordland_inputs(model: str, cache: Path) -> dict[str, np.ndarray]:
    """Descriptors, positions and exact top-50 seeds of the Nordland64 val and test splits (cached in ``cache``)."""
    if cache.is_file():
        return dict(np.load(cache))
    import faiss

    from vgssl_ros.core.embedder import Embedder
    from vgssl_ros.datasets import load_rgb, read_vpr_folder

    embedder, out = Embedder(model, intra_op_threads=2), {}
    for split in ("val", "test"):
        db, queries = read_vpr_folder(DATA / split / "database"), read_vpr_folder(DATA / split / "queries")
        out[f"{split}_db"] = embedder.embed([load_rgb(p) for p in db.paths])
        out[f"{split}_q"] = embedder.embed([load_rgb(p) for p in queries.paths])
        out[f"{split}_db_utm"], out[f"{split}_q_utm"] = db.utm, queries.utm
        index = faiss.IndexFlatIP(out[f"{split}_db"].shape[1])
        index.add(out[f"{split}_db"])
        out[f"{split}_seeds"] = index.search(out[f"{split}_q"], 50)[1]
    np.savez(cache, **out)
    return out


def nordland_drives(data: dict[str, np.ndarray]) -> Iterator[Drive]:
    """The val and test drives in route order, then 24 kidnappings of the test drive (as in filter_nordland.py)."""
    if not data:
        return
    for split in ("val", "test"):
        q, seeds = data[f"{split}_q"], data[f"{split}_seeds"]
        frames: list[Frame] = [(q[t], seeds[t], 0.1 * t) for t in range(len(q))]
        yield f"nordland_{split}", {}, data[f"{split}_db_utm"], data[f"{split}_db"], frames, data[f"{split}_q_utm"]
    q, seeds, n = data["test_q"], data["test_seeds"], len(data["test_q"])
    rng = np.random.default_rng(0)
    for trial in range(24):
        a = int(rng.integers(0, n - 150))
        b = int((a + 150 + rng.integers(n // 3, 2 * n // 3)) % (n - 150))
        order = np.concatenate([np.arange(a, a + 150), np.arange(b, b + 150)])
        frames = [(q[i], seeds[i], 0.1 * t) for t, i in enumerate(order)]
        truth = data["test_q_utm"][order]
        yield f"nordland_kidnap_{trial:02d}", {}, data["test_db_utm"], data["test_db"], frames, truth


# ---- recording (runs with one implementation on the path) ----------------------------------------------------


def record(inputs: Path, out: Path) -> None:
    """Run every drive of ``inputs`` through the importable filter; save each FilterState field per frame."""
    import vgssl_ros.core.filter as filt

    print(f"recording with {Path(filt.__file__).parent}", flush=True)
    data = dict(np.load(inputs, allow_pickle=False)) if inputs.stat().st_size else None
    drives = list(synthetic_drives()) + list(nordland_drives(data or {}))
    traces: dict[str, np.ndarray] = {}
    for name, kwargs, utm, desc, frames, _ in drives:
        config = filt.FilterConfig(**kwargs)
        f = filt.PlaceFilter(
            filt.PlaceLayout.build(utm, config.step_radius_m),
            filt.ObservationModel(desc, config.temperature, config.query_mean_rate, config.reference_places),
            config,
        )
        states = [f.step(q, seeds, stamp, TOP_K) for q, seeds, stamp in frames]
        for field in FIELDS:
            values = [getattr(s, field) for s in states]
            if field == "status":
                traces[f"{name}/{field}"] = np.array([str(v) for v in values])
            elif field == "candidates":
                pad = np.full((len(values), TOP_K), -1, np.int64)
                for i, v in enumerate(values):
                    pad[i, : len(v)] = v
                traces[f"{name}/{field}"] = pad
            else:
                traces[f"{name}/{field}"] = np.asarray(values)
    np.savez(out, **traces)


# ---- comparison ------------------------------------------------------------------------------------------------


def _run_record(pythonpath: Path, inputs: Path, out: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(pythonpath), OPENBLAS_NUM_THREADS="1")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--record", str(out), "--inputs", str(inputs)]
    subprocess.run(cmd, env=env, check=True)


def _reference_tree(rev: str, folder: Path) -> None:
    """Extract ``vgssl_ros`` at git revision ``rev`` into ``folder``."""
    archive = subprocess.run(["git", "archive", rev, "vgssl_ros"], cwd=REPO, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")


def _far_back(frames: list[Frame], max_gap_s: float) -> bool:
    """True when some stamp is more than ``max_gap_s`` before the latest one so far (the issue 16 rule)."""
    latest = -np.inf
    for _, _, stamp in frames:
        if stamp is not None and np.isfinite(stamp):
            if latest - stamp > max_gap_s:
                return True
            latest = max(latest, stamp)
    return False


def compare(
    ref: dict[str, np.ndarray], new: dict[str, np.ndarray], truth: dict[str, np.ndarray], notes: dict[str, str]
) -> bool:
    """Print the per-drive comparison; True when every drive not marked in ``notes`` is identical."""
    names = sorted({k.split("/")[0] for k in ref}, key=list(dict.fromkeys(k.split("/")[0] for k in ref)).index)
    print(
        "| drive | frames | largest difference (float fields) | other fields | frames right (25 m): reference / now |"
    )
    print("| --- | ---: | ---: | --- | ---: |")
    ok = True
    for name in names:
        worst, unequal = 0.0, []
        for field in FIELDS:
            a, b = ref[f"{name}/{field}"], new[f"{name}/{field}"]
            if a.dtype.kind == "f":
                worst = max(worst, float(np.max(np.abs(a - b), initial=0.0)) if a.shape == b.shape else np.inf)
            elif a.shape != b.shape or not (a == b).all():
                unequal.append(f"{field} differs on {int((a != b).reshape(len(a), -1).any(axis=1).sum())} frames")
        right = "-"
        known = np.isfinite(truth[name]).all(axis=1)
        if known.any():
            errors = [np.linalg.norm(t[f"{name}/position"][known] - truth[name][known], axis=1) for t in (ref, new)]
            hits = [np.mean(e <= 25.0) for e in errors]
            right = f"{100 * hits[0]:.1f} % / {100 * hits[1]:.1f} %"
        same = worst <= 1e-12 and not unequal
        ok &= same or name in notes
        other = ", ".join(unequal) or "identical"
        note = f" ({notes[name]})" if name in notes and not same else ""
        print(f"| {name}{note} | {len(ref[f'{name}/frames'])} | {worst:.3g} | {other} | {right} |")
    return ok


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reference", default="HEAD", help="git revision of the reference filter (default: HEAD)")
    p.add_argument("--model", help="ONNX model for the Nordland64 drives (without: synthetic drives only)")
    p.add_argument("--cache", type=Path, default=Path("filter_equivalence_nordland.npz"), help="descriptor cache")
    p.add_argument("--record", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.record:
        record(args.inputs, args.record)
        return
    data = nordland_inputs(args.model, args.cache) if args.model or args.cache.is_file() else None
    notes, truth = {}, {}
    for name, kwargs, _, _, frames, positions in list(synthetic_drives()) + list(nordland_drives(data or {})):
        truth[name] = positions
        if _far_back(frames, kwargs.get("max_gap_s", 10.0)):
            notes[name] = "a stamp far back: resets now (issue 16)"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        inputs = work / "inputs.npz"
        if data is None:
            inputs.write_bytes(b"")
        else:
            np.savez(inputs, **data)
        _reference_tree(args.reference, work / "ref")
        _run_record(work / "ref", inputs, work / "ref.npz")
        _run_record(REPO, inputs, work / "new.npz")
        ref, new = dict(np.load(work / "ref.npz")), dict(np.load(work / "new.npz"))
    print(f"reference: {args.reference}; now: working tree {REPO}")
    ok = compare(ref, new, truth, notes)
    print(json.dumps({"identical_except_marked": ok}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
