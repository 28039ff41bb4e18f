"""A tiny model + maps, a seeded corpus of damaged copies, and a runner that classifies what each damage gives.

Used by the fuzz-files campaign, the fast in-process test (test_corrupt_files.py) and the node start-up test. Outcomes:
``refused`` (exit 2 and one error line), ``accepted`` (exit 0 and still correct answers), ``wrong`` (accepted
although damaged, or answers that are not correct), ``traceback`` (an exception escaped or was printed).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from vgssl_ros.core import Embedder, Places
from vgssl_ros.core.calibration import CALIBRATION_FILE, Calibration, ScoreCalibration
from vgssl_ros.geo import UtmZone, utm_to_latlon
from vgssl_ros.mapping import write_map
from vgssl_ros.mapping.cli import main as vgssl_map

SIDE, DIM, PLACES, QUERY_PLACE = 8, 16, 12, 3
ZONE = UtmZone(33, "W")
ORIGIN = np.array([450000.0, 7250000.0])
METADATA = {
    "vgssl.format": "1",
    "vgssl.input_height": str(SIDE),
    "vgssl.input_width": str(SIDE),
    "vgssl.descriptor_dim": str(DIM),
    "vgssl.backbone": "tiny",
}


def tiny_model(path: Path, weights: np.ndarray | None = None, image_type: int = TensorProto.UINT8, **meta: Any) -> Path:
    """model.onnx without torch: uint8 [N, 8, 8, 3] -> cast -> flatten -> random projection -> L2 norm [N, 16].

    ``meta``: metadata overrides (``vgssl_input_height="0"``; None removes the key).
    """
    w = (
        np.random.default_rng(5).standard_normal((SIDE * SIDE * 3, DIM)).astype(np.float32)
        if weights is None
        else weights
    )
    nodes = [
        helper.make_node("Cast", ["image"], ["x"], to=TensorProto.FLOAT),
        helper.make_node("Reshape", ["x", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["y"]),
        helper.make_node("LpNormalization", ["y"], ["descriptor"], axis=1, p=2),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("image", image_type, ["N", SIDE, SIDE, 3])],
        [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["N", DIM])],
        [numpy_helper.from_array(np.array([-1, SIDE * SIDE * 3], np.int64), "shape"), numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    metadata = {**METADATA, **{k.replace("vgssl_", "vgssl."): v for k, v in meta.items()}}
    helper.set_model_props(model, {k: v for k, v in metadata.items() if v is not None})
    onnx.save(model, str(path))
    return path


def place_rgb(place: int) -> np.ndarray:
    """The image of a place: seeded noise (map entries and the query are the same image: the answer is exact)."""
    return np.random.default_rng(1000 + place).integers(0, 256, (16, 16, 3), dtype=np.uint8)


def tiny_map(out: Path, model: Path, index_type: str = "flat", places: int = PLACES) -> Path:
    """A map of ``places`` places 40 m apart with ``model``, and a calibration.json inside it."""
    emb = Embedder(model)
    utm = ORIGIN + np.c_[np.zeros(places), 40.0 * np.arange(places)]
    table = Places(
        utm,
        utm_to_latlon(utm, ZONE),
        np.full(places, 90.0),
        np.arange(places, dtype=float),
        np.array([f"place{i:05d}" for i in range(places)]),
    )
    descriptors = emb.embed([place_rgb(i) for i in range(places)])
    write_map(out, descriptors, table, ZONE, emb.model_sha256, emb.metadata, index_type, {"kind": "test"})
    Calibration(ScoreCalibration((0.0, 1.0), (0.1, 0.9), 1.5), None, "test").save(out / CALIBRATION_FILE)
    return out


def make_assets(root: Path) -> Path:
    """root/model.onnx, root/map (flat), root/hmap (hnsw), root/query.png."""
    import cv2

    root.mkdir(parents=True, exist_ok=True)
    model = tiny_model(root / "model.onnx")
    tiny_map(root / "map", model)
    tiny_map(root / "hmap", model, "hnsw")
    cv2.imwrite(str(root / "query.png"), cv2.cvtColor(place_rgb(QUERY_PLACE), cv2.COLOR_RGB2BGR))
    return root


@dataclass(frozen=True)
class Case:
    """One damage: ``mutate(assets)`` edits a copy; ``kind`` groups cases in the report; ``must_refuse``: no
    correct answer can come from it; ``expect``: a fragment the refusal must contain; ``map_dir``: map or hmap."""

    name: str
    kind: str
    mutate: Callable[[Path], None]
    must_refuse: bool = True
    expect: str = ""
    map_dir: str = "map"


# --- mutations --------------------------------------------------------------------------------------------


def edit_json(rel: str, edit: Callable[[Any], Any]) -> Callable[[Path], None]:
    """Rewrite the JSON file ``rel`` with ``edit(data)`` (NaN and inf written as JSON extensions)."""

    def mutate(root: Path) -> None:
        file = root / rel
        file.write_text(json.dumps(edit(json.loads(file.read_text()))))

    return mutate


def set_field(rel: str, dotted: str, value: Any, remove: bool = False) -> Callable[[Path], None]:
    """Set (or remove) ``a.b.c`` in the JSON file ``rel``."""

    def edit(data: Any) -> Any:
        *parents, last = dotted.split(".")
        node = data
        for p in parents:
            node = node[p]
        if remove:
            del node[last]
        else:
            node[last] = value
        return data

    return edit_json(rel, edit)


def write_bytes(rel: str, make: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    """Replace the bytes of ``rel`` with ``make(old)``."""

    def mutate(root: Path) -> None:
        file = root / rel
        file.write_bytes(make(file.read_bytes()))

    return mutate


def flip(rel: str, count: int, seed: int, start: int = 0) -> Callable[[Path], None]:
    """Flip one random bit in each of ``count`` random bytes of ``rel`` at or after ``start`` (seeded)."""

    def make(data: bytes) -> bytes:
        rng = np.random.default_rng(seed)
        buf = bytearray(data)
        for pos in rng.integers(min(start, len(buf) - 1), len(buf), count):
            buf[pos] ^= 1 << int(rng.integers(0, 8))
        return bytes(buf)

    return write_bytes(rel, make)


def edit_places(edit: Callable[[dict[str, np.ndarray]], None], rel: str = "map/places.npz") -> Callable[[Path], None]:
    """Rewrite the places table with ``edit(columns)`` applied (columns may change type or go missing)."""

    def mutate(root: Path) -> None:
        with np.load(root / rel, allow_pickle=False) as z:
            cols = {k: z[k] for k in z.files}
        edit(cols)
        with open(root / rel, "wb") as f:
            np.savez(f, **cols)

    return mutate


def edit_index(edit: Callable[[np.ndarray], np.ndarray], rel: str = "map/index.faiss") -> Callable[[Path], None]:
    """Rewrite the float data of a flat index [N, D] with ``edit(vectors)`` (header kept)."""

    def make(data: bytes) -> bytes:
        head = 37 + 8
        vectors = np.frombuffer(data[head:], np.float32).reshape(PLACES, DIM).copy()
        return data[:head] + edit(vectors).astype(np.float32).tobytes()

    return write_bytes(rel, make)


def header_field(offset: int, fmt: str, value: int) -> Callable[[Path], None]:
    """Overwrite one field of the FAISS header of map/index.faiss."""
    return write_bytes(
        "map/index.faiss", lambda d: d[:offset] + struct.pack(fmt, value) + d[offset + struct.calcsize(fmt) :]
    )


def replace_with(rel: str, other: str) -> Callable[[Path], None]:
    """Swap in another file's bytes."""
    return write_bytes(rel, lambda _d, o=other: _root_file(o))


