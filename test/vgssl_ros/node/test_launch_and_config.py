"""launch/localize.launch.py and config/localizer.yaml agree with the node and the package.

`launch` and `launch_ros` are not installable here (no wheels); the launch file is checked by
parsing it. A real `ros2 launch` needs a ROS 2 distro (see README)."""

from __future__ import annotations

import ast
import importlib.util

import pytest
import yaml

from test.conftest import REPO

LAUNCH = REPO / "launch" / "localize.launch.py"
CONFIG = REPO / "config" / "localizer.yaml"


def _call_kwargs(tree: ast.AST, func: str) -> list[dict[str, ast.expr]]:
    return [
        {kw.arg: kw.value for kw in node.keywords}
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == func
    ]


def test_config_declares_exactly_the_node_parameters():
    from vgssl_ros.node.parameters import PARAMETERS

    params = yaml.safe_load(CONFIG.read_text())["/**"]["ros__parameters"]
    assert set(params) == set(PARAMETERS)
    for name, value in params.items():
        assert value == PARAMETERS[name].default, name


def test_launch_file_names_installed_executable_and_config():
    tree = ast.parse(LAUNCH.read_text())
    args = {ast.literal_eval(k["name"]) if "name" in k else None for k in _call_kwargs(tree, "DeclareLaunchArgument")}
    args |= {
        ast.literal_eval(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DeclareLaunchArgument" and node.args
    }
    assert {"model", "map", "image_topic", "compressed", "params_file", "use_sim_time"} <= args
    nodes = _call_kwargs(tree, "Node")
    assert nodes and all(ast.literal_eval(n["package"]) == "vgssl_ros" for n in nodes)
    setup = (REPO / "setup.py").read_text()
    for n in nodes:
        executable = ast.literal_eval(n["executable"])
        assert f'"{executable} = ' in setup  # a console script installed into lib/vgssl_ros
    assert '"config" / "localizer.yaml"' in LAUNCH.read_text() and CONFIG.is_file()
    assert 'glob("launch/*.launch.py")' in setup and 'glob("config/*.yaml")' in setup


def test_launch_file_builds_a_description_where_launch_is_installed():
    if importlib.util.find_spec("launch_ros") is None:
        pytest.skip("launch_ros is not installed (it ships with a ROS 2 distro, not as a wheel)")
    spec = importlib.util.spec_from_file_location("localize_launch", LAUNCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.generate_launch_description().entities
