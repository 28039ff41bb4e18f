"""What a campaign reports, and the table that `python -m reliability` prints."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CampaignResult:
    """One campaign's outcome.

    trials: inputs tried (messages, files, kills, faults); failures: trials that broke a pass rule;
    figures: named measurements (e.g. "rss_growth_mib": 0.4); notes: one line per failure or remark, each
    saying what was tried (with its seed or index, so it can be replayed) and what happened.
    """

    name: str
    seed: int
    trials: int = 0
    failures: int = 0
    seconds: float = 0.0
    figures: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no trial failed."""
        return self.failures == 0

    def fail(self, note: str) -> None:
        """Count one failed trial and say what it was."""
        self.failures += 1
        self.notes.append(note)


def table(results: list[CampaignResult]) -> str:
    """A markdown table, one row per campaign, then every campaign's notes."""
    lines = [
        "| campaign | seed | trials | failures | seconds | figures | result |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        figures = ", ".join(f"{k} {v:.4g}" for k, v in r.figures.items()) or "-"
        verdict = "pass" if r.passed else "FAIL"
        lines.append(f"| {r.name} | {r.seed} | {r.trials} | {r.failures} | {r.seconds:.0f} | {figures} | {verdict} |")
    for r in results:
        lines += [f"- {r.name}: {note}" for note in r.notes]
    return "\n".join(lines)
