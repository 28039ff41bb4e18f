"""The map dataset: day database and other-condition queries, in the VPR-datasets layout."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from vgssl_ros.datasets import format_vpr_name
from vgssl_ros.geo import utm_to_latlon
from vgssl_ros.io import atomic_dir, write_json_atomic
from vgssl_ros.sim.camera import Camera
from vgssl_ros.sim.conditions import CONDITIONS, get_condition
from vgssl_ros.sim.render import Renderer
from vgssl_ros.sim.trajectory import camera_poses, compass_deg
from vgssl_ros.sim.world import World, WorldSpec, build_world

WORLD_FILE = "world.json"
FORMAT_VERSION = 1
MAPPING_CONDITION = "day"
SPLIT_FRACTIONS: dict[str, tuple[float, float]] = {"train": (0.0, 0.6), "val": (0.6, 0.75), "test": (0.75, 1.0)}
"""Each split is its own stretch of the route (fractions of its length), so splits share no place."""


@dataclass(frozen=True)
class DatasetSpec:
    """How the map dataset samples the world: one image every ``spacing_m`` metres per role."""

    query_condition: str = "dusk"
    spacing_m: float = 5.0
    camera: Camera = Camera()
    jpeg_quality: int = 92


def split_range(world: World, *splits: str) -> tuple[float, float]:
    """Route arclength interval [start, end) in metres of one split, of consecutive splits in route order
    (e.g. 'train', 'val': both stretches as one), or of 'all' (the whole route)."""
    if splits == ("all",):
        return 0.0, world.length_m
    unknown = [s for s in splits if s not in SPLIT_FRACTIONS]
    if not splits or unknown:
        raise ValueError(
            f"unknown split {unknown[0] if unknown else ''!r}; valid: one or more of {', '.join(SPLIT_FRACTIONS)} "
            f"in route order, or all alone"
        )
    stretches = [SPLIT_FRACTIONS[s] for s in splits]
    if any(a[1] != b[0] for a, b in zip(stretches, stretches[1:])):
        raise ValueError(
            f"splits {' '.join(splits)} are not consecutive stretches of the route; give them in route order, "
            f"e.g. {' '.join(SPLIT_FRACTIONS)}"
        )
    return stretches[0][0] * world.length_m, stretches[-1][1] * world.length_m


def _write_role(world: World, folder: Path, s: np.ndarray, condition: str, stream: int, spec: DatasetSpec) -> None:
    """Render the views at arclengths ``s`` [N] under ``condition`` into ``folder``."""
    cond = get_condition(condition)
    rng = np.random.default_rng([world.spec.seed, 2, stream])
    xy, heading = camera_poses(world, s, cond, rng)
    utm_en = world.to_utm(xy)
    latlon = utm_to_latlon(utm_en, world.zone)
    compass = compass_deg(heading)
    renderer = Renderer(world, cond, spec.camera)
    folder.mkdir(parents=True)
    for k in range(len(s)):
        rgb = renderer.render(xy[k], heading[k], np.random.default_rng([world.spec.seed, 3, stream, k]))
        # pano id, tile, heading, pitch, roll, height, timestamp, note: the VPR-datasets fields after lat/lon.
        name = format_vpr_name(
            utm_en[k, 0],
            utm_en[k, 1],
            world.zone,
            latlon[k, 0],
            latlon[k, 1],
            (
                f"{condition}{stream:02d}{k:05d}",
                "",
                f"{compass[k]:.1f}",
                "0",
                "0",
                f"{spec.camera.mount_m:.1f}",
                "",
                condition,
            ),
        )
        cv2.imwrite(
            str(folder / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, spec.jpeg_quality]
        )


def write_world_dataset(out: str | Path, world_spec: WorldSpec, spec: DatasetSpec, overwrite: bool = False) -> dict:
    """Build the world and write ``out/images/{train,val,test}/{database,queries}/`` plus ``out/world.json``.

    The database is the day traversal; the queries, half a spacing further along, are
    ``spec.query_condition``. ``out`` is complete or absent. Returns the world.json contents.
    """
    get_condition(spec.query_condition)
    if spec.spacing_m <= 0:
        raise ValueError(f"spacing must be positive, got {spec.spacing_m} m")
    world = build_world(world_spec)
    counts = {}
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for stream, split in enumerate(SPLIT_FRACTIONS):
            a, b = split_range(world, split)
            s_db = np.arange(a + spec.spacing_m / 2, b, spec.spacing_m)
            _write_role(world, tmp / "images" / split / "database", s_db, MAPPING_CONDITION, 2 * stream, spec)
            _write_role(
                world,
                tmp / "images" / split / "queries",
                s_db + spec.spacing_m / 2,
                spec.query_condition,
                2 * stream + 1,
                spec,
            )
            counts[split] = {"database": len(s_db), "queries": len(s_db)}
        info = {
            "format_version": FORMAT_VERSION,
            "world": world_spec.to_dict(),
            "dataset": {**asdict(spec), "mapping_condition": MAPPING_CONDITION},
            "utm_zone": str(world.zone),
            "route_m": world.length_m,
            "buildings": len(world.p0),
            "splits": {k: list(split_range(world, k)) for k in SPLIT_FRACTIONS},
            "counts": counts,
            "conditions": list(CONDITIONS),
        }
        write_json_atomic(tmp / WORLD_FILE, info)
    return info


def load_world(folder: str | Path) -> tuple[World, DatasetSpec]:
    """Rebuild the world (and read the dataset spec) that ``write_world_dataset`` wrote to ``folder``."""
    path = Path(folder) / WORLD_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; make a world first with `vgssl-sim world --out {folder}`")
    try:
        info = json.loads(path.read_text())
        if info.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(
                f"format version {info['format_version']} is newer than {FORMAT_VERSION}; "
                f"update vgssl or make the world again"
            )
        values = {k: v for k, v in info["dataset"].items() if k != "mapping_condition"}
        spec = DatasetSpec(**{**values, "camera": Camera(**values["camera"])})
        world = build_world(WorldSpec.from_dict(info["world"]))
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a vgssl-sim world file ({exc}); make the world again") from None
    return world, spec
