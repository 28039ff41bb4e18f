"""`vgssl-eval` options of the temporal filter and calibration: one --filter-NAME per FilterConfig field."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from vgssl_ros.core.calibration import CALIBRATION_FILE
from vgssl_ros.core.filter import FilterConfig


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    """Add --no-filter, --filter-* (FilterConfig fields, defaults from FilterConfig) and the calibration options."""
    g = p.add_argument_group("temporal filter and calibration")
    g.add_argument("--no-filter", action="store_true", help="score single frames only")
    for f in fields(FilterConfig):
        g.add_argument(
            f"--filter-{f.name.replace('_', '-')}",
            dest=f"filter_{f.name}",
            type=type(f.default),
            default=f.default,
            metavar=f.name.upper(),
            help=f"FilterConfig.{f.name} (default: %(default)s)",
        )
    g.add_argument(
        "--calibration",
        default="",
        help=f"calibration JSON to apply (default: MAP/{CALIBRATION_FILE} if it exists; 'none' for raw scores)",
    )
    g.add_argument(
        "--calibrate",
        action="store_true",
        help="fit the calibration on this drive (a validation drive) and write it to --calibration-out",
    )
    g.add_argument("--calibration-out", default="", help=f"where --calibrate writes (default: MAP/{CALIBRATION_FILE})")


def filter_config(values: dict[str, object]) -> FilterConfig:
    """FilterConfig from parsed ``filter_*`` option values (vars(args))."""
    return FilterConfig(**{f.name: values[f"filter_{f.name}"] for f in fields(FilterConfig)})


def calibration_path(option: str, map_dir: str | Path) -> Path | None:
    """The calibration file to apply: ``option``, else MAP/calibration.json if present; None for 'none' or absent."""
    if option == "none":
        return None
    if option:
        return Path(option)
    default = Path(map_dir) / CALIBRATION_FILE
    return default if default.is_file() else None
