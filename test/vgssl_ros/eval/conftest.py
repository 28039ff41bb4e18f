"""A drive, a map and a model made once for the vgssl-eval tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from vgssl_ros.datasets import read_vpr_folder
from vgssl_ros.eval.make_bag import images_to_bag


@pytest.fixture(scope="session")
def drive_assets(tmp_path_factory) -> dict[str, Path]:
    """model.onnx (32x64), a map of the test database, and a drive of the test queries."""
    from test.conftest import write_vpr_dataset
    from vgssl_ros.mapping.cli import main as vgssl_map
    from vgssl_train.cli import main as vgssl_train

    root = tmp_path_factory.mktemp("eval")
    ds = write_vpr_dataset(root / "ds", splits=("test",))
    database = ds / "images" / "test" / "database"
    assert (
        vgssl_train(
            ["export", "--resize", "32", "64", "--out", str(root / "model.onnx"), "--parity-images", str(database)]
        )
        == 0
    )
    assert (
        vgssl_map(["build", "--model", str(root / "model.onnx"), "--images", str(database), "--out", str(root / "map")])
        == 0
    )
    images_to_bag(read_vpr_folder(ds / "images" / "test" / "queries"), root / "drive", rate_hz=2.0, storage="mcap")
    return {"model": root / "model.onnx", "map": root / "map", "bag": root / "drive", "root": root}
