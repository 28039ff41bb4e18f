"""Standing still, judged by the view: how much of a frame's expected motion the robot made.

Only on dense drives (the robot moves less than a place spacing per frame, so consecutive views overlap):
there a view that does not change means the robot stands still, as at a traffic light, and the belief must
neither move on at the learned speed nor take the same view again and again as new evidence. Where each frame
shows a new place (sparse drives), the view change says nothing of motion.

The view change is 1 - cosine between the view now and VIEW_LAG frames ago (over several frames a moving view
drifts, sensor noise does not), compared with its running typical value while moving.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from vgssl_ros.core.filter.tuning import (
    DENSE_SLOPE,
    MIN_NORM,
    MOVING_RATIO,
    STILL_RATIO,
    UNSURE_RATE_FACTOR,
    VIEW_CHANGE_RATE,
    VIEW_LAG,
)


class MotionDetector:
    """The view-change motion detector: ``share(descriptor, speed)`` per frame, in [0, 1]."""

    def __init__(self) -> None:
        self.views: deque[np.ndarray] = deque(maxlen=VIEW_LAG)
        self.view_change: float | None = None
        """Running typical view change (1 - cosine over VIEW_LAG frames) while moving; None until measured."""

    def reset(self) -> None:
        """Forget the views and the typical view change."""
        self.views.clear()
        self.view_change = None

    def share(self, descriptor: np.ndarray, speed_spacings: float | None) -> float:
        """Share in [0, 1] of the frame's expected motion that the robot made, from descriptor [D]; 1 until
        VIEW_LAG + 1 views are seen and while the robot's speed (``speed_spacings``, place spacings per frame) is
        unknown. Below STILL_RATIO x the typical view change: standing (0); above MOVING_RATIO: moving (1)."""
        view = np.asarray(descriptor, dtype=np.float64).reshape(-1)
        view = view / max(float(np.linalg.norm(view)), MIN_NORM)
        earlier = self.views[0] if len(self.views) == VIEW_LAG else None
        self.views.append(view)
        if earlier is None:
            return 1.0
        change = max(1.0 - float(view @ earlier), 0.0)
        if self.view_change is None:
            self.view_change = change
            return 1.0
        ratio = change / max(self.view_change, MIN_NORM)
        share = float(np.clip((ratio - STILL_RATIO) / (MOVING_RATIO - STILL_RATIO), 0.0, 1.0))
        rate = VIEW_CHANGE_RATE if ratio >= MOVING_RATIO else UNSURE_RATE_FACTOR * VIEW_CHANGE_RATE
        self.view_change += rate * (change - self.view_change)
        if speed_spacings is None:
            return 1.0
        dense = float(np.clip(DENSE_SLOPE * (1 - speed_spacings), 0.0, 1.0))
        return 1.0 - (1.0 - share) * dense
