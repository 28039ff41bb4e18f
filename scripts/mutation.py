"""Mutation testing (issue 19): mutmut over the modules that decide what the robot publishes and what training
learns, each module against only the test files that cover it. `make mutation` runs it; not part of `make test`.

Each module runs in its own scratch copy (build/mutation/<module>/), so mutmut's first pass (which test touches
which function) and every mutant see only that module's tests; results go to build/mutation/summary.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CORE = "test/vgssl_ros/core"
_FILTER_TESTS = (
    f"{_CORE}/test_filter.py",
    f"{_CORE}/test_filter_output.py",
    f"{_CORE}/test_filter_confidence.py",
    f"{_CORE}/test_filter_seed.py",
    f"{_CORE}/test_filter_transitions.py",
    f"{_CORE}/test_filter_observation.py",
    f"{_CORE}/test_filter_motion.py",
    f"{_CORE}/test_filter_state.py",
    f"{_CORE}/test_filter_layout.py",
    f"{_CORE}/test_filter_config.py",
    f"{_CORE}/test_localizer_settings.py",  # filter_for_map (build.py)
)
# tuning.py holds constants only: nothing for mutmut to mutate.
_FILTER_FILES = ("bayes", "transitions", "state", "observation", "motion", "layout", "config", "build")
COVERING_TESTS: dict[str, tuple[str, ...]] = {
    "vgssl_ros/core/estimate.py": ("test/vgssl_ros/test_estimate.py", f"{_CORE}/test_localizer_settings.py"),
    "vgssl_ros/core/filter/output.py": (f"{_CORE}/test_filter_output.py", f"{_CORE}/test_localizer_settings.py"),
    "vgssl_ros/node/messages.py": ("test/vgssl_ros/node/test_messages.py",),
    "vgssl_ros/node/belief.py": ("test/vgssl_ros/node/test_belief.py",),
    "vgssl_ros/node/parameters.py": (
        "test/vgssl_ros/node/test_parameters.py",
        "test/vgssl_ros/node/test_launch_and_config.py",
    ),
    "vgssl_ros/mapping/writer.py": ("test/vgssl_ros/mapping/test_writer.py",),
    "vgssl_ros/io/*": ("test/vgssl_ros/io", "test/vgssl_ros/mapping/test_writer.py"),
    "vgssl_ros/geo/*": ("test/vgssl_ros/geo",),
    "vgssl_ros/metrics/*": ("test/vgssl_ros/test_recall.py",),
    "vgssl_train/training/checkpoint.py": ("test/vgssl_train/test_checkpoint.py",),
    "vgssl_train/mining/*": ("test/vgssl_train/test_mining.py", "test/vgssl_train/test_epoch_pairs.py"),
    "vgssl_train/losses/*": ("test/vgssl_train/test_losses.py",),
    "vgssl_ros/core/decode.py": ("test/vgssl_ros/test_decode.py",),
    "vgssl_ros/core/map.py": (
        f"{_CORE}/test_map_load.py",
        f"{_CORE}/test_corrupt_files.py",
        "test/vgssl_ros/mapping/test_writer.py",
    ),
    "vgssl_ros/core/calibration.py": (
        f"{_CORE}/test_calibration_load.py",
        "test/vgssl_ros/eval/test_calibration_bounds.py",
    ),
    "vgssl_train/export/*": ("test/vgssl_train/test_export.py",),
    "vgssl_ros/core/calibration_checks.py": ("test/vgssl_ros/eval/test_calibration_bounds.py",),
    "vgssl_ros/core/filter/*": _FILTER_TESTS,
}
"""Module (file or folder glob) -> the fast-tier test files that cover it; mutmut runs each mutant against those
of them that call the mutated function. Robot-facing modules first; the filter (about 2000 mutants, ~20 min) last."""

FILTER_PIECES: dict[str, tuple[str, ...]] = {
    f"vgssl_ros/core/filter/{name}.py": _FILTER_TESTS for name in _FILTER_FILES
}
"""The filter one file at a time, by name only (not in the default run): results in pieces of 50-600 mutants."""

COPY = ("vgssl_ros", "vgssl_train", "test", "config", "launch", "setup.cfg", "package.xml", "setup.py")


def _slug(module: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", module.removesuffix(".py").removesuffix("/*")).strip("_")


def _prepare(module: str, tests: tuple[str, ...], work: Path, max_children: int) -> None:
    """A scratch copy of the project with a [mutmut] section for ``module`` and its tests."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPY:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=skip)
        elif src.is_file():
            shutil.copy2(src, work / name)
    (work / "setup.cfg").write_text(
        (work / "setup.cfg").read_text()
        + "\n[mutmut]\n"
        + f"source_paths =\n    vgssl_ros\n    vgssl_train\nonly_mutate =\n    {module}\n"
        + "pytest_add_cli_args_test_selection =\n"
        + "".join(f"    {t}\n" for t in tests)
        + "pytest_add_cli_args =\n    -m\n    not slow\n    -p\n    no:cacheprovider\n"
        + f"max_children = {max_children}\n"
        + "also_copy =\n"
        + "".join(f"    {name}\n" for name in COPY if name not in ("vgssl_ros", "vgssl_train", "test", "setup.cfg"))
    )


