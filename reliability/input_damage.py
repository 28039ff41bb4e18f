"""Damaged inputs of `vgssl-map build`: VPR file names, CSV manifests and rosbag2 drives (metadata and storage).

Each trial damages a copy of small, correct inputs and runs the real command in-process; the outcome is ``refused``
(exit 2 and one error line), ``accepted`` (exit 0 and every place within 1 km of where it truly is), ``wrong``
(accepted with a place elsewhere, or accepted although it must be refused) or ``traceback``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reliability.map_damage import ORIGIN, ZONE, Outcome, command, error_line, place_rgb
from vgssl_ros.bags.writer import DriveBagWriter, DriveTopics
from vgssl_ros.datasets import format_vpr_name
from vgssl_ros.geo import utm_to_latlon

POINTS = 3
TRUTH = ORIGIN + np.c_[np.zeros(POINTS), 40.0 * np.arange(POINTS)]
TOPICS = DriveTopics(image="/cam", fix="/fix")
BAGS = {"bag": "mcap", "bag3": "sqlite3"}
"""Bag folder (= InputCase.source) -> storage."""
FAR_M = 1000.0
"""An accepted place farther than this from every true position is a wrong answer."""


@dataclass(frozen=True)
class InputCase:
    """One damaged input: ``mutate(root)`` edits the copy; ``source`` is ``images``, ``csv`` or ``bag``."""

    name: str
    kind: str
    source: str
    mutate: Callable[[Path], object]
    must_refuse: bool = True
    anywhere: bool = False
    """True when an accepted place may lie anywhere valid (a random edit of a value no other field cross-checks)."""


def vpr_fields(i: int) -> list[str]:
    """The '@' fields of image ``i``'s correct VPR name (a numeric heading field after lat/lon, like many sets)."""
    lat, lon = utm_to_latlon(TRUTH[i : i + 1], ZONE)[0]
    east, north = TRUTH[i]
    return format_vpr_name(east, north, ZONE, lat, lon, ("90.0", f"p{i}"), ext=".png").split("@")


def make_inputs(root: Path, model: Path) -> Path:
    """root/images (VPR names), root/csv (manifest.csv + images), root/bag (mcap drive), root/bagmap (a map of
    root/images for `vgssl-eval` on the bag), root/model.onnx."""
    (root / "images").mkdir(parents=True)
    (root / "csv").mkdir()
    shutil.copy(model, root / "model.onnx")
    latlon = utm_to_latlon(TRUTH, ZONE)
    rows = ["image,lat,lon,heading"]
    for i in range(POINTS):
        bgr = cv2.cvtColor(place_rgb(i), cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(root / "images" / "@".join(vpr_fields(i))), bgr)
        cv2.imwrite(str(root / "csv" / f"img{i}.png"), bgr)
        rows.append(f"img{i}.png,{latlon[i, 0]:.7f},{latlon[i, 1]:.7f},90")
    (root / "csv" / "manifest.csv").write_text("\n".join(rows) + "\n")
    for folder, storage in BAGS.items():
        with DriveBagWriter(root / folder, storage, TOPICS) as bag:
            for i in range(POINTS):
                stamp = (100 + i) * 1_000_000_000
                bag.write_fix(stamp, latlon[i, 0], latlon[i, 1], 0.0, (1.0, 1.0, 4.0))
                bag.write_image(stamp, place_rgb(i))
    build = argv("images", root)
    command([*build[: build.index("--out") + 1], str(root / "bagmap"), *build[build.index("--out") + 2 :]])
    return root


def argv(source: str, root: Path) -> list[str]:
    """The `vgssl-map build` command line for ``source`` in the copy at ``root``."""
    src = {
        "images": ["--images", str(root / "images")],
        "csv": ["--csv", str(root / "csv" / "manifest.csv")],
        **{b: ["--bag", str(root / b), "--image-topic", TOPICS.image, "--fix-topic", TOPICS.fix] for b in BAGS},
    }[source]
    common = ["--model", str(root / "model.onnx"), "--out", str(root / "out"), "--index", "flat", "--threads", "1"]
    return ["build", *src, *common, "--no-thumbnails", "--quiet"]


