"""`vgssl-train train` end to end on a tiny dataset: checkpoints, resume, bad input, presets."""

from __future__ import annotations

import inspect
import json

import pytest
import torch

from test.conftest import write_vpr_dataset
from vgssl_train.cli import build_parser, main
from vgssl_train.commands.presets import load_preset, preset_names
from vgssl_train.commands.train import resolve_settings
from vgssl_train.losses import InfoNCELoss
from vgssl_train.methods import METHODS
from vgssl_train.training import loop
from vgssl_train.training.checkpoint import (
    checkpoint_differences,
    load_checkpoint,
    load_descriptor_model,
    save_checkpoint,
)
from vgssl_train.training.run_log import comparable_rows

TINY = [
    "--resize",
    "32",
    "64",
    "--batch-size",
    "4",
    "--method-arg",
    "proj_dim=32",
    "--no-progress",
    "--eval-batch-size",
    "12",
]


def _train(dataset, out, *extra):
    return main(["train", "--method", "simclr", "--dataset", str(dataset), "--out", str(out), *TINY, *extra])


def _losses(run_dir):
    rows = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


@pytest.mark.slow
def test_train_writes_checkpoints_that_load_as_descriptor_models(vpr_dataset, tmp_path):
    out = tmp_path / "run"
    assert _train(vpr_dataset, out, "--max-steps", "2", "--precision", "bf16") == 0  # bfloat16 autocast on CPU
    ckpt = load_checkpoint(out / "last.pt")
    assert ckpt["step"] == 2 and ckpt["method"] == "simclr" and ckpt["resize"] == [32, 64]
    assert {"model_spec", "model", "run_id", "optimizer", "method_state", "epoch", "rng"} <= set(ckpt)
    assert not any(k.startswith("projector") for k in ckpt["model"])
    model, meta = load_descriptor_model(out / "best.pt")
    assert meta["run_id"] == ckpt["run_id"] and set(meta["val_recall"]) == {"1", "5", "10", "20"}
    assert "optimizer" not in meta and "pairs" not in meta
    # best.pt is for eval and export: the descriptor model only, no heads or optimizer moments.
    assert not {"optimizer", "method_state", "rng"} & set(load_checkpoint(out / "best.pt"))
    assert (out / "best.pt").stat().st_size < (out / "last.pt").stat().st_size / 2
    assert model(torch.zeros(1, 3, 32, 64)).shape == (1, 1280)
    assert set(_losses(out)) == {1, 2} and any((out / "tb").iterdir())
    # A second start into the same folder is refused rather than mixing two runs.
    assert _train(vpr_dataset, out, "--max-steps", "2") == 2


def _log_rows(run_dir):
    """log.jsonl without the start/resume events and the wall-clock fields: what must match across a resume."""
    return comparable_rows(run_dir / "log.jsonl")


def _assert_same_training_state(a, b):
    """Bit-exact: weights, heads, optimizer moments, RNG states and counters of two last.pt files."""
    assert checkpoint_differences(load_checkpoint(a / "last.pt"), load_checkpoint(b / "last.pt")) == []


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory):
    """5 uninterrupted steps: 12 queries, 4 per step, so epoch 0 is steps 1-3 and epoch 1 starts with new pairs."""
    root = tmp_path_factory.mktemp("whole")
    dataset = write_vpr_dataset(root / "ds")
    assert _train(dataset, root / "run", "--max-steps", "5") == 0
    return dataset, root / "run"


@pytest.mark.slow
def test_resume_after_a_stop_equals_the_uninterrupted_run(whole_run, tmp_path):
    dataset, whole = whole_run
    split = tmp_path / "split"
    assert _train(dataset, split, "--max-steps", "3") == 0  # stops on the epoch's last step: validates once
    assert _train(dataset, split, "--max-steps", "5", "--resume") == 0
    assert _log_rows(split) == _log_rows(whole)  # losses bit-exact, no step or val row twice
    assert [r["step"] for r in _log_rows(split) if "loss" in r] == [1, 2, 3, 4, 5]
    _assert_same_training_state(split, whole)


class _Killed(BaseException):
    """Stands for kill -9: nothing in the trainer catches it."""


