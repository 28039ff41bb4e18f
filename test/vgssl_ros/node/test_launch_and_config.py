"""config/localizer.yaml, the node's parameters, `vgssl-eval`'s options and the launch file agree with the
settings table (core/settings.py): a setting cannot exist in one and not the others.

`launch` and `launch_ros` are not installable here (no wheels): the launch file runs against recording
stand-ins of the few launch classes it uses. A real `ros2 launch` needs a ROS 2 distro (see README)."""

from __future__ import annotations

import importlib.util
import runpy
import sys
import types
from pathlib import Path

import pytest
import yaml

from test.conftest import REPO
from vgssl_ros.core.settings import SETTINGS, LocalizerSettings
from vgssl_ros.eval.cli import build_parser, passed_settings
from vgssl_ros.eval.cli import main as vgssl_eval
from vgssl_ros.node.parameters import NODE_ONLY, PARAMETERS, default_value, descriptor, yaml_text

LAUNCH = REPO / "launch" / "localize.launch.py"
CONFIG = REPO / "config" / "localizer.yaml"
REQUIRED = ["--bag", "b", "--map", "m", "--out", "o"]


def test_config_yaml_is_the_generated_one_and_holds_every_default():
    assert CONFIG.read_text() == yaml_text(), "regenerate: python -m vgssl_ros.node.parameters --yaml > " + str(CONFIG)
    params = yaml.safe_load(CONFIG.read_text())["/**"]["ros__parameters"]
    assert params == {name: default_value(spec) for name, spec in PARAMETERS.items()}
    assert params["filter_enabled"] is True
    assert set(PARAMETERS) == set(NODE_ONLY) | set(SETTINGS)


def test_node_parameter_descriptors_come_from_the_table():
    for name, spec in SETTINGS.items():
        d = descriptor(spec)
        assert d.description.startswith(spec.description) and d.read_only == (not spec.runtime), name
        ranges = list(d.integer_range) + list(d.floating_point_range)
        if spec.low is not None:
            assert (ranges[0].from_value, ranges[0].to_value) == (spec.low, spec.high), name
        else:
            assert not ranges, name


def test_eval_options_are_the_table_with_the_same_descriptions():
    parser = build_parser()
    by_dest = {a.dest: a for a in parser._actions}
    for name, spec in SETTINGS.items():
        assert spec.description.replace("%", "%%") in by_dest[name].help, name
    assert "FilterConfig." not in parser.format_help()
    assert passed_settings(parser.parse_args(REQUIRED)) == {}  # nothing passed: the table's defaults apply
    assert LocalizerSettings.from_values(passed_settings(parser.parse_args(REQUIRED))) == LocalizerSettings()
    old = parser.parse_args(
        [
            *REQUIRED,
            "--radius",
            "30",
            "--threads",
            "1",
            "--top-k",
            "5",
            "--min-similarity",
            "0.2",
            "--min-margin",
            "0.1",
        ]
    )
    assert passed_settings(old) == {
        "match_radius_m": 30.0,
        "intra_op_threads": 1,
        "top_k": 5,
        "min_similarity": 0.2,
        "min_margin": 0.1,
    }
    new = parser.parse_args(
        [*REQUIRED, "--no-filter", "--filter-query-mean-rate", "0", "--min-std-m", "2", "--execution-providers", "cpu"]
    )
    assert passed_settings(new) == {
        "filter_enabled": False,
        "filter_query_mean_rate": 0.0,
        "min_std_m": 2.0,
        "execution_providers": ["cpu"],
    }


def test_eval_refuses_a_bad_setting_naming_it(tmp_path, capsys):
    assert vgssl_eval([*REQUIRED, "--model", "x.onnx", "--filter-kidnap-prob", "0.9"]) == 2
    assert "filter_kidnap_prob=0.9 is out of range [1e-06, 0.5]" in capsys.readouterr().err


def _fake_launch_modules() -> dict[str, types.ModuleType]:
    """Stand-ins of the launch classes the launch file uses; each records its arguments."""

    class Recorder:
        def __init__(self, *args, **kwargs):
            self.args, self.kwargs = args, kwargs

    names = {
        "launch": ["LaunchDescription"],
        "launch.actions": ["DeclareLaunchArgument"],
        "launch.conditions": ["IfCondition", "UnlessCondition"],
        "launch.substitutions": ["LaunchConfiguration", "PythonExpression"],
        "launch_ros.actions": ["Node"],
        "ament_index_python.packages": [],
    }
    modules = {}
    for module, classes in names.items():
        m = types.ModuleType(module)
        for cls in classes:
            setattr(m, cls, type(cls, (Recorder,), {}))
        modules[module] = m
    modules["ament_index_python.packages"].get_package_share_directory = lambda pkg: f"/opt/share/{pkg}"
    modules["launch_ros"] = types.ModuleType("launch_ros")
    modules["ament_index_python"] = types.ModuleType("ament_index_python")
    return modules


def _setup_kwargs() -> dict:
    """What setup.py passes to setuptools.setup (run in the repository, setup() recorded)."""
    import os

    import setuptools

    seen: dict = {}
    original, cwd = setuptools.setup, Path.cwd()
    setuptools.setup = lambda **kw: seen.update(kw)
    try:
        os.chdir(REPO)
        runpy.run_path(str(REPO / "setup.py"))
    finally:
        setuptools.setup = original
        os.chdir(cwd)
    return seen


def test_launch_file_runs_the_installed_node_with_the_generated_yaml(monkeypatch):
    for name, module in _fake_launch_modules().items():
        monkeypatch.setitem(sys.modules, name, module)
    description = runpy.run_path(str(LAUNCH))["generate_launch_description"]()
    (entities,) = description.args
    declared = {e.args[0]: e.kwargs for e in entities if type(e).__name__ == "DeclareLaunchArgument"}
    nodes = [e.kwargs for e in entities if type(e).__name__ == "Node"]
    assert declared["params_file"]["default_value"] == "/opt/share/vgssl_ros/config/localizer.yaml"
    for name in set(declared) & set(PARAMETERS):  # a launch argument that is a parameter keeps its default
        if "default_value" in declared[name]:
            assert declared[name]["default_value"] == yaml.safe_dump(default_value(PARAMETERS[name])).split("\n")[0]
    setup = _setup_kwargs()
    scripts = {line.split("=")[0].strip() for line in setup["entry_points"]["console_scripts"]}
    installed = {path for _, files in setup["data_files"] for path in files}
    assert "config/localizer.yaml" in installed and "launch/localize.launch.py" in installed
    for node in nodes:
        assert node["package"] == "vgssl_ros" and node["executable"] in scripts
        params_file, overrides = node["parameters"]
        assert params_file.args == ("params_file",)
        assert set(overrides) <= set(PARAMETERS) | {"use_sim_time"}  # no setting with a default of its own


def test_launch_file_builds_a_description_where_launch_is_installed():
    if importlib.util.find_spec("launch_ros") is None:
        pytest.skip("launch_ros is not installed (it ships with a ROS 2 distro, not as a wheel)")
    spec = importlib.util.spec_from_file_location("localize_launch", LAUNCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.generate_launch_description().entities
