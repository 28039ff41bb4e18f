"""RunLog: a fresh run starts an empty log.jsonl; a resumed one cuts what its checkpoint did not see."""

from __future__ import annotations

import json

from vgssl_train.training.run_log import RunLog


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_fresh_run_empties_what_a_run_killed_before_its_first_checkpoint_left(tmp_path):
    (tmp_path / "log.jsonl").write_text('{"step": 1, "loss": 9.0}\n{"step": 2, "lo')
    log = RunLog(tmp_path)
    log.scalars(1, {"loss": 1.5})
    log.close()
    assert [(r["step"], r["loss"]) for r in _rows(tmp_path / "log.jsonl")] == [(1, 1.5)]


def test_a_resumed_run_keeps_the_log_up_to_its_checkpoint_and_cuts_the_rest(tmp_path):
    log = RunLog(tmp_path)
    log.scalars(1, {"loss": 3.0})
    kept = log.size()
    log.scalars(2, {"loss": 2.0})  # logged after the checkpoint at step 1: the resumed run repeats step 2
    log.close()
    log = RunLog(tmp_path, resume_at=(kept, 1))
    log.scalars(2, {"loss": 2.5})
    log.close()
    assert [(r["step"], r["loss"]) for r in _rows(tmp_path / "log.jsonl")] == [(1, 3.0), (2, 2.5)]


def test_a_disabled_log_writes_nothing(tmp_path):
    log = RunLog(tmp_path / "run", enabled=False)
    log.scalars(1, {"loss": 1.0})
    log.close()
    assert log.size() == 0 and not (tmp_path / "run").exists()
