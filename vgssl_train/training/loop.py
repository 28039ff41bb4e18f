"""The training loop: GeoPairs per epoch, DDP steps, atomic checkpoints, Recall@N on val, logs."""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, Subset
from tqdm import tqdm

from vgssl_train.data import GeoSplit, ImageDataset
from vgssl_train.data.pair_dataset import PairDataset
from vgssl_train.distributed import DistInfo, init_distributed
from vgssl_train.evaluation import evaluate_split
from vgssl_train.methods import build_method
from vgssl_train.mining import MINING_MODES, Pairs
from vgssl_train.models import DescriptorModel, ModelSpec
from vgssl_train.models.data_init import init_aggregator_from_data
from vgssl_train.training.checkpoint import load_checkpoint, load_descriptor_model, save_checkpoint
from vgssl_train.training.epoch_pairs import check_trainable, mine_epoch
from vgssl_train.training.run_log import RunLog


class TrainingError(ValueError):
    """Training cannot go on (non-finite loss, nothing to resume, a run already in the folder)."""


@dataclass
class TrainConfig:
    """Everything the loop needs besides the data and the model; stored in every checkpoint."""

    method: str
    method_args: dict[str, Any]
    model_spec: ModelSpec
    weights: str | None
    init_checkpoint: str | None
    resize: tuple[int, int]
    mining: str
    negatives: int
    augment_negatives: bool
    mining_sample: int = 1000
    batch_size: int = 32
    lr: float = 3e-4
    weight_decay: float = 0.0
    epochs: int = 1
    max_steps: int | None = None
    max_minutes: float | None = None
    checkpoint_every: int = 100
    device: str = "cpu"
    amp: bool = False
    seed: int = 0
    workers: int = 0
    eval_batch_size: int = 64
    progress: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly copy (model spec as a dict)."""
        return {**asdict(self), "model_spec": self.model_spec.to_dict(), "resize": list(self.resize)}


@dataclass
class _State:
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_r1: float = -1.0
    run_id: str = ""
    pairs: Pairs | None = None
    deadline: float | None = None  # time.monotonic() after which this process stops (--max-minutes)
    out_of_time: bool = False


def train(
    cfg: TrainConfig, train_split: GeoSplit, val_split: GeoSplit, out_dir: str | Path, resume: bool = False
) -> dict[str, Any]:
    """Train ``cfg.method`` on ``train_split``; checkpoints and logs in ``out_dir``. Returns a summary."""
    if cfg.mining not in MINING_MODES:
        raise ValueError(f"unknown mining mode {cfg.mining!r}; valid modes: {', '.join(MINING_MODES)}")
    out_dir = Path(out_dir)
    started = time.monotonic()
    info = init_distributed(cfg.device)
    if cfg.batch_size % info.world_size:
        raise ValueError(f"--batch-size {cfg.batch_size} must be divisible by the {info.world_size} processes")
    check_trainable(train_split)
    last = out_dir / "last.pt"
    if resume and not last.is_file():
        raise TrainingError(f"nothing to resume: {last} does not exist (run without --resume to start)")
    if not resume and last.exists():
        raise TrainingError(
            f"{out_dir} already holds a run ({last}); pass --resume to continue it or choose another --out"
        )

    torch.manual_seed(cfg.seed)
    device = torch.device(cfg.device)
    height, width = cfg.resize
    model = DescriptorModel(cfg.model_spec, weights=cfg.weights)
    method = build_method(cfg.method, model, **cfg.method_args)
    state = _State(run_id=f"{cfg.method}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}")
    optimizer = torch.optim.Adam(
        [p for p in method.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=cfg.weight_decay
    )
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.amp and device.type == "cuda")
    if resume:
        state = _restore(load_checkpoint(last), cfg, method, optimizer, scaler)
    elif cfg.init_checkpoint:
        model.load_state_dict(load_descriptor_model(cfg.init_checkpoint)[0].state_dict())
    else:
        init_aggregator_from_data(model, ImageDataset(train_split.database.paths, height, width), device=cfg.device)
    method.to(device).train()
    if info.world_size > 1 and device.type == "cuda":
        method = torch.nn.SyncBatchNorm.convert_sync_batchnorm(method)  # CPU keeps per-process BN statistics
    # Buffers stay per process: broadcasting them every step would ship MoCo's whole queue.
    runner = DistributedDataParallel(method, broadcast_buffers=False) if info.world_size > 1 else method
    if cfg.max_minutes is not None:
        state.deadline = started + 60.0 * cfg.max_minutes
    log = RunLog(out_dir, enabled=info.is_main)
    log.event(
        {
            "event": "start" if not resume else "resume",
            "run_id": state.run_id,
            "step": state.step,
            "world_size": info.world_size,
            "config": cfg.to_dict(),
        }
    )
    try:
        while state.epoch < cfg.epochs and not _done(cfg, state):
            if state.pairs is None:
                if state.step > 0 and _check_time(info, state):  # at least one step per run
                    break
                mining_started = time.perf_counter()
                state.pairs = _broadcast(
                    info,
                    lambda: mine_epoch(
                        model,
                        train_split,
                        cfg.mining,
                        cfg.negatives,
                        cfg.mining_sample,
                        cfg.seed,
                        state.epoch,
                        height,
                        width,
                        cfg.eval_batch_size,
                        cfg.device,
                        cfg.progress and info.is_main,
                    ),
                )
                log.event(
                    {
                        "event": "mined",
                        "epoch": state.epoch,
                        "mode": cfg.mining,
                        "pairs": len(state.pairs),
                        "seconds": time.perf_counter() - mining_started,
                    }
                )
            _run_epoch(cfg, info, runner, method, optimizer, scaler, train_split, state, log, out_dir)
            if state.batch_in_epoch == 0 or _done(cfg, state):
                _validate(cfg, info, model, val_split, state, log, out_dir, method, optimizer, scaler)
    finally:
        log.close()
        if info.world_size > 1:
            dist.destroy_process_group()
    return {"run_id": state.run_id, "step": state.step, "epoch": state.epoch, "best_r1": state.best_r1}


def _done(cfg: TrainConfig, state: _State) -> bool:
    return state.out_of_time or (cfg.max_steps is not None and state.step >= cfg.max_steps)


def _check_time(info: DistInfo, state: _State) -> bool:
    """Set and return ``state.out_of_time``; rank 0's clock decides, so every rank stops at the same step."""
    if state.deadline is not None:
        state.out_of_time = _broadcast(info, lambda: time.monotonic() >= state.deadline)
    return state.out_of_time


