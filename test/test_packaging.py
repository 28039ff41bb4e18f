"""The package builds the way ROS users build it: `colcon build`, then the installed scripts run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test.conftest import REPO

ROS_DEPENDS_VIA = {"builtin_interfaces": "rclpy", "rcl_interfaces": "rclpy", "std_msgs": "sensor_msgs"}
"""ROS interface packages the node imports that come with a declared dependency (transitively, not declared)."""


def _colcon() -> Path:
    colcon = Path(sys.executable).parent / "colcon"
    if not colcon.exists():
        pytest.skip("colcon is not installed in this environment (make setup installs it)")
    return colcon


@pytest.fixture
def dist(monkeypatch: pytest.MonkeyPatch):
    """setup.py evaluated in-process up to setup()'s arguments: what colcon and pip would build and install."""
    from distutils.core import run_setup

    monkeypatch.chdir(REPO)  # setup.py globs relative paths
    return run_setup(str(REPO / "setup.py"), stop_after="init")


def test_package_xml_parses_as_ament_python_and_agrees_with_setup_py(dist):
    from catkin_pkg.package import parse_package

    package = parse_package(str(REPO))  # the parser colcon uses; raises on an invalid manifest
    assert (package.package_format, package.get_build_type()) == (3, "ament_python")
    assert (package.name, package.version) == (dist.get_name(), dist.get_version())
    declared = {dep.name for dep in package.exec_depends}
    # Every ROS interface package whose messages the node imports is declared (or comes with one that is).
    pytest.importorskip("rclpy", reason="rclpy (ROS 2 Python) is not installed; make setup installs the wheels")
    from vgssl_ros.node import belief, localizer_node, messages, outputs, parameters

    used = {
        obj.__module__.split(".")[0]
        for module in (localizer_node, messages, outputs, belief, parameters)
        for obj in vars(module).values()
        if isinstance(obj, type) and obj.__module__.split(".")[1:2] in (["msg"], ["srv"])
    }
    # the topics' and services' types, seen by the check
    assert {"sensor_msgs", "geometry_msgs", "diagnostic_msgs", "std_srvs"} <= used
    missing = {name for name in used | {"rclpy"} if name not in declared and ROS_DEPENDS_VIA.get(name) not in declared}
    assert not missing, f"package.xml does not declare {sorted(missing)}"


def test_data_files_install_what_the_runtime_and_launch_look_up(dist):
    from vgssl_train.commands.presets import PRESET_DIRS

    installed = {}
    for dest, sources in dist.data_files:
        for src in sources:
            assert (REPO / src).is_file(), f"setup.py installs {src}, which does not exist"
            installed[f"{dest}/{Path(src).name}"] = src
    name = dist.get_name()
    # What ament, `ros2 launch vgssl_ros localize.launch.py` and its default params file need.
    for path in (
        f"share/ament_index/resource_index/packages/{name}",
        f"share/{name}/package.xml",
        f"share/{name}/launch/localize.launch.py",
        f"share/{name}/config/localizer.yaml",
    ):
        assert path in installed, f"setup.py does not install {path}"
    # The trainer looks for its presets under sys.prefix: every preset of the checkout is installed there.
    preset_dest = PRESET_DIRS[1].relative_to(sys.prefix).as_posix()
    presets = sorted(p.name for p in (REPO / "config" / "train").glob("*.yaml"))
    assert presets and all(f"{preset_dest}/{p}" in installed for p in presets)
    # Every file README points into the installed share/ folder (e.g. the Fast DDS profile) is installed.
    readme = sorted(set(re.findall(rf"share/{name}/[\w./-]*\w", (REPO / "README.md").read_text())))
    assert f"share/{name}/config/fastdds_large_images.xml" in readme  # the parse sees README's paths
    missing = [p for p in readme if p not in installed and not any(i.startswith(f"{p}/") for i in installed)]
    assert not missing, f"README.md points to {missing}, which setup.py does not install"


def test_console_scripts_resolve_and_answer_help(dist, monkeypatch, capsys):
    from importlib.metadata import EntryPoint

    scripts = dict(line.replace(" ", "").split("=") for line in dist.entry_points["console_scripts"])
    assert {"vgssl-train", "vgssl-map", "vgssl-sim", "vgssl-eval", "localizer"} <= set(scripts)
    for script, target in scripts.items():
        if script == "localizer":
            pytest.importorskip("rclpy", reason="rclpy (ROS 2 Python) is not installed")
        main = EntryPoint(script, target, "console_scripts").load()
        monkeypatch.setattr(sys, "argv", [script, "--help"])  # a console script calls main() with no arguments
        try:
            rc = main()
        except SystemExit as exc:
            rc = exc.code
        out = capsys.readouterr().out
        assert rc in (0, None), f"{script} --help exited {rc}"
        assert "usage" in out.lower() and script in out, f"{script} --help printed:\n{out}"


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
    # Every file README points into share/vgssl_ros/ exists in the install tree (e.g. the Fast DDS profile).
    readme = set(re.findall(r"share/vgssl_ros/[\w./-]*\w", (REPO / "README.md").read_text()))
    assert readme and not [p for p in sorted(readme) if not (install / "vgssl_ros" / p).exists()]
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