_CURRENT_ROOT: list[Path] = []


def _root_file(rel: str) -> bytes:
    return (_CURRENT_ROOT[-1] / rel).read_bytes()


def regenerate_model(**kwargs: Any) -> Callable[[Path], None]:
    """Re-export the tiny model with other metadata, weights or input type."""
    return lambda root: tiny_model(root / "model.onnx", **kwargs) and None


def nested(depth: int) -> Callable[[Path], None]:
    """A JSON document nested ``depth`` levels deep."""
    return lambda root: (root / "map" / "map.json").write_text("[" * depth + "]" * depth)


MAP_JSON = "map/map.json"
HMAP_JSON = "hmap/map.json"
CALIB = "map/calibration.json"


def field_cases() -> list[Case]:
    """map.json fields of the wrong type, out of range, NaN/inf, missing (the corpus that broke before)."""
    cases = []
    bad = {
        "format_version": [0, -7, True, "1", 1.0, None],
        "descriptor_dim": [0, 8, "16", 10**9, True],
        "metric": ["l2", 3],
        "model_sha256": ["x", "g" * 64, None],
        "model": ["x", [1], {"backbone": {"nested": 1}}],
        "index": ["flat", {"type": "flat"}, {"type": "flat", "params": "x"}, {"type": "lsh", "params": {}}],
        "index.params": [{"nprobe": "abc"}, {"nprobe": 4}, [1]],
        "utm_zone": ["33W", {"number": 33.9, "band": "W"}, {"number": "33", "band": "W"}, {"number": 33, "band": "I"}],
        "utm_zone.number": [0, 61, None],
        "utm_origin": [[float("nan"), 7250000.0], [float("inf"), 1.0], ["a", "b"], [1.0], [1e300, 1e300], None],
        "place_count": [0, -1, 13, "12", 10**20, 12.0],
        "created": ["x"],
    }
    for field, values in bad.items():
        for v in values:
            short = field.split(".")[-1]
            cases.append(
                Case(f"map.json {field}={v!r}"[:70], "map.json field", set_field(MAP_JSON, field, v), expect=short)
            )
    for field in (
        "format_version",
        "descriptor_dim",
        "metric",
        "model_sha256",
        "index",
        "utm_zone",
        "utm_origin",
        "place_count",
        "created",
    ):
        cases.append(
            Case(
                f"map.json without {field}",
                "map.json field",
                set_field(MAP_JSON, field, None, remove=True),
                expect=field,
            )
        )
    cases.append(
        Case(
            "map.json without index.params",
            "map.json field",
            set_field(MAP_JSON, "index.params", None, True),
            expect="index.params",
        )
    )
    for v in (-1, 0, "abc", 10**9, 32.5, None):
        cases.append(
            Case(
                f"hnsw efSearch={v!r}",
                "map.json field",
                set_field(HMAP_JSON, "index.params.efSearch", v),
                expect="efSearch",
                map_dir="hmap",
            )
        )
    cases.append(
        Case(
            "hnsw index declared flat",
            "map.json field",
            set_field(HMAP_JSON, "index", {"type": "flat", "params": {}}),
            expect="index.faiss",
            map_dir="hmap",
        )
    )
    cases.append(
        Case(
            "model_sha256 of another model",
            "map.json field",
            set_field(MAP_JSON, "model_sha256", "0" * 64),
            expect="another model",
        )
    )
    cases.append(Case("map.json nested 100000 deep", "map.json field", nested(100_000), expect="map.json"))
    cases.append(Case("map.json is a list", "map.json field", nested(1), expect="JSON object"))
    cases.append(
        Case(
            "map.json of 5 MB", "map.json field", write_bytes(MAP_JSON, lambda d: d + b" " * (5 << 20)), expect="bytes"
        )
    )
    cases.append(
        Case(
            "map.json not UTF-8",
            "map.json field",
            write_bytes(MAP_JSON, lambda d: b"\xff\xfe" + d),
            expect="not valid JSON",
        )
    )
    return cases