@pytest.mark.slow
def test_resume_after_a_kill_equals_the_uninterrupted_run(whole_run, tmp_path, monkeypatch):
    dataset, whole = whole_run
    split = tmp_path / "split"
    real_save = loop.save_checkpoint

    def killed_before_saving_step_5(path, payload):  # step 5 is in log.jsonl, last.pt still holds step 4
        if payload["step"] == 5:
            raise _Killed
        real_save(path, payload)

    monkeypatch.setattr(loop, "save_checkpoint", killed_before_saving_step_5)
    with pytest.raises(_Killed):
        _train(dataset, split, "--max-steps", "5", "--checkpoint-every", "1")
    assert load_checkpoint(split / "last.pt")["step"] == 4 and _losses(split).keys() == {1, 2, 3, 4, 5}
    monkeypatch.setattr(loop, "save_checkpoint", real_save)
    assert _train(dataset, split, "--max-steps", "5", "--resume") == 0  # mid-epoch 1: its pairs come back
    assert _log_rows(split) == _log_rows(whole)  # step 5 is listed once
    _assert_same_training_state(split, whole)


@pytest.mark.slow
def test_time_budget_stops_cleanly_after_a_step(vpr_dataset, tmp_path):
    out = tmp_path / "run"
    assert _train(vpr_dataset, out, "--epochs", "5", "--max-minutes", "0.0001") == 0
    assert load_checkpoint(out / "last.pt")["step"] == 1
    assert "val_recall" in load_checkpoint(out / "best.pt")


@pytest.mark.slow
def test_non_finite_loss_stops_with_the_step_and_keeps_the_last_checkpoint(vpr_dataset, tmp_path, monkeypatch, capsys):
    calls = {"n": 0}
    real = InfoNCELoss.forward

    def nan_on_third_step(self, *args, **kwargs):  # fault injection: the third step's loss is NaN
        calls["n"] += 1
        loss = real(self, *args, **kwargs)
        return loss * float("nan") if calls["n"] == 3 else loss

    monkeypatch.setattr(InfoNCELoss, "forward", nan_on_third_step)
    out = tmp_path / "run"
    assert _train(vpr_dataset, out, "--max-steps", "5", "--checkpoint-every", "1") == 2
    err = capsys.readouterr().err
    assert "loss became nan at step 3" in err and "last.pt" in err
    assert load_checkpoint(out / "last.pt")["step"] == 2


def test_dataset_without_positives_within_10_m_fails_before_training(tmp_path, capsys):
    ds = write_vpr_dataset(tmp_path / "far", places=4, query_offset_m=15.0, splits=("train", "val"))
    out = tmp_path / "run"
    assert _train(ds, out, "--max-steps", "1") == 2
    assert "no query has a database image within 10 m" in capsys.readouterr().err
    assert not (out / "last.pt").exists()


