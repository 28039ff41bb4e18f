"""README's commands cannot drift: every command in its ```bash blocks parses with the real parsers.

Each `vgssl-train`, `vgssl-map`, `vgssl-eval`, `vgssl-sim` line is parsed in-process by its console script's
parser (found through setup.py's entry points) with README's exact arguments; `localizer` lines name only
parameters the node declares; `ros2 launch` lines only arguments the launch file declares; `make` targets
exist in the Makefile and every repository path README names exists.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import runpy
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from test.conftest import REPO
from test.vgssl_ros.node.test_launch_and_config import _fake_launch_modules, _setup_kwargs

README = REPO / "README.md"
PARSED = ("vgssl-train", "vgssl-map", "vgssl-eval", "vgssl-sim")
MODULES = {"vgssl_train": "vgssl-train", "vgssl_ros.sim": "vgssl-sim", "vgssl_ros.mapping": "vgssl-map"}
MODULES |= {"vgssl_ros.eval": "vgssl-eval", "vgssl_ros.node.localizer_node": "localizer"}
SKIPPED = {"source", "colcon", "export", "cd"}  # shell set-up, not commands of this project


def bash_commands(text: str) -> list[list[str]]:
    """Every command of README's ```bash blocks as argv (continuations joined, comments and `&& ...` split)."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.split("&&"):
                argv = shlex.split(part, comments=True)
                if argv:
                    commands.append(argv)
    return commands


def normalise(argv: list[str]) -> tuple[str, list[str]]:
    """(program, arguments) with `.venv/bin/`, `install/.../`, `ros2 run vgssl_ros` and `python -m` resolved."""
    if argv[:2] == ["ros2", "run"]:
        assert argv[2] == "vgssl_ros", f"ros2 run of another package: {argv}"
        argv = argv[3:]
    if argv[0] == "torchrun":
        argv = argv[next(i for i, a in enumerate(argv) if a == "-m") :]
        argv = ["python", *argv]
    if argv[0] in ("python", "python3") and argv[1] == "-m":
        assert argv[2] in MODULES, f"README runs a module this test does not know: {argv}"
        return MODULES[argv[2]], argv[3:]
    return Path(argv[0]).name if "/" in argv[0] else argv[0], argv[1:]


COMMANDS = [normalise(argv) for argv in bash_commands(README.read_text())]


def _console_scripts() -> dict[str, str]:
    """console script name -> 'module:function' from setup.py."""
    lines = _setup_kwargs()["entry_points"]["console_scripts"]
    return {k.strip(): v.strip() for k, v in (line.split("=") for line in lines)}


def _parser(program: str, args: list[str]) -> argparse.ArgumentParser:
    """The console script's own parser for ``args`` (vgssl-eval's make-bag has its own)."""
    module = importlib.import_module(_console_scripts()[program].split(":")[0])
    if program == "vgssl-eval" and args[:1] == ["make-bag"]:
        return module.build_make_bag_parser()
    return module.build_parser()


