"""The GNSS baseline: the drive's GNSS at each frame stamp, only where it is not the ground truth itself."""

from __future__ import annotations

import numpy as np
import pytest

from vgssl_ros.bags import read_drive
from vgssl_ros.datasets import read_vpr_folder
from vgssl_ros.eval.gnss import gnss_at, gnss_metrics
from vgssl_ros.eval.make_bag import images_to_bag


def test_gnss_at_the_frames_and_when_there_is_none(tmp_path):
    from test.conftest import write_vpr_dataset

    ds = write_vpr_dataset(tmp_path / "ds", splits=("val",), places=5)
    images_to_bag(read_vpr_folder(ds / "images" / "val" / "queries"), tmp_path / "bag", 4.0, progress=False)
    drive = read_drive(tmp_path / "bag", "/camera/image_raw", "/gnss/fix")
    frames = list(drive.frames())
    stamps = np.array([f.stamp for f in frames] + [frames[-1].stamp + 60.0])  # the last one is past the track
    zone = drive.track.zone
    assert gnss_at(tmp_path / "bag", "/camera/image_raw", "/gnss/fix", "/gnss/fix", stamps, zone) is None
    assert gnss_at(tmp_path / "bag", "/camera/image_raw", "/truth", "/no/such/topic", stamps, zone) is None
    got = gnss_at(tmp_path / "bag", "/camera/image_raw", "/truth", "/gnss/fix", stamps, zone)
    assert np.allclose(got[:-1], [f.utm for f in frames], atol=1e-6) and np.isnan(got[-1]).all()
    m = gnss_metrics(got, np.vstack([got[:-1] + [3.0, 4.0], [0.0, 0.0]]), "/gnss/fix")
    assert m == {
        "topic": "/gnss/fix",
        "frames": 5,
        "error_median_m": pytest.approx(5.0),
        "error_p90_m": pytest.approx(5.0),
    }
