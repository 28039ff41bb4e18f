"""`vgssl-train study` on a dataset the test makes: budget in images seen, results, figures, continuation."""

from __future__ import annotations

import json

import cv2
import pytest

from vgssl_train.cli import main
from vgssl_train.commands.study import OFF_THE_SHELF, method_plan


def test_budget_is_images_seen_so_methods_with_fewer_views_run_more_steps():
    simclr = method_plan("simclr", 1000, [32, 64], 8, preset=False)  # query, positive, 2 views of 1 negative
    byol = method_plan("byol", 1000, [32, 64], 8, preset=False)  # query, positive
    triplet = method_plan("triplet", 1000, [32, 64], 8, preset=False)  # query, positive, 2 negatives
    assert (simclr["views_per_query"], byol["views_per_query"], triplet["views_per_query"]) == (4, 2, 4)
    assert (simclr["steps"], byol["steps"], triplet["steps"]) == (32, 63, 32)
    paper = method_plan("simclr", 1000, [32, 64], 8, preset=True)
    assert paper["resize"] == [480, 640] and paper["batch_size"] == 64 and paper["steps"] == 4


@pytest.mark.slow
def test_study_trains_scores_and_draws_each_method_then_continues(vpr_dataset, tmp_path, capsys):
    out = tmp_path / "study"
    argv = [
        "study",
        "--dataset",
        str(vpr_dataset),
        "--out",
        str(out),
        "--methods",
        "byol",
        "triplet",
        "--images",
        "24",
        "--resize",
        "32",
        "64",
        "--batch-size",
        "4",
        "--visualize",
        "2",
    ]
    assert main(argv) == 0
    rows = json.loads((out / "study.json").read_text())["rows"]
    assert [r["method"] for r in rows] == [OFF_THE_SHELF, "byol", "triplet"]
    byol, triplet = rows[1], rows[2]
    assert (byol["steps"], byol["images_seen"]) == (3, 24)  # 4 queries x 2 images per step
    assert (triplet["steps"], triplet["images_seen"]) == (2, 32)  # 4 queries x 4 images, rounded up to a step
    assert triplet["mining_seconds"] > byol["mining_seconds"]  # full mining embeds; random pairs do not
    for r in (byol, triplet):
        assert r["images_per_s"] > 0 and 0 <= r["data_wait_pct"] < 100 and r["peak_rss_mib"] > 100
        assert r["val_r1"] is not None and set(r["test_recall"]) == {"1", "5", "10", "20"}
        assert r["command"].startswith(f"vgssl-train train --method {r['method']} ")
    for name in ("off_the_shelf", "byol", "triplet"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 0
    # One activation figure per model, all with the same layout (the same 2 queries and their positives).
    for name in ("off_the_shelf", "byol", "triplet"):
        assert cv2.imread(str(out / "figures" / f"{name}_activation.png")).shape == (2 * 72 + 4, 2 * 136 + 12, 3)
    table = (out / "study.md").read_text().splitlines()
    assert len(table) == 2 + 3 and table[3].startswith("| byol | ")
    capsys.readouterr()
    assert main(argv) == 0  # everything is done: nothing runs again
    assert "test R@1" not in capsys.readouterr().out
    # Stopped after triplet's training but before its result was saved: the rerun resumes its run (no error
    # about a run already in the folder), scores it again and gets the same result.
    saved = json.loads((out / "study.json").read_text())
    (out / "study.json").write_text(json.dumps({**saved, "rows": saved["rows"][:2]}))
    assert main(argv) == 0
    again = json.loads((out / "study.json").read_text())["rows"]
    assert [r["method"] for r in again] == [OFF_THE_SHELF, "byol", "triplet"]
    assert again[2]["test_recall"] == triplet["test_recall"] and again[2]["steps"] == triplet["steps"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".") or ".tmp" in p.name]
