"""The filter's belief (hypotheses plus a ``lost`` mass), what one frame does to it, and the answer it gives.

The belief is a sparse set of hypotheses (a place, a velocity, a mass, frames dwelt there) plus one ``lost``
mass for "somewhere else in the map", spread uniformly over every place. Masses and ``lost`` sum to 1.
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
    spread over the map); confidence: belief mass within ``radius_m`` of the best place (0..1);
    candidates [K]: places by belief, best first; lost_mass: belief that the robot is elsewhere;
    support: hypotheses held; status: a FilterStatus; frames: frames since the last reset; anywhere [2, 2] m^2:
    second moment of the map's places about ``position`` (the squared error if the answer is wrong and the robot
    could be anywhere on the map), used to widen the reported covariance by the probability of being wrong;
    motion: share of the frame's expected motion the robot made (below 1: standing still, judged by the view).
    """

    position: np.ndarray
    covariance: np.ndarray
    confidence: float
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
    ``dwell`` [M] frames spent at the place (mass-weighted where hypotheses merged)."""

    place: np.ndarray
    mass: np.ndarray
    velocity: np.ndarray
    dwell: np.ndarray

    @classmethod
    def none(cls) -> Hypotheses:
        """No hypotheses (all belief is lost)."""
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 2)), np.zeros(0))

    def __len__(self) -> int:
        return len(self.place)

    def select(self, keep: np.ndarray) -> Hypotheses:
        """The hypotheses where ``keep`` [M] (bool) is true."""
        return Hypotheses(self.place[keep], self.mass[keep], self.velocity[keep], self.dwell[keep])

    @classmethod
    def concatenate(cls, parts: list[Hypotheses]) -> Hypotheses:
        """All hypotheses of ``parts``, in order."""
        return cls(
            np.concatenate([p.place for p in parts]),
            np.concatenate([p.mass for p in parts]),
            np.concatenate([p.velocity for p in parts]),
            np.concatenate([p.dwell for p in parts]),
        )


def reseed(hyp: Hypotheses, lost: float, seeds: np.ndarray, places: int) -> tuple[Hypotheses, float]:
    """Give each valid seed [k] (FAISS top-k places) not yet holding the lost mass's uniform share that share, as a
    hypothesis that has not moved yet; returns (hypotheses, lost). This is how a kidnapped robot is found again:
    a place that some passing hypothesis barely touches is not tracked yet."""
    if lost <= 0:
        return hyp, lost
    share = lost / places
    held = hyp.place[hyp.mass >= share]
    fresh = np.setdiff1d(seeds[(seeds >= 0) & (seeds < places)], held)
    if fresh.size == 0:
        return hyp, lost
    new = Hypotheses(fresh, np.full(fresh.size, share), np.zeros((fresh.size, 2)), np.zeros(fresh.size))
    return Hypotheses.concatenate([hyp, new]), lost - share * fresh.size


def update(hyp: Hypotheses, lost: float, loglik: np.ndarray, background: float) -> tuple[Hypotheses, float]:
    """Bayes' rule: each hypothesis' mass x exp(``loglik`` [M]), the lost mass x exp(``background``), normalised;
    returns (hypotheses, lost). If every mass underflows, the belief starts again from the likelihoods."""
    top = max(float(loglik.max()) if loglik.size else background, background)
    mass = hyp.mass * np.exp(loglik - top)
    lost_mass = max(lost, 0.0) * np.exp(background - top)
    total = mass.sum() + lost_mass
    if not total > 0 or not np.isfinite(total):
        mass = np.exp(loglik - top)
        lost_mass, total = 0.0, float(np.exp(loglik - top).sum())
    mass /= total
    return Hypotheses(hyp.place, mass, hyp.velocity, hyp.dwell), float(lost_mass / total)


def prune(hyp: Hypotheses, lost: float, max_support: int) -> tuple[Hypotheses, float]:
    """Keep the ``max_support`` heaviest hypotheses, none lighter than PRUNE_MASS x the heaviest; the dropped mass
    joins ``lost``. Returns (hypotheses, lost)."""
    if len(hyp) == 0:
        return hyp, lost
    keep = hyp.mass >= PRUNE_MASS * hyp.mass.max()
    if keep.sum() > max_support:
        keep[:] = False
        keep[np.argpartition(-hyp.mass, max_support - 1)[:max_support]] = True
    return hyp.select(keep), lost + float(hyp.mass[~keep].sum())


def summarise(
    hyp: Hypotheses,
    lost: float,
    layout: PlaceLayout,
    radius_m: float,
    min_std_m: float,
    status: FilterStatus,
    frames: int,
    motion: float,
    top_k: int,
) -> FilterState:
    """The answer: the best place (belief summed over velocities), the belief within ``radius_m`` of it, the
    covariance (plus ``min_std_m``^2), the ``top_k`` candidates; TRACKING becomes LOST when ``lost`` outweighs it."""
    utm = layout.utm
    places, inverse = np.unique(hyp.place, return_inverse=True)
    mass = np.bincount(inverse, hyp.mass, len(places))  # belief per place, all velocities together
    best = int(np.argmax(mass))
    near = np.linalg.norm(utm[places] - utm[places[best]], axis=1) <= radius_m
    confidence = float(mass[near].sum())
    position = (mass[near, None] * utm[places[near]]).sum(axis=0) / max(confidence, MIN_MASS)
    diff = utm[places] - position
    cov = (mass[:, None, None] * diff[:, :, None] * diff[:, None, :]).sum(axis=0)
    off = layout.centre - position
    anywhere = layout.spread + np.outer(off, off)
    cov += lost * anywhere + np.eye(2) * min_std_m**2
    order = np.argsort(-mass, kind="stable")[:top_k]
    if status == FilterStatus.TRACKING and lost > confidence:
        status = FilterStatus.LOST
    return FilterState(
        position,
        cov,
        confidence,
        int(places[best]),
        places[order].copy(),
        float(lost),
        len(hyp),
        status,
        frames,
        anywhere,
        motion,
    )
