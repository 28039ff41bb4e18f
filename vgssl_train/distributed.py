"""torchrun / DDP helpers: process group from the environment, gathering (with gradients), broadcast, mean."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job: rank, world size and local rank (1 process: 0, 1, 0)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints and logs."""
        return self.rank == 0


def init_distributed(device: str) -> DistInfo:
    """Join the torchrun job described by RANK/WORLD_SIZE/LOCAL_RANK (gloo on CPU, nccl on CUDA)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return DistInfo()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device == "cuda":
        torch.cuda.set_device(local_rank)  # before NCCL starts: each process on its own GPU
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank)


def process_device(device: str, info: DistInfo) -> str:
    """The device this process uses: plain ``cuda`` under torchrun means its own GPU, ``cuda:LOCAL_RANK``."""
    if device == "cuda" and info.world_size > 1:
        return f"cuda:{info.local_rank}"
    return device


def is_distributed() -> bool:
    """True inside an initialised process group with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class _GatherWithGrad(torch.autograd.Function):
    """all_gather forward; backward sums each rank's gradient and keeps this rank's slice."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        ctx.rank, ctx.n = dist.get_rank(), len(x)
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102
        grad = grad.contiguous()
        dist.all_reduce(grad)
        return grad[ctx.rank * ctx.n : (ctx.rank + 1) * ctx.n]


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """[N, D] per rank -> [world * N, D] in rank order, differentiable; identity in one process."""
    return _GatherWithGrad.apply(x) if is_distributed() else x


@torch.no_grad()
def gather(x: torch.Tensor) -> torch.Tensor:
    """[N, ...] per rank -> [world * N, ...] without gradients (e.g. MoCo keys for the queue)."""
    if not is_distributed():
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)


def broadcast_from_main(make: Callable[[], T]) -> T:
    """``make()`` run on rank 0 only, its (picklable) result sent to every rank; just ``make()`` in one process."""
    if not is_distributed():
        return make()
    box = [make() if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def mean_over_ranks(x: torch.Tensor) -> float:
    """A scalar tensor averaged over every rank (all_reduce), as a float; ``float(x)`` in one process."""
    if is_distributed():
        x = x.clone()
        dist.all_reduce(x)
        x = x / dist.get_world_size()
    return float(x)