def _broadcast(info: DistInfo, make: Any) -> Any:
    """``make()`` on rank 0, its result sent to every rank."""
    box = [make() if info.is_main else None]
    if info.world_size > 1:
        dist.broadcast_object_list(box, src=0)
    return box[0]


def _run_epoch(
    cfg: TrainConfig,
    info: DistInfo,
    runner: torch.nn.Module,
    method: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    split: GeoSplit,
    state: _State,
    log: RunLog,
    out_dir: Path,
) -> None:
    per_rank = cfg.batch_size // info.world_size
    dataset = PairDataset(split, state.pairs, *cfg.resize, cfg.augment_negatives, cfg.seed, state.epoch)
    sampler = DistributedSampler(dataset, info.world_size, info.rank, shuffle=True, seed=cfg.seed, drop_last=True)
    sampler.set_epoch(state.epoch)
    order = list(sampler)[state.batch_in_epoch * per_rank :]
    loader = DataLoader(Subset(dataset, order), batch_size=per_rank, drop_last=True, num_workers=cfg.workers)
    if len(loader) == 0 and state.batch_in_epoch == 0:
        raise TrainingError(f"{len(dataset)} GeoPairs make no batch of {cfg.batch_size}; lower --batch-size")
    device = torch.device(cfg.device)
    amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    bar = tqdm(loader, desc=f"epoch {state.epoch}", unit="step", disable=not (cfg.progress and info.is_main))
    t_end = time.perf_counter()
    for batch in bar:
        t_fetched = time.perf_counter()
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        with torch.autocast(device.type, dtype=amp_dtype, enabled=cfg.amp):
            loss = runner(batch)
        loss_value = _global_mean(loss.detach().float(), info)
        if not math.isfinite(loss_value):
            raise TrainingError(
                f"loss became {loss_value} at step {state.step + 1} (epoch {state.epoch}); stopped "
                f"without saving, {out_dir / 'last.pt'} keeps the last good state; lower --lr or try --amp off"
            )
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        state.step += 1
        state.batch_in_epoch += 1
        _check_time(info, state)
        step_s, data_s = time.perf_counter() - t_end, t_fetched - t_end  # checkpoints and logs excluded
        rate = cfg.batch_size * method.views_per_query(batch["negatives_a"].shape[1]) / step_s  # loading included
        bar.set_postfix(loss=f"{loss_value:.4f}", img_s=f"{rate:.1f}")
        log.scalars(
            state.step,
            {
                "loss": loss_value,
                "images_per_s": rate,
                "step_s": step_s,
                "data_wait_s": data_s,
                "epoch": state.epoch,
                "lr": optimizer.param_groups[0]["lr"],
            },
        )
        if state.step % cfg.checkpoint_every == 0 or _done(cfg, state):
            _save(out_dir / "last.pt", cfg, info, method, optimizer, scaler, state)
        if _done(cfg, state):
            return
        t_end = time.perf_counter()
    state.epoch += 1
    state.batch_in_epoch = 0
    state.pairs = None
    _save(out_dir / "last.pt", cfg, info, method, optimizer, scaler, state)


