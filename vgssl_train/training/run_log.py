"""Run logs: JSON lines (``log.jsonl``) and TensorBoard (``tb/``), written by rank 0 only."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


class RunLog:
    """Append events and scalars to ``out_dir/log.jsonl`` and TensorBoard; a no-op when disabled.

    Resuming passes ``resume_at=(log_bytes, step)`` from the checkpoint: what was logged after that checkpoint
    (steps the resumed run repeats) is cut from ``log.jsonl`` and hidden in TensorBoard, so the log reads as
    one uninterrupted run. A fresh run (``resume_at=None``) starts both empty: what is there was left by a run
    killed before its first checkpoint (the trainer refuses a folder that holds one), and nothing can resume it.
    """

    def __init__(self, out_dir: Path, enabled: bool = True, resume_at: tuple[int, int] | None = None) -> None:
        self.enabled = enabled
        self._file = self._tb = None
        if enabled:
            from torch.utils.tensorboard import SummaryWriter  # imports tensorboard: only where logs are written

            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / "log.jsonl"
            log_bytes, step = (0, -1) if resume_at is None else resume_at
            if path.is_file() and path.stat().st_size > log_bytes:
                os.truncate(path, log_bytes)
            self._file = path.open("ab")
            purge = step + 1
            self._tb = SummaryWriter(str(out_dir / "tb"), purge_step=purge)

    def size(self) -> int:
        """Bytes in ``log.jsonl`` so far (0 when disabled): checkpoints store it to resume the log there."""
        return self._file.tell() if self._file else 0

    def event(self, record: dict[str, Any]) -> None:
        """One JSON line, stamped with the wall time."""
        if self._file:
            self._file.write((json.dumps({"time": time.time(), **record}, default=str) + "\n").encode())
            self._file.flush()

    def scalars(self, step: int, values: dict[str, float]) -> None:
        """A JSON line {"step", values...} and one TensorBoard scalar per value."""
        if not self.enabled:
            return
        self.event({"step": step, **values})
        for name, value in values.items():
            self._tb.add_scalar(name, value, step)

    def close(self) -> None:
        """Flush and close both sinks."""
        if self._file:
            self._file.close()
            self._tb.close()


WALL_CLOCK_FIELDS = ("time", "images_per_s", "step_s", "data_wait_s", "seconds")
"""Fields of log.jsonl rows that measure time: they differ between two runs of the same training."""


def comparable_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a log.jsonl without wall-clock fields and start/resume events: what a resumed run must
    reproduce exactly (losses, validation, mining)."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [
        {k: v for k, v in r.items() if k not in WALL_CLOCK_FIELDS}
        for r in rows
        if r.get("event") not in ("start", "resume")
    ]
