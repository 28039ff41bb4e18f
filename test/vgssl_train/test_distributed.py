"""`torchrun --nproc_per_node=2 -m vgssl_train train`: DDP on 2 CPU processes (gloo), rank 0 writes."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from test.conftest import REPO
from vgssl_train.training.checkpoint import load_checkpoint, load_descriptor_model


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_two_cpu_processes(vpr_dataset, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
           f"--master_port={_free_port()}", "-m", "vgssl_train", "train", "--method", "simclr",
           "--dataset", str(vpr_dataset), "--out", str(out), "--resize", "32", "64", "--batch-size", "4",
           "--max-steps", "3", "--method-arg", "proj_dim=32", "--no-progress", "--eval-batch-size", "12"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    starts = [r for r in rows if r.get("event") == "start"]
    assert len(starts) == 1 and starts[0]["world_size"] == 2  # one writer: rank 0
    assert [r["step"] for r in rows if "loss" in r] == [1, 2, 3]
    assert load_checkpoint(out / "last.pt")["step"] == 3
    model, _ = load_descriptor_model(out / "best.pt")
    assert not any(k.startswith("module.") for k in model.state_dict())
