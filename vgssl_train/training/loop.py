"""The training loop: GeoPairs per epoch, DDP steps, atomic checkpoints, Recall@N on val, logs."""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, Subset

from vgssl_ros.io.progress import Progress
from vgssl_train.data import GeoSplit, ImageDataset
from vgssl_train.data.pair_dataset import PairDataset
from vgssl_train.distributed import DistInfo, broadcast_from_main, init_distributed, mean_over_ranks, process_device
from vgssl_train.evaluation import evaluate_split
from vgssl_train.methods import Method, build_method
from vgssl_train.mining import MINING_MODES, Pairs
from vgssl_train.models import DescriptorModel, ModelSpec
from vgssl_train.models.data_init import init_aggregator_from_data
from vgssl_train.training.checkpoint import load_checkpoint, load_descriptor_model, save_checkpoint
from vgssl_train.training.epoch_pairs import check_trainable, mine_epoch
from vgssl_train.training.precision import PRECISIONS, needs_loss_scaling
from vgssl_train.training.rng import rng_state, seed_all, set_rng_state
from vgssl_train.training.run_log import RunLog

RESUME_KEYS = ("method_state", "optimizer", "scaler", "rng", "log_bytes", "pairs", "step", "epoch", "batch_in_epoch")
"""What a checkpoint needs besides the model to resume a run (last.pt has them, best.pt does not)."""


class TrainingError(ValueError):
    """Training cannot go on (non-finite loss, nothing to resume, a run already in the folder)."""


