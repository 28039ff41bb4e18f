"""The progress convention: plain lines (no carriage returns) off a terminal, nothing when quiet, a bar on a tty."""

from __future__ import annotations

import io

from vgssl_ros.io.progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_captured_stream_gets_plain_lines_with_the_full_count() -> None:
    out = io.StringIO()
    with Progress("embedding map images", "images", quiet=False, stream=out, interval_s=0.0) as bar:
        for _ in range(3):
            bar.update(7)
        bar.note("loss 0.5")
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert len(lines) == 4  # one per update (interval 0) and the final one
    assert lines[-1].startswith("embedding map images: 21 images") and lines[-1].endswith("done")
    assert "loss 0.5" in lines[-1]


def test_lines_are_spaced_by_the_interval() -> None:
    out = io.StringIO()
    bar = Progress("localizing", "frames", total=100, stream=out, interval_s=3600.0)
    items = list(bar.wrap(range(100)))
    assert items == list(range(100))
    assert out.getvalue().splitlines() == [out.getvalue().splitlines()[-1]]  # only the final line
    assert out.getvalue().startswith("localizing: 100/100 frames")


def test_a_loop_that_breaks_counts_the_item_it_processed() -> None:
    out = io.StringIO()
    bar = Progress("epoch 0", "steps", stream=out, interval_s=3600.0)
    for i in bar.wrap(range(10)):
        if i == 4:
            break
    bar.close()
    assert out.getvalue().startswith("epoch 0: 5 steps")


def test_quiet_prints_nothing() -> None:
    out = io.StringIO()
    for _ in Progress("frames", "frames", quiet=True, stream=out, interval_s=0.0).wrap(range(5)):
        pass
    assert out.getvalue() == ""


def test_terminal_gets_a_bar() -> None:
    out = _Tty()
    bar = Progress("frames", "frames", total=5, stream=out)
    assert bar.mode == "bar"
    list(bar.wrap(range(5)))
    assert "\r" in out.getvalue()


def test_each_line_says_count_time_rate_status_and_state(monkeypatch) -> None:
    from vgssl_ros.io import progress

    clock = iter([100.0, 102.0])  # start, the update's check; 104 s from then on
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock, 104.0))
    out = io.StringIO()
    bar = Progress("mapping", "images", total=40, stream=out, interval_s=1.0)
    bar.update(10)
    bar.note("batch 2")
    bar.close()
    assert out.getvalue().splitlines() == [
        "mapping: 10/40 images in 4 s, 2.5 images/s ...",
        "mapping: 10/40 images in 4 s, 2.5 images/s  batch 2 done",
    ]


def test_no_rate_before_any_time_has_passed_and_status_shows_on_the_bar(monkeypatch) -> None:
    from vgssl_ros.io import progress

    monkeypatch.setattr(progress.time, "monotonic", lambda: 5.0)
    out = io.StringIO()
    with Progress("x", "frames", stream=out, interval_s=0.0) as bar:
        bar.update()
    assert out.getvalue().splitlines() == ["x: 1 frames in 0 s ...", "x: 1 frames in 0 s done"]
    tty = _Tty()
    with Progress("y", "steps", total=3, stream=tty) as shown:
        assert shown.mode == "bar"
        shown.update(2)
        shown.note("loss 0.25")
        assert shown._bar.postfix == "loss 0.25" and shown._bar.n == 2 and shown._bar.total == 3
        assert shown._bar.desc == "y" and shown._bar.unit == "steps" and shown._bar.fp is not None


def test_default_stream_is_stderr_and_odd_streams_are_not_terminals(capsys) -> None:
    bar = Progress("z", "items")
    assert bar.stream is __import__("sys").stderr
    assert Progress("q", "items", quiet=True, stream=_Tty()).mode == "quiet"
    assert Progress("w", "items", stream=object()).mode == "lines"  # type: ignore[arg-type]


def test_closing_twice_prints_one_final_line_and_short_runs_show_a_rate(monkeypatch) -> None:
    from vgssl_ros.io import progress

    clock = iter([10.0])  # start; 0.5 s later from then on
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock, 10.5))
    out = io.StringIO()
    bar = Progress("p", "items", stream=out, interval_s=3600.0)
    bar.update(3)
    bar.close()
    bar.close()
    assert out.getvalue().splitlines() == ["p: 3 items in 0 s, 6.0 items/s done"]
