"""`--precision`: what auto means per device, what is refused, and runs saved with the old --amp flag."""

from __future__ import annotations

import pytest
import torch

from vgssl_train.cli import build_parser
from vgssl_train.commands.train import config_from_settings, resolve_settings, saved_settings
from vgssl_train.training.precision import from_saved, needs_loss_scaling, resolve_precision


def test_auto_is_fp32_on_cpu_and_mixed_on_cuda(monkeypatch):
    assert resolve_precision("auto", "cpu") == "fp32"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision("auto", "cuda") == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision("auto", "cuda:1") == "fp16"


def test_fp16_without_cuda_and_unknown_names_are_refused_saying_what_to_use():
    with pytest.raises(ValueError, match="fp16 needs a CUDA device.*use bf16 or fp32"):
        resolve_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="valid: auto, fp32, bf16, fp16"):
        resolve_precision("int8", "cpu")
    assert [resolve_precision(p, "cpu") for p in ("fp32", "bf16")] == ["fp32", "bf16"]


def test_only_fp16_scales_the_loss():
    assert needs_loss_scaling("fp16") and not needs_loss_scaling("bf16") and not needs_loss_scaling("fp32")


def test_the_cli_default_resolves_to_a_concrete_precision_in_the_saved_config():
    args = build_parser().parse_args(["train", "--method", "simclr", "--dataset", "d", "--out", "x"])
    cfg = config_from_settings(resolve_settings(args))
    assert cfg.precision == "fp32" and cfg.to_dict()["precision"] == "fp32"
    args = build_parser().parse_args(
        ["train", "--method", "simclr", "--dataset", "d", "--out", "x", "--precision", "bf16"]
    )
    assert config_from_settings(resolve_settings(args)).precision == "bf16"


def test_a_run_saved_with_the_old_amp_flag_resumes_at_the_precision_it_trained_with():
    args = build_parser().parse_args(["train", "--method", "simclr", "--dataset", "d", "--out", "x"])
    saved = config_from_settings(resolve_settings(args)).to_dict()
    saved.pop("precision")
    assert saved_settings({**saved, "amp": True})["precision"] == "bf16"  # CPU autocast was bfloat16
    assert "amp" not in saved_settings({**saved, "amp": True})
    assert from_saved({"amp": True, "device": "cuda"}) == "fp16" and from_saved({"amp": False}) == "fp32"
    assert from_saved({"precision": "bf16", "amp": False}) == "bf16"
