"""`vgssl-eval --live`: the project's own player drives a real localizer process; outputs scored by stamp."""

from __future__ import annotations

import json
import math

import pytest

from test.vgssl_ros.node.conftest import node_output
from vgssl_ros.datasets import read_vpr_folder
from vgssl_ros.eval.cli import main as vgssl_eval
from vgssl_ros.eval.make_bag import images_to_bag


@pytest.mark.slow
def test_live_eval_scores_what_the_node_publishes(start_localizer, localizer_assets, tmp_path, capsys):
    bag = tmp_path / "drive"
    images_to_bag(
        read_vpr_folder(localizer_assets["dataset"] / "images" / "test" / "queries"), bag, rate_hz=4.0, progress=False
    )
    proc = start_localizer("qos_reliability:=reliable", remap=("image:=/camera/image_raw",))  # as README starts it
    out = tmp_path / "live"
    rc = vgssl_eval(["--live", "--bag", str(bag), "--map", str(localizer_assets["map"]), "--out", str(out)])
    assert rc == 0, capsys.readouterr().err + node_output(proc)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["mode"] == "live" and metrics["frames"] == 12
    assert metrics["frames_answered_by_localizer"] >= 10  # 4 Hz into a ~0.1 s model: few or no skips
    assert metrics["recall"]["1"] >= 70.0
    assert metrics["latency_p50_ms"] > 0
    assert (out / "trajectory.png").is_file() and (out / "failures.png").is_file()
    rows = (out / "frames.csv").read_text().splitlines()
    assert len(rows) == 13 and sum(",accepted," in r for r in rows) == round(12 * metrics["answered_fraction"])
    assert list(metrics["robustness"]) == ["filtered"]  # the answer the node published, nothing else was seen
    assert metrics["robustness"]["filtered"]["wrong_streaks"] >= 0
    assert math.isnan(metrics["robustness"]["filtered"]["confident_wrong"])  # ~/fix carries no probability
    assert metrics["settings"]["filter_enabled"] is True and metrics["settings"]["top_k"] == 10  # the node's own
    rc = vgssl_eval(
        ["--live", "--bag", str(bag), "--map", str(localizer_assets["map"]), "--out", str(out), "--no-filter"]
    )
    assert rc == 2 and "filter_enabled=False (the node has True)" in capsys.readouterr().err


@pytest.mark.slow
def test_live_eval_without_a_localizer_says_so(localizer_assets, tmp_path, capsys, ros_env):
    bag = tmp_path / "drive"
    images_to_bag(read_vpr_folder(localizer_assets["dataset"] / "images" / "test" / "queries"), bag, progress=False)
    from vgssl_ros.eval import live

    with pytest.raises(RuntimeError, match="no localizer is listening"):
        live.score_live(
            bag,
            localizer_assets["map"],
            "/camera/image_raw",
            "/gnss/fix",
            localizer="/nobody",
            wait_for_localizer_s=1.0,
        )
