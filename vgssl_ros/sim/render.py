"""Rendering: facade textures warped by plane homographies onto a sky/road background, far to near."""

from __future__ import annotations

import cv2
import numpy as np

from vgssl_ros.sim.camera import Camera
from vgssl_ros.sim.conditions import Condition
from vgssl_ros.sim.world import World

NEAR_M = 0.5
LEVELS = 4


class Renderer:
    """Renders ``world`` under ``condition`` through ``camera``; facade textures are cached per level."""

    def __init__(self, world: World, condition: Condition, camera: Camera = Camera(), max_range_m: float = 160.0):
        self.world, self.condition, self.camera, self.max_range_m = world, condition, camera, max_range_m
        self._levels: dict[int, list[np.ndarray]] = {}
        self._background = self._make_background()

    def _make_background(self) -> np.ndarray:
        """Sky gradient above the horizon, road below, fogged by distance: [H, W, 3] float32."""
        cam, c = self.camera, self.condition
        rows = np.arange(cam.height, dtype=np.float32) + 0.5 - cam.height / 2
        sky_t = np.clip(-rows / (cam.height / 2), 0, 1)[:, None]
        sky = np.array(c.sky_horizon) * (1 - sky_t) + np.array(c.sky_top) * sky_t
        dist = np.where(rows > 0, cam.mount_m * cam.focal / np.maximum(rows, 1e-3), np.inf)[:, None]
        shade = np.clip(0.75 + 0.25 * np.minimum(dist, 60) / 60, 0, 1)
        ground = np.array(c.ground) * shade
        if c.fog_m > 0:
            fog = 1 - np.exp(-dist / c.fog_m)
            ground = ground * (1 - fog) + np.array(c.fog) * fog
        col = np.where(rows[:, None] > 0, ground, sky).astype(np.float32)
        return np.repeat(col[:, None, :], cam.width, axis=1)

    def _texture_levels(self, i: int) -> list[np.ndarray]:
        """Facade ``i`` under this condition, as a pyramid of uint8 RGB images (level 0 full size)."""
        if i not in self._levels:
            tex, c = self.world.texture(i), self.condition
            base = tex.bare if c.bare_trees else tex.day
            img = base.astype(np.float32) * (c.light * np.array(c.tint, np.float32))
            if c.glow:
                img += c.glow * tex.lit.astype(np.float32)
            if c.saturation != 1.0:
                grey = img.mean(axis=2, keepdims=True)
                img = grey + c.saturation * (img - grey)
            levels = [np.clip(img, 0, 255).astype(np.uint8)]
            while len(levels) < LEVELS and min(levels[-1].shape[:2]) >= 8:
                levels.append(cv2.pyrDown(levels[-1]))
            self._levels[i] = levels
        return self._levels[i]

    def _visible(self, xy: np.ndarray, heading: float) -> list[tuple[int, float, float, float]]:
        """Facades in range, facing the camera and in front of it: (index, t_a, t_b, distance), far first."""
        w = self.world
        seg = w.p1 - w.p0
        rel = xy - w.p0
        t = np.clip(np.einsum("ij,ij->i", rel, seg) / np.einsum("ij,ij->i", seg, seg), 0, 1)
        dist = np.linalg.norm(w.p0 + t[:, None] * seg - xy, axis=1)
        facing = np.einsum("ij,ij->i", rel, w.normal) > 0
        cand = np.nonzero(facing & (dist < self.max_range_m))[0]
        fwd = np.array([np.cos(heading), np.sin(heading)])
        z0 = (w.p0[cand] - xy) @ fwd
        z1 = (w.p1[cand] - xy) @ fwd
        out = []
        for i, a, b, d in zip(cand, z0, z1, dist[cand]):
            if a < NEAR_M and b < NEAR_M:
                continue
            ta = 0.0 if a >= NEAR_M else (NEAR_M - a) / (b - a)
            tb = 1.0 if b >= NEAR_M else (NEAR_M - a) / (b - a)
            out.append((int(i), ta, tb, float(d)))
        out.sort(key=lambda v: -v[3])
        return out

    def render(self, xy: np.ndarray, heading: float, rng: np.random.Generator | None = None) -> np.ndarray:
        """The view from ``xy`` [2] (local metres) looking along ``heading`` (radians): RGB [H, W, 3] uint8.

        ``rng`` draws the sensor noise and rain; None renders without them.
        """
        cam, c, w = self.camera, self.condition, self.world
        frame = self._background.copy()
        xy = np.asarray(xy, np.float64)
        for i, ta, tb, dist in self._visible(xy, heading):
            g0, g1 = w.p0[i] + ta * (w.p1[i] - w.p0[i]), w.p0[i] + tb * (w.p1[i] - w.p0[i])
            h = w.height[i]
            corners = np.array([[*g0, h], [*g1, h], [*g1, 0.0], [*g0, 0.0]])
            px = cam.project(cam.to_camera(corners, xy, heading))
            x0, y0 = np.maximum(np.floor(px.min(axis=0)).astype(int), 0)
            x1, y1 = np.minimum(np.ceil(px.max(axis=0)).astype(int), [cam.width, cam.height])
            if x1 <= x0 or y1 <= y0:
                continue
            levels = self._texture_levels(i)
            span = max(np.linalg.norm(px[1] - px[0]), np.linalg.norm(px[2] - px[3]), 1.0)
            ratio = (tb - ta) * levels[0].shape[1] / span
            tex = levels[int(np.clip(np.floor(np.log2(max(ratio, 1.0))), 0, len(levels) - 1))]
            th, tw = tex.shape[:2]
            ca, cb = int(np.floor(ta * tw)), int(np.ceil(tb * tw))
            crop = tex[:, ca:cb].astype(np.float32)
            if c.fog_m > 0:
                fog = 1 - np.exp(-dist / c.fog_m)
                crop = (crop * (1 - fog) + np.array(c.fog) * fog).astype(np.float32)
            src = np.float32([[ta * tw - ca, 0], [tb * tw - ca, 0], [tb * tw - ca, th], [ta * tw - ca, th]])
            hom = cv2.getPerspectiveTransform(src, (px - [x0, y0]).astype(np.float32))
            roi = frame[y0:y1, x0:x1].copy()
            cv2.warpPerspective(
                crop, hom, (x1 - x0, y1 - y0), dst=roi, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
            )
            frame[y0:y1, x0:x1] = roi
        if rng is not None:
            frame = self._weather(frame, rng)
        return np.clip(frame, 0, 255).astype(np.uint8)

    def _weather(self, frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Rain streaks, blur and sensor noise on a float32 frame [H, W, 3]."""
        c, cam = self.condition, self.camera
        if c.rain:
            streaks = np.zeros(frame.shape[:2], np.float32)
            n = cam.width * cam.height // 300
            xs, ys = rng.uniform(0, cam.width, n), rng.uniform(0, cam.height, n)
            lens = rng.uniform(0.03, 0.08, n) * cam.height
            for x, y, ln in zip(xs.astype(int), ys.astype(int), lens):
                cv2.line(streaks, (x, y), (x + int(ln * 0.15), y + int(ln)), 1.0, 1)
            frame = cv2.GaussianBlur(frame, (0, 0), 0.9)
            frame = frame * (1 - 0.35 * streaks[..., None]) + 0.35 * 210 * streaks[..., None]
        if c.noise > 0:
            frame = frame + c.noise * rng.standard_normal(frame.shape, dtype=np.float32)
        return frame
