"""What a fitted calibration can vouch for: its bounds, and a warning for each reason its validation drive could
not teach it (read where it is fitted, `vgssl-eval --calibrate`, and where it is applied, the node)."""

from __future__ import annotations

from vgssl_ros.core.calibration import MODES, Calibration, ScoreCalibration

PRIOR_PROBABILITY = 0.5
"""P(correct) a calibration block starts from before its frames are counted."""
MIN_COVARIANCE_SCALE = 1.0
"""Never report an ellipse tighter than the localizer's own covariance (the filter's posterior, lost mass
included; the single frame's match spread), both plus min_std_m^2. A drive whose errors all sit inside that
(an easy one, or min_std_m and the map spread already cover it) cannot show how much tighter to go, and a
scale fitted below 1 on an easy drive is what shrinks the ellipse most where the next drive is harder (at
night it held the truth in 3-6 % of frames)."""
MAX_COVARIANCE_SCALE = 1e6
"""x 1000 in standard deviation (5 m becomes 5 km, more than any map spans): a fit that needs more says the raw
covariance bears no relation to the errors."""

MIN_FRAMES = 100
"""Fewer frames leave fewer than 5 outside the 95 % ellipse to set its scale."""
MIN_WRONG_FRAMES = 10
"""Fewer wrong answers (error > radius) cannot show which scores go with being wrong: the probabilities then
stay near what the prior and the right frames give, and the night drive's confident wrong answers look right."""


def calibration_warnings(part: ScoreCalibration, mode: str) -> list[str]:
    """One line per reason the validation drive ``part`` was fitted on could not teach it (too few frames, too
    few wrong answers, covariance scale at a bound), each saying what to do; [] when none (or counts unknown)."""
    fix = "refit it with `vgssl-eval --calibrate` on a longer, harder validation drive (more of the route, night)"
    out = []
    if 0 < part.frames < MIN_FRAMES:
        out.append(
            f"{mode} calibration was fitted on only {part.frames} frames (< {MIN_FRAMES}): its probabilities stay "
            f"near {PRIOR_PROBABILITY:g} and its covariance scale is a guess; {fix}"
        )
    if part.frames and part.wrong < MIN_WRONG_FRAMES:
        out.append(
            f"{mode} calibration saw only {part.wrong} wrong answers in {part.frames} frames (< {MIN_WRONG_FRAMES}): "
            f"it cannot tell which scores go wrong, so wrong answers on a harder drive will claim high "
            f"probabilities; {fix}"
        )
    if part.covariance_scale <= MIN_COVARIANCE_SCALE:
        out.append(
            f"{mode} covariance scale held at its floor {MIN_COVARIANCE_SCALE:g}: on its validation drive the "
            f"localizer's own covariance already held the truth in 95 % of frames, so that drive cannot show how "
            f"much tighter to go (ellipses may be wider than needed); {fix}"
        )
    elif part.covariance_scale >= MAX_COVARIANCE_SCALE:
        out.append(
            f"{mode} covariance scale held at its ceiling {MAX_COVARIANCE_SCALE:g}: the localizer's covariance bears "
            "no relation to its validation drive's errors (wrong map, model or ground truth topic?); check, then refit"
        )
    return out


def loaded_calibration_warnings(calibration: Calibration) -> list[str]:
    """`calibration_warnings` of every part of a loaded calibration, each naming the file (for the node's log)."""
    out = []
    for mode in MODES:
        part = calibration.for_mode(mode)
        if part is not None:
            out += [f"calibration {calibration.source or '(unnamed)'}: {w}" for w in calibration_warnings(part, mode)]
    return out
