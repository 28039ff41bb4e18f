"""reliability/node_process.py: the real localizer answers a camera client's frames and its counters add up."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("rclpy", reason="rclpy (ROS 2 Python) is not installed; make setup installs the wheels")

from reliability.node_process import CameraClient, NodeProcess, domain_for, image_msg, tiny_assets  # noqa: E402


@pytest.mark.slow
def test_the_node_answers_frames_and_reports_process_figures(tmp_path):
    model, geo_map = tiny_assets(tmp_path / "assets")
    node = NodeProcess.start(tmp_path, model, geo_map, domain_for("test_node_process"))
    client = CameraClient(node.domain)
    try:
        client.wait_ready(node)
        rgb = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
        for i in range(5):
            client.publish(image_msg(rgb, (100 + i, 0)))
            assert client.wait_for(lambda i=i: (100 + i, 0) in client.fix_stamps(), 20.0), node.output()
        assert client.wait_for(lambda: client.counters().get("processed") == "5", 10.0), client.counters()
        counters = client.counters()
        assert int(counters["received"]) == 5 and int(counters["decode_errors"]) == 0
        assert node.rss_mib() > 10 and node.threads() >= 2 and node.fds() >= 3
    finally:
        client.close()
        assert node.stop() is not None
    assert not node.alive()


@pytest.mark.slow  # starts a process
def test_each_claim_gets_a_domain_no_other_process_holds():
    import subprocess
    import sys

    from reliability.node_process import DOMAINS, REPO, domain_for

    first = domain_for("claim-test")
    held = subprocess.run(
        [sys.executable, "-c", "from reliability.node_process import domain_for; print(domain_for('claim-test'))"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    second = domain_for("claim-test")
    assert first in DOMAINS and second in DOMAINS and first != second
    assert int(held.stdout) not in (first,)  # another process skips the domain this one holds


@pytest.mark.slow
def test_a_large_image_client_leaves_the_process_environment_as_it_was(monkeypatch):
    from reliability.node_process import LARGE_IMAGES

    for key in LARGE_IMAGES:
        monkeypatch.delenv(key, raising=False)
    client = CameraClient(domain_for("env-test"), large_images=True)
    client.close()
    assert not any(key in os.environ for key in LARGE_IMAGES)  # later nodes of a test session start as before
