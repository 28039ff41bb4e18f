"""PlaceFilter: a causal discrete Bayes filter over map places with a per-hypothesis velocity.

The belief lives on a sparse support (at most ``max_support`` places) plus one ``lost`` mass for
"somewhere else in the map". Each frame:

1. predict: every place's mass moves to its neighbours within one step, weighted by how well the
   step matches that hypothesis' velocity (constant velocity, unknown speed: new hypotheses start
   in any direction (see 2) and learn their velocity from the steps they take); a ``kidnap_prob``
   share of all mass goes to ``lost``. Dense drives (several frames per place): the velocity (m/frame)
   may be below one place spacing; such a hypothesis stays at its place with probability
   1 - speed / spacing, counting the frames it dwells there (a jump to its own place counts too), and the
   step that leaves the place sets its velocity to step / (dwell frames + 1). A moving hypothesis with no
   place ahead (the end of the map; gaps are bridged by the layout) sends that mass to ``lost``.
   Standing still (dense drives): when the view has not changed over the last VIEW_LAG frames beyond
   sensor noise, the belief does not move on and the frame counts as little new evidence (``_motion``);
2. re-seed: the frame's FAISS top-k places that do not yet hold the lost mass's uniform share get it, as a
   new hypothesis whose first step follows the robot's learned speed in any direction (this is how a
   kidnapped robot is found again);
3. update: multiply by the observation likelihood (to the power of the motion share, at least
   MIN_EVIDENCE); ``lost`` takes the likelihood of a random place;
4. prune to the ``max_support`` heaviest places; dropped mass joins ``lost``.

Cost per frame: O(max_support x neighbours + (max_support + seed_k) x D), whatever the map size.
Stamps: a frame older than (or as old as) the last one is ignored (state unchanged, status
``out_of_order``); a gap over ``max_gap_s`` resets the belief first (status ``reset``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from vgssl_ros.core.filter.config import FilterConfig
from vgssl_ros.core.filter.layout import PlaceLayout
from vgssl_ros.core.filter.observation import ObservationModel

VELOCITY_CELL = 0.25
"""Hypotheses at one place merge when their velocities fall in one cell of this many place spacings."""
VELOCITY_GAIN = 0.05
"""Share of the difference between the step taken and the velocity that updates the velocity."""
MIN_SPEED_RATIO = 0.05
"""Steps slower than this fraction of the velocity (stopping, turning back) weigh as this ratio."""
SPEED_CONFIDENCE = 0.5
"""The robot's speed is learned from frames whose confidence reaches this."""
SPEED_RATE = 0.1
"""Rate of the running estimate of the robot's speed."""
SEED_SPEED_SPREAD = 0.3
"""Log-normal spread of a new hypothesis' first step about the robot's speed."""
AHEAD_RATIO = 0.25
"""A step leads back when it goes more than this fraction of the expected step against the direction of travel."""
MEAN_RATE_FLOOR = 0.1
"""Share of ``query_mean_rate`` a frame still takes while the robot stands still."""
VIEW_LAG = 5
"""Frames between the two views compared: over several frames a moving view drifts, sensor noise does not."""
VIEW_CHANGE_RATE = 0.02
"""Rate of the running typical view change over VIEW_LAG frames (10x slower while not clearly moving)."""
STILL_RATIO = 0.3
"""A view change below this fraction of the typical one counts as standing still (sensor noise alone)."""
MOVING_RATIO = 0.6
"""A view change above this fraction of the typical one counts as moving; in between, partly."""
MIN_EVIDENCE = 0.05
"""Weight a frame's observation keeps when the view did not change at all (the same view again)."""
PRUNE_MASS = 1e-12
"""Support places lighter than this fraction of the heaviest are dropped."""
STATUSES = ("tracking", "lost", "reset", "out_of_order")


