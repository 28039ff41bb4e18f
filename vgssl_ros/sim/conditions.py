"""Traversal conditions: lighting, weather, season and viewpoint, as a registry of plain values."""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Condition:
    """How one traversal looks.

    Facade pixels become ``day * light * tint + lit * glow`` (``lit``: lit windows and signs);
    ``fog_m`` > 0 blends towards ``fog`` with distance (visibility in metres); ``rain`` draws
    streaks; ``bare_trees`` shows leafless trees; ``saturation`` scales colour; ``noise`` is the
    sensor noise sigma (grey levels). The camera sits ``lateral_m`` (sigma, metres) off the lane
    centre and yaws ``yaw_deg`` (sigma, degrees) off the street direction.
    """

    name: str
    help: str
    light: float = 1.0
    tint: RGB = (1.0, 1.0, 1.0)
    glow: float = 0.0
    sky_top: RGB = (95, 150, 225)
    sky_horizon: RGB = (190, 215, 240)
    ground: RGB = (105, 105, 110)
    fog_m: float = 0.0
    fog: RGB = (200, 200, 205)
    rain: bool = False
    bare_trees: bool = False
    saturation: float = 1.0
    noise: float = 2.0
    lateral_m: float = 0.4
    yaw_deg: float = 2.0


CONDITIONS: dict[str, Condition] = {
    c.name: c
    for c in (
        Condition("day", "clear midday light, the mapping traversal"),
        Condition(
            "dusk",
            "low warm light, some windows lit, driven off the lane centre",
            light=0.45,
            tint=(1.15, 0.8, 0.6),
            glow=0.55,
            sky_top=(60, 50, 110),
            sky_horizon=(240, 140, 80),
            ground=(60, 50, 55),
            noise=4.0,
            lateral_m=1.2,
            yaw_deg=5.0,
        ),
        Condition(
            "night",
            "dark facades, lit windows and signs, sensor noise",
            light=0.1,
            tint=(0.7, 0.8, 1.2),
            glow=1.0,
            sky_top=(5, 8, 20),
            sky_horizon=(25, 25, 45),
            ground=(20, 20, 25),
            noise=7.0,
            lateral_m=1.2,
            yaw_deg=5.0,
        ),
        Condition(
            "fog",
            "dense fog: far buildings fade to grey",
            light=0.85,
            saturation=0.7,
            sky_top=(190, 190, 195),
            sky_horizon=(200, 200, 205),
            ground=(120, 120, 122),
            fog_m=30.0,
            lateral_m=1.0,
            yaw_deg=4.0,
        ),
        Condition(
            "rain",
            "overcast and wet: darker, streaks, blur",
            light=0.6,
            tint=(0.85, 0.9, 1.05),
            saturation=0.7,
            sky_top=(110, 115, 125),
            sky_horizon=(150, 155, 160),
            ground=(60, 62, 66),
            rain=True,
            noise=4.0,
            lateral_m=1.0,
            yaw_deg=4.0,
        ),
        Condition(
            "winter",
            "season change: leafless trees, snow, cold washed-out colours",
            light=1.05,
            tint=(0.92, 0.97, 1.1),
            saturation=0.45,
            sky_top=(170, 180, 195),
            sky_horizon=(220, 225, 230),
            ground=(225, 228, 235),
            bare_trees=True,
            lateral_m=1.0,
            yaw_deg=4.0,
        ),
        Condition(
            "viewpoint", "day light from another lane: large lateral offset and yaw", lateral_m=3.0, yaw_deg=15.0
        ),
    )
}


def get_condition(name: str) -> Condition:
    """The condition called ``name``; raise ValueError naming the valid ones."""
    if name not in CONDITIONS:
        raise ValueError(f"unknown condition {name!r}; valid conditions: {', '.join(CONDITIONS)}")
    return CONDITIONS[name]
