"""The motion model: where each hypothesis may be one frame later, as four named transitions.

For one hypothesis of mass m (``motion`` is the share of the frame the robot moved, from motion.py):

- kidnap: ``kidnap_prob`` x motion x m goes to ``lost`` (the robot may have been carried anywhere); for the
  tempered masses ``tempered_kidnap`` (kidnap_prob x the frame's news: they live in frames of news, bayes.py);
- stand still: (1 - motion) x m stays as it was (velocity and dwell kept: standing is no time step);
- the rest, ``going`` = (1 - kidnap_prob) x motion x m, takes the frame's step:
  - jump: ``jump_prob`` of it spread evenly over every place within reach (stops, reversals, gaps), velocity kept;
  - stay (dense drives): a hypothesis slower than one spacing per frame reaches the next place with probability
    speed / spacing and otherwise stays, velocity kept, one more frame of dwell;
  - follow: the remainder goes to the places within reach, weighted by how well each step matches the
    hypothesis' velocity (constant velocity, unknown speed); the step taken updates the velocity. A moving
    hypothesis with no place ahead (the end of the map; gaps are bridged by the layout) sends this share to
    ``lost`` instead.

Hypotheses that reach one place with velocities in one cell (VELOCITY_CELL) then merge. The tempered masses
(state.py) move exactly as the masses do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vgssl_ros.core.filter.config import FilterConfig
from vgssl_ros.core.filter.layout import PlaceLayout
from vgssl_ros.core.filter.state import Belief, Hypotheses
from vgssl_ros.core.filter.tuning import (
    AHEAD_RATIO,
    DWELT,
    MIN_MASS,
    MIN_SPEED_RATIO,
    NO_SPEED_M,
    NO_SPEED_M2,
    SAME_PLACE_M2,
    SEED_SPEED_SPREAD,
    VELOCITY_CELL,
    VELOCITY_CELL_MARGIN,
    VELOCITY_GAIN,
)


@dataclass(slots=True)  # not frozen: a frozen dataclass costs ~1 us per field and frame
class Reach:
    """Every step [E] the M hypotheses can take: ``rows`` [E] (the hypothesis), ``place`` [E] (where to),
    ``disp`` [E, 2] m, ``bridge`` [E] (across a gap in the map), ``here`` [E] (to the same place), ``velocity``
    [E, 2] and ``dwell`` [E] (the hypothesis'), ``count`` [E] (steps its hypothesis has)."""

    rows: np.ndarray
    place: np.ndarray
    disp: np.ndarray
    bridge: np.ndarray
    here: np.ndarray
    velocity: np.ndarray
    dwell: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, hyp: Hypotheses, layout: PlaceLayout) -> Reach:
        """The steps of ``hyp`` within the layout's step radius, bridges included."""
        rows, place, disp, bridge = layout.gather(hyp.place)
        count = np.bincount(rows, minlength=len(hyp))[rows]
        here = (disp**2).sum(axis=1) < SAME_PLACE_M2
        return cls(rows, place, disp, bridge, here, hyp.velocity[rows], hyp.dwell[rows], count)

    def arrival_dwell(self) -> np.ndarray:
        """Dwell [E] after the step: one more frame if it stays at its place, else 0."""
        return np.where(self.here, self.dwell + 1, 0.0)


def predict(
    belief: Belief,
    layout: PlaceLayout,
    config: FilterConfig,
    speed_std_m: float,
    robot_speed: float | None,
    motion: float,
    tempered_kidnap: float | None = None,
) -> Belief:
    """The belief one frame later (merged hypotheses; what is kidnapped or leaves the map joins ``lost``);
    ``robot_speed`` m/frame or None; ``tempered_kidnap``: the tempered masses' kidnap probability (None: the same)."""
    hyp = belief.hyp
    if len(hyp) == 0:
        return belief
    reach = Reach.of(hyp, layout)
    speed = np.linalg.norm(hyp.velocity, axis=1)
    weights, exits = follow_weights(speed, reach, layout, config, speed_std_m, robot_speed)
    p_stay = np.where(speed > NO_SPEED_M, np.clip(1 - speed / layout.spacing_m, 0.0, 1.0), 0.0)
    kidnap = np.array([config.kidnap_prob, config.kidnap_prob if tempered_kidnap is None else tempered_kidnap])
    going = (1 - kidnap) * motion * np.stack([hyp.mass, hyp.tempered], axis=1)  # [M, 2]
    going_e = going[reach.rows]  # per step [E, 2]
    kidnapped = kidnap * motion * np.array([hyp.mass.sum(), hyp.tempered.sum()])  # kidnap: to lost
    exited = (  # follow, for a moving hypothesis with no place ahead (the map's end): to lost
        going * ((1 - config.jump_prob) * (1 - p_stay) * exits)[:, None]
    ).sum(axis=0)
    children = [
        follow(reach, going_e, p_stay, weights, config.jump_prob),
        jump(reach, going_e, config.jump_prob),
        stay(hyp, going, p_stay, config.jump_prob),
        stand_still(hyp, motion),
    ]
    to_lost = kidnapped + exited
    return Belief(
        merge(Hypotheses.concatenate(children), layout),
        belief.lost + float(to_lost[0]),
        belief.lost_tempered + float(to_lost[1]),
    )


