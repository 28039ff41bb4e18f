"""The localizer's settings: ONE table (the fields of LocalizerSettings) of name, default, range, description.

The node's parameters, `vgssl-eval`'s options and config/localizer.yaml are generated from this table.
Runtime-changeable settings may change while frames run: the node builds a new LocalizerSettings and
swaps it into the core with one assignment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from vgssl_ros.core.embedder import PROVIDERS
from vgssl_ros.core.estimate import EstimatorConfig
from vgssl_ros.core.filter.config import FilterConfig

T = TypeVar("T")
Value = bool | int | float | str | tuple[str, ...]


@dataclass(frozen=True)
class Setting:
    """One row of the table: ``runtime`` settings may change while the localizer runs."""

    name: str
    default: Any
    description: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    runtime: bool = False

    def check(self, value: Any) -> str:
        """'' if ``value`` is valid, else a one-line reason naming the setting and its range."""
        if isinstance(self.default, tuple):
            bad = [v for v in value if self.choices and v not in self.choices]
            if bad or not value:
                return f"{self.name}={list(value)!r} is not valid: give one or more of {', '.join(self.choices)}"
            return ""
        if self.choices and value not in self.choices:
            return f"{self.name}={value!r} is not valid; valid values: {', '.join(self.choices)}"
        if self.low is not None and self.high is not None:
            if not (math.isfinite(value) and self.low <= value <= self.high):
                return f"{self.name}={value!r} is out of range [{self.low:g}, {self.high:g}] ({self.description})"
        return ""


def setting(
    default: T,
    description: str,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    runtime: bool = False,
) -> T:
    """A LocalizerSettings field with its row of the table (description, range, choices, runtime) as metadata."""
    meta = {"description": description, "low": low, "high": high, "choices": choices, "runtime": runtime}
    return field(default=default, metadata=meta)


F = FilterConfig
SINGLE_GATE = "Gates the single-frame answer (~/fix with the filter off, single-frame metrics); with the filter on"
SINGLE_GATE += " the published fix is gated by filter_min_confidence and the filter's lost status instead."


@dataclass(frozen=True)
class LocalizerSettings:
    """Everything that shapes the localizer's answers (see the module docstring); validated on construction."""

    top_k: int = setting(10, "Places retrieved per frame (published on ~/candidates).", 1, 1000, runtime=True)
    match_radius_m: float = setting(
        EstimatorConfig.radius_m,
        "Top-K places within this distance (m) of the top-1 place refine the single-frame estimate "
        "(the filter's radius is fixed at start-up).",
        0.1,
        10000.0,
        runtime=True,
    )
    min_similarity: float = setting(
        EstimatorConfig.min_similarity,
        "Reject when the top-1 cosine similarity is below this. " + SINGLE_GATE,
        -1.0,
        1.0,
        runtime=True,
    )
    min_margin: float = setting(
        EstimatorConfig.min_margin,
        "Reject when top-1 similarity minus that of the best place outside the radius is below this. " + SINGLE_GATE,
        0.0,
        2.0,
        runtime=True,
    )
    min_std_m: float = setting(
        EstimatorConfig.min_std_m,
        "Standard deviation (m) added to the reported covariance (the map's resolution).",
        0.01,
        10000.0,
        runtime=True,
    )
    max_image_pixels: int = setting(
        16_777_216, "Frames with more pixels are refused as bad input.", 1, 1 << 31, runtime=True
    )
    execution_providers: tuple[str, ...] = setting(
        ("cpu",),
        "ONNX Runtime execution providers in order of preference; missing ones fall back to the next.",
        choices=tuple(PROVIDERS),
    )
    intra_op_threads: int = setting(2, "ONNX Runtime intra-op threads (spinning off).", 1, 64)
    search_threads: int = setting(1, "FAISS OpenMP threads for the single-query search.", 1, 64)
    calibration: str = setting(
        "",
        "Calibration JSON from `vgssl-eval --calibrate` (probabilities and covariance scales); "
        "'' = MAP/calibration.json if present, 'none' = raw scores.",
    )
    filter_enabled: bool = setting(
        True,
        "Temporal filter over map places: ~/fix and ~/pose carry its answer (~/candidates stay single-frame); "
        "false = single frames.",
    )
    filter_step_radius_m: float = setting(
        F.step_radius_m, "Places reachable in one frame (m); 0 = 5 x the median place spacing.", 0.0, 1e6
    )
    filter_speed_std_m: float = setting(
        F.speed_std_m, "Sideways tolerance (m) around the direction of travel; 0 = half the place spacing.", 0.0, 1e6
    )
    filter_speed_change: float = setting(F.speed_change, "Log-normal spread of the speed per frame.", 0.01, 10.0)
    filter_jump_prob: float = setting(
        F.jump_prob, "Share of belief spread evenly within reach each frame (stops, reversals, map gaps).", 0.0, 1.0
    )
    filter_temperature: float = setting(
        F.temperature, "Observation temperature: larger trusts single frames less.", 0.01, 100.0
    )
    filter_confidence_evidence: float = setting(
        F.confidence_evidence,
        "Share of each frame's news (novelty against the last view, at most the place spacings moved) that the "
        "reported confidence counts as evidence; smaller = a more cautious confidence.",
        0.001,
        1.0,
    )
    filter_kidnap_prob: float = setting(
        F.kidnap_prob, "Per-frame probability that the robot jumped elsewhere (recovery speed).", 1e-6, 0.5
    )
    filter_seed_k: int = setting(F.seed_k, "Single-frame candidates re-seeded into the filter each frame.", 1, 10000)
    filter_max_support: int = setting(F.max_support, "Hypotheses kept per frame (bounds the cost).", 1, 100000)
    filter_query_mean_rate: float = setting(
        F.query_mean_rate,
        "Rate of the running mean query descriptors are centred on, per map spacing travelled; 0 = no centring.",
        0.0,
        0.99,
    )
    filter_reference_places: int = setting(
        F.reference_places, "Random places whose similarities z-score each frame's observation.", 1, 1_000_000
    )
    filter_max_gap_s: float = setting(
        F.max_gap_s,
        "A stamp jump larger than this (s), forward or back, resets the filter; a frame older than the last "
        "by less is out of order (its answer rejected).",
        0.001,
        1e6,
    )
    filter_min_confidence: float = setting(
        F.min_confidence,
        "Filtered fixes below this confidence (a probability when calibrated) are published as STATUS_NO_FIX.",
        0.0,
        1.0,
        runtime=True,
    )

    def __post_init__(self) -> None:
        reasons = [s.check(getattr(self, s.name)) for s in SETTINGS.values()]
        if any(reasons):
            raise ValueError("; ".join(r for r in reasons if r))

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> LocalizerSettings:
        """Settings from ``values`` (e.g. node parameters; lists become tuples, ints floats where the table says)."""
        unknown = sorted(set(values) - set(SETTINGS))
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}; valid: {', '.join(SETTINGS)}")
        return cls(**{k: _as_type(SETTINGS[k].default, v) for k, v in values.items()})

    def values(self) -> dict[str, Value]:
        """Every setting by name, in the table's order."""
        return {name: getattr(self, name) for name in SETTINGS}

    @property
    def estimator(self) -> EstimatorConfig:
        """The single-frame estimator's settings."""
        return EstimatorConfig(self.match_radius_m, self.min_similarity, self.min_margin, self.min_std_m)

    @property
    def filter_config(self) -> FilterConfig:
        """The temporal filter's settings (the ``filter_*`` rows)."""
        return FilterConfig(**{f.name: getattr(self, f"filter_{f.name}") for f in fields(FilterConfig)})


def _as_type(default: Any, value: Any) -> Any:
    if isinstance(default, tuple):
        return tuple(value)
    if isinstance(default, bool) or isinstance(value, bool):
        return value
    return type(default)(value) if isinstance(value, (int, float)) else value


SETTINGS: dict[str, Setting] = {
    f.name: Setting(f.name, f.default, **f.metadata) for f in fields(LocalizerSettings) if f.metadata
}
"""The table, by name, in declaration order."""
