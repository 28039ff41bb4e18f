"""Procedural facade textures: a few shared styles (perceptual aliasing) plus per-building details.

A style fixes the architecture (wall colour and material, window grid, floor height, shopfront);
each building draws its own floors, width, door, sign, awning and tree from its own random stream.
Textures are sampled at ``PX_PER_M`` pixels per metre, row 0 at the roof line.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import cv2
import numpy as np

PX_PER_M = 10.0
MATERIALS = ("plaster", "brick", "panel", "glass")


@dataclass(frozen=True)
class FacadeStyle:
    """The architecture shared by every building of one style; colours are RGB 0..255."""

    wall: tuple[float, float, float]
    material: str
    floor_h: float
    window_w: float
    window_h: float
    bay_w: float
    window: tuple[float, float, float]
    frame: tuple[float, float, float]
    band: tuple[float, float, float] | None
    shutters: tuple[float, float, float] | None
    shopfront: bool


@dataclass
class FacadeTexture:
    """One building's appearance: ``day`` RGB [H, W, 3] uint8, ``lit`` [H, W, 3] uint8 light emitted
    at night (lit windows, back-lit signs), ``bare`` [H, W, 3] uint8 the facade without its tree,
    ``veg`` [H, W] bool the tree canopy."""

    day: np.ndarray
    lit: np.ndarray
    bare: np.ndarray
    veg: np.ndarray


def _colour(rng: np.random.Generator, sat: tuple[float, float], val: tuple[float, float]) -> tuple[float, float, float]:
    hsv = np.uint8([[[rng.uniform(0, 180), rng.uniform(*sat) * 255, rng.uniform(*val) * 255]]])
    return tuple(float(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])


def make_styles(rng: np.random.Generator, count: int) -> list[FacadeStyle]:
    """``count`` distinct facade styles drawn from ``rng``."""
    if count < 1:
        raise ValueError(f"need at least one facade style, got {count}")
    styles = []
    for _ in range(count):
        styles.append(
            FacadeStyle(
                wall=_colour(rng, (0.1, 0.6), (0.45, 0.95)),
                material=MATERIALS[int(rng.integers(len(MATERIALS)))],
                floor_h=float(rng.uniform(2.9, 3.9)),
                window_w=float(rng.uniform(0.9, 1.9)),
                window_h=float(rng.uniform(1.3, 2.1)),
                bay_w=float(rng.uniform(2.4, 4.2)),
                window=_colour(rng, (0.1, 0.5), (0.1, 0.45)),
                frame=_colour(rng, (0.0, 0.4), (0.6, 1.0)),
                band=_colour(rng, (0.0, 0.5), (0.3, 0.9)) if rng.random() < 0.5 else None,
                shutters=_colour(rng, (0.4, 0.9), (0.3, 0.8)) if rng.random() < 0.3 else None,
                shopfront=bool(rng.random() < 0.6),
            )
        )
    return styles


def _material(img: np.ndarray, style: FacadeStyle, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    dark = tuple(c * 0.75 for c in style.wall)
    if style.material == "brick":
        course = max(2, int(0.3 * PX_PER_M))
        for y in range(0, h, course):
            cv2.line(img, (0, y), (w, y), dark, 1)
            off = (y // course) % 2 * course
            for x in range(off, w, 2 * course):
                cv2.line(img, (x, y), (x, y + course), dark, 1)
    elif style.material == "panel":
        step = int(1.5 * PX_PER_M)
        for x in range(0, w, step):
            cv2.line(img, (x, 0), (x, h), dark, 1)
        for y in range(0, h, step):
            cv2.line(img, (0, y), (w, y), dark, 1)
    elif style.material == "glass":
        grad = np.linspace(1.15, 0.8, h, dtype=np.float32)[:, None, None]
        img *= grad
    noise = cv2.resize(rng.normal(0, 8, (max(1, h // 8), max(1, w // 8), 1)).astype(np.float32), (w, h))
    img += noise[..., None]


def _sign(img: np.ndarray, lit: np.ndarray, x0: int, y0: int, x1: int, y1: int, rng: np.random.Generator) -> None:
    bg = _colour(rng, (0.5, 1.0), (0.4, 1.0))
    fg = tuple(255.0 - c for c in bg)
    patch = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
    patch[:] = np.round(bg).astype(np.uint8)
    text = "".join(rng.choice(list(string.ascii_uppercase), size=int(rng.integers(3, 8))))
    scale = (y1 - y0) / 30.0
    (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    cv2.putText(
        patch,
        text,
        (max(1, (x1 - x0 - tw) // 2), (y1 - y0) * 4 // 5),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        fg,
        2,
        cv2.LINE_AA,
    )
    img[y0:y1, x0:x1] = patch
    if rng.random() < 0.6:
        lit[y0:y1, x0:x1] = img[y0:y1, x0:x1] * 0.9


def _tree(img: np.ndarray, veg: np.ndarray, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    cx = int(rng.uniform(0.15, 0.85) * w)
    top = h - int(rng.uniform(5, 9) * PX_PER_M)
    cv2.rectangle(img, (cx - 2, top), (cx + 2, h), (70, 50, 35), -1)
    green = np.array(_colour(rng, (0.5, 0.9), (0.3, 0.6)))
    green = np.array([green[1] * 0.5, max(green) * 0.9, green[2] * 0.3])
    for _ in range(7):
        r = int(rng.uniform(1.2, 2.2) * PX_PER_M)
        c = (cx + int(rng.normal(0, 1.2 * PX_PER_M)), top + int(rng.uniform(0, 2.5) * PX_PER_M))
        cv2.circle(img, c, r, tuple(float(v) for v in green * rng.uniform(0.75, 1.15)), -1)
        cv2.circle(veg, c, r, 1, -1)


def draw_facade(
    style: FacadeStyle,
    width_m: float,
    height_m: float,
    rng: np.random.Generator,
    sign_p: float = 0.4,
    tree_p: float = 0.3,
) -> FacadeTexture:
    """Draw one building of ``style``, ``width_m`` x ``height_m``, details from ``rng``."""
    w, h = max(8, int(round(width_m * PX_PER_M))), max(8, int(round(height_m * PX_PER_M)))
    jitter = rng.normal(0, 6, 3)
    img = np.empty((h, w, 3), np.float32)
    img[:] = np.clip(np.array(style.wall) + jitter, 0, 255)
    _material(img, style, rng)
    lit = np.zeros((h, w, 3), np.float32)
    floor = style.floor_h * PX_PER_M
    floors = max(1, int(height_m / style.floor_h))
    bays = max(1, int(width_m / style.bay_w))
    bay = w / bays
    ww, wh = int(style.window_w * PX_PER_M), int(style.window_h * PX_PER_M)
    warm = [(255, 214, 140), (255, 240, 200), (170, 200, 255), (255, 190, 110)]
    for f in range(floors):
        y_base = h - f * floor
        if style.band is not None and f > 0:
            cv2.rectangle(img, (0, int(y_base) - 3), (w, int(y_base)), style.band, -1)
        shop = f == 0 and style.shopfront
        for b in range(bays):
            cx = int((b + 0.5) * bay)
            if shop:
                x0, x1, y0, y1 = int(b * bay + 3), int((b + 1) * bay - 3), int(y_base - floor * 0.8), int(y_base - 2)
            else:
                x0, x1 = cx - ww // 2, cx + ww // 2
                y1 = int(y_base - floor * 0.25)
                y0 = y1 - wh
            if y0 < 0:
                continue
            cv2.rectangle(img, (x0 - 2, y0 - 2), (x1 + 2, y1 + 2), style.frame, -1)
            cv2.rectangle(img, (x0, y0), (x1, y1), style.window, -1)
            if style.shutters is not None and not shop:
                cv2.rectangle(img, (x0 - ww // 2 - 2, y0), (x0 - 3, y1), style.shutters, -1)
                cv2.rectangle(img, (x1 + 3, y0), (x1 + ww // 2 + 2, y1), style.shutters, -1)
            if rng.random() < (0.8 if shop else 0.45):
                glow = np.array(warm[int(rng.integers(len(warm)))]) * rng.uniform(0.6, 1.0)
                lit[y0:y1, x0:x1] = glow
    door_x = int(rng.integers(0, bays) * bay + bay / 2)
    cv2.rectangle(img, (door_x - 6, h - 22), (door_x + 6, h), tuple(c * 0.4 for c in style.frame), -1)
    if rng.random() < sign_p and h > floor:
        y0 = int(h - floor * 0.98)
        x0 = int(rng.uniform(0, 0.4) * w)
        _sign(img, lit, x0, y0, min(w - 1, x0 + int(rng.uniform(0.35, 0.6) * w)), y0 + int(0.16 * floor), rng)
    if rng.random() < 0.25:
        stripes = _colour(rng, (0.6, 1.0), (0.5, 1.0))
        y0 = int(h - floor * 0.82)
        for k, x in enumerate(range(0, w, 8)):
            cv2.rectangle(img, (x, y0), (x + 7, y0 + 8), stripes if k % 2 else (235, 235, 235), -1)
    bare = day = np.clip(img, 0, 255).astype(np.uint8)
    veg = np.zeros((h, w), np.uint8)
    if rng.random() < tree_p:
        _tree(img, veg, rng)
        day = np.clip(img, 0, 255).astype(np.uint8)
    return FacadeTexture(day, np.clip(lit, 0, 255).astype(np.uint8), bare, veg.astype(bool))
