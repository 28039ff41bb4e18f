"""`vgssl-train train`: self-supervised (or triplet) training on GeoPairs, with presets and resume.

Settings come from, in order of precedence: flags given on the command line, the ``--preset``,
the method's GeoPair defaults, then this command's CPU-friendly defaults.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import yaml

from vgssl_ros.io.progress import QUIET_HELP
from vgssl_train.commands.model_args import add_model_args, add_resize_arg, check_resize
from vgssl_train.commands.presets import load_preset, preset_names
from vgssl_train.data import DATASET_FORMATS, load_split
from vgssl_train.methods import METHODS, method_class
from vgssl_train.mining import MINING_MODES
from vgssl_train.models import ModelSpec
from vgssl_train.training.checkpoint import load_checkpoint
from vgssl_train.training.loop import RESUME_KEYS, TrainConfig, check_resumable, train
from vgssl_train.training.precision import AUTO, PRECISIONS, from_saved, resolve_precision


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `train`."""
    p = subparsers.add_parser(
        "train",
        help="train a descriptor with an SSL method (or triplet) on GeoPairs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--method", choices=list(METHODS), help="training method (required unless the preset names one)")
    p.add_argument(
        "--preset",
        help=f"paper settings from config/train/NAME.yaml ({', '.join(preset_names())}) "
        "or a path to a .yaml file; flags given explicitly override it",
    )
    p.add_argument("--dataset", required=True, help="dataset folder (VPR layout or MSLS root) or CSV manifest")
    p.add_argument("--format", choices=list(DATASET_FORMATS), help="dataset format (default: detected)")
    p.add_argument(
        "--out",
        required=True,
        help="run folder: last.pt (training state, for --resume), "
        "best.pt (the model at its best val R@1), log.jsonl, tb/",
    )
    add_model_args(p)
    add_resize_arg(p)
    g = p.add_argument_group("optimisation")
    g.add_argument(
        "--batch-size", type=int, default=16, help="GeoPair queries per step over all processes (default: %(default)s)"
    )
    g.add_argument("--lr", type=float, default=3e-4, help="Adam learning rate (default: %(default)s)")
    g.add_argument("--weight-decay", type=float, default=0.0, help="Adam weight decay (default: %(default)s)")
    g.add_argument(
        "--epochs",
        type=int,
        help="passes over the training queries (default: 1, or no limit when --max-steps is given); "
        "with --max-steps the run stops at whichever comes first",
    )
    g.add_argument("--max-steps", type=int, help="stop after this many optimiser steps in total (default: no limit)")
    g.add_argument(
        "--max-minutes",
        type=float,
        help="stop cleanly (last.pt, val, best.pt) once this process "
        "has run this many minutes, mining included (default: no limit)",
    )
    g.add_argument(
        "--method-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a method hyper-parameter, e.g. temperature=0.1 or proj_dim=256 (repeatable)",
    )
    m = p.add_argument_group("GeoPair mining (defaults: the method's own)")
    m.add_argument(
        "--mining",
        choices=MINING_MODES,
        help="random pairs, partial (features of a database sample) or full (whole database) hard-negative mining",
    )
    m.add_argument(
        "--mining-sample",
        type=int,
        default=1000,
        help="database images sampled for partial mining (default: %(default)s)",
    )
    m.add_argument(
        "--negatives",
        type=int,
        help="hard negatives per query (default: "
        + ", ".join(f"{name} {method_class(name).DATA_DEFAULTS['negatives']}" for name in METHODS)
        + ")",
    )
    m.add_argument(
        "--augment-negatives",
        action=argparse.BooleanOptionalAction,
        help="two augmented views (random resized crop 0.75-1, flip) of each negative form an extra pair",
    )
    r = p.add_argument_group("run")
    r.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default: %(default)s)")
    r.add_argument(
        "--precision",
        choices=(AUTO, *PRECISIONS),
        default=AUTO,
        help="float precision of the forward pass: auto = mixed precision on CUDA (bf16 where the card has it, "
        "else fp16 with loss scaling), fp32 elsewhere (default: %(default)s)",
    )
    r.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of weights, mining samples, order and augmentations (default: %(default)s)",
    )
    r.add_argument(
        "--checkpoint-every", type=int, default=100, help="write last.pt every N steps (default: %(default)s)"
    )
    r.add_argument("--workers", type=int, default=0, help="DataLoader worker processes (default: %(default)s)")
    r.add_argument(
        "--eval-batch-size",
        type=int,
        default=64,
        help="images per forward pass when mining and validating (default: %(default)s)",
    )
    r.add_argument(
        "--resume",
        action="store_true",
        default=False,
        help="continue the run in --out from its last.pt with the run's saved settings; only "
        f"{_may_change_flags()} may differ from them",
    )
    r.add_argument("--quiet", "--no-progress", dest="progress", action="store_false", default=True, help=QUIET_HELP)
    p.set_defaults(run=run, base_defaults=_defer_defaults(p))