def _nan_row(v: np.ndarray) -> np.ndarray:
    v[5, 3] = np.nan
    return v


def _garbage_row(v: np.ndarray) -> np.ndarray:
    v[7] = 4.96e27
    return v


def _shift(cols: dict[str, np.ndarray], key: str, value: Any, row: int = 4) -> None:
    cols[key] = cols[key].astype(np.float64)
    cols[key][row] = value


def index_and_places_cases() -> list[Case]:
    """Index data and header against map.json, and the places table's types and values."""
    return [
        Case("index metric flipped to L2", "index data", header_field(33, "<i", 1), expect="metric (metric)"),
        Case("index dim field 15", "index data", header_field(4, "<i", 15), expect="descriptor_dim"),
        Case("index ntotal field 10**12", "index data", header_field(8, "<q", 10**12), expect="place_count"),
        Case("index is_trained false", "index data", header_field(32, "<?", 0), expect="trained"),
        Case("index NaN descriptor", "index data", edit_index(_nan_row), expect="not finite unit vectors"),
        Case("index 4.96e27 descriptor", "index data", edit_index(_garbage_row), expect="not finite unit vectors"),
        Case("index descriptors x2", "index data", edit_index(lambda v: v * 2), expect="not finite unit vectors"),
        Case("index 50 flipped bytes in data", "index data", flip("map/index.faiss", 50, 11, start=45)),
        Case(
            "index tag of another type",
            "index data",
            write_bytes("map/index.faiss", lambda d: b"IxF2" + d[4:]),
            expect="index.type",
        ),
        Case(
            "index of the hnsw map", "swapped files", replace_with("map/index.faiss", "hmap/index.faiss"), expect="tag"
        ),
        Case("index <- places.npz", "swapped files", replace_with("map/index.faiss", "map/places.npz"), expect="index"),
        Case(
            "places.npz <- index", "swapped files", replace_with("map/places.npz", "map/index.faiss"), expect="places"
        ),
        Case("map.json <- calibration.json", "swapped files", replace_with(MAP_JSON, CALIB), expect="missing"),
        Case("model.onnx <- index", "swapped files", replace_with("model.onnx", "map/index.faiss"), expect="model"),
        Case("model.onnx <- map.json", "swapped files", replace_with("model.onnx", MAP_JSON), expect="model"),
        Case(
            "places utm as strings",
            "places values",
            edit_places(lambda c: c.update(utm=c["utm"].astype(str))),
            expect="wrong type",
        ),
        Case(
            "places ids as numbers",
            "places values",
            edit_places(lambda c: c.update(ids=np.arange(PLACES))),
            expect="wrong type",
        ),
        Case("places utm NaN", "places values", edit_places(lambda c: _shift(c, "utm", np.nan)), expect="utm"),
        Case("places utm inf", "places values", edit_places(lambda c: _shift(c, "utm", np.inf)), expect="utm"),
        Case("places utm 1e300", "places values", edit_places(lambda c: _shift(c, "utm", 1e300)), expect="utm"),
        Case("places latlon NaN", "places values", edit_places(lambda c: _shift(c, "latlon", np.nan)), expect="latlon"),
        Case(
            "places heading inf", "places values", edit_places(lambda c: _shift(c, "heading", np.inf)), expect="heading"
        ),
        Case(
            "places timestamp -inf",
            "places values",
            edit_places(lambda c: _shift(c, "timestamp", -np.inf)),
            expect="timestamp",
        ),
        Case("places without ids", "places values", edit_places(lambda c: c.__delitem__("ids")), expect="places"),
        Case(
            "places one row short",
            "places values",
            edit_places(lambda c: c.update({k: v[:-1] for k, v in c.items()})),
            expect="place_count",
        ),
        Case(
            "places utm [N, 3]",
            "places values",
            edit_places(lambda c: c.update(utm=np.c_[c["utm"], c["utm"][:, :1]])),
            expect="inconsistent",
        ),
        Case(
            "places utm pickled objects",
            "places values",
            edit_places(lambda c: c.update(utm=c["utm"].astype(object))),
            expect="places",
        ),
    ]


