"""PlaceFilter: a causal discrete Bayes filter over map places with a per-hypothesis velocity (docs/filter.md).

One frame (``step``):

1. stamps: a jump over ``max_gap_s`` either way resets; a frame not newer than the last is ignored (``out_of_order``);
2. motion: the share of the frame the robot moved, judged by the view (motion.py; below 1 only when standing);
3. predict: the four transitions follow, jump, stay, stand still, plus kidnapping and map ends (transitions.py);
4. re-seed: the frame's FAISS top-k places get the lost mass's uniform share (state.py ``reseed``);
5. update: x the observation likelihood (observation.py) to the power of the motion share (>= MIN_EVIDENCE);
6. prune to the ``max_support`` heaviest hypotheses, summarise into a FilterState, learn the robot's speed.

The reported confidence comes from the tempered masses (state.py): each frame's evidence counts there by what is
news in it, at most its novelty (1 - cosine to the last view) and at most the place spacings the robot moved.

Cost per frame: O(max_support x neighbours + (max_support + seed_k) x D), whatever the map size.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vgssl_ros.core.filter.config import FilterConfig
from vgssl_ros.core.filter.layout import PlaceLayout
from vgssl_ros.core.filter.motion import MotionDetector
from vgssl_ros.core.filter.observation import ObservationModel
from vgssl_ros.core.filter.state import (
    Belief,
    FilterState,
    FilterStatus,
    Hypotheses,
    prune,
    reseed,
    summarise,
    update,
)
from vgssl_ros.core.filter.transitions import predict
from vgssl_ros.core.filter.tuning import (
    AUTO_SPEED_STD_SPACINGS,
    MEAN_RATE_FLOOR,
    MIN_EVIDENCE,
    MIN_MASS,
    SPEED_CONFIDENCE,
    SPEED_RATE,
)

__all__ = ["FilterState", "FilterStatus", "PlaceFilter"]


class PlaceFilter:
    """The temporal filter over ``layout``'s places; ``step`` takes one frame's descriptor and FAISS top-k."""

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
        auto_std = AUTO_SPEED_STD_SPACINGS * layout.spacing_m
        self.speed_std_m = config.speed_std_m if config.speed_std_m > 0 else auto_std
        self.detector = MotionDetector()
        self.last_state: FilterState | None = None
        self.reset()

    @property
    def places(self) -> int:
        """Number of map places."""
        return len(self.layout.utm)

    def reset(self) -> None:
        """Forget everything: all mass is lost (uniform over the map)."""
        self.belief = Belief.unknown()
        self.frames = 0
        self.robot_speed: float | None = None
        """Learned speed of the robot (m/frame); None until a confident frame taught it."""
        self.last_stamp: float | None = None
        self.motion = 1.0
        self.detector.reset()
        self.observation.reset()

    def seed_around(
        self, position_utm: np.ndarray, covariance: np.ndarray, lost_mass: float = 0.1, sigmas: float = 3.0
    ) -> int:
        """Believe the robot is near ``position_utm`` [2] (UTM m) with ``covariance`` [2, 2] m^2 (an initial pose).

        The belief becomes the places within ``sigmas`` (Mahalanobis; the nearest place at least, the
        ``max_support`` nearest at most), weighted by the Gaussian and not moving yet, plus ``lost_mass`` spread over
        the map so that a wrong pose is still recovered from. The map's resolution (``min_std_m``) is added to the
        covariance. Stamps, learned speed and query statistics are kept. Returns the number of places seeded;
        ValueError for a non-finite position or a covariance that is not symmetric positive semi-definite.
        """
        pos = np.asarray(position_utm, dtype=np.float64).reshape(-1)
        cov = np.asarray(covariance, dtype=np.float64)
        if pos.shape != (2,) or cov.shape != (2, 2) or not np.isfinite(pos).all() or not np.isfinite(cov).all():
            raise ValueError(f"initial pose needs a finite position [2] and covariance [2, 2], got {pos}, {cov}")
        scale = max(1.0, float(np.abs(cov).max()))
        if not np.allclose(cov, cov.T, atol=1e-9 * scale) or np.linalg.eigvalsh(cov).min() < -1e-9 * scale:
            raise ValueError(f"initial pose covariance must be symmetric positive semi-definite, got {cov.tolist()}")
        if not 0.0 < lost_mass < 1.0 or not sigmas > 0:
            raise ValueError(f"lost_mass must be in (0, 1) and sigmas > 0, got {lost_mass}, {sigmas}")
        offset = self.layout.utm - pos
        inverse = np.linalg.inv(cov + self.min_std_m**2 * np.eye(2))
        d2 = np.einsum("ni,ij,nj->n", offset, inverse, offset)
        order = np.argsort(d2, kind="stable")[: self.config.max_support]
        keep = order[d2[order] <= sigmas**2]
        if keep.size == 0:
            keep = order[:1]
        weight = np.exp(-0.5 * (d2[keep] - d2[keep].min()))
        mass = (1.0 - lost_mass) * weight / weight.sum()
        hyp = Hypotheses(keep.astype(np.int64), mass, np.zeros((keep.size, 2)), np.zeros(keep.size), mass.copy())
        self.belief = Belief(hyp, float(lost_mass), float(lost_mass))  # told, not seen: the confidence starts there
        return int(keep.size)

    def step(
        self, descriptor: np.ndarray, seeds: np.ndarray, stamp_s: float | None = None, top_k: int = 10
    ) -> FilterState:
        """One frame: descriptor [D], FAISS top-k place indices ``seeds`` [k] (-1 padding ignored), stamp in s."""
        if stamp_s is not None and not np.isfinite(stamp_s):
            stamp_s = None
        status = self._check_stamp(stamp_s)  # 1. stamps
        if status == FilterStatus.OUT_OF_ORDER and self.last_state is not None:
            return replace(self.last_state, status=status)
        seeds = np.asarray(seeds, dtype=np.int64).reshape(-1)
        if len(self.belief.hyp) == 0 and not ((seeds >= 0) & (seeds < self.places)).any():
            raise ValueError(f"the filter has no belief yet and no valid seed among {seeds.tolist()}")
        frame = self.observation.frame(descriptor, self._spacings_per_frame())
        speed = None if self.robot_speed is None else self.robot_speed / self.layout.spacing_m
        self.motion = self.detector.share(descriptor, speed)  # 2. motion
        news = min(frame.novelty, self._spacings_per_frame())  # the confidence counts what is news
        belief = predict(  # 3. predict
            self.belief,
            self.layout,
            self.config,
            self.speed_std_m,
            self.robot_speed,
            self.motion,
            self.config.kidnap_prob * news,
        )
        belief = reseed(belief, seeds, self.places)  # 4. re-seed
        places, inverse = np.unique(belief.hyp.place, return_inverse=True)
        weight = max(self.motion, MIN_EVIDENCE)
        loglik = weight * frame.loglik(places)[inverse]
        tempering = self.config.confidence_evidence * news
        belief = update(belief, loglik, weight * frame.background, tempering)  # 5. update
        self.belief = prune(belief, self.config.max_support)  # 6. prune, summarise, learn the speed
        self.frames += 1
        if stamp_s is not None:
            self.last_stamp = float(stamp_s)
        self.last_state = self._summary(status, top_k)
        self._learn_speed(self.last_state)
        return self.last_state

    def _summary(self, status: FilterStatus, top_k: int) -> FilterState:
        return summarise(
            self.belief,
            self.layout,
            self.radius_m,
            self.min_std_m,
            status,
            self.frames,
            self.motion,
            top_k,
        )

    def _check_stamp(self, stamp_s: float | None) -> FilterStatus:
        """RESET (and reset here) when the stamp jumps by more than ``max_gap_s`` either way (a pause, a replayed
        log, one bad stamp far ahead: the frames after it must not all look old); OUT_OF_ORDER when it is not newer
        than the last one but within ``max_gap_s`` of it (a late frame); else TRACKING."""
        if stamp_s is None or self.last_stamp is None:
            return FilterStatus.TRACKING
        if abs(stamp_s - self.last_stamp) > self.config.max_gap_s:
            self.reset()
            return FilterStatus.RESET
        if stamp_s <= self.last_stamp and self.last_state is not None:
            return FilterStatus.OUT_OF_ORDER
        return FilterStatus.TRACKING

    def _spacings_per_frame(self) -> float:
        """Map spacings the robot moves per frame, in [MEAN_RATE_FLOOR, 1]; 1 until its speed is known.

        The running query mean advances by this share of ``query_mean_rate``: the mean is over the route
        travelled, not over frames, so a slow robot's many views of one place do not become the mean that
        every view is centred on (which would erase the place's own signal).
        """
        if self.robot_speed is None:
            return 1.0
        return float(np.clip(self.robot_speed / self.layout.spacing_m, MEAN_RATE_FLOOR, 1.0))

    def _learn_speed(self, state: FilterState) -> None:
        """Track the robot's speed (m/frame) from the belief while it is confident; new hypotheses start at it."""
        if state.belief < SPEED_CONFIDENCE:
            return
        hyp = self.belief.hyp
        near = np.linalg.norm(self.layout.utm[hyp.place] - state.position, axis=1) <= self.radius_m
        mass = hyp.mass[near]
        speed = float((mass * np.linalg.norm(hyp.velocity[near], axis=1)).sum() / max(mass.sum(), MIN_MASS))
        rate = SPEED_RATE * self.motion  # standing still teaches nothing about the speed it will drive on at
        self.robot_speed = speed if self.robot_speed is None else self.robot_speed + rate * (speed - self.robot_speed)