def _children(place: np.ndarray, mass: np.ndarray, velocity: np.ndarray, dwell: np.ndarray) -> Hypotheses:
    """Hypotheses from ``mass`` [n, 2]: (mass, tempered mass) columns."""
    return Hypotheses(place, mass[:, 0], velocity, dwell, mass[:, 1])


def follow(reach: Reach, going: np.ndarray, p_stay: np.ndarray, weights: np.ndarray, jump_prob: float) -> Hypotheses:
    """Follow the velocity: ``going`` [E, 2] (the step's hypothesis' mass and tempered mass) x (1 - jump_prob) x
    (1 - ``p_stay`` [M]) spread over the steps by ``weights`` [E]; the step taken updates the velocity (see
    ``followed_velocity``)."""
    mass = going * ((1 - jump_prob) * (1 - p_stay[reach.rows]) * weights)[:, None]
    return _children(reach.place, mass, followed_velocity(reach), reach.arrival_dwell())


def jump(reach: Reach, going: np.ndarray, jump_prob: float) -> Hypotheses:
    """Jump: ``going`` [E, 2] (the step's hypothesis') x ``jump_prob`` spread evenly over its steps; velocity kept."""
    mass = going * (jump_prob / reach.count)[:, None]
    return _children(reach.place, mass, reach.velocity, reach.arrival_dwell())


def stay(hyp: Hypotheses, going: np.ndarray, p_stay: np.ndarray, jump_prob: float) -> Hypotheses:
    """Stay (dense drives): ``going`` [M, 2] x (1 - jump_prob) x ``p_stay`` [M] stays, one more frame of dwell."""
    return _children(hyp.place, going * ((1 - jump_prob) * p_stay)[:, None], hyp.velocity, hyp.dwell + 1)


def stand_still(hyp: Hypotheses, motion: float) -> Hypotheses:
    """Stand still: (1 - ``motion``) of every hypothesis stays exactly as it was."""
    return Hypotheses(hyp.place, (1 - motion) * hyp.mass, hyp.velocity, hyp.dwell, (1 - motion) * hyp.tempered)


def followed_velocity(reach: Reach) -> np.ndarray:
    """Velocity [E, 2] after each step. A hypothesis that has not moved yet takes its first step as its velocity;
    one that dwelt at its place measures it outright (step / (dwell + 1)); otherwise the velocity moves
    VELOCITY_GAIN towards the step. A step to the same place, or across a gap, says nothing of speed."""
    parent, dwell, disp = reach.velocity, reach.dwell, reach.disp
    moving = (parent**2).sum(axis=1, keepdims=True) > NO_SPEED_M2
    sample = disp / (dwell + 1)[:, None]
    gain = np.where(dwell > DWELT, 1.0, VELOCITY_GAIN)[:, None]
    stepped = np.where(moving, parent + gain * (sample - parent), sample)
    return np.where((moving & reach.here[:, None]) | reach.bridge[:, None], parent, stepped)


