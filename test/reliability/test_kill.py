"""The kill campaign: its output digest, and its quick version over real commands."""

from __future__ import annotations

import json

import pytest

from reliability.kill import digest


def test_digest_sees_bytes_and_names_but_not_a_maps_build_time(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for root, when in ((a, "2026-01-01"), (b, "2026-02-02")):
        root.mkdir()
        (root / "map.json").write_text(json.dumps({"created": {"time": when, "tool": "t"}, "place_count": 3}))
        (root / "index.faiss").write_bytes(b"\x01\x02")
    assert digest(a) == digest(b) and digest(tmp_path / "none") is None
    (b / "index.faiss").write_bytes(b"\x01")  # truncated
    assert digest(a) != digest(b)
    (b / "index.faiss").write_bytes(b"\x01\x02")
    (b / "extra.tmp").write_bytes(b"")  # a stray file is a difference too
    assert digest(a) != digest(b)


@pytest.mark.slow
def test_quick_kill_campaign_passes(tmp_path):
    from reliability.kill import run

    result = run(seed=0, quick=True, work=tmp_path)
    assert result.passed, result.notes
    assert result.trials == 2 * 5  # export and dataset are in the full campaign only


@pytest.mark.slow
def test_quick_kill_train_campaign_resumes_bit_exact(tmp_path):
    """Two real SIGKILLs of `vgssl-train train`; each run, resumed or restarted, ends as the uninterrupted one."""
    from reliability.kill_train import run

    result = run(seed=0, quick=True, work=tmp_path)
    assert result.passed, result.notes
    assert result.trials == 2


def test_run_differences_name_the_checkpoint_entry_and_the_log_row(tmp_path):
    import torch

    from reliability.kill_train import run_differences
    from vgssl_train.training.checkpoint import save_checkpoint

    for name, w, loss in (("a", 1.0, 0.5), ("b", 2.0, 0.25)):
        run = tmp_path / name
        run.mkdir()
        for ckpt in ("last.pt", "best.pt"):
            save_checkpoint(run / ckpt, {"model_spec": {}, "model": {"w": torch.tensor([w])}, "step": 3})
        (run / "log.jsonl").write_text(json.dumps({"step": 1, "loss": loss, "time": w}) + "\n")
    assert run_differences(tmp_path / "a", tmp_path / "a") == []
    assert run_differences(tmp_path / "a", tmp_path / "b") == [
        "last.pt model['w']",
        "best.pt model['w']",
        "log.jsonl row 0 (1 rows, reference 1)",
    ]
