"""Benchmark: `vgssl-sim` render speed at 320x240 on one core, per condition (target >= 20 frames/s).

Run: .venv/bin/python benchmarks/sim_render.py [--frames 200] [--repeats 5]
Prints, per condition, the median over repeats of frames per second along the default world's route
(textures warm: each condition renders the frames once before timing).
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from vgssl_ros.sim import CONDITIONS, Camera, Renderer, WorldSpec, build_world
from vgssl_ros.sim.trajectory import camera_poses


def main() -> None:
    """Time rendering along the route for every condition."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="frames per timing (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="timings per condition (default: %(default)s)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    world = build_world(WorldSpec())
    s = np.linspace(0.0, world.length_m, args.frames)
    print(f"world: {world.length_m:.0f} m route, {len(world.p0)} buildings; 320x240, one OpenCV thread")
    print(f"{'condition':<10} {'median fps':>10} {'ms/frame':>9}")
    for name, condition in CONDITIONS.items():
        xy, heading = camera_poses(world, s, condition, np.random.default_rng(0), smooth=20.0)
        renderer = Renderer(world, condition, Camera(width=320, height=240))
        rng = np.random.default_rng(0)
        for k in range(len(s)):
            renderer.render(xy[k], heading[k], rng)
        fps = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for k in range(len(s)):
                renderer.render(xy[k], heading[k], rng)
            fps.append(len(s) / (time.perf_counter() - t0))
        med = float(np.median(fps))
        print(f"{name:<10} {med:10.1f} {1000.0 / med:9.2f}")


if __name__ == "__main__":
    main()
