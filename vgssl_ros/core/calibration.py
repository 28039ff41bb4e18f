"""Calibration: a match score or filter confidence -> probability of being correct, and covariance scales.

Fitted by `vgssl-eval --calibrate` on a validation drive, stored as a small JSON (by default
``calibration.json`` inside the map directory) and read by the node and `vgssl-eval`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vgssl_ros.core.fields import FileFields, read_json, shown
from vgssl_ros.io import write_json_atomic

CALIBRATION_FILE = "calibration.json"
CALIBRATION_FORMAT = 1
MAX_KNOTS = 100_000
"""Most knots a calibration curve may have."""
MAX_FRAMES = 10**9
"""Most frames a calibration may say it was fitted on."""
MODES = ("single", "filtered")
"""single: the score is the top-1 cosine similarity; filtered: the filter's confidence."""


@dataclass(frozen=True)
class ScoreCalibration:
    """Monotone map ``scores`` [n] -> ``probabilities`` [n] (linear between knots, flat beyond), and the
    factor ``covariance_scale`` that makes the 95 % ellipse hold the truth 95 % of the time.

    ``frames`` and ``wrong``: how many frames, and wrong answers among them, it was fitted on (0 and 0:
    unknown, a file written before these were stored)."""

    scores: tuple[float, ...]
    probabilities: tuple[float, ...]
    covariance_scale: float
    frames: int = 0
    wrong: int = 0

    def __post_init__(self) -> None:
        s, p = np.asarray(self.scores, float), np.asarray(self.probabilities, float)
        if s.size == 0 or s.shape != p.shape or not (np.isfinite(s).all() and np.isfinite(p).all()):
            raise ValueError("calibration needs as many finite scores as probabilities (at least one)")
        if (np.diff(s) < 0).any() or (np.diff(p) < 0).any() or p.min() < 0 or p.max() > 1:
            raise ValueError("calibration scores and probabilities must be non-decreasing, probabilities in [0, 1]")
        if not (math.isfinite(self.covariance_scale) and self.covariance_scale > 0):
            raise ValueError(f"covariance_scale must be finite and > 0, got {self.covariance_scale}")
        if not 0 <= self.wrong <= self.frames:
            raise ValueError(f"need 0 <= wrong <= frames, got wrong {self.wrong}, frames {self.frames}")

    def probability(self, score: float) -> float:
        """Probability that an answer with this score is within the evaluation radius of the truth."""
        if not math.isfinite(score):
            return 0.0
        return float(np.interp(score, self.scores, self.probabilities))


def mode_probability(calib: ScoreCalibration | None, mode: str, score: float) -> float:
    """Probability that an answer of ``mode`` ('single': top-1 similarity, 'filtered': confidence) with this
    ``score`` is correct: the score itself (clipped to [0, 1]) without ``calib``. A filtered confidence is a
    probability already, and a cautious one (docs/filter.md); a calibration fitted on one drive only ever lowers
    it: a drive where the filter was right more often than it said cannot vouch for conditions it never saw."""
    raw = float(np.clip(score, 0.0, 1.0)) if math.isfinite(score) else 0.0
    if calib is None:
        return raw
    return min(calib.probability(score), raw) if mode == "filtered" else calib.probability(score)


@dataclass(frozen=True)
class Calibration:
    """Per mode (MODES) a ScoreCalibration; ``source`` says which drive it was fitted on."""

    single: ScoreCalibration
    filtered: ScoreCalibration | None
    source: str = ""

    def for_mode(self, mode: str) -> ScoreCalibration | None:
        """The calibration of ``mode`` ('single' or 'filtered')."""
        if mode not in MODES:
            raise ValueError(f"unknown calibration mode {mode!r}; valid: {', '.join(MODES)}")
        return self.single if mode == "single" else self.filtered

    def save(self, path: str | Path) -> None:
        """Write the JSON atomically."""
        payload = {
            "format_version": CALIBRATION_FORMAT,
            "source": self.source,
            **{m: asdict(c) if (c := self.for_mode(m)) else None for m in MODES},
        }
        write_json_atomic(path, payload)

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        """Read and check a calibration JSON; ValueError naming the field and what to do when it is unusable."""
        path = Path(path)
        fix = "the calibration cannot be used: fit it again with `vgssl-eval --calibrate` on a validation drive"
        f = FileFields(path, ValueError, fix)
        data = f.mapping(read_json(path, ValueError, fix), "the document")
        version = f.get(data, "format_version")
        if isinstance(version, int) and not isinstance(version, bool) and version > CALIBRATION_FORMAT:
            raise ValueError(
                f"calibration {path} has format_version {version}, newer than this vgssl_ros ({CALIBRATION_FORMAT}): "
                f"upgrade vgssl_ros, or refit it ({fix})"
            )
        f.integer(version, "format_version", 1, CALIBRATION_FORMAT)
        parts: dict[str, ScoreCalibration | None] = {}
        for mode in MODES:
            part = data.get(mode)
            if part is None:
                parts[mode] = None
                continue
            part = f.mapping(part, mode)
            columns = []
            for key in ("scores", "probabilities"):
                values = f.get(part, key, f"{mode}.{key}")
                if not isinstance(values, list) or not 1 <= len(values) <= MAX_KNOTS:
                    f.fail(f"{mode}.{key}", f"must be a list of 1..{MAX_KNOTS} numbers, got {shown(values)}")
                columns.append(tuple(f.number(v, f"{mode}.{key}[{i}]") for i, v in enumerate(values)))
            scale = f.number(f.get(part, "covariance_scale", f"{mode}.covariance_scale"), f"{mode}.covariance_scale")
            counts = [f.integer(part.get(key, 0), f"{mode}.{key}", 0, MAX_FRAMES) for key in ("frames", "wrong")]
            try:
                parts[mode] = ScoreCalibration(columns[0], columns[1], scale, *counts)
            except ValueError as exc:
                f.fail(mode, f"is unusable ({exc})")
        single = parts["single"]
        if single is None:
            f.fail("single", "is missing")
        return cls(single, parts["filtered"], f.text(data.get("source", ""), "source"))