def _global_mean(x: torch.Tensor, info: DistInfo) -> float:
    if info.world_size > 1:
        dist.all_reduce(x)
        x = x / info.world_size
    return float(x)


def _validate(
    cfg: TrainConfig,
    info: DistInfo,
    model: DescriptorModel,
    val_split: GeoSplit,
    state: _State,
    log: RunLog,
    out_dir: Path,
    method: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
) -> None:
    """Recall@N on val (rank 0); a new best R@1 is written to best.pt."""
    if info.is_main:
        result = evaluate_split(model, val_split, *cfg.resize, cfg.eval_batch_size, 0, cfg.device, cfg.progress)
        r1 = result["recall"]["1"]
        log.scalars(state.step, {f"val_R@{n}": r for n, r in result["recall"].items()})
        if r1 > state.best_r1:
            state.best_r1 = r1
            _save(
                out_dir / "best.pt",
                cfg,
                info,
                method,
                optimizer,
                scaler,
                state,
                resumable=False,
                val_recall=result["recall"],
            )
            _save(out_dir / "last.pt", cfg, info, method, optimizer, scaler, state)
    if info.world_size > 1:
        state.best_r1 = _broadcast(info, lambda: state.best_r1)


def _save(
    path: Path,
    cfg: TrainConfig,
    info: DistInfo,
    method: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    state: _State,
    resumable: bool = True,
    **extra: Any,
) -> None:
    """Write a checkpoint; ``resumable=False`` keeps only the descriptor model and metadata (best.pt)."""
    if not info.is_main:
        return
    payload = {
        "model_spec": cfg.model_spec.to_dict(),
        "model": method.model.state_dict(),
        "method": cfg.method,
        "run_id": state.run_id,
        "resize": list(cfg.resize),
        "config": cfg.to_dict(),
        "step": state.step,
        "epoch": state.epoch,
        "batch_in_epoch": state.batch_in_epoch,
        "best_r1": state.best_r1,
        **extra,
    }
    if resumable:  # heads, target networks and optimizer moments: up to 50x the descriptor model's size
        payload.update(
            {
                "optimizer": optimizer.state_dict(),
                "method_state": method.state_dict(),
                "scaler": scaler.state_dict(),
                "pairs": None
                if state.pairs is None
                else {k: getattr(state.pairs, k) for k in ("queries", "positives", "negatives")},
                "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state()},
            }
        )
    save_checkpoint(path, payload)


def _restore(
    ckpt: dict[str, Any],
    cfg: TrainConfig,
    method: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
) -> _State:
    """Load training state from a checkpoint made by the same method and model."""
    if ckpt.get("method") != cfg.method or ckpt.get("model_spec") != cfg.model_spec.to_dict():
        raise TrainingError(
            f"cannot resume: the run was {ckpt.get('method')} with model {ckpt.get('model_spec')}, "
            f"this command asks for {cfg.method} with {cfg.model_spec.to_dict()}"
        )
    method.load_state_dict(ckpt["method_state"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scaler.load_state_dict(ckpt["scaler"])
    torch.set_rng_state(ckpt["rng"]["torch"])
    np.random.set_state(ckpt["rng"]["numpy"])
    pairs = ckpt.get("pairs")
    return _State(
        step=ckpt["step"],
        epoch=ckpt["epoch"],
        batch_in_epoch=ckpt["batch_in_epoch"],
        best_r1=ckpt["best_r1"],
        run_id=ckpt["run_id"],
        pairs=Pairs(**pairs) if pairs else None,
    )
