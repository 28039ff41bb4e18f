"""The tiers enforce themselves: a test not marked slow that starts a process, uses DDS, trains or exports fails."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from test import conftest as tiers


@contextlib.contextmanager
def refused(action: str) -> Iterator[None]:
    """Expect the tier guard to refuse ``action``; the refusal is the point here, so it is forgotten afterwards."""
    with pytest.raises(RuntimeError, match=re.escape(f"mark this test slow: it {action}")):
        yield
    assert tiers._refused == [f"mark this test slow: it {action}"]
    tiers._refused.clear()


def test_starting_a_process_in_a_fast_test_is_refused():
    with refused("starts a process (subprocess)"):
        subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_multiprocessing_in_a_fast_test_is_refused():
    import multiprocessing

    with refused("starts a process (multiprocessing)"):
        multiprocessing.get_context("spawn").Process(target=print).start()


def test_training_and_onnx_export_in_a_fast_test_are_refused(tmp_path):
    torch = pytest.importorskip("torch")
    layer = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(torch.ones(1, 2)).sum().backward()
    with refused("trains (an optimizer step)"):
        optimizer.step()
    assert torch.equal(layer.weight.grad, torch.ones(1, 2))  # refused before the step changed anything
    with refused("exports an ONNX model (torch.onnx.export)"):
        torch.onnx.export(layer, (torch.ones(1, 2),), str(tmp_path / "m.onnx"))
    assert not (tmp_path / "m.onnx").exists()


def test_dds_in_a_fast_test_is_refused():
    rclpy = pytest.importorskip("rclpy", reason="rclpy (ROS 2 Python) is not installed")
    context = rclpy.Context()
    with refused("uses DDS (rclpy.init)"):
        rclpy.init(context=context)
    assert not context.ok()


@pytest.mark.slow
def test_a_slow_test_may_start_a_process():
    assert subprocess.run([sys.executable, "-c", "print('ran')"], capture_output=True, text=True).stdout == "ran\n"
