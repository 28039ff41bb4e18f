"""Training presets: ``config/train/<name>.yaml`` files holding the paper's settings for each method."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

PRESET_DIRS = (
    Path(__file__).resolve().parents[2] / "config" / "train",  # a source checkout
    Path(sys.prefix) / "share" / "vgssl_ros" / "config" / "train",  # an installed package
)


def preset_names() -> list[str]:
    """Names of the presets found (file stems), sorted."""
    return sorted({p.stem for d in PRESET_DIRS if d.is_dir() for p in d.glob("*.yaml")})


def load_preset(name: str) -> dict[str, Any]:
    """The settings of preset ``name`` (or of a .yaml path); an unknown name raises with the valid ones."""
    path = Path(name)
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        found = [d / f"{name}.yaml" for d in PRESET_DIRS if (d / f"{name}.yaml").is_file()]
        if not found:
            raise ValueError(
                f"unknown preset {name!r}; valid presets: {', '.join(preset_names()) or '(none found)'} "
                f"(or a path to a .yaml file)"
            )
        path = found[0]
    settings = yaml.safe_load(path.read_text())
    if not isinstance(settings, dict):
        raise ValueError(f"preset {path} must be a YAML mapping of option names to values")
    return settings
