"""The filter's belief (hypotheses plus a ``lost`` mass), what one frame does to it, and the answer it gives.

The belief is a sparse set of hypotheses (a place, a velocity, a mass, frames dwelt there) plus one ``lost``
mass for "somewhere else in the map", spread uniformly over every place. Masses and ``lost`` sum to 1.

Each hypothesis also carries a *tempered* mass: the same belief with every frame's evidence counted only
``confidence_evidence`` times (tempered masses and their own lost mass sum to 1 too). Consecutive frames of one
place are far from independent; the belief must still move on every frame, but the confidence it reports comes
from the tempered masses, so a run of look-alike frames cannot make it sure of a wrong place (docs/filter.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from vgssl_ros.core.filter.layout import PlaceLayout
from vgssl_ros.core.filter.tuning import MIN_MASS, PRUNE_MASS


class FilterStatus(StrEnum):
    """What the filter made of a frame (a str: ``state.status == "lost"`` works)."""

    TRACKING = "tracking"
    """The belief near the best place outweighs the lost mass."""
    LOST = "lost"
    """More belief is elsewhere (``lost_mass``) than near the best place."""
    RESET = "reset"
    """The stamp jumped by more than ``max_gap_s`` (either way): the filter started again from this frame."""
    OUT_OF_ORDER = "out_of_order"
    """The stamp was not newer than the last one, by at most ``max_gap_s``: frame ignored, last state returned."""


@dataclass(frozen=True)
class FilterState:
    """The filter's answer after a frame.

    position [2] UTM m: belief-weighted mean of the places within ``radius_m`` of the best place;
    covariance [2, 2] m^2: expected squared error about ``position`` under the whole belief (lost mass
    spread over the map); confidence: the tempered belief's mass within ``radius_m`` of the best place (0..1: what
    is reported); belief: the belief's own mass there (what the filter acts on: learning the speed);
    candidates [K]: places by belief, best first; lost_mass: belief that the robot is elsewhere;
    support: hypotheses held; status: a FilterStatus; frames: frames since the last reset; anywhere [2, 2] m^2:
    second moment of the map's places about ``position`` (the squared error if the answer is wrong and the robot
    could be anywhere on the map), used to widen the reported covariance by the probability of being wrong;
    motion: share of the frame's expected motion the robot made (below 1: standing still, judged by the view).
    """

    position: np.ndarray
    covariance: np.ndarray
    confidence: float
    belief: float
    place: int
    candidates: np.ndarray
    lost_mass: float
    support: int
    status: FilterStatus
    frames: int
    anywhere: np.ndarray
    motion: float = 1.0


@dataclass(slots=True)  # not frozen: a frozen dataclass costs ~1 us per field and frame
class Hypotheses:
    """M hypotheses: ``place`` [M] map indices, ``mass`` [M], ``velocity`` [M, 2] m/frame (0: not moved yet),
    ``dwell`` [M] frames spent at the place (mass-weighted where hypotheses merged), ``tempered`` [M] the mass
    with each frame's evidence tempered (what the reported confidence is made of)."""

    place: np.ndarray
    mass: np.ndarray
    velocity: np.ndarray
    dwell: np.ndarray
    tempered: np.ndarray

    @classmethod
    def none(cls) -> Hypotheses:
        """No hypotheses (all belief is lost)."""
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 2)), np.zeros(0), np.zeros(0))

    def __len__(self) -> int:
        return len(self.place)

    def select(self, keep: np.ndarray) -> Hypotheses:
        """The hypotheses where ``keep`` [M] (bool) is true."""
        return Hypotheses(self.place[keep], self.mass[keep], self.velocity[keep], self.dwell[keep], self.tempered[keep])

    @classmethod
    def concatenate(cls, parts: list[Hypotheses]) -> Hypotheses:
        """All hypotheses of ``parts``, in order."""
        return cls(
            np.concatenate([p.place for p in parts]),
            np.concatenate([p.mass for p in parts]),
            np.concatenate([p.velocity for p in parts]),
            np.concatenate([p.dwell for p in parts]),
            np.concatenate([p.tempered for p in parts]),
        )


@dataclass(slots=True)
class Belief:
    """Hypotheses plus the ``lost`` mass (uniform over the map) and the tempered masses' own ``lost_tempered``."""

    hyp: Hypotheses
    lost: float
    lost_tempered: float

    @classmethod
    def unknown(cls) -> Belief:
        """No idea where the robot is: all belief is lost."""
        return cls(Hypotheses.none(), 1.0, 1.0)