def _subparser(parser: argparse.ArgumentParser, args: list[str]) -> argparse.ArgumentParser:
    """The subcommand's parser when ``parser`` has subcommands and ``args`` names one."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and args and args[0] in action.choices:
            return action.choices[args[0]]
    return parser


def test_readme_has_commands_of_every_tool():
    programs = {program for program, _ in COMMANDS}
    assert set(PARSED) | {"localizer", "make", "ros2"} <= programs, programs
    assert set(programs) - SKIPPED <= set(_console_scripts()) | {"make", "ros2"}, programs


@pytest.mark.parametrize(
    ("program", "args"), [c for c in COMMANDS if c[0] in PARSED], ids=lambda v: v if isinstance(v, str) else ""
)
def test_readme_command_parses(program: str, args: list[str]):
    parser = _parser(program, args)
    if program == "vgssl-eval" and args[:1] == ["make-bag"]:
        args = args[1:]
    if "..." in args:  # an elided command: every option it names is one of the (sub)command's
        known = {s for a in _subparser(parser, args)._actions for s in a.option_strings}
        unknown = [a for a in args if a.startswith("-") and a.split("=")[0] not in known]
        assert not unknown, f"{program} {shlex.join(args)}: unknown options {unknown}"
        return
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            parser.parse_args(args)
        except SystemExit as exc:
            if exc.code == 0:  # --help
                return
            pytest.fail(f"README's `{program} {shlex.join(args)}` does not parse ({exc.code}): {err.getvalue()}")


def test_readme_localizer_commands_name_declared_parameters():
    from vgssl_ros.node.parameters import PARAMETERS

    runs = [args for program, args in COMMANDS if program == "localizer"]
    assert runs
    for args in runs:
        assert args[0] == "--ros-args", args
        for flag, value in zip(args, args[1:]):
            if flag == "-p":
                assert value.split(":=")[0] in PARAMETERS, f"README sets an unknown node parameter: {value}"
            elif flag == "-r":
                assert value.split(":=")[0] in ("image", "image/compressed"), f"README remaps {value}"
            elif flag == "--params-file":
                assert (REPO / value).is_file(), f"README's --params-file {value} does not exist"


def test_readme_launch_commands_use_declared_arguments(monkeypatch):
    for name, module in _fake_launch_modules().items():
        monkeypatch.setitem(sys.modules, name, module)
    launches = [args for program, args in COMMANDS if program == "ros2" and args[0] == "launch"]
    assert launches
    for args in launches:
        assert args[1] == "vgssl_ros", args
        launch_file = REPO / "launch" / args[2]
        assert launch_file.is_file(), f"README launches {args[2]}, not in launch/"
        (entities,) = runpy.run_path(str(launch_file))["generate_launch_description"]().args
        declared = {e.args[0] for e in entities if type(e).__name__ == "DeclareLaunchArgument"}
        for arg in args[3:]:
            name = arg.strip("[]").split(":=")[0]
            assert name in declared, f"README passes {arg} to {args[2]}, which declares {sorted(declared)}"


def test_readme_make_targets_exist():
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", (REPO / "Makefile").read_text(), flags=re.M))
    named = {args[0] for program, args in COMMANDS if program == "make"}
    named |= set(re.findall(r"`make ([a-z][\w-]*)", README.read_text()))
    assert named and named <= targets, f"README names make targets {sorted(named - targets)} the Makefile lacks"


def test_readme_repository_paths_exist():
    tops = ("vgssl_train/", "vgssl_ros/", "scripts/", "launch/", "config/", "docs/", "test/")
    spans = re.findall(r"`([^`\n]+)`", README.read_text())
    paths = {
        token.rstrip(".,:;)")
        for span in spans
        for token in span.split()
        if token.startswith(tops) or re.fullmatch(r"[A-Z]+\.md|Makefile|setup\.py|package\.xml", token)
    }
    assert "config/localizer.yaml" in paths
    missing = []
    for path in sorted(paths):
        pattern = re.sub(r"\b[A-Z]{3,}\b", "*", path)  # config/train/NAME.yaml names a family of files
        if not any(REPO.glob(pattern.rstrip("/"))):
            missing.append(path)
    assert not missing, f"README names paths that do not exist in the repository: {missing}"


# Appended to README's command to keep it tiny here (argparse takes the last value of a repeated option).
TINY = {
    ("vgssl-train", "train"): ["--max-steps", "2", "--batch-size", "4", "--resize", "32", "64"],
    ("vgssl-sim", "world"): ["--route-m", "300"],
}


@pytest.fixture
def readme_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder where README's placeholder names exist, as tiny data: ../shared/data/nordland64 is a sim world."""
    from vgssl_ros.sim.cli import main as sim

    world = tmp_path / "shared" / "data" / "nordland64"
    work = tmp_path / "work"
    work.mkdir()
    assert sim(["world", "--out", str(world), "--seed", "0", "--route-m", "300"]) == 0
    for name, condition in (("mapping_drive", "day"), ("other_drive", "dusk"), ("drive_test", "dusk")):
        assert sim(["drive", "--world", str(world), "--out", str(work / name), "--condition", condition]) == 0
    route = tmp_path / "own_route"  # "Your own robot": two drives of a whole route long enough for three splits
    assert sim(["world", "--out", str(route), "--seed", "1", "--route-m", "800"]) == 0
    for name, condition in (("drive_day", "day"), ("drive_dusk", "dusk")):
        argv = ["drive", "--world", str(route), "--out", str(work / name), "--condition", condition, "--split", "all"]
        assert sim(argv) == 0
    queries = world / "images" / "test" / "queries"
    shutil.copytree(queries, work / "DIR_OF_IMAGES")
    for name, image in zip(("place1.jpg", "place2.jpg"), sorted(queries.iterdir())):
        shutil.copy(image, work / name)
    monkeypatch.chdir(work)
    return work


@pytest.mark.slow
def test_readme_commands_run_as_written_on_tiny_data(readme_workspace: Path, capsys: pytest.CaptureFixture[str]):
    """Every complete README command of this project runs in README's order (training cut to 2 steps)."""
    capsys.readouterr()
    ran = []
    for program, args in COMMANDS:
        if program not in PARSED or "..." in args or "--live" in args:  # --live needs a node: test_live_eval
            continue
        argv = [*args, *TINY.get((program, args[0]), [])]
        module, function = _console_scripts()[program].split(":")
        try:
            rc = getattr(importlib.import_module(module), function)(argv)
        except SystemExit as exc:  # --help
            rc = exc.code
        out, err = capsys.readouterr()
        assert rc == 0, f"README's `{program} {shlex.join(args)}` exited {rc}: {err.strip()[-500:]}"
        assert "\r" not in err and "warning" not in err.lower(), f"`{program} {shlex.join(args)}`: {err.strip()}"
        ran.append((program, args[0]))
    assert {("vgssl-train", "train"), ("vgssl-train", "export"), ("vgssl-map", "build"), ("vgssl-map", "query")} <= set(
        ran
    )
    for output in ("run/best.pt", "model.onnx", "map_dir/map.json", "eval/metrics.json", "results.json"):
        assert (readme_workspace / output).is_file(), output
    for output in ("nordland_drive", "world/world.json", "drive_night"):
        assert (readme_workspace / output).exists(), output
