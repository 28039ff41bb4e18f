"""Gaps in a live drive's answers: found, measured in drive time, printed."""

import numpy as np
import pytest

from vgssl_ros.eval.gaps import format_gaps, unanswered_gaps
from vgssl_ros.eval.report import format_live


def test_no_gap_when_every_frame_is_answered():
    assert unanswered_gaps(np.arange(10.0), np.ones(10, bool)) == []


def test_a_restart_gap_is_measured_from_last_to_next_answer():
    stamps = 100 + 0.5 * np.arange(20)
    answered = np.ones(20, bool)
    answered[5:11] = False  # 6 frames unanswered between the answers at 102.0 and 105.5
    (gap,) = unanswered_gaps(stamps, answered)
    assert gap == {"start_s": 2.0, "end_s": 5.5, "seconds": 3.5, "frames": 6}


def test_short_losses_are_not_gaps_and_open_ends_count():
    stamps = np.arange(10.0)
    answered = np.array([0, 0, 0, 1, 0, 1, 1, 0, 0, 0], bool)
    gaps = unanswered_gaps(stamps, answered, min_s=2.5)
    assert [(g["start_s"], g["end_s"], g["frames"]) for g in gaps] == [(0.0, 3.0, 3), (6.0, 9.0, 3)]


def test_nothing_answered_is_one_gap_and_empty_drive_none():
    assert unanswered_gaps(np.arange(5.0), np.zeros(5, bool))[0]["frames"] == 5
    assert unanswered_gaps(np.array([]), np.array([], bool)) == []


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="one entry per frame"):
        unanswered_gaps(np.arange(3.0), np.ones(2, bool))


def test_gaps_are_printed_one_line_each():
    lines = format_gaps([{"start_s": 2.0, "end_s": 5.5, "seconds": 3.5, "frames": 6}])
    assert lines == ["gap: no answer for 6 frames, 3.5 s (drive time 2.0-5.5 s)"]
    assert format_gaps([]) == []


def test_format_live_prints_the_gaps(monkeypatch):
    import vgssl_ros.eval.report as report

    monkeypatch.setattr(report, "format_metrics", lambda *a: "metrics")
    monkeypatch.setattr(report, "format_robot", lambda m: [])
    text = format_live({"gaps": [{"start_s": 0.0, "end_s": 2.0, "seconds": 2.0, "frames": 3}]})
    assert text.splitlines() == ["metrics", "gap: no answer for 3 frames, 2.0 s (drive time 0.0-2.0 s)"]