RESUME_MAY_CHANGE = ("epochs", "max_steps", "max_minutes", "checkpoint_every", "progress", "workers", "eval_batch_size")
"""Settings a resumed run may change; any other flag must repeat the saved value."""


def _flag(key: str) -> str:
    """The command-line flag of setting ``key`` (``progress`` is set by --quiet)."""
    return "--quiet" if key == "progress" else "--" + key.replace("_", "-")


def _may_change_flags() -> str:
    """The flags a resumed run may change, comma-separated."""
    return ", ".join(_flag(k) for k in RESUME_MAY_CHANGE)


def _defer_defaults(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """Record the defaults and set them to None, so an explicit flag can be told from a default."""
    defaults = {}
    for action in parser._actions:
        if action.dest in ("help", "dataset", "out", "method_arg") or action.default in (None, argparse.SUPPRESS):
            continue
        if action.help:
            action.help = action.help.replace("%(default)s", str(action.default))
        defaults[action.dest] = action.default
        action.default = None
    return defaults


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Flags > preset > method data defaults > command defaults, as one dict keyed by option name."""
    preset = load_preset(args.preset) if args.preset else {}
    known = set(vars(args)) | {"method_args"}
    unknown = sorted(set(preset) - known)
    if unknown:
        raise ValueError(
            f"preset {args.preset}: unknown settings {unknown}; valid: {sorted(known - {'run', 'base_defaults'})}"
        )
    explicit = {k: v for k, v in vars(args).items() if v is not None and k not in ("run", "base_defaults")}
    method = explicit.get("method") or preset.get("method")
    if not method:
        raise ValueError(f"no method: pass --method ({', '.join(METHODS)}) or a --preset that names one")
    if preset.get("method", method) != method:
        raise ValueError(f"--method {method} contradicts preset {args.preset} (method {preset['method']})")
    data_defaults = method_class(method).DATA_DEFAULTS
    settings = {**args.base_defaults, **data_defaults, **preset, **explicit, "method": method}
    settings["method_args"] = {**preset.get("method_args", {}), **_parse_method_args(args.method_arg)}
    return settings


def resumed_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings saved in ``--out``/last.pt, with the flags that may change on resume applied.

    A flag given with another value than the saved one is refused, naming both values.
    """
    last = Path(args.out) / "last.pt"
    if not last.is_file():
        raise ValueError(f"nothing to resume: {last} does not exist (run without --resume to start)")
    ckpt = load_checkpoint(last)
    if "config" not in ckpt:  # the saved settings; a model-only checkpoint lacks the training state too
        check_resumable(ckpt, (*RESUME_KEYS, "config"))
    saved = saved_settings(ckpt["config"])
    given = {k: v for k, v in vars(args).items() if v is not None and k in saved}
    if args.method_arg:
        given["method_args"] = {**saved["method_args"], **_parse_method_args(args.method_arg)}
    if args.preset:
        raise ValueError("--resume takes the run's saved settings: drop --preset")
    for key, value in given.items():
        if key in RESUME_MAY_CHANGE:
            continue
        if _same(value, saved[key]):
            continue
        flag = _flag(key)
        may = _may_change_flags()
        raise ValueError(
            f"{flag} {_show(value)} differs from the run's saved {_show(saved[key])}; --resume keeps the saved "
            f"settings (drop {flag}; only {may} may change)"
        )
    saved.update({k: v for k, v in given.items() if k in RESUME_MAY_CHANGE})
    saved["progress"] = args.progress is not False  # how this command shows progress, not the interrupted one
    return saved


def saved_settings(config: dict[str, Any]) -> dict[str, Any]:
    """Settings (keyed by option name) from a checkpoint's ``config`` (``TrainConfig.to_dict``)."""
    s = {k: v for k, v in config.items() if k not in ("model_spec", "weights", "init_checkpoint")}
    s.update(config["model_spec"])
    s["weights"] = config["weights"] or "none"
    s["checkpoint"] = config["init_checkpoint"]
    s["precision"] = from_saved(config)  # runs saved before --precision carry an amp flag
    s.pop("amp", None)
    return s


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return [float(x) for x in a] == [float(x) for x in b]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)


