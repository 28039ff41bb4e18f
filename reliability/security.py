"""Security basics: no user file can run code, no path is read by a shell, a map's model hash cannot be skipped.

Parts: the static scan (reliability/source_scan.py); files whose unpickling or YAML tag would create a marker file
(.pt checkpoint, places.npz, bag metadata.yaml) through the commands that read them; paths with quotes, ';',
'$(...)', backticks, spaces and newlines through `vgssl-map info / query / build`, `vgssl-eval` and the node's
parameters; a map built for another model through `vgssl-map query`, `vgssl-eval` (offline and --live) and the node.
"""

from __future__ import annotations

import builtins
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reliability.campaign import CampaignResult
from reliability.input_damage import make_inputs
from reliability.map_damage import DIM, SIDE, _query_ok, command, error_line, make_assets, tiny_model
from reliability.node_start import NODES_AT_ONCE, node_outcome, start_node
from reliability.source_scan import scan
from vgssl_ros.eval.cli import main as vgssl_eval

MARKER = "PWNED"
NASTY_NAMES = (
    "with space",
    "quote'in",
    'dquote"in',
    "semi;touch PWNED;x",
    "$(touch PWNED)",
    "`touch PWNED`",
    "new\nline",
    "pipe|touch PWNED",
    "amp&touch PWNED&",
    "glob*?[x]",
    "dollar$HOME",
    "back\\slash",
    "-dash",
    "ünïcødé",
)
"""Folder names holding the model, the map and the inputs (a shell would run the commands in some of them)."""
QUICK_NAMES = 3
"""The quick version uses the first three names, the node only the nastiest one."""


class Payload:
    """An object whose unpickling calls ``func(*args)`` (e.g. os.system or open a marker file)."""

    def __init__(self, func: Callable[..., object], *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        return (self.func, self.args)


def payloads(marker: Path) -> dict[str, Payload]:
    """Three ways a pickle can run code: a shell command, exec of Python, open of a file for writing."""
    return {
        "os.system": Payload(os.system, f"touch '{marker}'"),
        "exec": Payload(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
        "open": Payload(builtins.open, str(marker), "w"),
    }


def planted(work: Path) -> list[str]:
    """Marker files that some trial's payload created (in ``work`` or the current folder)."""
    found = [p for p in work.rglob("*") if p.name == MARKER or p.name.startswith("marker-")]
    return [str(p) for p in found + [p for p in (Path.cwd() / MARKER,) if p.exists()]]


class Trials:
    """Runs trials against one CampaignResult: each is a command with the outcome it must have."""

    def __init__(self, result: CampaignResult, work: Path) -> None:
        self.result, self.work = result, work

    def expect(
        self, what: str, outcome: tuple[int | None, str, str], rc: int | tuple[int, ...], fragment: str = ""
    ) -> None:
        """Count a trial: exit code ``rc`` (or one of them; 2 also needs one error line containing ``fragment``), and
        no marker file."""
        self.result.trials += 1
        got, out, err = outcome
        line = error_line(got, err) if got == 2 else ""
        ok = got in (rc if isinstance(rc, tuple) else (rc,))
        ok = ok and (got != 2 or (line is not None and fragment in line)) and "Traceback" not in err
        markers = planted(self.work)
        if not ok:
            self.result.fail(f"{what}: exit {got}, expected {rc} ({fragment!r}): {(err or out).strip()[-300:]!r}")
        elif markers:
            self.result.fail(f"{what}: code ran, it created {markers}")
        for m in markers:
            Path(m).unlink()


def malicious_files(t: Trials, assets: Path) -> None:
    """Checkpoints, places tables and bag metadata that would run code when loaded unsafely."""
    import torch

    from vgssl_train.cli import main as vgssl_train

    root, images = t.work / "malicious", assets / "inputs" / "images"
    for name, payload in payloads(root / "marker-pt").items():
        evil = root / f"{name}.pt"
        evil.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"format": 2, "model": {"w": torch.zeros(1)}, "model_spec": {}, "x": payload}, evil)
        argv = ["export", "--checkpoint", str(evil), "--out", str(root / "m.onnx"), "--parity-images", str(images)]
        t.expect(f".pt with a {name} payload: vgssl-train export", command(argv, vgssl_train), 2, "would run code")
    for name, payload in payloads(root / "marker-npz").items():
        geo_map = root / f"map-{name}"
        shutil.copytree(assets / "map", geo_map)
        with np.load(geo_map / "places.npz") as z:
            cols = {k: z[k] for k in z.files}
        cols["ids"] = np.array([payload] * len(cols["utm"]), dtype=object)
        np.savez(geo_map / "places.npz", **cols)  # allow_pickle is needed (and the default) for saving only
        t.expect(f"places.npz with a {name} payload: vgssl-map info", command(["info", str(geo_map)]), 2, "places")
    bag = root / "bag"
    shutil.copytree(assets / "inputs" / "bag", bag)
    meta = bag / "metadata.yaml"
    marker = root / "marker-yaml"
    meta.write_text(f"x: !!python/object/apply:os.system [\"touch '{marker}'\"]\n" + meta.read_text())
    argv = ["build", "--bag", str(bag), "--image-topic", "/cam", "--fix-topic", "/fix", "--model"]
    argv += [str(assets / "model.onnx"), "--out", str(root / "bag-map"), "--quiet"]
    t.expect("bag metadata.yaml with a python/object tag: vgssl-map build", command(argv), 2, "metadata")


