"""The localizer's parameters: one table of name, default, description, range and mutability."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from vgssl_ros.core.embedder import PROVIDERS
from vgssl_ros.core.filter import FilterConfig

RELIABILITY = ("best_effort", "reliable")


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter; ``read_only`` ones are fixed at start-up."""

    default: Any
    description: str
    low: float | None = None
    high: float | None = None
    read_only: bool = False
    choices: tuple[str, ...] = ()

    def descriptor(self) -> ParameterDescriptor:
        """The rclpy ParameterDescriptor, with a range where one is set."""
        text = self.description + (f" One of: {', '.join(self.choices)}." if self.choices else "")
        d = ParameterDescriptor(description=text, read_only=self.read_only)
        if self.low is not None and type(self.default) is int:
            d.integer_range = [IntegerRange(from_value=int(self.low), to_value=int(self.high), step=1)]
        elif self.low is not None and type(self.default) is float:
            d.floating_point_range = [
                FloatingPointRange(from_value=float(self.low), to_value=float(self.high), step=0.0)
            ]
        return d


PARAMETERS: dict[str, ParamSpec] = {
    "model": ParamSpec("", "Path to model.onnx (exported by `vgssl-train export`).", read_only=True),
    "map": ParamSpec("", "Path to the map directory (built by `vgssl-map build` with the same model).", read_only=True),
    "compressed": ParamSpec(
        False, "Subscribe to image/compressed (sensor_msgs/CompressedImage) instead of image.", read_only=True
    ),
    "qos_reliability": ParamSpec(
        "best_effort", "Reliability of the image subscription.", read_only=True, choices=RELIABILITY
    ),
    "qos_depth": ParamSpec(5, "History depth of the image subscription.", 1, 1000, read_only=True),
    "execution_providers": ParamSpec(
        ["cpu"],
        "ONNX Runtime execution providers in order of preference; missing ones fall back to the next.",
        read_only=True,
        choices=tuple(PROVIDERS),
    ),
    "intra_op_threads": ParamSpec(2, "ONNX Runtime intra-op threads (spinning off).", 1, 64, read_only=True),
    "search_threads": ParamSpec(1, "FAISS OpenMP threads for the single-query search.", 1, 64, read_only=True),
    "map_frame": ParamSpec(
        "map", "frame_id of ~/pose and ~/candidates; positions relative to the map's UTM origin.", read_only=True
    ),
    "top_k": ParamSpec(10, "Places retrieved per frame (published on ~/candidates).", 1, 1000),
    "match_radius_m": ParamSpec(
        25.0, "Top-K places within this distance of the top-1 place refine the estimate.", 0.1, 10000.0
    ),
    "min_similarity": ParamSpec(
        0.0, "Reject (STATUS_NO_FIX) when the top-1 cosine similarity is below this.", -1.0, 1.0
    ),
    "min_margin": ParamSpec(
        0.0, "Reject when top-1 similarity minus that of the best place outside the radius is below this.", 0.0, 2.0
    ),
    "min_std_m": ParamSpec(
        5.0, "Standard deviation (m) added to the spread of agreeing places in the covariance.", 0.01, 10000.0
    ),
    "max_image_pixels": ParamSpec(16_777_216, "Frames with more pixels are refused as bad input.", 1, 1 << 31),
    "diagnostics_period_s": ParamSpec(1.0, "Period of /diagnostics.", 0.05, 60.0, read_only=True),
    "calibration": ParamSpec(
        "",
        "Calibration JSON from `vgssl-eval --calibrate` (probabilities and covariance "
        "scales); '' = MAP/calibration.json if present, 'none' = raw scores.",
        read_only=True,
    ),
    "filter_enabled": ParamSpec(
        False,
        "Temporal filter over map places: ~/fix and ~/pose carry its estimate (~/candidates stay single-frame).",
        read_only=True,
    ),
    "filter_step_radius_m": ParamSpec(
        FilterConfig.step_radius_m,
        "Places reachable in one frame (m); 0 = 5 x the median place spacing.",
        0.0,
        1e6,
        read_only=True,
    ),
    "filter_speed_std_m": ParamSpec(
        FilterConfig.speed_std_m,
        "Sideways tolerance (m) around the direction of travel; 0 = half the median place spacing.",
        0.0,
        1e6,
        read_only=True,
    ),
    "filter_speed_change": ParamSpec(
        FilterConfig.speed_change, "Log-normal spread of the speed from frame to frame.", 0.01, 10.0, read_only=True
    ),
    "filter_jump_prob": ParamSpec(
        FilterConfig.jump_prob,
        "Share of belief spread evenly within reach each frame (stops, reversals, gaps in the map).",
        0.0,
        1.0,
        read_only=True,
    ),
    "filter_temperature": ParamSpec(
        FilterConfig.temperature,
        "Observation temperature: larger trusts single frames less.",
        0.01,
        100.0,
        read_only=True,
    ),
    "filter_kidnap_prob": ParamSpec(
        FilterConfig.kidnap_prob,
        "Per-frame probability that the robot jumped elsewhere (recovery speed).",
        1e-6,
        0.5,
        read_only=True,
    ),
    "filter_seed_k": ParamSpec(
        FilterConfig.seed_k, "Single-frame candidates re-seeded into the filter each frame.", 1, 10000, read_only=True
    ),
    "filter_max_support": ParamSpec(
        FilterConfig.max_support, "Hypotheses kept per frame (bounds the filter's cost).", 1, 100000, read_only=True
    ),
    "filter_max_gap_s": ParamSpec(
        FilterConfig.max_gap_s,
        "A stamp gap larger than this resets the filter; older stamps are ignored.",
        0.001,
        1e6,
        read_only=True,
    ),
    "min_confidence": ParamSpec(
        0.0,
        "Filtered fixes below this confidence (a probability when calibrated) are published as STATUS_NO_FIX.",
        0.0,
        1.0,
    ),
}

FILTER_FIELDS = (
    "step_radius_m",
    "speed_std_m",
    "speed_change",
    "jump_prob",
    "temperature",
    "kidnap_prob",
    "seed_k",
    "max_support",
    "max_gap_s",
)
"""FilterConfig fields set by ``filter_<field>`` parameters (the others keep FilterConfig's defaults)."""

RUNTIME_CHANGEABLE = tuple(name for name, spec in PARAMETERS.items() if not spec.read_only)


def check_value(name: str, value: Any) -> str:
    """'' if ``value`` is acceptable for ``name`` beyond its declared range, else the reason."""
    spec = PARAMETERS[name]
    if name in ("model", "map") and not value:
        return f"parameter '{name}' is required: pass -p {name}:=PATH"
    values = value if isinstance(value, (list, tuple)) else [value]
    if spec.choices and any(v not in spec.choices for v in values):
        return f"parameter '{name}'={value!r} is not valid; valid values: {', '.join(spec.choices)}"
    if name == "execution_providers" and not values:
        return "parameter 'execution_providers' needs at least one provider"
    return ""
