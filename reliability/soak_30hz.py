"""Soak at the camera's rate: the raw leg of reliability/soak.py paced at 30 Hz for 30 minutes (54,000 frames).

Same node, DDS set-up, frames (rgb8, bgr8, mono8, rgba8 cycling, 640x480) and pass rules as the soak, but frames
leave at a camera's rate instead of back to back, so the node idles between frames as on a robot: timers,
diagnostics and the filter run for half an hour of wall time, not only for a count of frames. Sampled every minute
(1,800 frames). The quick version is 10 s (300 frames, sampled every 50).
"""

from __future__ import annotations

from pathlib import Path

from reliability.campaign import CampaignResult
from reliability.soak import soak_leg

RATE_HZ = 30.0
FULL_MINUTES, QUICK_SECONDS = 30, 10


def run(seed: int, quick: bool, work: Path) -> CampaignResult:
    """The raw leg at RATE_HZ for FULL_MINUTES (QUICK_SECONDS), judged as reliability/soak.py says."""
    result = CampaignResult("soak-30hz", seed)
    frames = int(RATE_HZ * (QUICK_SECONDS if quick else 60 * FULL_MINUTES))
    soak_leg("raw", frames, 50 if quick else int(60 * RATE_HZ), seed, work, result, rate_hz=RATE_HZ)
    return result
