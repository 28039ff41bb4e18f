"""The single-frame answers' own track: do the last frames' top-1 places move along a line at a plausible speed?

The belief can lock onto a wrong stretch and stay confident while each frame's own best match (FAISS top-1) is
right and moves on with the robot, frame after frame (night drives, maps with "hub" places that resemble every
view). A wrong top-1 lands anywhere on the map; right ones line up. So: among the last ``window`` frames' top-1
positions, find the constant-velocity line that most of them lie near (RANSAC over every pair of frames, a
least-squares fit on its inliers); a line with at least ``min_inliers`` frames within ``tolerance_m``, one of them
among the last RECENT frames, moving at least ``min_step_m`` and at most ``max_step_m`` per frame, is a *track*. A
place that is top-1 for most frames without moving (a hub) is no track. The filter checks its answer against the
track (bayes.py).

Cost: O(window^3) (pairs x frames), about 50 us at window 20, whatever the map size.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

RECENT = 3
"""A track must hold one of the last RECENT frames: an old line extrapolated across a gap in the map is no track."""


@dataclass(frozen=True)
class Track:
    """A consistent single-frame track: ``position`` [2] UTM m now, ``velocity`` [2] m/frame, ``inliers`` frames."""

    position: np.ndarray
    velocity: np.ndarray
    inliers: int


class SequenceTrack:
    """The last ``window`` top-1 positions and the track they make, if any (``push`` one frame at a time)."""

    def __init__(self, window: int, min_inliers: int, tolerance_m: float, min_step_m: float, max_step_m: float) -> None:
        if not 2 <= min_inliers <= window:
            raise ValueError(f"need 2 <= min_inliers <= window, got {min_inliers} and {window}")
        if not tolerance_m > 0 or not 0 <= min_step_m < max_step_m:
            raise ValueError(f"need tolerance_m > 0 and 0 <= min_step_m < max_step_m, got {tolerance_m}, "
                             f"{min_step_m}, {max_step_m}")  # fmt: skip
        self.window, self.min_inliers = int(window), int(min_inliers)
        self.tolerance_m, self.min_step_m, self.max_step_m = float(tolerance_m), float(min_step_m), float(max_step_m)
        self._frames: deque[int] = deque(maxlen=self.window)
        self._positions: deque[np.ndarray] = deque(maxlen=self.window)
        self._pairs = np.triu_indices(self.window, 1)

    def reset(self) -> None:
        """Forget the frames seen."""
        self._frames.clear()
        self._positions.clear()

    def push(self, position: np.ndarray, frame: int, min_step_m: float | None = None) -> Track | None:
        """Add frame number ``frame``'s top-1 position [2]; the track of the last ``window`` frames, or None.
        ``min_step_m`` (m/frame) raises the slowest track for this frame (e.g. to a share of the robot's speed)."""
        self._frames.append(int(frame))
        self._positions.append(np.asarray(position, dtype=np.float64).reshape(2))
        n = len(self._frames)
        if n < self.min_inliers:
            return None
        t = np.array(self._frames, dtype=np.float64)
        p = np.array(self._positions)
        keep = self._pairs[1] < n
        i, j = self._pairs[0][keep], self._pairs[1][keep]
        velocity = (p[j] - p[i]) / (t[j] - t[i])[:, None]  # [pairs, 2] m/frame
        speed = np.linalg.norm(velocity, axis=1)
        predicted = p[i][:, None, :] + velocity[:, None, :] * (t[None, :] - t[i][:, None])[:, :, None]
        near = np.linalg.norm(predicted - p[None], axis=2) <= self.tolerance_m  # [pairs, n]
        slowest = self.min_step_m if min_step_m is None else max(self.min_step_m, float(min_step_m))
        count = near.sum(axis=1) * ((speed >= slowest) & (speed <= self.max_step_m))
        best = int(np.argmax(count))
        if count[best] < self.min_inliers:
            return None
        inl = near[best]
        if not inl[-RECENT:].any():  # the track ended (a gap in the map crossed, a wrong stretch left behind)
            return None
        fit_v, fit_p = _line(t[inl], p[inl])
        if not slowest <= float(np.linalg.norm(fit_v)) <= self.max_step_m:
            return None
        return Track(fit_p + fit_v * (t[-1] - t[inl].mean()), fit_v, int(inl.sum()))


def _line(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares constant-velocity line through positions ``p`` [n, 2] at times ``t`` [n]: (velocity [2] per
    unit of t, position [2] at the mean time)."""
    dt = t - t.mean()
    centre = p.mean(axis=0)
    velocity = (dt[:, None] * (p - centre)).sum(axis=0) / max(float((dt**2).sum()), 1e-12)
    return velocity, centre
