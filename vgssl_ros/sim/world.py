"""The procedural world: a street grid in a UTM zone, one route through it, buildings along the route."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from vgssl_ros.geo import UtmZone, latlon_to_utm
from vgssl_ros.sim.facades import FacadeStyle, FacadeTexture, draw_facade, make_styles


@dataclass(frozen=True)
class WorldSpec:
    """Everything a world is built from; the same spec always builds the same world."""

    seed: int = 0
    route_m: float = 3000.0
    styles: int = 6
    sign_p: float = 0.35
    tree_p: float = 0.3
    origin_lat: float = 48.7758
    origin_lon: float = 9.1829

    def to_dict(self) -> dict:
        """The spec as JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> WorldSpec:
        """A spec from ``to_dict`` output; unknown keys raise."""
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown world spec keys {sorted(unknown)}; valid: {sorted(cls.__dataclass_fields__)}")
        return cls(**values)


@dataclass
class World:
    """Buildings as vertical facade quads, local metres (x east, y north) about ``origin_utm``.

    ``p0``/``p1`` [F, 2] ground corners (left/right as seen from the street), ``height`` [F],
    ``normal`` [F, 2] unit normal towards the street, ``style`` [F] style index;
    ``route`` [M, 2] the route polyline through the street grid, ``route_s`` [M] its arclength.
    """

    spec: WorldSpec
    zone: UtmZone
    origin_utm: np.ndarray
    styles: list[FacadeStyle]
    p0: np.ndarray
    p1: np.ndarray
    height: np.ndarray
    normal: np.ndarray
    style: np.ndarray
    route: np.ndarray
    route_s: np.ndarray
    _textures: dict[int, FacadeTexture] = field(default_factory=dict, repr=False)

    @property
    def length_m(self) -> float:
        """Route length in metres."""
        return float(self.route_s[-1])

    def texture(self, i: int) -> FacadeTexture:
        """Facade ``i``'s texture, drawn on first use from its own seeded stream."""
        if i not in self._textures:
            rng = np.random.default_rng([self.spec.seed, 1, i])
            width = float(np.linalg.norm(self.p1[i] - self.p0[i]))
            self._textures[i] = draw_facade(
                self.styles[int(self.style[i])], width, float(self.height[i]), rng, self.spec.sign_p, self.spec.tree_p
            )
        return self._textures[i]

    def pose_at(self, s: np.ndarray, turn_m: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
        """Positions [N, 2] and headings [N] (radians, CCW from east) at arclengths ``s`` [N] along the route.

        The heading turns smoothly over ``turn_m`` metres either side of a corner.
        """
        s = np.clip(np.asarray(s, np.float64).reshape(-1), 0.0, self.length_m)
        xy = np.stack([np.interp(s, self.route_s, self.route[:, k]) for k in range(2)], axis=1)
        seg = np.diff(self.route, axis=0)
        angles = np.unwrap(np.arctan2(seg[:, 1], seg[:, 0]))
        # Heading as a piecewise-linear function of s: constant on a segment, ramping across corners.
        knots_s, knots_a = [self.route_s[0]], [angles[0]]
        for k in range(1, len(angles)):
            corner = self.route_s[k]
            knots_s += [corner - turn_m, corner + turn_m]
            knots_a += [angles[k - 1], angles[k]]
        knots_s.append(self.route_s[-1])
        knots_a.append(angles[-1])
        return xy, np.interp(s, knots_s, knots_a)

    def to_utm(self, xy: np.ndarray) -> np.ndarray:
        """Local metres [N, 2] to UTM east/north [N, 2]."""
        return np.asarray(xy, np.float64).reshape(-1, 2) + self.origin_utm


def _route(rng: np.random.Generator, lines_x: np.ndarray, lines_y: np.ndarray, length_m: float) -> np.ndarray:
    """A self-avoiding walk on the grid, as node indices [M, 2], at least ``length_m`` long."""
    n = len(lines_x)
    moves = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])
    for _ in range(500):
        node, heading = np.array([1, int(rng.integers(1, n - 1))]), 0
        path, seen, travelled = [node], {tuple(node)}, 0.0
        while travelled < length_m:
            options = []
            for turn, weight in ((0, 0.6), (1, 0.2), (-1, 0.2)):
                h = (heading + turn) % 4
                nxt = node + moves[h]
                if 0 <= nxt[0] < n and 0 <= nxt[1] < n and tuple(nxt) not in seen:
                    options.append((h, nxt, weight))
            if not options:
                break
            w = np.array([o[2] for o in options])
            heading, nxt, _ = options[int(rng.choice(len(options), p=w / w.sum()))]
            travelled += abs(lines_x[nxt[0]] - lines_x[node[0]]) + abs(lines_y[nxt[1]] - lines_y[node[1]])
            node = nxt
            path.append(node)
            seen.add(tuple(node))
        if travelled >= length_m:
            return np.array(path)
    raise ValueError(f"could not lay a {length_m:.0f} m route through the street grid; use a shorter route")