def test_unknown_method_or_preset_lists_the_valid_ones(vpr_dataset, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--method", "swav", "--dataset", str(vpr_dataset), "--out", str(tmp_path / "r")])
    assert "simclr" in capsys.readouterr().err
    assert main(["train", "--preset", "nope", "--dataset", str(vpr_dataset), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "unknown preset 'nope'" in err and "simclr" in err and "triplet" in err
    assert main(["train", "--dataset", str(vpr_dataset), "--out", str(tmp_path / "r")]) == 2
    assert "pass --method" in capsys.readouterr().err


def test_every_method_has_a_preset_with_the_papers_settings():
    assert preset_names() == sorted(METHODS)
    for name in METHODS:
        preset = load_preset(name)
        assert preset["method"] == name
        assert (preset["backbone"], preset["aggregation"], preset["fc_dim"]) == ("resnet50", "gem", 1024)
        assert (preset["resize"], preset["lr"], preset["batch_size"]) == ([480, 640], 1e-5, 64)
        inspect.signature(METHODS[name]).bind(None, **preset["method_args"])  # every key is a real parameter
    assert load_preset("simclr")["method_args"]["temperature"] == 0.07
    assert (load_preset("triplet")["mining"], load_preset("triplet")["negatives"]) == ("full", 2)
    assert load_preset("mocov2")["method_args"]["queue_size"] == 65536


def test_flags_override_the_preset_and_method_defaults_fill_the_rest(vpr_dataset, tmp_path):
    parser = build_parser()
    args = parser.parse_args(
        [
            "train",
            "--preset",
            "simclr",
            "--dataset",
            str(vpr_dataset),
            "--out",
            "x",
            "--resize",
            "32",
            "64",
            "--lr",
            "1e-5",
            "--method-arg",
            "temperature=0.1",
        ]
    )
    s = resolve_settings(args)
    assert s["resize"] == [32, 64] and s["backbone"] == "resnet50" and s["batch_size"] == 64
    assert s["method_args"] == {"proj_dim": 1024, "proj_layers": 1, "temperature": 0.1}
    s = resolve_settings(parser.parse_args(["train", "--method", "triplet", "--dataset", "d", "--out", "x"]))
    assert (s["mining"], s["negatives"], s["backbone"], s["resize"]) == ("full", 2, "efficientnet_lite0", [64, 128])
    with pytest.raises(ValueError, match="contradicts preset"):
        resolve_settings(
            parser.parse_args(["train", "--method", "byol", "--preset", "simclr", "--dataset", "d", "--out", "x"])
        )


def _saved_run(tmp_path, **config):
    """A run folder whose last.pt holds only the saved settings (what --resume reads before training)."""
    from vgssl_train.commands.train import config_from_settings

    args = build_parser().parse_args(["train", "--method", "simclr", "--dataset", "d", "--out", str(tmp_path)])
    cfg = config_from_settings({**resolve_settings(args), "batch_size": 32, "max_steps": 7, **config})
    save_checkpoint(
        tmp_path / "last.pt", {"config": cfg.to_dict(), "model": {}, "model_spec": cfg.model_spec.to_dict()}
    )
    return cfg


def test_resume_takes_the_saved_settings_and_refuses_a_different_one(tmp_path, capsys):
    from vgssl_train.commands.train import resumed_settings

    _saved_run(tmp_path)
    parser = build_parser()
    base = ["train", "--dataset", "d", "--out", str(tmp_path), "--resume"]
    s = resumed_settings(parser.parse_args([*base, "--max-minutes", "3", "--batch-size", "32"]))
    assert (s["batch_size"], s["max_steps"], s["max_minutes"], s["method"]) == (32, 7, 3.0, "simclr")
    quiet_run = tmp_path / "quiet"
    _saved_run(quiet_run, progress=False)  # an interrupted --quiet run shows progress again unless --quiet is given
    assert resumed_settings(parser.parse_args([*base[:-2], str(quiet_run), "--resume"]))["progress"] is True
    assert resumed_settings(parser.parse_args([*base[:-2], str(quiet_run), "--resume", "--quiet"]))["progress"] is False
    assert main([*base, "--batch-size", "16"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--batch-size 16 differs from the run's saved 32" in err and len(err.splitlines()) == 1


def test_epochs_unset_is_none_and_combines_with_max_steps():
    from vgssl_train.commands.train import _epochs

    assert (_epochs(None, None), _epochs(None, 5), _epochs(3, 5)) == (1, None, 3)
    args = build_parser().parse_args(["train", "--method", "vicreg", "--dataset", "d", "--out", "x"])
    from vgssl_train.commands.train import config_from_settings

    cfg = config_from_settings({**resolve_settings(args), "max_steps": 5})
    assert cfg.to_dict()["epochs"] is None and cfg.max_steps == 5  # log.jsonl records null, not 2**30


def test_resize_out_of_range_is_one_line_saying_what_to_pass(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--method", "simclr", "--dataset", "d", "--out", "x", "--resize", "0", "128"])
    assert exit_info.value.code == 2
    assert "between 16 and 4096" in capsys.readouterr().err.splitlines()[-1]


def test_negatives_help_names_each_methods_real_default():
    help_text = " ".join(build_parser()._subparsers._group_actions[0].choices["train"].format_help().split())
    assert "vicreg 1" in help_text and "triplet 2" in help_text and "byol 0" in help_text


def test_a_portrait_resize_is_taken_with_a_note_in_case_h_and_w_were_swapped(capsys):
    argv = ["train", "--method", "simclr", "--dataset", "d", "--out", "x", "--resize", "128", "64"]
    args = build_parser().parse_args(argv)
    assert args.resize == [128, 64]
    assert capsys.readouterr().err.strip() == (
        "note: --resize 128 64 is portrait (taller than wide); --resize takes H W, e.g. 64 128 for landscape"
    )
    assert build_parser().parse_args(["eval", "--dataset", "d", "--resize", "64", "128"]).resize == [64, 128]
    assert capsys.readouterr().err == ""