def _survivors(work: Path, mutmut: list[str]) -> list[dict[str, str]]:
    """Every mutant that was not killed, with mutmut's diff lines (the changed line only)."""
    out = subprocess.run([*mutmut, "results"], cwd=work, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if not name:
            continue
        diff = subprocess.run([*mutmut, "show", name], cwd=work, capture_output=True, text=True).stdout
        changed = [
            d[1:].strip() for d in diff.splitlines() if d.startswith(("-", "+")) and not d.startswith(("---", "+++"))
        ]
        rows.append({"mutant": name, "status": status, "change": "  =>  ".join(changed)})
    return rows


def run_module(module: str, root: Path, max_children: int) -> dict:
    """Run mutmut over ``module``; its killed/survived counts, score and survivors."""
    work = root / _slug(module)
    tests = {**COVERING_TESTS, **FILTER_PIECES}[module]
    _prepare(module, tests, work, max_children)
    mutmut = [sys.executable, "-m", "mutmut"]
    env = {**os.environ, "PYTHONPATH": "", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    with open(work / "mutmut.log", "w") as log:
        rc = subprocess.run(
            [*mutmut, "run", "--max-children", str(max_children)],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        ).returncode
    subprocess.run([*mutmut, "export-cicd-stats"], cwd=work, env=env, capture_output=True)
    stats_file = work / "mutants" / "mutmut-cicd-stats.json"
    stats = json.loads(stats_file.read_text()) if stats_file.is_file() else {}
    tested = stats.get("total", 0) - stats.get("skipped", 0)  # "no tests" mutants count as not killed
    killed = stats.get("killed", 0) + stats.get("timeout", 0)
    return {
        "module": module,
        "tests": list(tests),
        "rc": rc,
        "seconds": round(time.perf_counter() - t0, 1),
        "stats": stats,
        "score": round(100.0 * killed / tested, 1) if tested else None,
        "survivors": _survivors(work, mutmut),
    }


def main(argv: list[str] | None = None) -> int:
    """`make mutation [MODULES="vgssl_ros/core/estimate.py ..."]`: run and summarise; 1 if a module failed to run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"modules to mutate (default: all of {len(COVERING_TESTS)})")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "mutation", help="scratch and results folder")
    parser.add_argument("--max-children", type=int, default=2, help="mutants run in parallel (default 2)")
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in COVERING_TESTS and m not in FILTER_PIECES]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; known: {', '.join([*COVERING_TESTS, *FILTER_PIECES])}")
    results = []
    for module in args.modules or list(COVERING_TESTS):
        r = run_module(module, args.out, args.max_children)
        results.append(r)
        s = r["stats"]
        print(
            f"{module}: {r['score']}% killed ({s.get('killed', 0)} killed, {s.get('timeout', 0)} timeout, "
            f"{s.get('survived', 0)} survived, {s.get('no_tests', 0)} no tests, of {s.get('total', 0)}) "
            f"in {r['seconds']} s",
            flush=True,
        )
        for row in r["survivors"]:
            print(f"    {row['mutant']} [{row['status']}]: {row['change']}")
        (args.out / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(r["score"] is not None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
