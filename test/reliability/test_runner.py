"""The campaign runner: registry, unknown names, the table."""

from __future__ import annotations

import importlib.util

import pytest

from reliability.__main__ import CAMPAIGNS, main, run_campaign
from reliability.campaign import CampaignResult, table


def test_unknown_campaign_names_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="valid: soak"):
        run_campaign("nope", 0, True, tmp_path)


def test_cli_refuses_an_unknown_campaign(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["nope"])
    assert exc.value.code == 2
    assert "unknown campaign nope" in capsys.readouterr().err


def test_every_campaign_is_named_in_the_registry_and_its_module_exists():
    assert set(CAMPAIGNS) == {
        "soak",
        "soak-30hz",
        "fuzz-node",
        "fuzz-files",
        "kill",
        "kill-train",
        "dds-faults",
        "security",
    }
    assert all(importlib.util.find_spec(module) is not None for module in CAMPAIGNS.values())


def test_table_counts_failures_and_lists_notes():
    ok = CampaignResult("soak", 3, trials=10, figures={"rss_growth_mib": 0.25})
    bad = CampaignResult("kill", 3, trials=5)
    bad.fail("kill #2 at 1.3 s: partial file map_dir.tmp left")
    text = table([ok, bad])
    assert ok.passed and not bad.passed
    assert "| soak | 3 | 10 | 0 |" in text and "rss_growth_mib 0.25" in text and "| pass |" in text
    assert "| kill | 3 | 5 | 1 |" in text and "FAIL" in text
    assert "- kill: kill #2 at 1.3 s: partial file map_dir.tmp left" in text