def _parse_method_args(items: list[str]) -> dict[str, Any]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--method-arg {item!r} must look like KEY=VALUE, e.g. temperature=0.1")
        out[key.strip()] = yaml.safe_load(value)
    return out


def config_from_settings(s: dict[str, Any]) -> TrainConfig:
    """The loop's TrainConfig from resolved settings (a --checkpoint fixes the model spec)."""
    spec = ModelSpec(s["backbone"], s["layer"], s["aggregation"], int(s["fc_dim"]))
    if s.get("checkpoint"):
        spec = ModelSpec(**load_checkpoint(s["checkpoint"])["model_spec"])
    return TrainConfig(
        method=s["method"],
        method_args=s["method_args"],
        model_spec=spec,
        weights=None if s["weights"] == "none" else s["weights"],
        init_checkpoint=s.get("checkpoint"),
        resize=check_resize(s["resize"]),
        mining=s["mining"],
        negatives=int(s["negatives"]),
        augment_negatives=bool(s["augment_negatives"]),
        mining_sample=int(s["mining_sample"]),
        batch_size=int(s["batch_size"]),
        lr=float(s["lr"]),
        weight_decay=float(s["weight_decay"]),
        epochs=_epochs(s.get("epochs"), s.get("max_steps")),
        max_steps=s.get("max_steps"),
        max_minutes=s.get("max_minutes"),
        checkpoint_every=int(s["checkpoint_every"]),
        device=s["device"],
        precision=resolve_precision(s["precision"], s["device"]),
        seed=int(s["seed"]),
        workers=int(s["workers"]),
        eval_batch_size=int(s["eval_batch_size"]),
        progress=bool(s["progress"]),
    )


def _epochs(epochs: int | None, max_steps: int | None) -> int | None:
    """Epochs to run: as given, 1 when neither limit is given, None (no limit) when only --max-steps is."""
    if epochs is None:
        return 1 if max_steps is None else None
    return int(epochs)


def run(args: argparse.Namespace) -> int:
    """Resolve the settings, load train and val splits, train, print where the checkpoints are."""
    settings = resumed_settings(args) if args.resume else resolve_settings(args)
    cfg = config_from_settings(settings)
    train_split = load_split(args.dataset, "train", args.format)
    val_split = load_split(args.dataset, "val", args.format)
    summary = train(cfg, train_split, val_split, args.out, resume=bool(args.resume))
    if os.environ.get("RANK", "0") != "0":  # DDP: one summary line, from rank 0
        return 0
    print(
        f"run {summary['run_id']}: {summary['step']} steps, best val R@1 {summary['best_r1']:.1f} % -> "
        f"{args.out}/best.pt (last state: {args.out}/last.pt)"
    )
    return 0
