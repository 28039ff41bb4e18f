"""DDS faults: the camera publisher restarted, the localizer restarted, a second publisher, other traffic; sensor-data
(best-effort) QoS losing frames; the localizer restarted under `vgssl-eval --live` (reliability/live_restart.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reliability.campaign import CampaignResult
from reliability.live_restart import live_restart_rounds
from reliability.node_process import CameraClient, NodeProcess, domain_for, image_msg, tiny_assets

ANSWER_S = 5.0
"""How long a frame may wait for its ~/fix before it counts as unanswered."""


def _drive(client: CameraClient, rng: np.random.Generator, stamp0: int, frames: int) -> list[int]:
    """Publish ``frames`` small rgb8 frames one at a time; the indices that got no ~/fix within ANSWER_S."""
    missed = []
    for i in range(frames):
        stamp = (stamp0 + i, 0)
        client.publish(image_msg(rng.integers(0, 256, (48, 64, 3), np.uint8), stamp))
        if not client.wait_for(lambda s=stamp: s in client.fix_stamps(), ANSWER_S):  # type: ignore[misc]
            missed.append(i)
    return missed


def _counts(client: CameraClient) -> str:
    """The node's frame counters from the newest /diagnostics, for a failure note."""
    keys = ("received", "processed", "dropped", "decode_errors", "inference_errors")
    return ", ".join(f"{k}={client.counters().get(k, '?')}" for k in keys)


def run(seed: int, quick: bool, work: Path) -> CampaignResult:
    """Each fault a number of times (quick: once); after each, the node must answer the next frame."""
    result = CampaignResult("dds-faults", seed)
    rng = np.random.default_rng(seed)
    rounds, frames = (1, 3) if quick else (20, 10)
    model, geo_map = tiny_assets(work / "assets")
    domain = domain_for("dds-faults")
    node = NodeProcess.start(work, model, geo_map, domain)
    client = CameraClient(domain)
    stamp = 1_000_000
    try:
        client.wait_ready(node)

        def check(fault: str, clients: list[CameraClient]) -> None:
            nonlocal stamp
            for c in clients:
                result.trials += frames
                missed = _drive(c, rng, stamp, frames)
                stamp += frames
                if missed and missed[0] == 0:
                    result.fail(f"{fault} (seed {seed}, stamp {stamp}): first frame after it unanswered")
                elif missed:
                    result.fail(f"{fault} (seed {seed}): frames {missed} unanswered; node counters {_counts(c)}")

        faults: dict[str, Callable[[], list[CameraClient]]] = {}

        def restart_publisher() -> list[CameraClient]:
            nonlocal client
            client.close()
            client = CameraClient(domain)
            client.wait_ready(node)
            return [client]

        def restart_localizer() -> list[CameraClient]:
            nonlocal node
            node.stop()
            node = NodeProcess.start(work, model, geo_map, domain)
            client.wait_ready(node)
            return [client]

        def second_publisher() -> list[CameraClient]:
            other = CameraClient(domain)
            other.wait_ready(node)
            extra.append(other)
            return [client, other]

        def other_traffic() -> list[CameraClient]:
            from std_msgs.msg import String

            pub = client.node.create_publisher(String, "/chatter", 10)
            client.node.create_timer(0.001, lambda: pub.publish(String(data="x" * 1000)))
            return [client]

        extra: list[CameraClient] = []
        faults.update(
            {
                "publisher restarted": restart_publisher,
                "localizer restarted": restart_localizer,
                "second publisher": second_publisher,
                "other traffic": other_traffic,
            }
        )
        check("start", [client])
        for _ in range(rounds):
            for name, fault in faults.items():
                check(name, fault())
                for c in extra:
                    c.close()
                extra.clear()
        result.figures["faults"] = float(rounds * len(faults))
        result.figures["frames"] = float(result.trials)
    finally:
        client.close()
        node.stop()
    _best_effort_losses(rounds, frames, rng, work / "best_effort", result)
    live_restart_rounds(1 if quick else 5, seed, work / "live", result)
    return result


BURST = 40
"""640x480 frames published back to back in one loss burst."""


def _best_effort_losses(rounds: int, frames: int, rng: np.random.Generator, work: Path, result: CampaignResult) -> None:
    """The shipped sensor-data QoS (best effort) and the default DDS set-up, which loses raw 640x480 frames between
    processes (UDP fragments): BURST such frames back to back per round, then ``frames`` small frames one at a time.
    Pass: the node lives, /diagnostics accounts for every frame it received (received <= sent, received = processed
    + dropped + errors), and every small frame after a burst is answered (the node answers as soon as frames come
    through again)."""
    model, geo_map = tiny_assets(work / "assets")
    domain = domain_for("dds-faults-best-effort")
    node = NodeProcess.start(
        work, model, geo_map, domain, {"qos_reliability": "best_effort", "diagnostics_period_s": "0.05"}
    )
    client = CameraClient(domain)
    big = rng.integers(0, 256, (480, 640, 3), np.uint8)
    sent, stamp, lost = 0, 2_000_000, []
    try:
        client.wait_ready(node)
        for r in range(rounds):
            for _ in range(BURST):
                client.publish(image_msg(big, (stamp, 0)))
                stamp, sent = stamp + 1, sent + 1
            missed = _drive(client, rng, stamp, frames)
            stamp, sent = stamp + frames, sent + frames
            result.trials += BURST + frames
            if missed:
                result.fail(
                    f"best effort, round {r}: small frames {missed} after a burst unanswered ({_counts(client)})"
                )
            time.sleep(0.3)  # a few /diagnostics periods: the counters include the last small frame
            n = {k: int(v) for k, v in client.counters().items() if k in _KEYS}
            handled = n["processed"] + n["dropped"] + n["decode_errors"] + n["inference_errors"]
            if n["received"] > sent or handled != n["received"]:
                result.fail(f"best effort, round {r}: counters do not add up for {sent} sent: {n}")
            lost.append(sent - n["received"])
        if not node.alive():
            result.fail(f"best effort: the node died: {node.output()[-400:]}")
        result.figures["best-effort frames lost by DDS"] = float(lost[-1]) if lost else 0.0
    finally:
        client.close()
        node.stop()


_KEYS = ("received", "processed", "dropped", "decode_errors", "inference_errors")