def model_cases() -> list[Case]:
    """Model metadata and graph damage (regenerated models, so the damage is exactly the one named)."""
    nan_w = np.full((SIDE * SIDE * 3, DIM), np.nan, np.float32)
    return [
        Case("model input_height 0", "model metadata", regenerate_model(vgssl_input_height="0"), expect="input_height"),
        Case(
            "model input_height -8", "model metadata", regenerate_model(vgssl_input_height="-8"), expect="input_height"
        ),
        Case(
            "model input_height 100000",
            "model metadata",
            regenerate_model(vgssl_input_height="100000"),
            expect="input_height",
        ),
        Case(
            "model input_width abc", "model metadata", regenerate_model(vgssl_input_width="abc"), expect="input_width"
        ),
        Case(
            "model input_width 9 (graph 8)",
            "model metadata",
            regenerate_model(vgssl_input_width="9"),
            expect="input 'image'",
        ),
        Case(
            "model descriptor_dim 15 (graph 16)",
            "model metadata",
            regenerate_model(vgssl_descriptor_dim="15"),
            expect="descriptor",
        ),
        Case(
            "model descriptor_dim 1e9",
            "model metadata",
            regenerate_model(vgssl_descriptor_dim="1000000000"),
            expect="descriptor_dim",
        ),
        Case("model format 2", "model metadata", regenerate_model(vgssl_format="2"), expect="newer"),
        Case("model format x", "model metadata", regenerate_model(vgssl_format="x"), expect="vgssl.format"),
        Case(
            "model without descriptor_dim",
            "model metadata",
            regenerate_model(vgssl_descriptor_dim=None),
            expect="not a vgssl descriptor model",
        ),
        Case("model NaN weights", "model metadata", regenerate_model(weights=nan_w), expect="probe"),
        Case("model float input", "model metadata", regenerate_model(image_type=TensorProto.FLOAT), expect="uint8"),
    ]


