"""Every fixed tuning constant of the temporal filter, with its unit and why it has its value.

The settings a user may change live in `FilterConfig`; these are the filter's own choices. Where a value was
chosen by measurement, the figures are in BENCHMARKS.md ("Temporal filter") and docs/filter.md. Epsilons
(guards against dividing by zero) are grouped at the end: they never change a result that is not degenerate.
"""

from __future__ import annotations

# ---- map layout (layout.py) ---------------------------------------------------------------------------------------

AUTO_STEP_SPACINGS = 5.0
"""Place spacings (median nearest-neighbour distance) one frame can reach when ``step_radius_m`` is 0 (auto): room
for a robot that passes a few places per frame and for small gaps; larger gaps are bridged. Not searched: the
first filter's value, kept through every measured design step (BENCHMARKS.md)."""
BRIDGE_SECTORS = 8
"""Direction sectors (45 degrees each) a place's reach is checked in to find the ends of mapped stretches."""
BRIDGE_SPACINGS = 20.0
"""Longest bridge across a gap in the map, in place spacings (Nordland's tunnels; beyond it a gap is a map end)."""
SPACING_SAMPLE = 2000
"""Places sampled (fixed seed 0) to measure the median spacing: exact enough, and O(1) for any map size."""
DUPLICATE_M = 1e-3
"""m: places closer than this are one position mapped twice; they say nothing of the spacing."""
SAME_POSITION_M2 = 1e-6
"""m^2: a neighbour this close (1 mm) is the place itself or a duplicate; it covers no direction."""

# ---- motion model (transitions.py) --------------------------------------------------------------------------------

AUTO_SPEED_STD_SPACINGS = 0.5
"""Sideways tolerance of a step when ``speed_std_m`` is 0 (auto), in place spacings: a neighbouring lane or track."""
VELOCITY_CELL = 0.25
"""Place spacings per frame: hypotheses at one place merge when their velocities fall in one cell this wide (a place
reached going forward and one reached going back keep their own velocities)."""
VELOCITY_CELL_MARGIN = 1
"""Cells beyond the step radius on each side of the velocity grid (velocities outside are clipped into it)."""
VELOCITY_GAIN = 0.05
"""Share of the difference between the step taken and the velocity that updates the velocity: one step that snaps to
a place ahead or behind the true position (places are discrete) moves the speed estimate only a little."""
DWELT = 0.5
"""Frames: a hypothesis whose (mass-weighted) dwell exceeds this dwelt at its place; the step that leaves it measures
the speed outright (step / (dwell + 1)) instead of by VELOCITY_GAIN."""
MIN_SPEED_RATIO = 0.05
"""Steps slower than this fraction of the expected step (stopping, turning back) weigh as this ratio: log-normal
weights need a positive ratio, and a stop must stay possible."""
SEED_SPEED_SPREAD = 0.3
"""Log-normal spread of a new hypothesis' first step about the robot's learned speed (about +-30 %)."""
AHEAD_RATIO = 0.25
"""A step leads back when it goes more than this fraction of the expected step against the direction of travel; a
moving hypothesis with no step ahead has reached the end of the map and its following mass goes to ``lost``."""

# ---- robot speed (bayes.py) ---------------------------------------------------------------------------------------

SPEED_CONFIDENCE = 0.5
"""Confidence (belief mass near the best place, 0..1) a frame needs to teach the robot's speed."""
SPEED_RATE = 0.1
"""Rate (per frame) of the running estimate of the robot's speed (m/frame): about 10 frames of memory."""
MEAN_RATE_FLOOR = 0.1
"""Share of ``query_mean_rate`` a frame still takes while the robot is slow or stands (see observation.py)."""

# ---- standing still (motion.py) -----------------------------------------------------------------------------------

VIEW_LAG = 5
"""Frames between the two views compared: over several frames a moving view drifts, sensor noise does not."""
VIEW_CHANGE_RATE = 0.02
"""Rate (per frame) of the running typical view change over VIEW_LAG frames while clearly moving."""
UNSURE_RATE_FACTOR = 0.1
"""The typical view change learns this much slower (x VIEW_CHANGE_RATE) while the robot is not clearly moving, so
a long stop does not teach that standing is the norm."""
STILL_RATIO = 0.3
"""A view change below this fraction of the typical one counts as standing still (sensor noise alone)."""
MOVING_RATIO = 0.6
"""A view change above this fraction of the typical one counts as moving; in between, partly."""
DENSE_SLOPE = 2.0
"""How fast the view change counts as evidence of motion as the robot gets slower: the dense share is
DENSE_SLOPE x (1 - speed / spacing), i.e. none from one spacing per frame on, fully below half a spacing per frame
(sparse drives show a new place each frame, so a changed view says nothing of motion there)."""
MIN_EVIDENCE = 0.05
"""Weight a frame's observation keeps when the view did not change at all (the same view again is little news)."""

# ---- observation (observation.py) ---------------------------------------------------------------------------------

STD_FLOOR = 1e-3
"""Smallest reference standard deviation of a frame's similarities (a map of one place, or identical places)."""

# ---- pruning ------------------------------------------------------------------------------------------------------

PRUNE_MASS = 1e-12
"""Support places lighter than this fraction of the heaviest are dropped (their mass joins ``lost``)."""

# ---- epsilons -----------------------------------------------------------------------------------------------------

NO_SPEED_M = 1e-6
"""m/frame: a hypothesis slower than this has no velocity yet (a fresh seed: any direction)."""
NO_SPEED_M2 = 1e-12
"""m^2/frame^2: the same test on the squared velocity (kept separate: 1e-6 ** 2 is not exactly 1e-12)."""
SAME_PLACE_M2 = 1e-12
"""m^2: a step with a squared length below this stays at its place."""
MIN_NORM = 1e-12
"""Smallest norm a view is divided by, and smallest typical view change a change is compared with."""
MIN_MASS = 1e-300
"""Smallest belief mass divided by (a merged hypothesis or the place summary whose mass underflowed)."""
