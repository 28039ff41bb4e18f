"""`vgssl-train eval` on a dataset the test makes and on the real Nordland64 data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from test.conftest import REPO
from vgssl_train.cli import main


def test_eval_writes_json_with_recalls(vpr_dataset, tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = main(
        [
            "eval",
            "--dataset",
            str(vpr_dataset),
            "--split",
            "val",
            "--resize",
            "32",
            "64",
            "--weights",
            "imagenet",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    result = json.loads(out.read_text())
    assert set(result["recall"]) == {"1", "5", "10", "20"}
    assert result["queries"] == 12 and result["database"] == 12
    # Queries are noisy copies of the database images: ImageNet features find them.
    assert result["recall"]["1"] >= 75.0
    assert "R@1" in capsys.readouterr().out


def test_visualize_writes_a_grid_of_queries_and_top5_framed_by_correctness(vpr_dataset, tmp_path):
    import cv2
    import numpy as np

    png = tmp_path / "fig.png"
    assert (
        main(
            [
                "eval",
                "--dataset",
                str(vpr_dataset),
                "--split",
                "val",
                "--resize",
                "32",
                "64",
                "--weights",
                "imagenet",
                "--visualize",
                "3",
                "--figure",
                str(png),
            ]
        )
        == 0
    )
    img = cv2.imread(str(png))[:, :, ::-1]
    tile_h, tile_w = 64 + 8, 128 + 8
    assert img.shape == (3 * tile_h + 2 * 4, tile_w + 12 + 5 * tile_w, 3)
    frames = [img[r * (tile_h + 4) + 1, tile_w + 12 + c * tile_w + 1] for r in range(3) for c in range(5)]
    green = sum(np.array_equal(f, [0, 170, 0]) for f in frames)
    red = sum(np.array_equal(f, [210, 0, 0]) for f in frames)
    assert green + red == 15
    assert green >= 2  # R@1 is high on this dataset: most first columns are correct
    assert red >= 3  # only a few database images lie within 25 m, so most of the top 5 are wrong


def test_activation_maps_draw_each_query_and_its_positive_with_a_heat_map(vpr_dataset, tmp_path, capsys):
    import cv2
    import numpy as np

    png = tmp_path / "figs" / "fig.png"
    argv = ["eval", "--dataset", str(vpr_dataset), "--split", "val", "--resize", "64", "128", "--weights", "imagenet"]
    assert main([*argv, "--visualize", "3", "--activation-maps", "3", "--figure", str(png)]) == 0
    # --figure names the retrieval figure; the activation figure goes beside it.
    assert png.is_file() and "activation figure (3 queries" in capsys.readouterr().out
    img = cv2.imread(str(png.with_name("fig_activation.png")))[:, :, ::-1]
    tile_h, tile_w = 64 + 8, 128 + 8
    assert img.shape == (3 * tile_h + 2 * 4, 2 * tile_w + 12, 3)
    for r in range(3):
        top = r * (tile_h + 4)
        assert np.array_equal(img[top + 1, 1], [128, 128, 128])  # the query, framed grey
        assert np.array_equal(img[top + 1, tile_w + 12 + 1], [0, 170, 0])  # its positive (same place), green
        inside = img[top + 4 : top + 4 + 64, 4 : 4 + 128].astype(int)
        # A JET overlay: the heat map's hot (red) and cold (blue) ends both show in every query tile.
        assert (inside[..., 0] - inside[..., 2]).max() > 60 and (inside[..., 2] - inside[..., 0]).max() > 60
    assert sorted(f.name for f in png.parent.iterdir()) == ["fig.png", "fig_activation.png"]  # no temporaries


def test_figures_are_written_atomically(tmp_path, monkeypatch):
    import cv2
    import numpy as np

    from vgssl_train.evaluation.figures import write_png

    path = tmp_path / "fig.png"
    old = np.zeros((4, 6, 3), np.uint8)
    write_png(path, old)
    real_write = Path.write_bytes

    def write_half_then_fail(self, data):
        real_write(self, data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_png(path, np.full((8, 8, 3), 200, np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]  # no half-written file, no temporary left
    assert np.array_equal(cv2.imread(str(path)), old)  # the previous figure, whole


@pytest.mark.slow
def test_module_and_script_are_the_same_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "vgssl_train", "eval", "--help"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "--dataset" in proc.stdout and "--aggregation" in proc.stdout


def test_eval_bad_dataset_is_one_clear_error(tmp_path, capsys):
    rc = main(["eval", "--dataset", str(tmp_path / "missing")])
    assert rc == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_imagenet_beats_random_on_nordland(nordland, tmp_path):
    recalls = {}
    for weights in ("imagenet", "none"):
        out = tmp_path / f"{weights}.json"
        assert (
            main(
                [
                    "eval",
                    "--dataset",
                    str(nordland),
                    "--split",
                    "test",
                    "--resize",
                    "64",
                    "128",
                    "--weights",
                    weights,
                    "--json",
                    str(out),
                ]
            )
            == 0
        )
        recalls[weights] = json.loads(out.read_text())["recall"]
    assert recalls["imagenet"]["10"] >= 3 * max(recalls["none"]["10"], 1.0)
    assert recalls["imagenet"]["1"] > recalls["none"]["1"]
