"""Shared fixtures: small geo-tagged datasets the tests make, and the real data where it exists."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import multiprocessing.process
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest

from vgssl_ros.datasets import format_vpr_name
from vgssl_ros.geo import UtmZone, utm_to_latlon

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
NORDLAND = SHARED_DATA / "nordland64"

ZONE = UtmZone(33, "W")
ORIGIN = np.array([450000.0, 7250000.0])


def vpr_name(east: float, north: float, zone: UtmZone = ZONE, tag: str = "x") -> str:
    """A VPR-layout file name for a position."""
    lat, lon = utm_to_latlon(np.array([[east, north]]), zone)[0]
    return format_vpr_name(east, north, zone, lat, lon, (tag,), ext=".png")


def place_image(place: int, height: int = 32, width: int = 64, variant: int = 0) -> np.ndarray:
    """A distinctive RGB image per place: coloured bars and discs from the place's own random draw.

    ``variant`` > 0 gives another view of the same place: shifted a few pixels, with other lighting.
    """
    rng = np.random.default_rng(1000 + place)
    scale = 4
    h, w = height * scale, width * scale
    img = np.zeros((h, w, 3), np.float32) + rng.uniform(40, 200, 3)
    for _ in range(6):
        x0, y0 = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        if rng.random() < 0.5:
            cv2.rectangle(
                img, (x0, y0), (x0 + int(rng.uniform(w / 10, w / 3)), y0 + int(rng.uniform(h / 5, h))), colour, -1
            )
        else:
            cv2.circle(img, (x0, y0), int(rng.uniform(h / 8, h / 3)), colour, -1)
    if variant:
        vr = np.random.default_rng(variant * 7919 + place)
        shift = np.float32([[1, 0, vr.uniform(-2, 2) * scale], [0, 1, vr.uniform(-1, 1) * scale]])
        img = cv2.warpAffine(img, shift, (w, h), borderMode=cv2.BORDER_REFLECT)
        img = img * vr.uniform(0.8, 1.1) + vr.uniform(-15, 15)
    img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_vpr_dataset(
    root: Path,
    places: int = 12,
    spacing_m: float = 40.0,
    splits: tuple[str, ...] = ("train", "val", "test"),
    query_offset_m: float = 0.0,
) -> Path:
    """A tiny VPR-layout dataset: each place once in the database and once, seen anew, in the queries.

    ``query_offset_m`` moves every query east by that distance from its database image.
    """
    for split_i, split in enumerate(splits):
        for role in ("database", "queries"):
            folder = root / "images" / split / role
            folder.mkdir(parents=True, exist_ok=True)
            for p in range(places):
                place = split_i * 1000 + p
                east, north = ORIGIN + [query_offset_m if role == "queries" else 0.0, place * spacing_m]
                img = place_image(place, variant=1 if role == "queries" else 0)
                cv2.imwrite(
                    str(folder / vpr_name(east, north, tag=f"{place:05d}")), cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
                )
    return root


@pytest.fixture
def vpr_dataset(tmp_path: Path) -> Path:
    """A tiny VPR-layout dataset in a temporary folder."""
    return write_vpr_dataset(tmp_path / "ds")


@pytest.fixture
def nordland() -> Path:
    """The real Nordland64 data beside the checkout; skips where it is absent."""
    if not (NORDLAND / "images").is_dir():
        pytest.skip(f"real data not present at {NORDLAND} (it lives in ../shared beside the checkout)")
    return NORDLAND


@pytest.fixture(scope="session")
def session_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny VPR-layout dataset shared by the whole session (read-only for tests)."""
    return write_vpr_dataset(tmp_path_factory.mktemp("session") / "ds")


@pytest.fixture(scope="session")
def onnx_model(tmp_path_factory: pytest.TempPathFactory, session_dataset: Path) -> Path:
    """An exported ImageNet EfficientNet-Lite0 + GeM model.onnx, 32x64 uint8 RGB, dim 1280 (its tests are slow)."""
    from vgssl_train.cli import main

    out = tmp_path_factory.mktemp("model") / "model.onnx"
    rc = main(
        [
            "export",
            "--resize",
            "32",
            "64",
            "--out",
            str(out),
            "--parity-images",
            str(session_dataset / "images" / "val"),
            "--parity-count",
            "8",
        ]
    )
    assert rc == 0 and out.is_file()
    return out


