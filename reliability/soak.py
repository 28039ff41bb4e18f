"""Soak: the real localizer (filter on) fed 640x480 frames over DDS, one in flight, for tens of thousands of frames.

Two legs, each its own node process (a node takes raw Image or CompressedImage, set at start-up): raw frames cycling
through rgb8, bgr8, mono8 and rgba8, then CompressedImage cycling through JPEG and PNG; every frame has its own
stamp. DDS runs with the set-up README recommends (config/fastdds_large_images.xml, synchronous publishing), in the
node and in this process. The next frame goes out when the last one's ~/fix came back (the highest rate the node
takes without dropping).

Every FULL_SAMPLE (QUICK_SAMPLE) frames: the node's RSS, threads and open file descriptors from /proc, the window's
round-trip p50/p95, and /diagnostics once the node has caught up (received = frames sent = processed + dropped +
decode_errors + inference_errors). Pass: every frame answered; RSS after the first window (warm-up) grows < 5 MiB;
the last tenth's p50 within 10 % of the first tenth's (after warm-up); threads and fds end where they were after
warm-up; the counters add up at every sample. The model is the tiny 8x8 one (reliability/map_damage.py): the soak
is about the node, DDS and memory, not inference speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from reliability.campaign import CampaignResult
from reliability.node_process import CameraClient, NodeProcess, compressed_msg, domain_for, image_msg, tiny_assets

LEGS = {"raw": ("rgb8", "bgr8", "mono8", "rgba8"), "compressed": ("jpeg", "png")}
"""Leg -> the frame kinds it cycles through (frame_kinds names)."""
FULL_FRAMES = {"raw": 40_000, "compressed": 10_000}
QUICK_FRAMES = {"raw": 200, "compressed": 100}
FULL_SAMPLE, QUICK_SAMPLE = 1_000, 50
RSS_GROWTH_MIB, DRIFT = 5.0, 0.10
ANSWER_TIMEOUT_S = 10.0


def frame_kinds(seed: int) -> dict[str, Callable[[tuple[int, int]], Any]]:
    """(name, message factory stamp -> msg) for each frame kind, from one seeded 640x480 view."""
    rgb = np.random.default_rng(seed).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    rgb = cv2.GaussianBlur(rgb, (9, 9), 3)  # camera-like: compresses like a photo
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    rgba = cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA)
    jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes()
    bgr = rgb[..., ::-1].copy()
    return {
        "rgb8": lambda s: image_msg(rgb, s),
        "bgr8": lambda s: image_msg(bgr, s, encoding="bgr8"),
        "mono8": lambda s: image_msg(rgb, s, encoding="mono8", step=640, data=gray.tobytes()),
        "rgba8": lambda s: image_msg(rgb, s, encoding="rgba8", step=640 * 4, data=rgba.tobytes()),
        "jpeg": lambda s: compressed_msg(jpeg, s, "jpeg"),
        "png": lambda s: compressed_msg(png, s, "png"),
    }


def counters_add_up(counters: dict[str, str], sent: int) -> str | None:
    """None when /diagnostics says every frame sent was received and accounted for; else what is off."""
    n = {
        k: int(counters.get(k, "-1")) for k in ("received", "processed", "dropped", "decode_errors", "inference_errors")
    }
    handled = n["processed"] + n["dropped"] + n["decode_errors"] + n["inference_errors"]
    if n["received"] != sent or handled != n["received"]:
        return f"sent {sent}, counters {n} (processed + dropped + errors = {handled})"
    return None


def run(seed: int, quick: bool, work: Path) -> CampaignResult:
    """Both legs: FULL_FRAMES (QUICK_FRAMES) frames each; memory, latency, threads, fds and counters judged per leg."""
    result = CampaignResult("soak", seed)
    for leg, count in (QUICK_FRAMES if quick else FULL_FRAMES).items():
        soak_leg(leg, count, QUICK_SAMPLE if quick else FULL_SAMPLE, seed, work, result)
    return result


def soak_leg(
    leg: str, frames: int, every: int, seed: int, work: Path, result: CampaignResult, rate_hz: float | None = None
) -> None:
    """One node process fed ``frames`` frames of the leg's kinds, sampled every ``every`` frames; one in flight, or
    paced at ``rate_hz`` (frame i goes out at i / rate_hz s, like a camera; an answer still comes before the next)."""
    model, geo_map = tiny_assets(work / "assets")
    params = {"compressed": "true" if leg == "compressed" else "false"}
    node = NodeProcess.start(work, model, geo_map, domain_for("soak-" + leg), params, large_images=True)
    client = CameraClient(node.domain, large_images=True)
    all_kinds = frame_kinds(seed)
    kinds = [(name, all_kinds[name]) for name in LEGS[leg]]
    samples: list[dict[str, float]] = []
    latencies: list[float] = []
    try:
        client.wait_ready(node)
        t0 = time.monotonic()
        for i in range(frames):
            if rate_hz:
                time.sleep(max(0.0, t0 + i / rate_hz - time.monotonic()))
            name, make = kinds[i % len(kinds)]
            stamp = (1_000 + i // 10, (i % 10) * 100_000_000)
            start = time.monotonic()
            client.publish(make(stamp))
            if not client.wait_for(lambda stamp=stamp: client.has_fix(stamp), ANSWER_TIMEOUT_S):
                result.fail(f"{leg} frame {i} ({name}) not answered within {ANSWER_TIMEOUT_S:.0f} s")
                if not node.alive():
                    result.fail(f"{leg}: the node died (exit {node.proc.returncode}): {node.output()[-500:]}")
                    break
                continue
            latencies.append((time.monotonic() - start) * 1e3)
            result.trials += 1
            if (i + 1) % every == 0:
                samples.append(_sample(node, client, i + 1, latencies[-every:], result))
        _judge(leg, samples, latencies, result, judge_drift=every >= FULL_SAMPLE)
    finally:
        client.close()
        node.stop()


def _sample(
    node: NodeProcess, client: CameraClient, sent: int, window: list[float], result: CampaignResult
) -> dict[str, float]:
    """Process figures now, and the counters once /diagnostics has caught up with ``sent`` frames."""
    caught_up = client.wait_for(lambda: counters_add_up(client.counters(), sent) is None, 5.0)
    if not caught_up:
        result.fail(f"after {sent} frames: {counters_add_up(client.counters(), sent)}")
    return {
        "frames": sent,
        "rss_mib": node.rss_mib(),
        "threads": node.threads(),
        "fds": node.fds(),
        "p50_ms": float(np.percentile(window, 50)) if window else float("nan"),
        "p95_ms": float(np.percentile(window, 95)) if window else float("nan"),
    }


def _judge(
    leg: str, samples: list[dict[str, float]], latencies: list[float], result: CampaignResult, judge_drift: bool
) -> None:
    """Memory growth after warm-up, latency drift (``judge_drift``: the quick run's tenths are a few frames, which a
    busy machine moves by tens of percent, so it only reports it), thread and fd leaks; figures into ``result``."""
    if len(samples) < 2:
        result.fail(f"{leg}: only {len(samples)} samples, too short to judge")
        return
    warm, last = samples[0], samples[-1]
    growth = last["rss_mib"] - warm["rss_mib"]
    peak = max(s["rss_mib"] for s in samples) - warm["rss_mib"]
    body = latencies[len(latencies) // 10 :]  # after the first tenth (warm-up)
    tenth = max(1, len(body) // 10)
    first, final = float(np.median(body[:tenth])), float(np.median(body[-tenth:]))
    drift = final / first - 1.0
    figures = {
        "frames": samples[-1]["frames"],
        "samples": len(samples),
        "rss_warm_mib": round(warm["rss_mib"], 1),
        "rss_growth_mib": round(growth, 2),
        "rss_peak_growth_mib": round(peak, 2),
        "p50_first_ms": round(first, 2),
        "p50_last_ms": round(final, 2),
        "p95_ms": round(float(np.percentile(latencies, 95)), 2),
        "drift_pct": round(100 * drift, 1),
        "threads_growth": last["threads"] - warm["threads"],
        "fds_growth": last["fds"] - warm["fds"],
    }
    result.figures.update({f"{leg}_{k}": v for k, v in figures.items()})
    if growth >= RSS_GROWTH_MIB:
        result.fail(f"{leg}: RSS grew {growth:.2f} MiB after warm-up (limit {RSS_GROWTH_MIB})")
    if judge_drift and abs(drift) > DRIFT:
        result.fail(f"{leg}: latency p50 drifted {100 * drift:+.1f} % ({first:.2f} -> {final:.2f} ms; limit 10 %)")
    if last["threads"] > warm["threads"] or last["fds"] > warm["fds"]:
        result.fail(
            f"{leg}: threads {warm['threads']:.0f}->{last['threads']:.0f}, fds {warm['fds']:.0f}->{last['fds']:.0f}"
        )
