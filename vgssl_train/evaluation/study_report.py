"""The method study's report: training figures from a run's log.jsonl, and the Markdown results table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def training_figures(log_path: str | Path, batch_size: int, views_per_query: int) -> dict[str, float]:
    """Steps, images seen, images/s over step time, data-wait share (%), mining seconds, best val R@1 from a run log."""
    steps, step_s, wait_s, mining_s, val_r1 = 0, 0.0, 0.0, 0.0, None
    for line in Path(log_path).read_text().splitlines():
        record = json.loads(line)
        if "step_s" in record:
            steps, step_s, wait_s = steps + 1, step_s + record["step_s"], wait_s + record["data_wait_s"]
        if "val_R@1" in record:
            val_r1 = max(record["val_R@1"], val_r1 if val_r1 is not None else -1.0)
        elif record.get("event") == "mined":
            mining_s += record["seconds"]
    images = steps * batch_size * views_per_query
    return {
        "steps": steps,
        "images_seen": images,
        "images_per_s": images / step_s if step_s else 0.0,
        "data_wait_pct": 100.0 * wait_s / step_s if step_s else 0.0,
        "step_seconds": step_s,
        "mining_seconds": mining_s,
        "val_r1": val_r1,
    }


def _cell(row: dict[str, Any], key: str, fmt: str) -> str:
    return format(row[key], fmt) if row.get(key) is not None else "-"


def study_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table: method, test R@1/5/10, val R@1, training time, images/s, data wait, peak RSS, command."""
    lines = [
        "| method | R@1 | R@5 | R@10 | val R@1 | training time (s) | images/s | data wait | mining (s) "
        "| peak RSS (MiB) | command |",
        "| --- " * 11 + "|",
    ]
    for r in rows:
        recall = r["test_recall"]
        lines.append(
            f"| {r['method']} | {recall['1']:.1f} | {recall['5']:.1f} | {recall['10']:.1f} "
            f"| {_cell(r, 'val_r1', '.1f')} | {_cell(r, 'train_seconds', '.0f')} "
            f"| {_cell(r, 'images_per_s', '.1f')} | "
            f"{_cell(r, 'data_wait_pct', '.1f')}{' %' if r.get('data_wait_pct') is not None else ''} "
            f"| {_cell(r, 'mining_seconds', '.0f')} | {_cell(r, 'peak_rss_mib', '.0f')} "
            f"| `{r['command']}` |"
        )
    return "\n".join(lines) + "\n"