def reseed(belief: Belief, seeds: np.ndarray, places: int) -> Belief:
    """Give each valid seed [k] (FAISS top-k places) not yet holding the lost mass's uniform share that share (and
    the tempered lost mass's share of it), as a hypothesis that has not moved yet. This is how a kidnapped robot
    is found again: a place that some passing hypothesis barely touches is not tracked yet."""
    hyp, lost = belief.hyp, belief.lost
    if lost <= 0:
        return belief
    share, share_t = lost / places, belief.lost_tempered / places
    held = hyp.place[hyp.mass >= share]
    fresh = np.setdiff1d(seeds[(seeds >= 0) & (seeds < places)], held)
    if fresh.size == 0:
        return belief
    n = fresh.size
    new = Hypotheses(fresh, np.full(n, share), np.zeros((n, 2)), np.zeros(n), np.full(n, share_t))
    return Belief(Hypotheses.concatenate([hyp, new]), lost - share * n, belief.lost_tempered - share_t * n)


def update(belief: Belief, loglik: np.ndarray, background: float, tempering: float) -> Belief:
    """Bayes' rule: each hypothesis' mass x exp(``loglik`` [M]), the lost mass x exp(``background``), normalised;
    the tempered masses likewise with both x ``tempering``."""
    hyp = belief.hyp
    mass, lost = _bayes(hyp.mass, belief.lost, loglik, background)
    tempered, lost_t = _bayes(hyp.tempered, belief.lost_tempered, tempering * loglik, tempering * background)
    return Belief(Hypotheses(hyp.place, mass, hyp.velocity, hyp.dwell, tempered), lost, lost_t)


def _bayes(mass: np.ndarray, lost: float, loglik: np.ndarray, background: float) -> tuple[np.ndarray, float]:
    """(masses [M] x exp(``loglik`` [M]), ``lost`` x exp(``background``)) normalised. If every mass underflows,
    the belief starts again from the likelihoods."""
    top = max(float(loglik.max()) if loglik.size else background, background)
    out = mass * np.exp(loglik - top)
    lost_mass = max(lost, 0.0) * np.exp(background - top)
    total = out.sum() + lost_mass
    if not total > 0 or not np.isfinite(total):
        out = np.exp(loglik - top)
        lost_mass, total = 0.0, float(out.sum())
    return out / total, float(lost_mass / total)


def prune(belief: Belief, max_support: int) -> Belief:
    """Keep the ``max_support`` heaviest hypotheses, none lighter than PRUNE_MASS x the heaviest; the dropped mass
    (and tempered mass) joins ``lost`` (``lost_tempered``)."""
    hyp = belief.hyp
    if len(hyp) == 0:
        return belief
    keep = hyp.mass >= PRUNE_MASS * hyp.mass.max()
    if keep.sum() > max_support:
        keep[:] = False
        keep[np.argpartition(-hyp.mass, max_support - 1)[:max_support]] = True
    return Belief(
        hyp.select(keep),
        belief.lost + float(hyp.mass[~keep].sum()),
        belief.lost_tempered + float(hyp.tempered[~keep].sum()),
    )


def summarise(
    belief: Belief,
    layout: PlaceLayout,
    radius_m: float,
    min_std_m: float,
    status: FilterStatus,
    frames: int,
    motion: float,
    top_k: int,
) -> FilterState:
    """The answer: the best place (belief summed over velocities), the belief and the tempered belief within
    ``radius_m`` of it, the covariance (plus ``min_std_m``^2), the ``top_k`` candidates; TRACKING becomes LOST when
    ``lost`` outweighs the belief near the best place."""
    hyp, lost, utm = belief.hyp, belief.lost, layout.utm
    places, inverse = np.unique(hyp.place, return_inverse=True)
    mass = np.bincount(inverse, hyp.mass, len(places))  # belief per place, all velocities together
    best = int(np.argmax(mass))
    near = np.linalg.norm(utm[places] - utm[places[best]], axis=1) <= radius_m
    near_mass = float(mass[near].sum())
    confidence = float(np.bincount(inverse, hyp.tempered, len(places))[near].sum())
    position = (mass[near, None] * utm[places[near]]).sum(axis=0) / max(near_mass, MIN_MASS)
    diff = utm[places] - position
    cov = (mass[:, None, None] * diff[:, :, None] * diff[:, None, :]).sum(axis=0)
    off = layout.centre - position
    anywhere = layout.spread + np.outer(off, off)
    cov += lost * anywhere + np.eye(2) * min_std_m**2
    order = np.argsort(-mass, kind="stable")[:top_k]
    if status == FilterStatus.TRACKING and lost > near_mass:
        status = FilterStatus.LOST
    return FilterState(
        position,
        cov,
        min(confidence, 1.0),
        near_mass,
        int(places[best]),
        places[order].copy(),
        float(lost),
        len(hyp),
        status,
        frames,
        anywhere,
        motion,
    )
