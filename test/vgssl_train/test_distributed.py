"""`torchrun --nproc_per_node=2 -m vgssl_train train`: DDP on 2 CPU processes (gloo), rank 0 writes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from test.conftest import REPO
from vgssl_train.distributed import DistInfo, process_device
from vgssl_train.training.checkpoint import load_checkpoint, load_descriptor_model

pytestmark = pytest.mark.slow  # both tests start processes (torchrun, torch.multiprocessing)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_two_cpu_processes(vpr_dataset, tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes=1",
        "--nproc_per_node=2",
        f"--master_port={_free_port()}",
        "-m",
        "vgssl_train",
        "train",
        "--method",
        "simclr",
        "--dataset",
        str(vpr_dataset),
        "--out",
        str(out),
        "--resize",
        "32",
        "64",
        "--batch-size",
        "4",
        "--max-steps",
        "3",
        "--method-arg",
        "proj_dim=32",
        "--no-progress",
        "--eval-batch-size",
        "12",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    starts = [r for r in rows if r.get("event") == "start"]
    assert len(starts) == 1 and starts[0]["world_size"] == 2  # one writer: rank 0
    summaries = [line for line in proc.stdout.splitlines() if line.startswith("run ")]
    assert len(summaries) == 1 and starts[0]["run_id"] in summaries[0]  # one run id: the one in the files
    assert [r["step"] for r in rows if "loss" in r] == [1, 2, 3]
    assert load_checkpoint(out / "last.pt")["step"] == 3
    model, _ = load_descriptor_model(out / "best.pt")
    assert not any(k.startswith("module.") for k in model.state_dict())


def _gather_worker(rank: int, world: int, rendezvous: str, result_dir: str) -> None:
    import torch
    import torch.distributed as dist

    from vgssl_train.distributed import gather_with_grad
    from vgssl_train.losses import InfoNCELoss

    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    a, b = torch.randn(2, 8, 5, generator=torch.Generator().manual_seed(0))
    n = len(a) // world
    local_a = a[rank * n : (rank + 1) * n].clone().requires_grad_(True)
    local_b = b[rank * n : (rank + 1) * n].clone().requires_grad_(True)
    loss = InfoNCELoss()(gather_with_grad(local_a), gather_with_grad(local_b))
    loss.backward()
    torch.save({"loss": loss.detach(), "grad_a": local_a.grad}, f"{result_dir}/rank{rank}.pt")
    dist.destroy_process_group()


def test_gather_with_grad_gives_the_full_batch_gradient(tmp_path):
    import torch
    import torch.multiprocessing as mp

    from vgssl_train.losses import InfoNCELoss

    # spawn, not fork: forking a process whose OpenMP threads already ran can deadlock.
    mp.spawn(_gather_worker, args=(2, str(tmp_path / "rdv"), str(tmp_path)), nprocs=2, join=True)
    a, b = torch.randn(2, 8, 5, generator=torch.Generator().manual_seed(0))
    a.requires_grad_(True)
    full = InfoNCELoss()(a, b)
    full.backward()
    for rank in range(2):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        assert torch.allclose(got["loss"], full.detach(), atol=1e-6)
        # Every rank computes the same loss; DDP averages parameter gradients over the 2 ranks,
        # so each rank's slice carries 2x the single-process gradient.
        assert torch.allclose(got["grad_a"], 2 * a.grad[rank * 4 : (rank + 1) * 4], atol=1e-6)


def test_plain_cuda_under_torchrun_means_each_process_its_own_gpu():
    assert process_device("cuda", DistInfo(rank=3, world_size=4, local_rank=1)) == "cuda:1"
    assert process_device("cuda", DistInfo()) == "cuda"  # one process: the current GPU
    assert process_device("cuda:2", DistInfo(rank=1, world_size=2, local_rank=1)) == "cuda:2"  # explicit wins
    assert process_device("cpu", DistInfo(rank=1, world_size=2, local_rank=1)) == "cpu"