def run_input_case(case: InputCase, inputs: Path, work: Path) -> Outcome:
    """Copy ``inputs`` to ``work``, damage it, build a map from it (and, for a bag, evaluate the undamaged map on it
    with `vgssl-eval` and make a dataset of it with `vgssl-train dataset`); the worst of what the commands did."""
    import time

    t0 = time.perf_counter()
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(inputs, work)
    case.mutate(work)
    results = [_build_outcome(case, work)]
    if case.source in BAGS:
        results += [_eval_outcome(case, work), _dataset_outcome(case, work)]
    order = ["traceback", "wrong", "refused", "accepted"]
    result, message = min(results, key=lambda r: order.index(r[0]))
    return Outcome(case, result, message, time.perf_counter() - t0)  # type: ignore[arg-type]


def _refusal(rc: int | None, err: str) -> tuple[str, str]:
    line = error_line(rc, err)
    return ("traceback", err.strip()[-300:]) if line is None else ("refused", line)


def _build_outcome(case: InputCase, work: Path) -> tuple[str, str]:
    rc, out, err = command(argv(case.source, work))
    if rc != 0:
        return _refusal(rc, err)
    with np.load(work / "out" / "places.npz", allow_pickle=False) as z:
        utm = z["utm"].astype(np.float64)
    far = np.min(np.linalg.norm(utm[:, None, :] - TRUTH[None], axis=2), axis=1) if len(utm) else np.zeros(0)
    wrong = case.must_refuse or not np.isfinite(far).all() or (not case.anywhere and bool((far > FAR_M).any()))
    message = f"build accepted: {len(utm)} places, farthest {np.max(far, initial=0.0):.0f} m from the truth"
    return ("wrong" if wrong else "accepted", message)


def _dataset_outcome(case: InputCase, work: Path) -> tuple[str, str]:
    """`vgssl-train dataset --database-only` of the damaged bag."""
    from vgssl_train.cli import main as vgssl_train

    argv = ["dataset", "--drive", str(work / case.source), "--database-only", "--out", str(work / "dataset"), "--quiet"]
    rc, out, err = command([*argv, "--image-topic", TOPICS.image, "--fix-topic", TOPICS.fix], vgssl_train)
    if rc != 0:
        return _refusal(rc, err)
    return ("wrong" if case.must_refuse else "accepted", "vgssl-train dataset accepted: " + out.strip()[:200])


def _eval_outcome(case: InputCase, work: Path) -> tuple[str, str]:
    """`vgssl-eval` of the damaged bag against the map of the undamaged inputs."""
    from vgssl_ros.eval.cli import main as vgssl_eval

    ev = ["--bag", str(work / case.source), "--map", str(work / "bagmap"), "--model", str(work / "model.onnx"), "--out"]
    ev += [str(work / "eval"), "--image-topic", TOPICS.image, "--fix-topic", TOPICS.fix, "--quiet"]
    rc, out, err = command(ev, vgssl_eval)
    if rc != 0:
        return _refusal(rc, err)
    return ("wrong" if case.must_refuse else "accepted", "vgssl-eval accepted: " + out.strip()[:200])


# --- VPR file names ---------------------------------------------------------------------------------------


def rename(i: int, edit: Callable[[list[str]], list[str]]) -> Callable[[Path], object]:
    """Rename image ``i`` to the '@' fields ``edit(fields)``."""

    def mutate(root: Path) -> None:
        (root / "images" / "@".join(vpr_fields(i))).rename(root / "images" / "@".join(edit(vpr_fields(i))))

    return mutate


def _set(pos: int, value: str) -> Callable[[list[str]], list[str]]:
    return lambda f: [value if k == pos else v for k, v in enumerate(f)]


def _swap(a: int, b: int) -> Callable[[list[str]], list[str]]:
    def edit(f: list[str]) -> list[str]:
        f[a], f[b] = f[b], f[a]
        return f

    return edit