# --- Test tiers -------------------------------------------------------------------------------------------------
# `slow` (setup.cfg) marks every test that starts a process, uses DDS/rclpy, trains or exports ONNX; `make test-fast`
# runs the rest. The tier enforces itself: while a test NOT marked slow sets up (its fixtures included, also
# session-scoped ones such as `onnx_model`, which exports) or runs, each of these actions fails with
# "mark this test slow: it ...". No fixture is exempt: a test that needs an exported model is a slow test.
# The guards on torch and rclpy are installed only when the test run itself imports those modules, so the
# guard imports neither. A session fixture that a slow test already built is not built again, so a fast test
# that uses it is caught only in the fast-tier run (`-m "not slow"`), the run that has to stay fast.

_fast_test: str | None = None
"""The node id of the non-slow test now setting up or running; None while a slow test (or nothing) runs."""


_refused: list[str] = []
"""What the running non-slow test was refused, so it fails even where the code under test catches the error."""


def _refuse(action: str) -> None:
    if _fast_test is not None:
        message = f"mark this test slow: it {action}"
        _refused.append(message)
        raise RuntimeError(f"{message} ({_fast_test}); `@pytest.mark.slow` keeps `make test-fast` fast")


_LOOKUPS = ("ctypes/util.py", "ctypes\\util.py", "matplotlib/font_manager.py", "matplotlib\\font_manager.py")
"""Library lookups that start a process once: torch's first import runs `ldconfig -p` (ctypes.util.find_library);
matplotlib's first import in a new venv or home builds its font cache with `fc-list`."""


def _in_library_lookup() -> bool:
    """Whether one of the _LOOKUPS is on the stack."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.endswith(_LOOKUPS):
            return True
        frame = frame.f_back
    return False


def _guard(owner: object, name: str, action: str, allow: Callable[[], bool] = lambda: False) -> None:
    """Wrap ``owner.name`` so that calling it from a non-slow test raises (unless ``allow()``)."""
    original = getattr(owner, name)

    def guarded(*args: object, **kwargs: object) -> object:
        if not allow():
            _refuse(action)
        return original(*args, **kwargs)

    guarded.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(owner, name, guarded)


def _guard_torch_onnx(module: ModuleType) -> None:
    _guard(module, "export", "exports an ONNX model (torch.onnx.export)")


def _guard_torch_optim(module: ModuleType) -> None:
    # Every torch optimizer's step() runs the global pre-hooks: one hook catches any training loop.
    module.register_optimizer_step_pre_hook(lambda *_: _refuse("trains (an optimizer step)"))


def _guard_rclpy(module: ModuleType) -> None:
    _guard(module, "init", "uses DDS (rclpy.init)")
    _guard(module, "create_node", "uses DDS (rclpy.create_node)")


_IMPORT_GUARDS: dict[str, Callable[[ModuleType], None]] = {
    "torch.onnx": _guard_torch_onnx,
    "torch.optim.optimizer": _guard_torch_optim,
    "rclpy": _guard_rclpy,
}
"""Modules guarded as soon as they are imported (the guard itself imports nothing)."""


class _GuardOnImport(importlib.abc.MetaPathFinder):
    """Finds a module in _IMPORT_GUARDS with the other finders, then applies its guard right after it loads."""

    def find_spec(
        self, fullname: str, path: object, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        guard = _IMPORT_GUARDS.get(fullname)
        if guard is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader.exec_module = _then(spec.loader.exec_module, guard)  # type: ignore[method-assign]
                return spec
        return None


def _then(load: Callable[[ModuleType], None], guard: Callable[[ModuleType], None]) -> Callable[[ModuleType], None]:
    """``load(module)``, then ``guard(module)``."""

    def exec_module(module: ModuleType) -> None:
        load(module)
        guard(module)

    return exec_module


def pytest_configure(config: pytest.Config) -> None:
    """Install the tier guards once per run: process starts now, torch and rclpy when (and if) they load."""
    _guard(subprocess.Popen, "__init__", "starts a process (subprocess)", allow=_in_library_lookup)
    _guard(multiprocessing.process.BaseProcess, "start", "starts a process (multiprocessing)")
    for name, guard in _IMPORT_GUARDS.items():
        if name in sys.modules:
            guard(sys.modules[name])
    sys.meta_path.insert(0, _GuardOnImport())


@contextlib.contextmanager
def _tiered(item: pytest.Item) -> Iterator[None]:
    global _fast_test
    _fast_test = None if item.get_closest_marker("slow") else item.nodeid
    _refused.clear()
    try:
        yield
    finally:  # also where the code under test caught the refusal and the test failed or passed otherwise
        _fast_test = None
        if _refused:
            pytest.fail(_refused[0], pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Fixtures of a non-slow test (session-scoped ones too) run under the tier guards."""
    with _tiered(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """The body of a non-slow test runs under the tier guards."""
    with _tiered(item):
        return (yield)
