"""`vgssl-eval --live` without a localizer: the default input topic and the error that names the way out."""

from __future__ import annotations

import pytest

from vgssl_ros.eval.cli import build_parser


class _Silent:
    """Stands in for an rclpy node that sees no subscriber and no publisher (no DDS involved)."""

    def count_subscribers(self, topic: str) -> int:
        return 0

    def count_publishers(self, topic: str) -> int:
        return 0


def test_live_input_defaults_to_the_camera_topic_readme_and_launch_file_use() -> None:
    args = build_parser().parse_args(["--live", "--bag", "b", "--map", "m", "--out", "o"])
    assert args.localizer_input == "/camera/image_raw" == args.image_topic


def test_no_localizer_error_names_the_topic_and_localizer_input() -> None:
    pytest.importorskip("rclpy")
    from vgssl_ros.eval.live import _wait_for_localizer

    with pytest.raises(RuntimeError) as err:
        _wait_for_localizer(_Silent(), "/camera/image_raw", 0.0, "/localizer")  # type: ignore[arg-type]
    text = str(err.value)
    assert "no localizer is listening on /camera/image_raw" in text
    assert "--localizer-input" in text and "ros2 launch" in text and "image:=/camera/image_raw" in text


def test_live_records_hold_what_the_fix_carries() -> None:
    pytest.importorskip("rclpy")
    import numpy as np
    from sensor_msgs.msg import NavSatFix, NavSatStatus

    from vgssl_ros.eval.live import LiveScorer
    from vgssl_ros.eval.metrics import DriveOutcome
    from vgssl_ros.geo import UtmZone

    scorer = LiveScorer.__new__(LiveScorer)  # no node: only the collected messages matter here
    fix = NavSatFix(status=NavSatStatus(status=NavSatStatus.STATUS_NO_FIX))
    fix.position_covariance = [4.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1e6]
    scorer.fixes = {(10, 0): (fix, 0.0)}
    frames = [((10, 0), np.array([500000.0, 7000000.0])), ((10, 500_000_000), np.array([500001.0, 7000000.0]))]
    outcome = DriveOutcome(
        np.array([f[1] for f in frames]),
        np.array([[500000.0, 7000010.0], [np.nan, np.nan]]),
        np.array([False, False]),
        np.array([[3, 1], [-1, -1]]),
        np.full(2, np.nan),
    )
    records = scorer.drive_frames(frames, outcome, UtmZone(33, "W"), "single")
    single = records.modes["single"]
    assert list(records.modes) == ["single"] and records.stamps.tolist() == [10.0, 10.5]
    assert single.status == ["rejected (published STATUS_NO_FIX)", "no answer received for this frame"]
    assert single.covariance[0].tolist() == [[4.0, 0.0], [0.0, 1.0]] and np.isnan(single.covariance[1]).all()
    assert single.place.tolist() == [3, -1] and np.isnan(single.probability).all()
    assert scorer.drive_frames(frames, outcome, UtmZone(33, "W"), "filtered").modes["filtered"].place.tolist() == [
        -1,
        -1,
    ]


def test_live_refuses_a_map_of_another_model_before_playing(tmp_path, capsys) -> None:
    """Found by the security campaign: --live scored a map built for another --model (checked only after playing)."""
    import numpy as np

    from reliability.map_damage import DIM, SIDE, tiny_map, tiny_model
    from vgssl_ros.eval.cli import main

    geo_map = tiny_map(tmp_path / "map", tiny_model(tmp_path / "a.onnx"), places=4)
    other = tiny_model(tmp_path / "b.onnx", weights=np.ones((SIDE * SIDE * 3, DIM), np.float32))
    argv = ["--live", "--bag", str(tmp_path / "no-bag"), "--map", str(geo_map), "--model", str(other)]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "built with another model" in err and len(err.strip().splitlines()) == 1