def follow_weights(
    speed: np.ndarray,
    reach: Reach,
    layout: PlaceLayout,
    config: FilterConfig,
    speed_std_m: float,
    robot_speed: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(weights [E] summing to 1 per hypothesis, 0 for one that exits; ``exits`` [M]: moving with no step ahead),
    for M hypotheses moving at ``speed`` [M] m/frame."""
    logw, ahead = step_log_weights(reach, layout.spacing_m, config.speed_change, speed_std_m, robot_speed)
    n = len(speed)
    weights = np.exp(logw - _row_max(logw, reach.rows, n)[reach.rows])
    weights /= np.bincount(reach.rows, weights, n)[reach.rows]
    exits = (speed > NO_SPEED_M) & (np.bincount(reach.rows, ahead, n) == 0)
    weights[exits[reach.rows]] = 0.0
    return weights, exits


def step_log_weights(
    reach: Reach, spacing_m: float, speed_change: float, speed_std_m: float, robot_speed: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Log-weight [E] of each step for its hypothesis' velocity, and ``ahead`` [E].

    Unknown speed, persistent direction: the along-track speed ratio is log-normal (``speed_change``), the
    sideways offset Gaussian (``speed_std_m``). A hypothesis that has not moved yet weighs all places within
    reach alike until the robot's speed is known, then by how far each is against that speed (any direction;
    log-normal, SEED_SPEED_SPREAD). A step across a gap is as long as the gap: only its direction counts
    (sideways offset scaled to one step). ``ahead``: the step leads somewhere other than back (a place beside the
    hypothesis, as round a corner, counts; one more than AHEAD_RATIO of the expected step behind it does not).
    """
    disp, vel, bridge = reach.disp, reach.velocity, reach.bridge
    speed = np.linalg.norm(vel, axis=1)
    moving = speed > NO_SPEED_M
    unit = vel / np.where(moving, speed, 1.0)[:, None]
    along = (disp * unit).sum(axis=1)
    side2 = np.maximum((disp**2).sum(axis=1) - along**2, 0.0)
    # A hypothesis slower than one spacing per frame that does move, moves (at least) one spacing.
    expected = np.maximum(speed, spacing_m)
    ratio = np.maximum(along / np.where(moving, expected, 1.0), MIN_SPEED_RATIO)
    ratio = np.where(bridge, np.minimum(ratio, 1.0), ratio)
    side2 = np.where(bridge, side2 * expected**2 / np.maximum((disp**2).sum(axis=1), SAME_PLACE_M2), side2)
    logw = -(np.log(ratio) ** 2) / (2 * speed_change**2) - side2 / (2 * speed_std_m**2)
    fresh: float | np.ndarray = 0.0
    if robot_speed is not None:  # a new hypothesis moves at about the robot's speed, any direction
        dist = np.sqrt((disp**2).sum(axis=1))
        log_ratio = np.log(np.maximum(dist, MIN_SPEED_RATIO * spacing_m) / max(robot_speed, spacing_m))
        fresh = np.where(bridge, 0.0, -(log_ratio**2) / (2 * SEED_SPEED_SPREAD**2))
    ahead = moving & (along > -AHEAD_RATIO * expected) & ((disp**2).sum(axis=1) > SAME_PLACE_M2)
    return np.where(moving, logw, fresh), ahead


def merge(children: Hypotheses, layout: PlaceLayout) -> Hypotheses:
    """Merge hypotheses at one place whose velocities fall in one VELOCITY_CELL cell: masses (and tempered masses)
    add, velocity and dwell are mass-weighted means. Other velocities stay apart (forward and backward at one place)."""
    cell = VELOCITY_CELL * layout.spacing_m
    half = int(np.ceil(layout.step_radius_m / cell)) + VELOCITY_CELL_MARGIN
    side = 2 * half + 1
    bins = np.clip(np.rint(children.velocity / cell).astype(np.int64) + half, 0, 2 * half)
    keys = (children.place * side + bins[:, 0]) * side + bins[:, 1]
    uniq, inverse = np.unique(keys, return_inverse=True)
    mass = children.mass
    total = np.bincount(inverse, mass, len(uniq))
    safe = np.maximum(total, MIN_MASS)
    velocity = (
        np.stack(
            [
                np.bincount(inverse, mass * children.velocity[:, 0], len(uniq)),
                np.bincount(inverse, mass * children.velocity[:, 1], len(uniq)),
            ],
            axis=1,
        )
        / safe[:, None]
    )
    dwell = np.bincount(inverse, mass * children.dwell, len(uniq)) / safe
    tempered = np.bincount(inverse, children.tempered, len(uniq))
    return Hypotheses(uniq // side**2, total, velocity, dwell, tempered)


def _row_max(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Per-row maximum [n] of ``values`` [E] grouped by ``rows`` [E]."""
    out = np.full(n, -np.inf)
    np.maximum.at(out, rows, values)
    return out
