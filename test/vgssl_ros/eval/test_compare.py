"""`vgssl-eval compare`: two runs of one drive side by side, metrics and the frames where they disagree."""

from __future__ import annotations

import json
import re

from test.vgssl_ros.eval.drive_frames import PLACE_IDS, made_up_drive
from vgssl_ros.eval.cli import main as vgssl_eval
from vgssl_ros.eval.frames import write_frames_csv


def _run(folder, single_wrong, recall):
    folder.mkdir()
    frames = made_up_drive(single_wrong)
    robustness = {m: frames.robustness(m, 25.0) for m in frames.modes}
    metrics = {"bag": "drive", "mode": "offline", "frames": 10, "recall": {"1": recall}, "radius_m": 25.0}
    metrics.update(robustness=robustness, filtered={"frames": 10, "recall": {"1": 90.0}})
    (folder / "metrics.json").write_text(json.dumps(metrics))
    write_frames_csv(folder / "frames.csv", frames, PLACE_IDS)


def _row(text: str, mode: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if re.match(rf"{mode}\s+{re.escape(label)}\s", line))
    return line[len(mode) :].replace(label, "", 1).split()


def test_compare_prints_both_metrics_and_the_frames_that_differ(tmp_path, capsys):
    _run(tmp_path / "a", (2, 3, 4, 7), 60.0)
    _run(tmp_path / "b", (2,), 90.0)
    assert vgssl_eval(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert _row(out, "single", "R@1 %") == ["60.0", "90.0", "+30.0"]
    assert _row(out, "single", "wrong streaks") == ["2", "1", "-1"]
    assert _row(out, "single", "longest wrong frames") == ["3", "1", "-2"]
    assert _row(out, "filtered", "R@1 %") == ["90.0", "90.0", "0.0"]
    assert "single: the answers disagree on 3 of 10 frames" in out  # frames 3, 4, 7; the rejected frame 8 agrees
    assert "filtered: the answers disagree on 0 of 10 frames" in out
    differing = [line for line in out.splitlines() if line.startswith("  t ")]
    assert [line.split()[1] for line in differing] == ["1.50", "2.00", "3.50"]
    assert "A wrong 100 m, p 0.95" in differing[0] and "B correct 0 m" in differing[0]


def test_compare_refuses_what_is_not_a_run(tmp_path, capsys):
    _run(tmp_path / "a", (2,), 60.0)
    assert vgssl_eval(["compare", str(tmp_path / "a"), str(tmp_path / "nothing")]) == 2
    assert "has no metrics.json" in capsys.readouterr().err
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "metrics.json").write_text("{}")
    (tmp_path / "other" / "frames.csv").write_text("stamp_s,single_status,filtered_status\n1.0,accepted,\n")
    assert vgssl_eval(["compare", str(tmp_path / "a"), str(tmp_path / "other")]) == 2
    assert "share no frame stamp" in capsys.readouterr().err
