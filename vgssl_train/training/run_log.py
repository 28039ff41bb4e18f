"""Run logs: JSON lines (``log.jsonl``) and TensorBoard (``tb/``), written by rank 0 only."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


class RunLog:
    """Append events and scalars to ``out_dir/log.jsonl`` and TensorBoard; a no-op when disabled."""

    def __init__(self, out_dir: Path, enabled: bool = True) -> None:
        self.enabled = enabled
        self._file = self._tb = None
        if enabled:
            from torch.utils.tensorboard import SummaryWriter  # imports tensorboard: only where logs are written

            out_dir.mkdir(parents=True, exist_ok=True)
            self._file = (out_dir / "log.jsonl").open("a")
            self._tb = SummaryWriter(str(out_dir / "tb"))

    def event(self, record: dict[str, Any]) -> None:
        """One JSON line, stamped with the wall time."""
        if self._file:
            self._file.write(json.dumps({"time": time.time(), **record}, default=str) + "\n")
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