def _line_buildings(
    rng: np.random.Generator, a: np.ndarray, u: np.ndarray, half_width: float, start: float, end: float
) -> list[tuple[np.ndarray, np.ndarray, float, np.ndarray]]:
    """Buildings (p0, p1, height, normal) on both sides of the street from ``a`` along ``u``, ``start``..``end`` m."""
    left = np.array([-u[1], u[0]])
    out = []
    for side in (1.0, -1.0):
        s = start
        while s < end - 5.0:
            width = min(rng.uniform(7, 18), end - s)
            if rng.random() > 0.08:  # else an empty lot
                g0, g1 = a + u * s + side * half_width * left, a + u * (s + width) + side * half_width * left
                if side < 0:  # p0 is the left end as seen from the street
                    g0, g1 = g1, g0
                out.append((g0, g1, rng.uniform(7, 22), -side * left))
            s += width
    return out


def build_world(spec: WorldSpec) -> World:
    """Build the world ``spec`` describes: grid, route, buildings and their styles."""
    if spec.route_m < 200:
        raise ValueError(f"route_m must be at least 200 m, got {spec.route_m}")
    rng = np.random.default_rng([spec.seed, 0])
    styles = make_styles(rng, spec.styles)
    n = int(np.ceil(np.sqrt(spec.route_m / 60.0))) + 4
    lines_x = np.concatenate([[0.0], np.cumsum(rng.uniform(70, 140, n - 1))])
    lines_y = np.concatenate([[0.0], np.cumsum(rng.uniform(70, 140, n - 1))])
    half_x, half_y = rng.uniform(8, 12, n), rng.uniform(8, 12, n)  # street half-widths per grid line
    nodes = _route(rng, lines_x, lines_y, spec.route_m)
    route = np.stack([lines_x[nodes[:, 0]], lines_y[nodes[:, 1]]], axis=1)
    half = (half_x, half_y)
    walls: list[tuple[np.ndarray, np.ndarray, float, np.ndarray]] = []
    for k in range(len(nodes)):
        here = nodes[k]
        taken = {tuple(nodes[j] - here) for j in (k - 1, k + 1) if 0 <= j < len(nodes)}
        for step in ((1, 0), (0, 1), (-1, 0), (0, -1)):
            nxt = here + step
            axis = 0 if step[0] else 1  # the grid line the street runs along is the other axis
            if not (0 <= nxt[0] < n and 0 <= nxt[1] < n):
                continue
            a = np.array([lines_x[here[0]], lines_y[here[1]]])
            b = np.array([lines_x[nxt[0]], lines_y[nxt[1]]])
            street_half = half[1 - axis][here[1 - axis]]
            start = half[axis][here[axis]] + 2.0
            if step in taken:  # a route street: buildings all along it, up to the next crossing
                if k + 1 < len(nodes) and tuple(nodes[k + 1] - here) == step:
                    end = float(np.linalg.norm(b - a)) - half[axis][nxt[axis]] - 2.0
                    walls += _line_buildings(rng, a, (b - a) / np.linalg.norm(b - a), street_half, start, end)
            else:  # a cross street: the first buildings, seen from the crossing
                end = min(40.0, float(np.linalg.norm(b - a)) / 2 - 2.0)
                walls += _line_buildings(rng, a, (b - a) / np.linalg.norm(b - a), street_half, start, end)
    p0, p1, height, normal = (list(v) for v in zip(*walls))
    origin, zone = latlon_to_utm(np.array([spec.origin_lat]), np.array([spec.origin_lon]))
    style = rng.integers(0, spec.styles, len(p0))
    seglen = np.linalg.norm(np.diff(route, axis=0), axis=1)
    return World(
        spec,
        zone,
        origin[0],
        styles,
        np.array(p0),
        np.array(p1),
        np.array(height),
        np.array(normal),
        style,
        route,
        np.concatenate([[0.0], np.cumsum(seglen)]),
    )
