"""The quick fuzz-files campaign: damaged maps, models, VPR names, CSV manifests and bags, all refused or harmless."""

from __future__ import annotations

import pytest

from reliability.__main__ import run_campaign


@pytest.mark.slow
def test_quick_fuzz_files_campaign_passes(tmp_path):
    result = run_campaign("fuzz-files", seed=0, quick=True, work=tmp_path)
    assert result.passed, "\n".join(result.notes)
    assert result.trials >= 100 and result.figures["refused"] > result.figures["accepted"] > 0
