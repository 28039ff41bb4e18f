"""Fuzz the node: malformed Image and CompressedImage messages (reliability/malformed.py) over DDS to the real node.

Per kind (Image, then CompressedImage: a node takes one of them), a fresh localizer process (reliable image QoS,
diagnostics at 20 Hz) gets the generator's cases in index order. Before each message the node must answer (a valid
case, and a valid 64x64 frame after every EVERY cases), the campaign waits until /diagnostics has caught up with
everything sent (received = sent = processed + dropped + decode_errors + inference_errors), so the newest-frame slot
never drops it; then it waits for that message's ~/fix. Pass: the node never dies and never prints a traceback;
every valid message is answered; no message is an inference error (a bad one is a decode error, or dropped when
the next one came first); decode errors never exceed the malformed messages sent; the bad-image warnings stay
throttled (about one a second); RSS grows by less than RSS_LIMIT_MIB after the first block.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from reliability.campaign import CampaignResult
from reliability.malformed import Case, between, case
from reliability.node_process import CameraClient, NodeProcess, compressed_msg, domain_for, image_msg, tiny_assets

FULL_CASES, QUICK_CASES = 5_000, 40
"""Cases per kind (Image and CompressedImage): 10,000 messages and 500 valid frames between them in the full run."""
EVERY = 20
ANSWER_S, CATCH_UP_S = 5.0, 5.0
RSS_LIMIT_MIB = 50.0
SETTLE_S = 0.6


def to_msg(c: Case) -> Any:
    """The sensor_msgs message of case ``c``."""
    if c.kind == "compressed":
        return compressed_msg(c.data, (c.sec, c.nanosec), c.format)
    from sensor_msgs.msg import Image

    msg = Image(height=c.height, width=c.width, encoding=c.encoding, is_bigendian=c.is_bigendian, step=c.step)
    msg.data = c.data
    msg.header.stamp.sec, msg.header.stamp.nanosec = c.sec, c.nanosec
    msg.header.frame_id = "camera"
    return msg


def valid_frame(kind: str, stamp: tuple[int, int], rgb: np.ndarray, jpeg: bytes) -> Any:
    """The valid frame sent after every EVERY cases."""
    return compressed_msg(jpeg, stamp, "jpeg") if kind == "compressed" else image_msg(rgb, stamp)


def run(seed: int, quick: bool, work: Path) -> CampaignResult:
    """QUICK_CASES (FULL_CASES) cases of each kind through a fresh node, judged as the module says."""
    import cv2

    result = CampaignResult("fuzz-node", seed)
    rgb = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    jpeg = cv2.imencode(".jpg", rgb[..., ::-1])[1].tobytes()
    for kind in ("image", "compressed"):
        _kind(kind, QUICK_CASES if quick else FULL_CASES, seed, work, rgb, jpeg, result)
    return result


def _counts(client: CameraClient) -> dict[str, int]:
    return {k: int(v) for k, v in client.counters().items() if k in _KEYS}


_KEYS = ("received", "processed", "dropped", "decode_errors", "inference_errors")


class _Tally:
    """What the middleware did not deliver so far (``received`` should reach ``sent - undelivered``), and since when
    ``received`` has stood still."""

    def __init__(self) -> None:
        self.undelivered = 0
        self.received = -1
        self.since = time.monotonic()


def _caught_up(client: CameraClient, sent: int, tally: _Tally) -> bool:
    """Everything delivered was handled (received = processed + dropped + errors) and received = sent minus what
    the middleware did not deliver. When received falls short and stands still for SETTLE_S, the missing messages
    (huge ones, say) are counted in ``tally`` so later checks need no wait. Never sleeps: poll it."""
    n = _counts(client)
    received = n.get("received", -1)
    if received != tally.received:
        tally.received, tally.since = received, time.monotonic()
    handled = n.get("processed", 0) + n.get("dropped", 0) + n.get("decode_errors", 0) + n.get("inference_errors", 0)
    if handled != received:
        return False
    if received == sent - tally.undelivered:
        return True
    if time.monotonic() - tally.since < SETTLE_S:
        return False
    tally.undelivered = sent - received
    return True


def _kind(kind: str, count: int, seed: int, work: Path, rgb: np.ndarray, jpeg: bytes, result: CampaignResult) -> None:
    model, geo_map = tiny_assets(work / "assets")
    params = {"compressed": "true" if kind == "compressed" else "false", "diagnostics_period_s": "0.05"}
    node = NodeProcess.start(work, model, geo_map, domain_for("fuzz-node-" + kind), params)
    client = CameraClient(node.domain)
    sent = malformed = 0
    tally = _Tally()
    rss_first: float | None = None
    t0 = time.monotonic()
    try:
        client.wait_ready(node)
        for i in range(count):
            c = case(seed, i, kind)
            if c.valid and not _answered(
                client, node, to_msg(c), (c.sec, c.nanosec), sent, tally, c.describe(), result
            ):
                break
            if not c.valid:
                client.publish(to_msg(c))
                malformed += 1
            sent += 1
            result.trials += 1
            if (i + 1) % EVERY == 0:
                frame = valid_frame(kind, between(i), rgb, jpeg)
                if not _answered(
                    client, node, frame, between(i), sent, tally, f"the valid frame after case {i}", result
                ):
                    break
                sent += 1
                rss_first = node.rss_mib() if rss_first is None else rss_first
        if node.alive() and not client.wait_for(lambda: _caught_up(client, sent, tally), CATCH_UP_S):
            result.fail(f"{kind}: counters do not account for {sent} messages: {client.counters()}")
        _judge(kind, node, client, sent, malformed, rss_first, time.monotonic() - t0, result)
    finally:
        client.close()
        node.stop()


def _answered(
    client: CameraClient,
    node: NodeProcess,
    msg: Any,
    stamp: tuple[int, int],
    sent: int,
    tally: _Tally,
    what: str,
    r: CampaignResult,
) -> bool:
    """Send ``msg`` once the node has caught up and wait for its ~/fix; False when the node died."""
    if not client.wait_for(lambda: _caught_up(client, sent, tally) or not node.alive(), CATCH_UP_S):
        r.fail(f"before {what}: the node did not catch up with {sent} messages: {client.counters()}")
    client.publish(msg)
    if not client.wait_for(lambda: client.has_fix(stamp) or not node.alive(), ANSWER_S):
        r.fail(f"{what}: not answered within {ANSWER_S:.0f} s ({client.counters()})")
    if not node.alive():
        r.fail(f"the node died (exit {node.proc.returncode}) at {what}: {node.output()[-600:]}")
        return False
    return True


def _judge(
    kind: str,
    node: NodeProcess,
    client: CameraClient,
    sent: int,
    malformed: int,
    rss_first: float | None,
    seconds: float,
    result: CampaignResult,
) -> None:
    n = _counts(client)
    log = node.output()
    warnings = log.count("bad image skipped") + log.count("frame failed")
    growth = node.rss_mib() - rss_first if rss_first is not None and node.alive() else float("nan")
    result.figures.update(
        {
            f"{kind}_malformed": malformed,
            f"{kind}_undelivered": sent - n.get("received", 0),
            f"{kind}_decode_errors": n.get("decode_errors", -1),
            f"{kind}_dropped": n.get("dropped", -1),
            f"{kind}_inference_errors": n.get("inference_errors", -1),
            f"{kind}_warnings": warnings,
            f"{kind}_rss_growth_mib": round(growth, 2),
            f"{kind}_seconds": round(seconds, 1),
        }
    )
    if "Traceback" in log:
        result.fail(f"{kind}: the node printed a traceback: {log[log.index('Traceback') :][:600]}")
    if n.get("inference_errors", 0):
        result.fail(f"{kind}: {n['inference_errors']} messages were inference errors, not decode errors")
    if n.get("decode_errors", 0) > malformed:
        result.fail(f"{kind}: {n['decode_errors']} decode errors for {malformed} malformed messages")
    if warnings > seconds + 5:
        result.fail(f"{kind}: {warnings} bad-image warnings in {seconds:.0f} s: not throttled")
    if growth >= RSS_LIMIT_MIB:
        result.fail(f"{kind}: RSS grew {growth:.1f} MiB (limit {RSS_LIMIT_MIB:.0f})")
