"""The package builds the way ROS users build it: `colcon build`, then the installed scripts run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test.conftest import REPO

PACKAGE_XML_NAMES = ("rclpy", "sensor_msgs", "geometry_msgs", "diagnostic_msgs", "launch", "launch_ros")


def _colcon() -> Path:
    colcon = Path(sys.executable).parent / "colcon"
    if not colcon.exists():
        pytest.skip("colcon is not installed in this environment (make setup installs it)")
    return colcon


def test_package_xml_declares_runtime_dependencies():
    text = (REPO / "package.xml").read_text()
    assert '<package format="3">' in text and "<build_type>ament_python</build_type>" in text
    for dep in PACKAGE_XML_NAMES:
        assert f"<exec_depend>{dep}</exec_depend>" in text
    assert "<test_depend>python3-pytest</test_depend>" in text


@pytest.mark.slow
def test_colcon_build_installs_console_scripts(tmp_path):
    colcon = _colcon()
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    src = tmp_path / "src" / "vgssl_ros"
    if tracked.returncode == 0 and tracked.stdout.strip():
        for rel in tracked.stdout.split():
            if (REPO / rel).is_file():
                (src / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / rel, src / rel)
    else:
        shutil.copytree(
            REPO, src, ignore=shutil.ignore_patterns(".venv", ".git", "build", "install", "log", "__pycache__")
        )
    subprocess.run(
        [
            str(colcon),
            "--log-base",
            "log",
            "build",
            "--base-paths",
            "src",
            "--build-base",
            "build",
            "--install-base",
            "install",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    install = tmp_path / "install"
    assert (install / "vgssl_ros" / "share" / "vgssl_ros" / "package.xml").is_file()
    assert (install / "vgssl_ros" / "share" / "ament_index" / "resource_index" / "packages" / "vgssl_ros").is_file()
    scripts = install / "vgssl_ros" / "lib" / "vgssl_ros"
    entry_points = next(install.glob("vgssl_ros/lib/python*/site-packages/vgssl_ros-*.egg-info/entry_points.txt"))
    names = [line.split("=")[0].strip() for line in entry_points.read_text().splitlines() if "=" in line]
    assert "vgssl-train" in names
    for script in names:
        proc = subprocess.run(
            ["bash", "-c", f"source {install}/setup.bash && cd / && {scripts / script} --help"],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        assert "usage:" in proc.stdout
    # The installed script imports the installed package, not the source tree.
    proc = subprocess.run(
        [
            "bash",
            "-c",
            f"source {install}/setup.bash && cd / && {sys.executable} -c "
            "'import vgssl_train; print(vgssl_train.__file__)'",
        ],
        capture_output=True,
        text=True,
    )
    assert str(install) in proc.stdout
