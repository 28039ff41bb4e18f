"""A made-up scored drive for the frames.csv, gallery and compare tests (no model, no bag)."""

from __future__ import annotations

import numpy as np

from vgssl_ros.eval.frames import ACCEPTED, DriveFrames, ModeFrames
from vgssl_ros.geo import UtmZone

ORIGIN = np.array([500000.0, 7000000.0])
PLACES_UTM = ORIGIN + np.stack([np.arange(10) * 10.0, np.zeros(10)], axis=1)
PLACE_IDS = np.array([f"place{i}.jpg" for i in range(10)])


def made_up_drive(single_wrong: tuple[int, ...] = (2, 3, 4, 7), filtered: bool = True) -> DriveFrames:
    """10 frames 0.5 s apart along the places; single answers right except at ``single_wrong`` (100 m off,
    probability 0.95); frame 8 is rejected; the filtered answer is right everywhere but frame 5 (wrong)."""
    n = 10
    gt = PLACES_UTM.copy()
    pos = gt.copy()
    wrong = list(single_wrong)
    pos[wrong] += [0.0, 100.0]
    accepted = np.ones(n, bool)
    accepted[8] = False
    status = [ACCEPTED if a else "top-1 similarity 0.1 < min_similarity 0.5" for a in accepted]
    cov = np.tile(np.diag([4.0, 1.0]), (n, 1, 1))
    single = ModeFrames(pos, accepted, status, np.full(n, 0.8), np.full(n, 0.95), cov, np.arange(n))
    modes = {"single": single}
    if filtered:
        fpos = gt.copy()
        fpos[5] += [300.0, 0.0]
        modes["filtered"] = ModeFrames(
            fpos, np.ones(n, bool), [ACCEPTED] * n, np.full(n, 0.9), np.full(n, 0.5), cov, np.full(n, -1)
        )
    return DriveFrames(np.arange(n) * 0.5 + 100.0, gt, UtmZone(33, "W"), modes, ["tracking"] * n if filtered else [])
