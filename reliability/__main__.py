"""`python -m reliability [CAMPAIGN ...] [--quick] [--seed N]`: run campaigns, print the table, exit 1 on a failure."""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

from reliability.campaign import CampaignResult, table

CAMPAIGNS: dict[str, str] = {
    "soak": "reliability.soak",
    "soak-30hz": "reliability.soak_30hz",
    "fuzz-node": "reliability.fuzz_node",
    "fuzz-files": "reliability.fuzz_files",
    "kill": "reliability.kill",
    "kill-train": "reliability.kill_train",
    "dds-faults": "reliability.dds_faults",
    "security": "reliability.security",
}
"""Campaign name -> module; each module has ``run(seed: int, quick: bool, work: Path) -> CampaignResult``."""


def run_campaign(name: str, seed: int, quick: bool, work: Path) -> CampaignResult:
    """Run one campaign by name (ValueError for an unknown name, with the valid ones)."""
    if name not in CAMPAIGNS:
        raise ValueError(f"unknown campaign {name!r}; valid: {', '.join(CAMPAIGNS)}")
    module = importlib.import_module(CAMPAIGNS[name])
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    result: CampaignResult = module.run(seed=seed, quick=quick, work=work)
    result.seconds = time.monotonic() - t0
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the named campaigns (default: all) and print their table."""
    p = argparse.ArgumentParser(prog="python -m reliability", description=__doc__.splitlines()[0])
    p.add_argument("campaigns", nargs="*", metavar="CAMPAIGN", help=f"any of {', '.join(CAMPAIGNS)} (default: all)")
    p.add_argument("--quick", action="store_true", help="the small, fast version each test runs")
    p.add_argument("--seed", type=int, default=0, help="seed of every generator (replays a run exactly)")
    p.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed afterwards)")
    args = p.parse_args(argv)
    names = args.campaigns or list(CAMPAIGNS)
    unknown = [n for n in names if n not in CAMPAIGNS]
    if unknown:
        p.error(f"unknown campaign {', '.join(unknown)}; valid: {', '.join(CAMPAIGNS)}")
    results = []
    with tempfile.TemporaryDirectory(prefix="vgssl-reliability-") as tmp:
        work = args.work or Path(tmp)
        for name in names:
            print(f"reliability: {name} (seed {args.seed}{', quick' if args.quick else ''}) ...", flush=True)
            results.append(run_campaign(name, args.seed, args.quick, work / name))
    print(table(results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