def vpr_cases(seed: int, randoms: int) -> list[InputCase]:
    """Named damages of one file name (east 1, north 2, zone 3, band 4, lat 5, lon 6), then seeded edits."""
    named: dict[str, tuple[Callable[[list[str]], list[str]], bool]] = {
        "east/north swapped": (_swap(1, 2), True),
        "lat/lon swapped": (_swap(5, 6), True),
        "lat dropped (lon, heading shift in)": (lambda f: f[:5] + f[6:], True),
        "lon dropped (heading shifts in)": (lambda f: f[:6] + f[7:], True),
        "east dropped": (lambda f: f[:1] + f[2:], True),
        "empty field before lat (lat/lon shifted)": (lambda f: f[:5] + [""] + f[5:], True),
        "empty lat and lon": (lambda f: f[:5] + ["", ""] + f[7:], False),
        "east nan": (_set(1, "nan"), True),
        "north inf": (_set(2, "inf"), True),
        "north 1e300": (_set(2, "1e300"), True),
        "east abc": (_set(1, "abc"), True),
        "east 5 km off": (_set(1, f"{ORIGIN[0] + 5000:.2f}"), True),
        "zone 0": (_set(3, "0"), True),
        "zone 61": (_set(3, "61"), True),
        "zone 33.9": (_set(3, "33.9"), True),
        "zone 34 (lat/lon in 33)": (_set(3, "34"), True),
        "band I": (_set(4, "I"), True),
        "band lower-case w": (_set(4, "w"), False),
        "band C (southern)": (_set(4, "C"), True),
        "lat 91": (_set(5, "91"), True),
        "lon 200": (_set(6, "200"), True),
        "lat nan": (_set(5, "nan"), True),
        "too few fields": (lambda f: [*f[:4], f[-1]], True),
        "no leading @": (lambda f: ["x", *f[1:]], True),
        "extra fields": (lambda f: [*f[:-1], "a", "b", f[-1]], False),
        "name of 200 '@'": (lambda f: [""] * 200 + [f[-1]], True),
    }
    cases = [
        InputCase(f"vpr name {name} (image {k % POINTS})", "VPR names", "images", rename(k % POINTS, edit), refuse)
        for k, (name, (edit, refuse)) in enumerate(named.items())
    ]
    cases.append(InputCase("vpr names of two zones", "VPR names", "images", rename(1, _set(3, "32")), True))
    rng = np.random.default_rng(seed)
    for _ in range(randoms):
        i, s = int(rng.integers(POINTS)), int(rng.integers(1 << 30))
        cases.append(InputCase(f"vpr name edit (seed {s}, image {i})", "VPR names", "images", _edit_name(i, s), False))
    return cases


def _edit_name(i: int, seed: int) -> Callable[[Path], object]:
    """Delete, insert or replace one character of image ``i``'s name (before the extension)."""

    def edit(fields: list[str]) -> list[str]:
        rng = np.random.default_rng(seed)
        name = "@".join(fields[:-1])
        pos = int(rng.integers(1, len(name)))
        char = "0123456789.-@eEnNaA+ "[int(rng.integers(21))]
        op = int(rng.integers(3))
        name = name[:pos] + (char if op else "") + name[pos + (op != 1) :]
        return [*name.split("@"), fields[-1]]

    return rename(i, edit)


# --- CSV manifests ----------------------------------------------------------------------------------------


def edit_csv(edit: Callable[[str], str]) -> Callable[[Path], object]:
    """Rewrite manifest.csv's text with ``edit(text)``."""

    def mutate(root: Path) -> None:
        file = root / "csv" / "manifest.csv"
        file.write_text(edit(file.read_text()))

    return mutate