def calibration_cases() -> list[Case]:
    """calibration.json (read by the node and vgssl-eval; checked with Calibration.load)."""
    bad = {
        "format_version": [0, -7, True, "1", 2],
        "single.scores": [[float("nan"), 1.0], "ab", [], [1.0, 0.0]],
        "single.probabilities": [[0.1, 2.0], [0.1]],
        "single.covariance_scale": [-1.0, True, float("inf"), "2"],
        "source": [[1]],
        "single": [None, "x"],
    }
    cases = [
        Case(f"calibration {k}={v!r}", "calibration", set_field(CALIB, k, v), expect=k.split(".")[0])
        for k, values in bad.items()
        for v in values
    ]
    cases.append(
        Case("calibration nested", "calibration", lambda r: (r / CALIB).write_text("[" * 100_000), expect="JSON")
    )
    return cases


def random_cases(seed: int = 0) -> list[Case]:
    """Seeded truncations and bit flips of every file (a flip may be harmless: then answers must stay correct)."""
    rng = np.random.default_rng(seed)
    cases = []
    for rel in ("model.onnx", MAP_JSON, "map/index.faiss", "map/places.npz", CALIB, HMAP_JSON, "hmap/index.faiss"):
        map_dir = "hmap" if rel.startswith("hmap") else "map"
        for frac in (0.0, *np.round(rng.uniform(0.05, 0.95, 3), 3)):
            cases.append(
                Case(
                    f"{rel} cut to {frac:.0%}",
                    "truncation",
                    write_bytes(rel, lambda d, f=frac: d[: int(len(d) * f)]),
                    map_dir=map_dir,
                )
            )
        for count in (1, 8, 50):
            s = int(rng.integers(1 << 30))
            cases.append(
                Case(
                    f"{rel} {count} flipped bytes (seed {s})",
                    "bit flips",
                    flip(rel, count, s),
                    must_refuse=False,
                    map_dir=map_dir,
                )
            )
    return cases


def all_cases(seed: int = 0) -> list[Case]:
    """The whole corpus: named damages first, then the seeded random ones."""
    return field_cases() + index_and_places_cases() + model_cases() + calibration_cases() + random_cases(seed)


# --- running ----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one case gave: ``result`` (refused / accepted / wrong / traceback) and the first error line."""

    case: Case
    result: str
    message: str
    seconds: float


def command(argv: list[str], main: Callable[[list[str]], int] = vgssl_map) -> tuple[int | None, str, str]:
    """Run a CLI's ``main`` (default vgssl-map) in-process: (exit code or None when an exception escaped, stdout,
    stderr); argparse's own exit (usage errors) gives its code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc: int | None = main(argv)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 2
        except Exception as exc:  # noqa: BLE001 - an escaped exception is the failure being counted
            rc = None
            err.write(f"Traceback: {type(exc).__name__}: {exc}\n")
    return rc, out.getvalue(), err.getvalue()


def _query_ok(stdout: str) -> bool:
    """The query's top-1 place is the query's own place, with finite similarities in [-1, 1]."""
    rows = [line.split() for line in stdout.splitlines() if "sim " in line]
    if not rows:
        return False
    sims = [float(r[2]) for r in rows]
    return rows[0][3] == f"place{QUERY_PLACE:05d}" and all(np.isfinite(s) and -1.001 <= s <= 1.001 for s in sims)


def _info_ok(stdout: str) -> bool:
    """info printed no NaN or inf."""
    text = stdout.lower()
    return "nan" not in text and "inf " not in text and "inf," not in text and "inf]" not in text


def error_line(rc: int | None, err: str) -> str | None:
    """The one error line of a refusal, or None when the refusal is not one clean line."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ": error: " in ln]
    if rc != 2 or "Traceback" in err or len(errors) != 1:
        return None
    return errors[0]


