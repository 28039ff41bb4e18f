"""Kill -9 during training, then resume: the resumed run must end bit-exact with an uninterrupted one.

`vgssl-train train` (SimCLR, EfficientNet-Lite0 at 32x64, batch 4, seed 0, 12 steps: one epoch of 11 steps plus one
step of the next, so a kill can land in mining, a step, validation or a checkpoint write; last.pt every 3 steps, so
a resumed run repeats up to 2 logged steps) runs once to completion on a small synthetic world's train split: the
reference. Then, per trial, the same command runs into a fresh folder and is SIGKILLed (its whole process group)
after a seeded uniform(0.02, 1.0) x T delay. Pass: every checkpoint under its final name loads (no partial file is
visible as last.pt or best.pt); the next command (``--resume`` when last.pt exists, else the same fresh command)
succeeds; its last.pt equals the reference's bit for bit (weights, heads, optimizer moments, loss scaler, RNG
states, pairs, counters), its best.pt holds the same model, its log.jsonl the same rows (wall-clock fields and the
start/resume events aside), and no temporary file is left in the run folder.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from reliability.campaign import CampaignResult
from reliability.kill import FULL_KILLS, QUICK_KILLS, kill_after, run_module, world_argv

STEPS, CHECKPOINT_EVERY = 12, 3


def train_argv(dataset: Path, out: Path, resume: bool = False) -> list[str]:
    """The `vgssl-train train` command (after ``python -m``) of every trial; ``resume`` continues ``out``."""
    if resume:
        return ["vgssl_train", "train", "--dataset", str(dataset), "--out", str(out), "--resume", "--quiet"]
    tiny = "--resize 32 64 --batch-size 4 --method-arg proj_dim=32 --eval-batch-size 16 --seed 0 --quiet".split()
    steps = ["--max-steps", str(STEPS), "--checkpoint-every", str(CHECKPOINT_EVERY)]
    return ["vgssl_train", "train", "--method", "simclr", "--dataset", str(dataset), "--out", str(out), *tiny, *steps]


def run(seed: int, quick: bool, work: Path) -> CampaignResult:
    """FULL_KILLS (QUICK_KILLS) kills of a training run, each resumed and compared with the reference."""
    result = CampaignResult("kill-train", seed)
    rng = np.random.default_rng(seed)
    world = work / "world"
    rc, err = run_module(world_argv(world, 300), work)
    if rc != 0:
        result.fail(f"making the input world failed: {err}")
        return result
    reference = work / "reference"
    t0 = time.monotonic()
    rc, err = run_module(train_argv(world, reference), work)
    full_s = time.monotonic() - t0
    if rc != 0:
        result.fail(f"the reference training run failed ({rc}): {err}")
        return result
    result.figures["train run s"] = round(full_s, 2)
    resumed = 0
    for k in range(QUICK_KILLS if quick else FULL_KILLS):
        delay = float(rng.uniform(0.02, 1.0)) * full_s
        resumed += _trial(world, reference, work / f"trial{k:02d}", delay, f"train kill #{k} at {delay:.2f} s", result)
        result.trials += 1
    result.figures["kills resumed from last.pt"] = resumed
    return result


def _trial(world: Path, reference: Path, root: Path, delay: float, what: str, result: CampaignResult) -> bool:
    """Kill one run after ``delay`` s, judge what is on disk, finish it and compare; True when it resumed."""
    root.mkdir(parents=True)
    out = root / "run"
    kill_after(train_argv(world, out), root, delay)
    broken = _unloadable_checkpoints(out)
    if broken:
        result.fail(f"{what}: a checkpoint under its final name does not load: {broken}")
    resume = (out / "last.pt").is_file()
    rc, err = run_module(train_argv(world, out, resume), root)
    if rc != 0:
        result.fail(f"{what}: the next run ({'--resume' if resume else 'fresh'}) failed (exit {rc}): {err}")
        return resume
    differences = run_differences(reference, out)
    if differences:
        result.fail(f"{what}: after {'resuming' if resume else 'a fresh start'} it differs: {differences[:4]}")
    left = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    if left:
        result.fail(f"{what}: temporary files left in the run folder: {left}")
    return resume


def _unloadable_checkpoints(out: Path) -> list[str]:
    from vgssl_train.training.checkpoint import load_checkpoint

    broken = []
    for name in ("last.pt", "best.pt"):
        if (out / name).exists():
            try:
                load_checkpoint(out / name)
            except Exception as exc:  # noqa: BLE001 - any failure to load is the finding
                broken.append(f"{name}: {type(exc).__name__}")
    return broken


def run_differences(reference: Path, out: Path) -> list[str]:
    """Where run folder ``out`` differs from ``reference``: last.pt's training state, best.pt's model, the log."""
    from vgssl_train.training.checkpoint import checkpoint_differences, load_checkpoint
    from vgssl_train.training.run_log import comparable_rows

    last_ref, last = load_checkpoint(reference / "last.pt"), load_checkpoint(out / "last.pt")
    found = [f"last.pt {d}" for d in checkpoint_differences(last_ref, last)]
    best_ref, best = load_checkpoint(reference / "best.pt"), load_checkpoint(out / "best.pt")
    found += [f"best.pt {d}" for d in checkpoint_differences(best_ref, best, ("model", "step", "val_recall"))]
    ref_rows, rows = comparable_rows(reference / "log.jsonl"), comparable_rows(out / "log.jsonl")
    if rows != ref_rows:
        first = next((i for i, (a, b) in enumerate(zip(ref_rows, rows)) if a != b), min(len(rows), len(ref_rows)))
        found.append(f"log.jsonl row {first} ({len(rows)} rows, reference {len(ref_rows)})")
    return found