def _cell(row: int, col: int, value: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        lines = text.splitlines()
        cells = lines[row].split(",")
        cells[col] = value
        lines[row] = ",".join(cells)
        return "\n".join(lines) + "\n"

    return edit


def _utm_manifest(zone: str, band: str, east: str = "") -> Callable[[str], str]:
    def edit(_text: str) -> str:
        rows = ["image,utm_east,utm_north,utm_zone,utm_band"]
        rows += [f"img{i}.png,{east or TRUTH[i, 0]},{TRUTH[i, 1]},{zone},{band}" for i in range(POINTS)]
        return "\n".join(rows) + "\n"

    return edit


def csv_cases(seed: int, randoms: int) -> list[InputCase]:
    """Named damages of the manifest (row 1 = first image; columns image, lat, lon, heading), then seeded ones."""
    named: dict[str, tuple[Callable[[str], str], bool]] = {
        "lat nan": (_cell(1, 1, "nan"), True),
        "lat inf": (_cell(1, 1, "inf"), True),
        "lat 1e400": (_cell(1, 1, "1e400"), True),
        "lat 91": (_cell(1, 1, "91"), True),
        "lon -181": (_cell(1, 2, "-181"), True),
        "lat abc": (_cell(1, 1, "abc"), True),
        "lat empty": (_cell(1, 1, ""), True),
        "lat/lon swapped in a row": (
            lambda t: _cell(1, 2, t.splitlines()[1].split(",")[1])(_cell(1, 1, "13.0")(t)),
            True,
        ),
        "heading nan": (_cell(1, 3, "nan"), False),
        "heading abc": (_cell(1, 3, "abc"), True),
        "image missing": (_cell(1, 0, "nope.png"), True),
        "image empty": (_cell(1, 0, ""), True),
        "image is the manifest": (_cell(1, 0, "manifest.csv"), True),
        "image is a folder": (_cell(1, 0, "."), True),
        "image outside (../../etc/passwd)": (_cell(1, 0, "../../../../etc/passwd"), True),
        "no image column": (lambda t: t.replace("image,", "picture,", 1), True),
        "no position columns": (lambda t: t.replace("lat,lon", "a,b", 1), True),
        "header only": (lambda t: t.splitlines()[0] + "\n", True),
        "empty file": (lambda t: "", True),
        "NUL bytes": (lambda t: t.replace(",", "\0", 2), True),
        "UTF-8 BOM": (lambda t: "\ufeff" + t, False),
        "a row of 1 MB": (lambda t: t + "img0.png," + "9" * (1 << 20) + ",1\n", True),
        "extra cells in a row": (_cell(1, 3, "90,1,2,3"), False),
        "utm zone 0": (_utm_manifest("0", "W"), True),
        "utm band I": (_utm_manifest("33", "I"), True),
        "utm zone 33.9": (_utm_manifest("33.9", "W"), True),
        "utm east nan": (_utm_manifest("33", "W", "nan"), True),
        "utm east 1e300": (_utm_manifest("33", "W", "1e300"), True),
        "utm correct": (_utm_manifest("33", "W"), False),
    }
    cases = [
        InputCase(f"csv {name}", "CSV manifests", "csv", edit_csv(edit), refuse)
        for name, (edit, refuse) in named.items()
    ]
    rng = np.random.default_rng(seed + 1)
    for _ in range(randoms):
        s = int(rng.integers(1 << 30))
        cases.append(
            InputCase(
                f"csv byte edit (seed {s})", "CSV manifests", "csv", _edit_bytes("csv/manifest.csv", s), False, True
            )
        )
    return cases


def _edit_bytes(rel: str, seed: int) -> Callable[[Path], object]:
    """Truncate, flip a bit in, or insert a random byte into ``rel`` (seeded)."""

    def mutate(root: Path) -> None:
        rng = np.random.default_rng(seed)
        data = bytearray((root / rel).read_bytes())
        pos = int(rng.integers(0, max(len(data), 1)))
        op = int(rng.integers(3))
        if op == 0:
            data = data[:pos]
        elif op == 1 and data:
            data[pos] ^= 1 << int(rng.integers(8))
        else:
            data.insert(pos, int(rng.integers(256)))
        (root / rel).write_bytes(bytes(data))

    return mutate


# --- rosbag2 drives ---------------------------------------------------------------------------------------

META = "bag/metadata.yaml"


def edit_meta(edit: Callable[[str], str]) -> Callable[[Path], object]:
    """Rewrite the bag's metadata.yaml with ``edit(text)``."""

    def mutate(root: Path) -> None:
        (root / META).write_text(edit((root / META).read_text()))

    return mutate


def _mcap(root: Path) -> Path:
    return next((root / "bag").glob("*.mcap"))


def bag_cases(seed: int, randoms: int) -> list[InputCase]:
    """Named damages of metadata.yaml and the .mcap file, then seeded byte edits of both."""

    def storage(edit: Callable[[bytes], bytes]) -> Callable[[Path], object]:
        return lambda root: _mcap(root).write_bytes(edit(_mcap(root).read_bytes()))

    named: dict[str, Callable[[Path], object]] = {
        "metadata.yaml removed": lambda root: (root / META).unlink(),
        "metadata.yaml empty": edit_meta(lambda t: ""),
        "metadata.yaml '{}'": edit_meta(lambda t: "{}\n"),
        "metadata.yaml a list": edit_meta(lambda t: "- 1\n- 2\n"),
        "metadata.yaml not YAML": edit_meta(lambda t: t.replace(":", " ", 3) + "\n  - ]["),
        "metadata.yaml version 99": edit_meta(lambda t: t.replace("version: 9", "version: 99", 1)),
        "metadata.yaml version abc": edit_meta(lambda t: t.replace("version: 9", "version: abc", 1)),
        "metadata.yaml storage sqlite3": edit_meta(
            lambda t: t.replace("storage_identifier: mcap", "storage_identifier: sqlite3")
        ),
        "metadata.yaml storage xyz": edit_meta(
            lambda t: t.replace("storage_identifier: mcap", "storage_identifier: xyz")
        ),
        "metadata.yaml message_count huge": edit_meta(
            lambda t: t.replace("message_count: 6", "message_count: 99999999999999999999", 1)
        ),
        "metadata.yaml message_count -1": edit_meta(lambda t: t.replace("message_count: 6", "message_count: -1", 1)),
        "metadata.yaml relative path outside": edit_meta(lambda t: _paths(t, "../../../../etc/passwd")),
        "metadata.yaml relative path missing": edit_meta(lambda t: _paths(t, "nope.mcap")),
        "metadata.yaml python object tag": edit_meta(
            lambda t: "x: !!python/object/apply:os.system ['touch PWNED']\n" + t
        ),
        "metadata.yaml 100000 nested": edit_meta(lambda t: "[" * 100_000),
        "mcap removed": lambda root: _mcap(root).unlink(),
        "mcap empty": storage(lambda d: b""),
        "mcap cut to half": storage(lambda d: d[: len(d) // 2]),
        "mcap magic only": storage(lambda d: d[:8]),
        "mcap <- metadata.yaml": storage(lambda d: d[:0] + b"rosbag2_bagfile_information: {}\n"),
    }
    harmless = {"metadata.yaml message_count huge", "metadata.yaml message_count -1"}  # counts are not used
    cases = [InputCase(f"bag {name}", "rosbag2", "bag", m, name not in harmless) for name, m in named.items()]
    db3: dict[str, Callable[[Path], object]] = {
        "db3 removed": lambda root: _db3(root).unlink(),
        "db3 empty": lambda root: _db3(root).write_bytes(b""),
        "db3 cut to half": lambda root: _db3(root).write_bytes(
            _db3(root).read_bytes()[: _db3(root).stat().st_size // 2]
        ),
        "db3 header only": lambda root: _db3(root).write_bytes(_db3(root).read_bytes()[:100]),
        "db3 page size 3": lambda root: _db3(root).write_bytes(_patch(_db3(root).read_bytes(), 16, b"\x00\x03")),
        "db3 declared storage mcap": lambda root: (root / "bag3" / "metadata.yaml").write_text(
            (root / "bag3" / "metadata.yaml").read_text().replace("sqlite3", "mcap")
        ),
    }
    cases += [InputCase(f"bag {name}", "rosbag2", "bag3", mutate, True) for name, mutate in db3.items()]
    rng = np.random.default_rng(seed + 2)
    for _ in range(randoms // 3):
        s = int(rng.integers(1 << 30))
        mutate = _edit_db3(s)
        cases.append(InputCase(f"bag db3 byte edit (seed {s})", "rosbag2", "bag3", mutate, False, True))
    for k in range(randoms):
        s = int(rng.integers(1 << 30))
        target = "metadata.yaml" if k % 2 else "mcap"
        mutate = _edit_bytes(META, s) if k % 2 else _edit_mcap(s)
        cases.append(InputCase(f"bag {target} byte edit (seed {s})", "rosbag2", "bag", mutate, False, True))
    return cases


def _paths(text: str, path: str) -> str:
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if "relative_file_paths" in line)
    lines[k + 1] = f"    - {path}"
    return "\n".join(lines) + "\n"


def _db3(root: Path) -> Path:
    return next((root / "bag3").glob("*.db3"))


def _patch(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new) :]


def _edit_db3(seed: int) -> Callable[[Path], object]:
    def mutate(root: Path) -> None:
        _edit_bytes(str(_db3(root).relative_to(root)), seed)(root)

    return mutate


def _edit_mcap(seed: int) -> Callable[[Path], object]:
    def mutate(root: Path) -> None:
        rel = _mcap(root).relative_to(root)
        _edit_bytes(str(rel), seed)(root)

    return mutate


def input_cases(seed: int, randoms: int) -> list[InputCase]:
    """Every family, ``randoms`` seeded edits each."""
    return vpr_cases(seed, randoms) + csv_cases(seed, randoms) + bag_cases(seed, randoms)
