"""Runtime counters and a latency window for diagnostics, thread-safe, without rclpy."""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

COUNTERS = ("received", "processed", "dropped", "lost", "rejected", "decode_errors", "inference_errors")
"""dropped: replaced in the newest-frame slot before the worker took them; lost: reported lost by the
middleware (e.g. overwritten in the subscription's history while the executor was busy)."""


class RuntimeStats:
    """Counts events and keeps the last ``window`` latencies (ms) and processing times."""

    def __init__(self, window: int = 200) -> None:
        self._lock = threading.Lock()
        self.counts = dict.fromkeys(COUNTERS, 0)
        self._latency_ms: deque[float] = deque(maxlen=window)
        self._processed_at: deque[float] = deque(maxlen=window)

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name``."""
        if name not in self.counts:
            raise KeyError(f"unknown counter {name!r}; valid: {', '.join(COUNTERS)}")
        with self._lock:
            self.counts[name] += n

    def processed(self, latency_ms: float, now: float | None = None) -> None:
        """Record one processed frame and its latency (receipt -> outputs published)."""
        with self._lock:
            self.counts["processed"] += 1
            self._latency_ms.append(float(latency_ms))
            self._processed_at.append(time.monotonic() if now is None else now)

    def snapshot(self, now: float | None = None) -> dict[str, float]:
        """Counters, processing rate over the window (Hz) and latency p50/p95 (ms; NaN before any frame)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            out: dict[str, float] = dict(self.counts)
            lat = np.array(self._latency_ms)
            stamps = np.array(self._processed_at)
        out["latency_p50_ms"] = float(np.percentile(lat, 50)) if lat.size else float("nan")
        out["latency_p95_ms"] = float(np.percentile(lat, 95)) if lat.size else float("nan")
        recent = stamps[stamps >= now - 5.0]
        out["rate_hz"] = float(len(recent) / 5.0)
        return out
