"""The newest-frame mailbox and the runtime statistics."""

import threading

import numpy as np
import pytest

from vgssl_ros.core.latest_frame import LatestSlot
from vgssl_ros.core.stats import RuntimeStats


def test_slot_keeps_newest_and_counts_drops():
    slot = LatestSlot()
    assert slot.put(1) is False
    assert slot.put(2) is True and slot.put(3) is True
    assert slot.take(timeout=0) == 3 and slot.dropped == 2
    assert slot.take(timeout=0.01) is None


def test_slot_wakes_consumer_and_closes():
    slot = LatestSlot()
    got = []
    t = threading.Thread(target=lambda: got.append(slot.take(timeout=5)))
    t.start()
    slot.put("frame")
    t.join(2)
    assert got == ["frame"]
    slot.close()
    assert slot.take(timeout=5) is None


def test_stats_snapshot():
    stats = RuntimeStats(window=10)
    assert np.isnan(stats.snapshot()["latency_p50_ms"])
    for i in range(20):
        stats.processed(float(i), now=100.0 + i * 0.1)
    stats.count("dropped", 3)
    snap = stats.snapshot(now=102.0)
    assert snap["processed"] == 20 and snap["dropped"] == 3
    assert snap["latency_p50_ms"] == pytest.approx(14.5)  # window keeps the last 10: 10..19
    assert snap["rate_hz"] == pytest.approx(10 / 5.0)
    with pytest.raises(KeyError, match="valid"):
        stats.count("nonsense")