def nasty_paths(t: Trials, assets: Path, names: tuple[str, ...]) -> None:
    """Every command on a model, map, images and bag kept in a folder whose name a shell would misread."""
    for name in names:
        d = t.work / "paths" / name
        d.mkdir(parents=True)
        for rel in ("model.onnx", "map", "query.png", "inputs/images", "inputs/bag"):
            (shutil.copytree if (assets / rel).is_dir() else shutil.copy)(assets / rel, d / Path(rel).name)
        shown = repr(name)
        t.expect(f"vgssl-map info in {shown}", command(["info", str(d / "map")]), 0)
        query = ["query", str(d / "map"), "--model", str(d / "model.onnx"), str(d / "query.png"), "-k", "3"]
        outcome = command(query)
        t.expect(f"vgssl-map query in {shown}", outcome if _query_ok(outcome[1]) else (1, *outcome[1:]), 0)
        build = ["build", "--images", str(d / "images"), "--model", str(d / "model.onnx"), "--out", str(d / "built")]
        t.expect(f"vgssl-map build in {shown}", command([*build, "--quiet", "--no-thumbnails"]), 0)
        ev = ["--bag", str(d / "bag"), "--map", str(d / "built"), "--model", str(d / "model.onnx"), "--out"]
        ev += [str(d / "eval"), "--image-topic", "/cam", "--fix-topic", "/fix", "--quiet"]
        t.expect(f"vgssl-eval in {shown}", command(ev, vgssl_eval), 0)


def other_model(t: Trials, assets: Path) -> Path:
    """A map built for another model, through vgssl-map query and vgssl-eval (offline and --live): refused."""
    d = t.work / "other"
    d.mkdir()
    other = tiny_model(d / "other.onnx", weights=np.ones((SIDE * SIDE * 3, DIM), np.float32))
    query = ["query", str(assets / "map"), "--model", str(other), str(assets / "query.png")]
    t.expect("map of another model: vgssl-map query", command(query), 2, "another model")
    built = d / "built"
    argv = ["build", "--images", str(assets / "inputs" / "images"), "--model", str(assets / "model.onnx"), "--out"]
    command([*argv, str(built), "--quiet"])
    ev = ["--bag", str(assets / "inputs" / "bag"), "--map", str(built), "--model", str(other), "--out", str(d / "e")]
    ev += ["--image-topic", "/cam", "--fix-topic", "/fix", "--quiet"]
    t.expect("map of another model: vgssl-eval", command(ev, vgssl_eval), 2, "another model")
    t.expect("map of another model: vgssl-eval --live", command(["--live", *ev], vgssl_eval), 2, "another model")
    return other


def node_starts(t: Trials, assets: Path, other: Path, names: tuple[str, ...]) -> None:
    """The localizer node: a map of another model is refused; nasty paths (YAML-quoted, as README says) start."""
    runs: list[tuple[str, Path, Path, bool, int | tuple[int, ...], str]] = [
        ("node: map of another model", other, assets / "map", True, 2, "another model")
    ]
    for name in names:
        d = t.work / "paths" / name
        runs.append((f"node: model and map in {name!r}", d / "model.onnx", d / "map", True, 0, ""))
        if len(names) > 1:  # full size: also unquoted, as a user might type it (YAML may read it otherwise: exit 2)
            runs.append((f"node: unquoted -p paths in {name!r}", d / "model.onnx", d / "map", False, (0, 2), ""))
    for k in range(0, len(runs), NODES_AT_ONCE):
        procs = [(r[0], start_node(t.work, *r[1:4]), *r[4:]) for r in runs[k : k + NODES_AT_ONCE]]
        for what, (proc, log), rc, fragment in procs:
            t.expect(what, node_outcome(proc, log), rc, fragment)


def run(seed: int, quick: bool, work: Path) -> CampaignResult:
    """The static scan, malicious files, nasty paths, a map of another model; the node last (slowest)."""
    result = CampaignResult("security", seed)
    files, findings = scan()
    result.trials += files
    for f in findings:
        result.fail(f"static scan: {f}")
    assets = make_assets(work / "assets")
    make_inputs(assets / "inputs", assets / "model.onnx")
    t = Trials(result, work)
    names = NASTY_NAMES[:QUICK_NAMES] if quick else NASTY_NAMES
    rng = np.random.default_rng(seed)
    names = tuple(names[i] for i in rng.permutation(len(names)))
    malicious_files(t, assets)
    nasty_paths(t, assets, names)
    other = other_model(t, assets)
    node_starts(t, assets, other, names[:1] if quick else names)
    result.figures = {"files_scanned": float(files), "paths": float(len(names))}
    return result
