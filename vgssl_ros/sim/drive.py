"""A simulated drive: the camera at a steady speed along the route, GNSS with realistic noise, as a bag."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vgssl_ros.bags import DriveBagWriter, DriveTopics
from vgssl_ros.geo import utm_to_latlon
from vgssl_ros.sim.camera import Camera
from vgssl_ros.sim.conditions import get_condition
from vgssl_ros.sim.render import Renderer
from vgssl_ros.sim.trajectory import camera_poses
from vgssl_ros.sim.world import World

GROUND_TRUTH_TOPIC = "/ground_truth/fix"
ALTITUDE_M = 245.0


@dataclass(frozen=True)
class DriveSpec:
    """How a drive is recorded: speed, sensor rates, GNSS noise, start time and bag layout."""

    condition: str = "dusk"
    speed_mps: float = 8.0
    camera_hz: float = 10.0
    gnss_hz: float = 5.0
    gnss_sigma_m: float = 2.0
    gnss_tau_s: float = 20.0
    start_ns: int = 1_717_243_200 * 1_000_000_000
    camera_latency_ns: int = 15_000_000
    gnss_latency_ns: int = 40_000_000
    storage: str = "sqlite3"
    compressed: bool = False
    encoding: str = "rgb8"
    ground_truth: bool = True
    seed: int = 0
    stops: tuple[tuple[float, float], ...] = ()
    """(metres into the stretch, seconds) where the vehicle stands still, as at a traffic light."""


def gnss_noise(n: int, dt_s: float, sigma_m: float, tau_s: float, rng: np.random.Generator) -> np.ndarray:
    """Stationary first-order Gauss-Markov error [n, 3] (east, north, up; up twice ``sigma_m``), correlated
    over ``tau_s``."""
    a = float(np.exp(-dt_s / tau_s))
    sig = sigma_m * np.array([1.0, 1.0, 2.0])
    out = np.empty((n, 3))
    e = rng.normal(0.0, 1.0, 3) * sig
    for k in range(n):
        out[k] = e
        e = a * e + np.sqrt(1 - a * a) * rng.normal(0.0, 1.0, 3) * sig
    return out


def drive_profile(
    length_m: float, speed_mps: float, stops: tuple[tuple[float, float], ...], camera_hz: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Camera times [T] s, distances along the stretch [T] m (constant speed, standing at each stop), duration s."""
    knots_t, knots_s, t = [0.0], [0.0], 0.0
    for at_m, seconds in sorted(stops):
        if not (0 <= at_m < length_m and seconds > 0):
            raise ValueError(
                f"stop ({at_m} m, {seconds} s) is not within the {length_m:.0f} m stretch "
                f"or does not last: give 0 <= metres < stretch length and seconds > 0"
            )
        t += (at_m - knots_s[-1]) / speed_mps
        knots_t += [t, t + seconds]
        knots_s += [at_m, at_m]
        t += seconds
    knots_t.append(t + (length_m - knots_s[-1]) / speed_mps)
    knots_s.append(length_m)
    t_cam = np.arange(0.0, knots_t[-1], 1.0 / camera_hz)
    return t_cam, np.interp(t_cam, knots_t, knots_s), knots_t[-1]


def write_drive(
    world: World, out: str | Path, s_range: tuple[float, float], spec: DriveSpec, camera: Camera = Camera()
) -> dict[str, int]:
    """Drive ``world``'s route from ``s_range[0]`` to ``s_range[1]`` metres under ``spec.condition``
    and write the bag ``out`` (complete or absent). Returns message counts per topic."""
    condition = get_condition(spec.condition)
    if spec.speed_mps <= 0 or spec.camera_hz <= 0 or spec.gnss_hz <= 0 or spec.gnss_sigma_m < 0:
        raise ValueError("speed, camera and GNSS rates must be positive and the GNSS sigma non-negative")
    if s_range[1] <= s_range[0]:
        raise ValueError(f"empty route stretch {s_range}")
    rng = np.random.default_rng([world.spec.seed, 4, spec.seed])
    t_cam, along, duration = drive_profile(s_range[1] - s_range[0], spec.speed_mps, spec.stops, spec.camera_hz)
    xy, heading = camera_poses(world, s_range[0] + along, condition, rng, smooth=2.0 * spec.camera_hz)
    for k in np.flatnonzero(np.diff(along) <= 0) + 1:  # standing: the camera keeps the pose it stopped with
        xy[k], heading[k] = xy[k - 1], heading[k - 1]
    t_fix = np.arange(0.0, duration, 1.0 / spec.gnss_hz)
    true_fix = np.stack([np.interp(t_fix, t_cam, xy[:, k]) for k in range(2)], axis=1)
    err = gnss_noise(len(t_fix), 1.0 / spec.gnss_hz, spec.gnss_sigma_m, spec.gnss_tau_s, rng)
    noisy_latlon = utm_to_latlon(world.to_utm(true_fix + err[:, :2]), world.zone)
    true_latlon = utm_to_latlon(world.to_utm(xy), world.zone)
    variance = (spec.gnss_sigma_m**2, spec.gnss_sigma_m**2, (2 * spec.gnss_sigma_m) ** 2)
    # Events in bag-time order: (receive_ns, kind, index).
    cam_ns = spec.start_ns + np.round(t_cam * 1e9).astype(np.int64)
    fix_ns = spec.start_ns + np.round(t_fix * 1e9).astype(np.int64)
    events = sorted(
        [(int(ns) + spec.camera_latency_ns, 0, k) for k, ns in enumerate(cam_ns)]
        + [(int(ns) + spec.gnss_latency_ns, 1, k) for k, ns in enumerate(fix_ns)]
    )
    renderer = Renderer(world, condition, camera)
    topics = DriveTopics(compressed="/camera/image_raw/compressed" if spec.compressed else None)
    with DriveBagWriter(out, spec.storage, topics, encoding=spec.encoding) as bag:
        for receive_ns, kind, k in events:
            if kind == 0:
                rgb = renderer.render(xy[k], heading[k], np.random.default_rng([world.spec.seed, 5, spec.seed, k]))
                bag.write_image(int(cam_ns[k]), rgb, receive_ns)
                if spec.ground_truth:
                    bag.write_fix(
                        int(cam_ns[k]),
                        *true_latlon[k],
                        ALTITUDE_M,
                        (1e-4, 1e-4, 1e-4),
                        receive_ns=receive_ns,
                        topic=GROUND_TRUTH_TOPIC,
                        frame_id=topics.camera_frame,
                    )
            else:
                bag.write_fix(int(fix_ns[k]), *noisy_latlon[k], ALTITUDE_M + err[k, 2], variance, receive_ns)
    return dict(bag.counts)
