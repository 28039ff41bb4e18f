"""The node's parameters: the core's settings table (core/settings.py) plus the node-only transport ones.

`python -m vgssl_ros.node.parameters --yaml > config/localizer.yaml` writes the default parameters file.
"""

from __future__ import annotations

import json
import sys
import textwrap
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from vgssl_ros.core.settings import SETTINGS, Setting

NODE_ONLY: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("model", "", "Path to model.onnx (exported by `vgssl-train export`)."),
        Setting("map", "", "Path to the map directory (built by `vgssl-map build` with the same model)."),
        Setting("compressed", False, "Subscribe to image/compressed (sensor_msgs/CompressedImage) instead of image."),
        Setting(
            "qos_reliability",
            "best_effort",
            "Reliability of the image subscription.",
            choices=("best_effort", "reliable"),
        ),
        Setting("qos_depth", 5, "History depth of the image subscription.", 1, 1000),
        Setting(
            "map_frame",
            "map",
            "frame_id of ~/pose, ~/candidates, ~/map_places and /initialpose; positions relative to the map's "
            "UTM origin.",
        ),
        Setting("diagnostics_period_s", 1.0, "Period of /diagnostics (s).", 0.05, 60.0),
        Setting(
            "autostart",
            True,
            "Configure and activate at start (exit 2 if that fails); false = stay unconfigured until a lifecycle "
            "manager drives the node (lifecycle_msgs/srv/ChangeState on ~/change_state).",
        ),
    )
}
"""Transport settings of the node alone (all fixed at start-up)."""

PARAMETERS: dict[str, Setting] = {**NODE_ONLY, **SETTINGS}
"""Every declared parameter, in the order of `localizer --help` and config/localizer.yaml."""


def default_value(spec: Setting) -> Any:
    """The parameter's default as rclpy declares it (tuples as lists)."""
    return list(spec.default) if isinstance(spec.default, tuple) else spec.default


def descriptor(spec: Setting) -> ParameterDescriptor:
    """The rclpy ParameterDescriptor: description, range, read-only unless runtime-changeable."""
    text = spec.description + (f" One of: {', '.join(spec.choices)}." if spec.choices else "")
    d = ParameterDescriptor(description=text, read_only=not spec.runtime)
    if spec.low is not None and spec.high is not None and type(spec.default) is int:
        d.integer_range = [IntegerRange(from_value=int(spec.low), to_value=int(spec.high), step=1)]
    elif spec.low is not None and spec.high is not None and type(spec.default) is float:
        d.floating_point_range = [FloatingPointRange(from_value=float(spec.low), to_value=float(spec.high), step=0.0)]
    return d


def check_value(name: str, value: Any) -> str:
    """'' if ``value`` is acceptable for parameter ``name``, else the reason (range, choices, required paths)."""
    if name in ("model", "map") and not value:
        return f"parameter '{name}' is required: pass -p {name}:=PATH"
    reason = PARAMETERS[name].check(value)
    return f"parameter {reason}" if reason else ""


def _yaml_value(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if isinstance(value, str) and value and value.replace("_", "").isalnum() and not value[0].isdigit():
        return value
    return json.dumps(value)  # bools, numbers and other strings are valid YAML as JSON writes them


def yaml_text() -> str:
    """config/localizer.yaml: every parameter with its default and description (generated, do not edit)."""
    lines = [
        "# Defaults of the vgssl_ros localizer node, generated from the settings table by",
        "# `python -m vgssl_ros.node.parameters --yaml > config/localizer.yaml` (do not edit by hand).",
        "# model and map are required: pass them on the command line (-p model:=... -p map:=...) or through",
        "# the launch file. Ranges: `ros2 param describe /localizer <name>`.",
        "/**:",
        "  ros__parameters:",
    ]
    for name, spec in PARAMETERS.items():
        text = f"{spec.description} ({'changeable at runtime' if spec.runtime else 'fixed at start-up'})"
        lines += [f"    # {line}" for line in textwrap.wrap(text, 110)]
        lines.append(f"    {name}: {_yaml_value(default_value(spec))}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--yaml"]:
        sys.exit("usage: python -m vgssl_ros.node.parameters --yaml > config/localizer.yaml")
    sys.stdout.write(yaml_text())