def check_resumable(ckpt: dict[str, Any], keys: tuple[str, ...] = RESUME_KEYS) -> None:
    """TrainingError naming which of ``keys`` ``ckpt`` lacks to resume a run (best.pt holds the model only)."""
    missing = [k for k in keys if k not in ckpt]
    if missing:
        raise TrainingError(
            f"cannot resume: the checkpoint lacks {', '.join(missing)} (best.pt holds the model only); "
            "resume from the last.pt that vgssl-train train wrote"
        )


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
    epochs: int | None = 1  # None: no limit (max_steps or max_minutes stops the run)
    max_steps: int | None = None
    max_minutes: float | None = None
    checkpoint_every: int = 100
    device: str = "cpu"
    precision: str = "fp32"  # a PRECISIONS key (resolved: never 'auto')
    seed: int = 0
    workers: int = 0
    eval_batch_size: int = 64
    progress: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly copy (model spec as a dict)."""
        return {**asdict(self), "model_spec": self.model_spec.to_dict(), "resize": list(self.resize)}


@dataclass
class RunState:
    """Where the run is: what a resumed run continues from (the pairs of a half-done epoch included)."""

    run_id: str
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_r1: float = -1.0
    pairs: Pairs | None = None

    def to_checkpoint(self) -> dict[str, Any]:
        """Plain values and tensors (pairs as int64 tensors)."""
        pairs = None
        if self.pairs is not None:
            pairs = {k: torch.from_numpy(getattr(self.pairs, k)) for k in ("queries", "positives", "negatives")}
        return {**{k: v for k, v in asdict(self).items() if k != "pairs"}, "pairs": pairs}

    @classmethod
    def from_checkpoint(cls, ckpt: dict[str, Any]) -> RunState:
        """The state ``to_checkpoint`` stored."""
        pairs = ckpt["pairs"]
        return cls(
            run_id=ckpt["run_id"],
            step=ckpt["step"],
            epoch=ckpt["epoch"],
            batch_in_epoch=ckpt["batch_in_epoch"],
            best_r1=ckpt["best_r1"],
            pairs=None if pairs is None else Pairs(**{k: v.numpy() for k, v in pairs.items()}),
        )


def train(
    cfg: TrainConfig, train_split: GeoSplit, val_split: GeoSplit, out_dir: str | Path, resume: bool = False
) -> dict[str, Any]:
    """Train ``cfg.method`` on ``train_split``; checkpoints and logs in ``out_dir``. Returns a summary."""
    if cfg.mining not in MINING_MODES:
        raise ValueError(f"unknown mining mode {cfg.mining!r}; valid modes: {', '.join(MINING_MODES)}")
    out_dir = Path(out_dir)
    started = time.monotonic()
    info = init_distributed(cfg.device)
    device = process_device(cfg.device, info)
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

    seed_all(cfg.seed)  # every global generator: a run's saved RNG states then depend on its seed only
    model = DescriptorModel(cfg.model_spec, weights=cfg.weights)
    method = build_method(cfg.method, model, **cfg.method_args)
    ckpt = load_checkpoint(last) if resume else None
    if ckpt is None and cfg.init_checkpoint:
        model.load_state_dict(load_descriptor_model(cfg.init_checkpoint)[0].state_dict())
    elif ckpt is None:
        init_aggregator_from_data(model, ImageDataset(train_split.database.paths, *cfg.resize), device=device)
    deadline = None if cfg.max_minutes is None else started + 60.0 * cfg.max_minutes
    trainer = Trainer(cfg, info, method, out_dir, device, deadline, ckpt)
    try:
        trainer.run(train_split, val_split)
    finally:
        trainer.log.close()
        if info.world_size > 1:
            dist.destroy_process_group()
    s = trainer.state
    return {"run_id": s.run_id, "step": s.step, "epoch": s.epoch, "best_r1": s.best_r1}


class Trainer:
    """One run's moving parts (method, optimiser, loss scaler, state, log, clock) and the steps that use them.

    ``device``: this process's device (``process_device``); ``deadline``: ``time.monotonic()`` at which to stop;
    ``ckpt``: a resumable checkpoint of the same method and model to continue from, or None to start.
    """

    def __init__(
        self,
        cfg: TrainConfig,
        info: DistInfo,
        method: Method,
        out_dir: Path,
        device: str = "cpu",
        deadline: float | None = None,
        ckpt: dict[str, Any] | None = None,
    ) -> None:
        self.cfg, self.info, self.out_dir, self.deadline = cfg, info, out_dir, deadline
        self.device = torch.device(device)
        method.to(self.device).train()
        if info.world_size > 1 and self.device.type == "cuda":
            method = torch.nn.SyncBatchNorm.convert_sync_batchnorm(method)  # CPU keeps per-process BN statistics
        self.method = method
        # Buffers stay per process: broadcasting them every step would ship MoCo's whole queue.
        self.runner = DistributedDataParallel(method, broadcast_buffers=False) if info.world_size > 1 else method
        self.optimizer = torch.optim.Adam(
            [p for p in method.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=cfg.weight_decay
        )
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=needs_loss_scaling(cfg.precision))
        # One id for the job: rank 0's, sent to every rank (each drawing its own would print several).
        run_id = broadcast_from_main(lambda: f"{cfg.method}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}")
        self.state = RunState(run_id=run_id)
        self.out_of_time = False
        resume_at = None
        if ckpt is not None:
            self._restore(ckpt)
            resume_at = (ckpt["log_bytes"], self.state.step)
        self.log = RunLog(out_dir, enabled=info.is_main, resume_at=resume_at)
        self.log.event(
            {
                "event": "start" if ckpt is None else "resume",
                "run_id": self.state.run_id,
                "step": self.state.step,
                "world_size": info.world_size,
                "config": cfg.to_dict(),
            }
        )

    def run(self, train_split: GeoSplit, val_split: GeoSplit) -> None:
        """Epochs of mining and steps until ``epochs``, ``max_steps`` or the time budget; validate at epoch ends."""
        state = self.state
        while (self.cfg.epochs is None or state.epoch < self.cfg.epochs) and not self.done():
            if state.pairs is None:
                if state.step > 0 and self._check_time():  # at least one step per run
                    break
                self._mine(train_split)
            self._run_epoch(train_split)  # until the epoch ends or the run stops
            self._validate(val_split)
            self._save(self.out_dir / "last.pt")

    def done(self) -> bool:
        """The step limit is reached or the time is up."""
        return self.out_of_time or (self.cfg.max_steps is not None and self.state.step >= self.cfg.max_steps)

    def _check_time(self) -> bool:
        """Set and return ``out_of_time``; rank 0's clock decides, so every rank stops at the same step."""
        if self.deadline is not None:
            deadline = self.deadline
            self.out_of_time = broadcast_from_main(lambda: time.monotonic() >= deadline)
        return self.out_of_time

    def _mine(self, split: GeoSplit) -> None:
        cfg, state = self.cfg, self.state
        started = time.perf_counter()
        state.pairs = broadcast_from_main(
            lambda: mine_epoch(
                self.method.model,
                split,
                state.epoch,
                mode=cfg.mining,
                negatives=cfg.negatives,
                sample_size=cfg.mining_sample,
                seed=cfg.seed,
                height=cfg.resize[0],
                width=cfg.resize[1],
                batch_size=cfg.eval_batch_size,
                device=str(self.device),
                progress=cfg.progress and self.info.is_main,
            )
        )
        self.log.event(
            {
                "event": "mined",
                "epoch": state.epoch,
                "mode": cfg.mining,
                "pairs": len(state.pairs),
                "seconds": time.perf_counter() - started,
            }
        )

    def _run_epoch(self, split: GeoSplit) -> None:
        """Steps through the rest of this epoch's pairs, until the epoch ends or the run must stop."""
        cfg, info, state = self.cfg, self.info, self.state
        per_rank = cfg.batch_size // info.world_size
        assert state.pairs is not None
        dataset = PairDataset(split, state.pairs, *cfg.resize, cfg.augment_negatives, cfg.seed, state.epoch)
        sampler = DistributedSampler(dataset, info.world_size, info.rank, shuffle=True, seed=cfg.seed, drop_last=True)
        sampler.set_epoch(state.epoch)
        batches = len(sampler) // per_rank
        if batches == 0:
            raise TrainingError(f"{len(dataset)} GeoPairs make no batch of {cfg.batch_size}; lower --batch-size")
        order = list(sampler)[state.batch_in_epoch * per_rank :]
        # Its own generator: iterating a loader must not draw from the global RNG, or a resumed run's new loader
        # would leave the global state one draw away from the uninterrupted run's.
        loader = DataLoader(
            Subset(dataset, order),
            batch_size=per_rank,
            drop_last=True,
            num_workers=cfg.workers,
            generator=torch.Generator().manual_seed(cfg.seed),
        )
        bar = Progress(
            f"epoch {state.epoch}", "steps", batches - state.batch_in_epoch, quiet=not (cfg.progress and info.is_main)
        )
        t_end = time.perf_counter()
        for batch in bar.wrap(loader):
            self._step(batch, t_end, bar)
            if state.batch_in_epoch == batches or self.done():
                break
            if state.step % cfg.checkpoint_every == 0:
                self._save(self.out_dir / "last.pt")
            t_end = time.perf_counter()
        bar.close()
        if state.batch_in_epoch == batches:  # the epoch is over: a resumed run starts the next one
            state.epoch, state.batch_in_epoch, state.pairs = state.epoch + 1, 0, None

    def _step(self, batch: dict[str, torch.Tensor], t_end: float, bar: Progress) -> None:
        """One optimiser step on ``batch``; logs the loss and throughput (``t_end``: when the last step ended)."""
        cfg, state = self.cfg, self.state
        t_fetched = time.perf_counter()
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        amp_dtype = PRECISIONS[cfg.precision]
        with torch.autocast(self.device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
            loss = self.runner(batch)
        loss_value = mean_over_ranks(loss.detach().float())
        if not math.isfinite(loss_value):
            raise TrainingError(
                f"loss became {loss_value} at step {state.step + 1} (epoch {state.epoch}); stopped without "
                f"saving, {self.out_dir / 'last.pt'} keeps the last good state; lower --lr or try --precision fp32"
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        state.step += 1
        state.batch_in_epoch += 1
        self._check_time()
        step_s, data_s = time.perf_counter() - t_end, t_fetched - t_end  # checkpoints and logs excluded
        images = cfg.batch_size * self.method.views_per_query(batch["negatives_a"].shape[1])
        rate = images / step_s  # loading included
        bar.note(f"loss {loss_value:.4f}, {rate:.1f} img/s")
        self.log.scalars(
            state.step,
            {
                "loss": loss_value,
                "images_per_s": rate,
                "step_s": step_s,
                "data_wait_s": data_s,
                "epoch": state.epoch,
                "lr": self.optimizer.param_groups[0]["lr"],
            },
        )

    def _validate(self, val_split: GeoSplit) -> None:
        """Recall@N on val (rank 0); a new best R@1 is written to best.pt."""
        cfg, state = self.cfg, self.state
        if self.info.is_main:
            result = evaluate_split(
                self.method.model,
                val_split,
                *cfg.resize,
                batch_size=cfg.eval_batch_size,
                device=str(self.device),
                progress=cfg.progress,
            )
            recall = {n: float(r) for n, r in result["recall"].items()}
            self.log.scalars(state.step, {f"val_R@{n}": r for n, r in recall.items()})
            if recall["1"] > state.best_r1:
                state.best_r1 = recall["1"]
                self._save(self.out_dir / "best.pt", resumable=False, val_recall=recall)
        state.best_r1 = broadcast_from_main(lambda: state.best_r1)

    def _save(self, path: Path, resumable: bool = True, **extra: Any) -> None:
        """Write a checkpoint (rank 0); ``resumable=False`` keeps only the descriptor model and metadata (best.pt)."""
        if not self.info.is_main:
            return
        cfg, state = self.cfg, self.state
        payload = {
            "model_spec": cfg.model_spec.to_dict(),
            "model": self.method.model.state_dict(),
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
                    **state.to_checkpoint(),
                    "optimizer": self.optimizer.state_dict(),
                    "method_state": self.method.state_dict(),
                    "scaler": self.scaler.state_dict(),
                    "rng": rng_state(),
                    "log_bytes": self.log.size(),
                }
            )
        save_checkpoint(path, payload)

    def _restore(self, ckpt: dict[str, Any]) -> None:
        """Load training state from a checkpoint made by the same method and model."""
        cfg = self.cfg
        if ckpt.get("method") != cfg.method or ckpt.get("model_spec") != cfg.model_spec.to_dict():
            raise TrainingError(
                f"cannot resume: the run was {ckpt.get('method')} with model {ckpt.get('model_spec')}, "
                f"this command asks for {cfg.method} with {cfg.model_spec.to_dict()}"
            )
        check_resumable(ckpt)
        self.method.load_state_dict(ckpt["method_state"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scaler.load_state_dict(ckpt["scaler"])
        set_rng_state(ckpt["rng"])
        self.state = RunState.from_checkpoint(ckpt)
