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
