"""benchmarks/gpu.sh --dry-run: the GPU benchmark runs end to end on the CPU, so it works when a GPU is lent."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from test.conftest import REPO, write_vpr_dataset


@pytest.mark.slow
def test_dry_run_prints_one_table_with_every_inference_and_training_row(tmp_path):
    dataset = write_vpr_dataset(tmp_path / "ds")
    env = {**os.environ, "PYTHON": sys.executable}
    cmd = [
        "bash",
        str(REPO / "benchmarks" / "gpu.sh"),
        "--dry-run",
        "--dataset",
        str(dataset),
        "--work",
        str(tmp_path / "w"),
    ]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [
        line for line in done.stdout.splitlines() if line.startswith("| ONNX Runtime") or line.startswith("| training")
    ]
    assert len(rows) == 6, done.stdout  # cpu fp32/fp16 x batch 1/4, training fp32/bf16
    for row in rows[:4]:
        ms, images_per_s = (float(c) for c in row.split("|")[3:5])
        assert ms > 0 and images_per_s > 0
    for row in rows[4:]:
        assert float(row.split("|")[4]) > 0 and row.split("|")[5].strip().endswith("%")
    assert done.stdout.startswith("device: CPU (dry run)")


@pytest.mark.slow
def test_without_cuda_it_refuses_and_says_how_to_check_the_script(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the refusal is for machines without it")
    dataset = write_vpr_dataset(tmp_path / "ds")
    env = {**os.environ, "PYTHON": sys.executable}
    cmd = ["bash", str(REPO / "benchmarks" / "gpu.sh"), "--dataset", str(dataset), "--work", str(tmp_path / "w")]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "no CUDA device visible to PyTorch" in done.stderr and "--dry-run" in done.stderr
    assert not (tmp_path / "w").exists() or not any((tmp_path / "w").iterdir())  # refused before any work