def _load(load: Callable[[], object], must_refuse: bool) -> tuple[str, str]:
    """Call a loader directly: a one-line ValueError (MapError, ModelError) is a refusal."""
    try:
        load()
    except ValueError as exc:
        return ("refused" if "\n" not in str(exc) else "traceback", str(exc))
    except Exception as exc:  # noqa: BLE001 - an escaped exception is the failure being counted
        return ("traceback", f"{type(exc).__name__}: {exc}")
    return ("wrong" if must_refuse else "accepted", "")


def damaged_copy(case: Case, assets: Path, work: Path) -> Path:
    """A copy of ``assets`` at ``work`` with ``case``'s damage applied."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(assets, work)
    _CURRENT_ROOT.append(work)
    try:
        case.mutate(work)
    finally:
        _CURRENT_ROOT.pop()
    return work


def run_case(case: Case, assets: Path, work: Path) -> Outcome:
    """Copy ``assets`` to ``work``, damage it, run info, query and the loaders; classify the worst outcome."""
    t0 = time.perf_counter()
    damaged_copy(case, assets, work)
    geo_map, model = str(work / case.map_dir), str(work / "model.onnx")
    results: list[tuple[str, str]] = []
    if (
        case.kind == "model metadata" or "model.onnx" in case.name
    ):  # the model's own checks, before the map's model hash would refuse it anyway
        results.append(_load(lambda: Embedder(model), case.must_refuse))
    if case.kind == "calibration" or CALIB in case.name:
        results.append(_load(lambda: Calibration.load(work / CALIB), case.must_refuse))
    else:
        for argv, ok in (
            (["info", geo_map], _info_ok),
            (["query", geo_map, "--model", model, "--threads", "1", str(work / "query.png"), "-k", "3"], _query_ok),
        ):
            rc, out, err = command(argv)
            if rc == 0:
                wrong = not ok(out) or (case.must_refuse and argv[0] == "query")
                results.append(("wrong" if wrong else "accepted", out.strip().splitlines()[-1] if out.strip() else ""))
            else:
                line = error_line(rc, err)
                results.append(("traceback", err.strip()[-300:]) if line is None else ("refused", line))
    order = ["traceback", "wrong", "refused", "accepted"]
    result, message = min(results, key=lambda r: order.index(r[0]))
    return Outcome(case, result, message, time.perf_counter() - t0)


def report(outcomes: list[Outcome]) -> str:
    """A table: per kind of damage, how many cases gave each result."""
    kinds = list(dict.fromkeys(o.case.kind for o in outcomes))
    results = ("refused", "accepted", "wrong", "traceback")
    lines = [f"{'damage':<18}{'cases':>6}" + "".join(f"{r:>10}" for r in results)]
    for kind in [*kinds, "all"]:
        mine = [o for o in outcomes if kind in ("all", o.case.kind)]
        lines.append(f"{kind:<18}{len(mine):>6}" + "".join(f"{sum(o.result == r for o in mine):>10}" for r in results))
    return "\n".join(lines)


if __name__ == "__main__":  # python -m reliability.map_damage WORKDIR: the table, and what broke
    import sys

    work = Path(sys.argv[1])
    assets = make_assets(work / "assets")
    outcomes = [run_case(c, assets, work / "w") for c in all_cases(seed=0)]
    for o in outcomes:
        print(f"{o.result:<10} {o.case.kind:<16} {o.case.name}: {o.message[-160:]!r}")
    print(report(outcomes))
