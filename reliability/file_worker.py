"""`python -m reliability.file_worker WORK SEED QUICK START`: run damaged-file trials from START, one JSON line each.

A separate process, so that a native abort (FAISS, ONNX Runtime) or a hang kills only the worker: the campaign
(reliability/fuzz_files.py) sees which trial was running and restarts the worker after it.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from reliability.checkpoint_damage import CheckpointCase, checkpoint_cases, make_checkpoint, run_checkpoint_case
from reliability.input_damage import InputCase, input_cases, make_inputs, run_input_case
from reliability.map_damage import Case, all_cases, make_assets, run_case

QUICK_MAP_STRIDE = 5
"""The quick version runs every 5th case of the map corpus."""
RANDOMS = {True: 3, False: 60}
"""Seeded random edits per input family and of the checkpoint (quick, full)."""


def trials(seed: int, quick: bool) -> list[Case | InputCase | CheckpointCase]:
    """Every trial of a run, in order (the same list for the same seed)."""
    maps: list[Case] = all_cases(seed)
    if quick:
        maps = maps[::QUICK_MAP_STRIDE]
    return [*maps, *input_cases(seed, RANDOMS[quick]), *checkpoint_cases(seed, RANDOMS[quick])]


def main(argv: list[str]) -> int:
    """Prepare the assets once (kept in WORK), then run and report trials from START."""
    work, seed, quick, start = Path(argv[0]), int(argv[1]), argv[2] == "1", int(argv[3])
    logging.disable(logging.WARNING)
    assets = work / "assets"
    if not (assets / "ready").exists():
        make_assets(assets)
        make_inputs(assets / "inputs", assets / "model.onnx")
        make_checkpoint(assets)
        (assets / "ready").touch()
    todo = trials(seed, quick)
    for i in range(start, len(todo)):
        case = todo[i]
        print(json.dumps({"start": i, "name": case.name}), flush=True)
        if isinstance(case, CheckpointCase):
            outcome = run_checkpoint_case(case, assets, work / "trial")
        elif isinstance(case, InputCase):
            outcome = run_input_case(case, assets / "inputs", work / "trial")
        else:
            outcome = run_case(case, assets, work / "trial")
        report = {"done": i, "kind": case.kind, "result": outcome.result, "message": outcome.message[-300:]}
        print(json.dumps(report), flush=True)
    print(json.dumps({"end": len(todo)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
