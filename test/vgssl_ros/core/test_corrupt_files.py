"""Seeded mutation campaign over model.onnx and map folders: every damage is refused with one line (exit 2) by
`vgssl-map info` / `query`, Map.load, Embedder and Calibration.load, or answers stay correct; never a traceback."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from reliability.map_damage import Case, all_cases, make_assets, run_case

BROKE_BEFORE = [
    ("map.json format_version=0", "wrong"),
    ("map.json format_version=-7", "wrong"),
    ("map.json format_version=True", "wrong"),
    ("map.json model='x'", "traceback"),
    ("map.json model=[1]", "traceback"),
    ("map.json model={'backbone': {'nested': 1}}", "wrong"),
    ("map.json index={'type': 'flat'}", "traceback"),
    ("map.json index={'type': 'flat', 'params': 'x'}", "traceback"),
    ("map.json index={'type': 'lsh', 'params': {}}", "wrong"),
    ("map.json index.params={'nprobe': 'abc'}", "traceback"),
    ("map.json index.params={'nprobe': 4}", "traceback"),
    ("map.json index.params=[1]", "traceback"),
    ("map.json utm_zone={'number': 33.9, 'band': 'W'}", "wrong"),
    ("map.json utm_zone={'number': '33', 'band': 'W'}", "wrong"),
    ("map.json utm_origin=[nan, 7250000.0]", "wrong"),
    ("map.json utm_origin=[inf, 1.0]", "wrong"),
    ("map.json utm_origin=[1e+300, 1e+300]", "wrong"),
    ("map.json without index.params", "traceback"),
    ("hnsw efSearch=-1", "wrong"),
    ("hnsw efSearch=0", "wrong"),
    ("hnsw efSearch='abc'", "traceback"),
    ("hnsw efSearch=1000000000", "wrong"),
    ("hnsw efSearch=32.5", "wrong"),
    ("hnsw efSearch=None", "traceback"),
    ("hnsw index declared flat", "wrong"),
    ("map.json nested 100000 deep", "traceback"),
    ("map.json of 5 MB", "wrong"),
    ("index metric flipped to L2", "wrong"),
    ("index is_trained false", "wrong"),
    ("index NaN descriptor", "wrong"),
    ("index 4.96e27 descriptor", "wrong"),
    ("index descriptors x2", "wrong"),
    ("index 50 flipped bytes in data", "wrong"),
    ("index tag of another type", "wrong"),
    ("index of the hnsw map", "wrong"),
    ("places utm as strings", "traceback"),
    ("places ids as numbers", "wrong"),
    ("places utm NaN", "wrong"),
    ("places utm inf", "wrong"),
    ("places utm 1e300", "wrong"),
    ("places latlon NaN", "wrong"),
    ("places heading inf", "wrong"),
    ("places timestamp -inf", "wrong"),
    ("model input_height 0", "wrong"),
    ("model input_height -8", "wrong"),
    ("model input_height 100000", "wrong"),
    ("model input_width 9 (graph 8)", "wrong"),
    ("model descriptor_dim 15 (graph 16)", "wrong"),
    ("model descriptor_dim 1e9", "wrong"),
    ("model NaN weights", "wrong"),
    ("calibration format_version=0", "wrong"),
    ("calibration format_version=-7", "wrong"),
    ("calibration format_version=True", "wrong"),
    ("calibration single.covariance_scale=True", "wrong"),
    ("calibration single.covariance_scale='2'", "wrong"),
    ("calibration source=[1]", "wrong"),
    ("calibration nested", "traceback"),
]
"""The corpus of what broke before these checks (campaign seed 0 on the code of commit 6949fe7): 'traceback' (an
exception escaped `vgssl-map info/query`, Embedder or Calibration.load) or 'wrong' (accepted although damaged:
silent wrong answers or a failure at the first frame). Each is now refused with one line naming the field."""
CASES = {c.name: c for c in all_cases(seed=0)}


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model and two tiny maps (flat, hnsw) made by onnx.helper and write_map, in about a second."""
    return make_assets(tmp_path_factory.mktemp("corrupt") / "assets")


def test_undamaged_assets_answer_correctly(assets, tmp_path):
    outcome = run_case(Case("none", "none", lambda root: None, must_refuse=False), assets, tmp_path / "w")
    assert outcome.result == "accepted", outcome.message


def test_mutation_campaign(assets, tmp_path):
    cases = all_cases(seed=0)
    assert len(cases) >= 100
    outcomes = [run_case(case, assets, tmp_path / "w") for case in cases]
    table = Counter((o.case.kind, o.result) for o in outcomes)
    bad = [f"{o.case.name}: {o.result}: {o.message}" for o in outcomes if o.result in ("traceback", "wrong")]
    assert not bad, "\n".join(bad) + f"\n{dict(table)}"
    unexplained = [
        f"{o.case.name}: {o.message}"
        for o in outcomes
        if o.result == "refused" and o.case.expect and o.case.expect not in o.message
    ]
    assert not unexplained, "\n".join(unexplained)
    assert max(o.seconds for o in outcomes) < 10


@pytest.mark.parametrize("name,before", BROKE_BEFORE, ids=[name for name, _ in BROKE_BEFORE])
def test_what_broke_before_is_refused_naming_the_field(name, before, assets, tmp_path):
    case = CASES[name]
    outcome = run_case(case, assets, tmp_path / "w")
    assert outcome.result == "refused", f"{name} (was {before}): {outcome.result}: {outcome.message}"
    assert case.expect in outcome.message and (
        "rebuild" in outcome.message or "export" in outcome.message or "calibrate" in outcome.message
    )