@dataclass(frozen=True)
class FilterState:
    """The filter's answer after a frame.

    position [2] UTM m: belief-weighted mean of the places within ``radius_m`` of the best place;
    covariance [2, 2] m^2: expected squared error about ``position`` under the whole belief (lost mass
    spread over the map); confidence: belief mass within ``radius_m`` of the best place (0..1);
    candidates [K]: places by belief, best first; lost_mass: belief that the robot is elsewhere;
    status: one of STATUSES; frames: frames since the last reset; anywhere [2, 2] m^2: second moment of
    the map's places about ``position`` (the squared error if the answer is wrong and the robot could be
    anywhere on the map), used to widen the reported covariance by the probability of being wrong;
    motion: share of the frame's expected motion the robot made (below 1: standing still, judged by the view).
    """

    position: np.ndarray
    covariance: np.ndarray
    confidence: float
    place: int
    candidates: np.ndarray
    lost_mass: float
    support: int
    status: str
    frames: int
    anywhere: np.ndarray
    motion: float = 1.0


class PlaceFilter:
    """The filter (see the module docstring); ``step`` takes one frame's descriptor and FAISS top-k."""

    def __init__(
        self,
        layout: PlaceLayout,
        observation: ObservationModel,
        config: FilterConfig,
        radius_m: float = 25.0,
        min_std_m: float = 5.0,
    ) -> None:
        if not radius_m > 0 or not min_std_m > 0:
            raise ValueError(f"radius_m and min_std_m must be > 0, got {radius_m}, {min_std_m}")
        if len(layout.utm) != len(observation.centred):
            raise ValueError(f"layout has {len(layout.utm)} places, the observation model {len(observation.centred)}")
        self.layout, self.observation, self.config = layout, observation, config
        self.radius_m, self.min_std_m = float(radius_m), float(min_std_m)
        self.speed_std_m = config.speed_std_m if config.speed_std_m > 0 else 0.5 * layout.spacing_m
        self.map_mean = layout.utm.mean(axis=0)
        self.map_cov = np.cov(layout.utm.T, bias=True).reshape(2, 2)
        self.last_state: FilterState | None = None
        self.reset()

    @property
    def places(self) -> int:
        """Number of map places."""
        return len(self.layout.utm)

    def reset(self) -> None:
        """Forget everything: all mass is lost (uniform over the map)."""
        self.idx = np.zeros(0, np.int64)
        self.mass = np.zeros(0)
        self.vel = np.zeros((0, 2))
        self.dwell = np.zeros(0)
        self.lost = 1.0
        self.frames = 0
        self.robot_speed: float | None = None
        self.last_stamp: float | None = None
        self.views: deque[np.ndarray] = deque(maxlen=VIEW_LAG)
        self.motion = 1.0
        self.view_change: float | None = None
        self.observation.reset()

    def step(
        self, descriptor: np.ndarray, seeds: np.ndarray, stamp_s: float | None = None, top_k: int = 10
    ) -> FilterState:
        """One frame: descriptor [D], FAISS top-k place indices ``seeds`` [k] (-1 padding ignored), stamp in s."""
        status = "tracking"
        if stamp_s is not None and not np.isfinite(stamp_s):
            stamp_s = None
        if stamp_s is not None and self.last_stamp is not None:
            if stamp_s <= self.last_stamp and self.last_state is not None:
                return _with_status(self.last_state, "out_of_order")
            if stamp_s - self.last_stamp > self.config.max_gap_s:
                self.reset()
                status = "reset"
        seeds = np.asarray(seeds, dtype=np.int64).reshape(-1)
        if self.idx.size == 0 and not ((seeds >= 0) & (seeds < self.places)).any():
            raise ValueError(f"the filter has no belief yet and no valid seed among {seeds.tolist()}")
        frame = self.observation.frame(descriptor, self._spacings_per_frame())
        self.motion = self._motion(descriptor)
        self._predict(self.motion)
        self._seed(seeds)
        places, inverse = np.unique(self.idx, return_inverse=True)
        weight = max(self.motion, MIN_EVIDENCE)
        self._update(weight * frame.loglik(places)[inverse], weight * frame.background)
        self._prune()
        self.frames += 1
        if stamp_s is not None:
            self.last_stamp = float(stamp_s)
        self.last_state = self._state(status, top_k)
        self._learn_speed()
        return self.last_state

    def _spacings_per_frame(self) -> float:
        """Map spacings the robot moves per frame, in [MEAN_RATE_FLOOR, 1]; 1 until its speed is known.

        The running query mean advances by this share of ``query_mean_rate``: the mean is over the route
        travelled, not over frames, so a slow robot's many views of one place do not become the mean that
        every view is centred on (which would erase the place's own signal).
        """
        if self.robot_speed is None:
            return 1.0
        return float(np.clip(self.robot_speed / self.layout.spacing_m, MEAN_RATE_FLOOR, 1.0))

    def _motion(self, descriptor: np.ndarray) -> float:
        """Share in [0, 1] of a frame's expected motion that the robot made, judged by how much its view changed.

        Only on dense drives (the robot moves less than a place spacing per frame, so consecutive views
        overlap): there a view that does not change means the robot stands still, as at a traffic light, and
        the belief must neither move on at the learned speed nor take the same view again and again as new
        evidence. Where each frame shows a new place (sparse drives), the view change says nothing of motion.
        """
        view = np.asarray(descriptor, dtype=np.float64).reshape(-1)
        view = view / max(float(np.linalg.norm(view)), 1e-12)
        earlier = self.views[0] if len(self.views) == VIEW_LAG else None
        self.views.append(view)
        if earlier is None:
            return 1.0
        change = max(1.0 - float(view @ earlier), 0.0)
        if self.view_change is None:
            self.view_change = change
            return 1.0
        ratio = change / max(self.view_change, 1e-12)
        share = float(np.clip((ratio - STILL_RATIO) / (MOVING_RATIO - STILL_RATIO), 0.0, 1.0))
        rate = VIEW_CHANGE_RATE if ratio >= MOVING_RATIO else 0.1 * VIEW_CHANGE_RATE
        self.view_change += rate * (change - self.view_change)
        if self.robot_speed is None:
            return 1.0
        # Fully below half a place spacing per frame, not at all from one spacing per frame on.
        dense = float(np.clip(2 * (1 - self.robot_speed / self.layout.spacing_m), 0.0, 1.0))
        return 1.0 - (1.0 - share) * dense

    def _predict(self, motion: float = 1.0) -> None:
        if self.idx.size == 0:
            return
        rows, nb, disp, bridge = self.layout.gather(self.idx)
        logw, ahead = self._log_step_weights(disp, self.vel[rows], bridge)
        w = np.exp(logw - _row_max(logw, rows, len(self.idx))[rows])
        w /= np.bincount(rows, w, len(self.idx))[rows]
        # Leaving the map: a moving hypothesis with no place ahead (the end of the mapped area, bridges
        # included) sends what follows its velocity to ``lost`` instead of piling it up at the edge.
        speed = np.linalg.norm(self.vel, axis=1)
        exits = (speed > 1e-6) & (np.bincount(rows, ahead, len(self.idx)) == 0)
        w[exits[rows]] = 0.0
        # A ``motion`` share of each hypothesis takes the frame's step as below; the rest stands still, as it
        # was (velocity and dwell kept, no kidnapping: for the belief a frame of standing is no time step).
        keep = (1 - self.config.kidnap_prob) * motion * self.mass[rows]
        moved = self.mass.sum() * self.config.kidnap_prob * motion
        # Following the prediction: the step taken updates the velocity. Jumping (a ``jump_prob`` share spread
        # evenly over all places within reach: stops, reversals, gaps in the map): the velocity is kept.
        # Staying (dense drives): a hypothesis slower than one spacing per frame reaches the next place with
        # probability speed / spacing and otherwise stays, velocity kept, one more frame of dwell.
        reach = np.bincount(rows, minlength=len(self.idx))[rows]
        stay = np.where(speed > 1e-6, np.clip(1 - speed / self.layout.spacing_m, 0.0, 1.0), 0.0)
        going = (1 - self.config.kidnap_prob) * motion * self.mass
        moved += float((going * (1 - self.config.jump_prob) * (1 - stay) * exits).sum())
        own = going * (1 - self.config.jump_prob) * stay
        still = (1 - motion) * self.mass
        contrib = np.concatenate(
            [
                keep * (1 - self.config.jump_prob) * (1 - stay[rows]) * w,
                keep * self.config.jump_prob / reach,
                own,
                still,
            ]
        )
        parent, dwell = self.vel[rows], self.dwell[rows]
        moving = (parent**2).sum(axis=1, keepdims=True) > 1e-12
        here = (disp**2).sum(axis=1) < 1e-12
        # The step taken updates the velocity only by VELOCITY_GAIN: a step that snaps across a gap in the
        # map (no place where the robot is) does not make the robot faster. A new hypothesis takes its first step;
        # one that dwelt at its place measures its speed outright: the step over the frames it took.
        sample = disp / (dwell + 1)[:, None]
        gain = np.where(dwell > 0.5, 1.0, VELOCITY_GAIN)[:, None]
        stepped = np.where(moving, parent + gain * (sample - parent), sample)
        stepped = np.where((moving & here[:, None]) | bridge[:, None], parent, stepped)  # a gap says nothing of speed
        child_vel = np.concatenate([stepped, parent, self.vel, self.vel])
        child_dwell = np.concatenate(
            [np.where(here, dwell + 1, 0.0), np.where(here, dwell + 1, 0.0), self.dwell + 1, self.dwell]
        )
        places = np.concatenate([nb, nb, self.idx, self.idx])
        # Hypotheses that reach one place with the same velocity (cell) merge; other velocities stay apart,
        # so a place reached going forward and one reached going backward keep their own velocities.
        cell = VELOCITY_CELL * self.layout.spacing_m
        half = int(np.ceil(self.layout.step_radius_m / cell)) + 1
        bins = np.clip(np.rint(child_vel / cell).astype(np.int64) + half, 0, 2 * half)
        keys = (places * (2 * half + 1) + bins[:, 0]) * (2 * half + 1) + bins[:, 1]
        uniq, inverse = np.unique(keys, return_inverse=True)
        total = np.bincount(inverse, contrib, len(uniq))
        safe = np.maximum(total, 1e-300)
        vel = (
            np.stack(
                [
                    np.bincount(inverse, contrib * child_vel[:, 0], len(uniq)),
                    np.bincount(inverse, contrib * child_vel[:, 1], len(uniq)),
                ],
                axis=1,
            )
            / safe[:, None]
        )
        self.idx = uniq // (2 * half + 1) ** 2
        self.dwell = np.bincount(inverse, contrib * child_dwell, len(uniq)) / safe
        self.mass, self.vel = total, vel
        self.lost += moved

    def _learn_speed(self) -> None:
        """Track the robot's speed (m/frame) from the belief while it is confident; new hypotheses start at it."""
        state = self.last_state
        if state is None or state.confidence < SPEED_CONFIDENCE:
            return
        near = np.linalg.norm(self.layout.utm[self.idx] - state.position, axis=1) <= self.radius_m
        speed = float(
            (self.mass[near] * np.linalg.norm(self.vel[near], axis=1)).sum() / max(self.mass[near].sum(), 1e-300)
        )
        rate = SPEED_RATE * self.motion  # standing still teaches nothing about the speed it will drive on at
        self.robot_speed = speed if self.robot_speed is None else self.robot_speed + rate * (speed - self.robot_speed)

    def _log_step_weights(self, disp: np.ndarray, vel: np.ndarray, bridge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Log-weight [E] of each step ``disp`` [E, 2] for a hypothesis moving at ``vel`` [E, 2] m/frame.

        Unknown speed, persistent direction: the along-track speed ratio is log-normal (``speed_change``),
        the sideways offset Gaussian (``speed_std_m``). A hypothesis that has not moved yet (velocity 0)
        weighs all places within reach alike until the robot's speed is known, then by how far each is
        against that speed (any direction; log-normal, SEED_SPEED_SPREAD). A step across a gap in the map
        (``bridge`` [E]) is as long as the gap: only its direction counts (sideways offset scaled to one step).
        Also returns ``ahead`` [E]: the step leads somewhere other than back (a place beside the hypothesis, as
        round a corner, counts; one more than AHEAD_RATIO of the expected step behind it does not).
        """
        speed = np.linalg.norm(vel, axis=1)
        moving = speed > 1e-6
        unit = vel / np.where(moving, speed, 1.0)[:, None]
        along = (disp * unit).sum(axis=1)
        side2 = np.maximum((disp**2).sum(axis=1) - along**2, 0.0)
        # A hypothesis slower than one spacing per frame that does move, moves (at least) one spacing.
        expected = np.maximum(speed, self.layout.spacing_m)
        ratio = np.maximum(along / np.where(moving, expected, 1.0), MIN_SPEED_RATIO)
        ratio = np.where(bridge, np.minimum(ratio, 1.0), ratio)
        side2 = np.where(bridge, side2 * expected**2 / np.maximum((disp**2).sum(axis=1), 1e-12), side2)
        logw = -(np.log(ratio) ** 2) / (2 * self.config.speed_change**2) - side2 / (2 * self.speed_std_m**2)
        fresh = 0.0
        if self.robot_speed is not None:  # a new hypothesis moves at about the robot's speed, any direction
            dist = np.sqrt((disp**2).sum(axis=1))
            fresh = -(
                np.log(
                    np.maximum(dist, MIN_SPEED_RATIO * self.layout.spacing_m)
                    / max(self.robot_speed, self.layout.spacing_m)
                )
                ** 2
            ) / (2 * SEED_SPEED_SPREAD**2)
            fresh = np.where(bridge, 0.0, fresh)
        ahead = moving & (along > -AHEAD_RATIO * expected) & ((disp**2).sum(axis=1) > 1e-12)
        return np.where(moving, logw, fresh), ahead

    def _seed(self, seeds: np.ndarray) -> None:
        # A candidate gets a fresh hypothesis (velocity unknown) unless its place already holds at least the
        # lost mass' share: a place that some passing hypothesis barely touches is not tracked yet.
        if self.lost <= 0:
            return
        share = self.lost / self.places
        held = self.idx[self.mass >= share]
        fresh = np.setdiff1d(seeds[(seeds >= 0) & (seeds < self.places)], held)
        if fresh.size == 0:
            return
        self.idx = np.concatenate([self.idx, fresh])
        self.mass = np.concatenate([self.mass, np.full(fresh.size, share)])
        self.vel = np.concatenate([self.vel, np.zeros((fresh.size, 2))])
        self.dwell = np.concatenate([self.dwell, np.zeros(fresh.size)])
        self.lost -= share * fresh.size

    def _update(self, loglik: np.ndarray, background: float) -> None:
        top = max(float(loglik.max()) if loglik.size else background, background)
        self.mass = self.mass * np.exp(loglik - top)
        lost = max(self.lost, 0.0) * np.exp(background - top)
        total = self.mass.sum() + lost
        if not total > 0 or not np.isfinite(total):  # every hypothesis underflowed: start again from the seeds
            self.mass = np.exp(loglik - top)
            lost, total = 0.0, float(np.exp(loglik - top).sum())
        self.mass /= total
        self.lost = lost / total

    def _prune(self) -> None:
        if self.idx.size == 0:
            return
        keep = self.mass >= PRUNE_MASS * self.mass.max()
        if keep.sum() > self.config.max_support:
            keep[:] = False
            keep[np.argpartition(-self.mass, self.config.max_support - 1)[: self.config.max_support]] = True
        self.lost += float(self.mass[~keep].sum())
        self.idx, self.mass, self.vel, self.dwell = self.idx[keep], self.mass[keep], self.vel[keep], self.dwell[keep]

    def _state(self, status: str, top_k: int) -> FilterState:
        utm = self.layout.utm
        places, inverse = np.unique(self.idx, return_inverse=True)
        mass = np.bincount(inverse, self.mass, len(places))  # belief per place, all velocities together
        best = int(np.argmax(mass))
        near = np.linalg.norm(utm[places] - utm[places[best]], axis=1) <= self.radius_m
        confidence = float(mass[near].sum())
        position = (mass[near, None] * utm[places[near]]).sum(axis=0) / max(confidence, 1e-300)
        diff = utm[places] - position
        cov = (mass[:, None, None] * diff[:, :, None] * diff[:, None, :]).sum(axis=0)
        off = self.map_mean - position
        anywhere = self.map_cov + np.outer(off, off)
        cov += self.lost * anywhere + np.eye(2) * self.min_std_m**2
        order = np.argsort(-mass, kind="stable")[:top_k]
        if status == "tracking" and self.lost > confidence:
            status = "lost"
        return FilterState(
            position,
            cov,
            confidence,
            int(places[best]),
            places[order].copy(),
            float(self.lost),
            int(self.idx.size),
            status,
            self.frames,
            anywhere,
            self.motion,
        )


def _row_max(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Per-row maximum [n] of ``values`` [E] grouped by ``rows`` [E]."""
    out = np.full(n, -np.inf)
    np.maximum.at(out, rows, values)
    return out


def _with_status(state: FilterState, status: str) -> FilterState:
    """A copy of ``state`` with another status."""
    from dataclasses import replace

    return replace(state, status=status)
