"""The trainer's layers: methods, losses, models and the other building blocks never reach training/ or commands/."""

from __future__ import annotations

import ast
from pathlib import Path

from test.conftest import REPO

PACKAGE = REPO / "vgssl_train"
LOW_LEVEL = ("losses", "models", "methods", "mining", "data", "drives", "evaluation", "export", "distributed")
HIGH_LEVEL = ("vgssl_train.training", "vgssl_train.commands", "vgssl_train.cli")


def _module_file(name: str) -> Path | None:
    path = REPO / Path(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(name: str) -> set[str]:
    """vgssl_train modules that module ``name`` imports anywhere in its body (functions included), with parents."""
    file = _module_file(name)
    if file is None:
        return set()
    found = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    out = set()
    for imported in found:
        parts = imported.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ too
            prefix = ".".join(parts[:i])
            if prefix.startswith("vgssl_train") and _module_file(prefix):
                out.add(prefix)
    return out


def reachable(start: str) -> dict[str, str]:
    """Every vgssl_train module importing ``start`` loads, mapped to the module that imports it."""
    seen, todo = {start: ""}, [start]
    while todo:
        current = todo.pop()
        for nxt in _imports(current):
            if nxt not in seen:
                seen[nxt] = current
                todo.append(nxt)
    return seen


def _chain(seen: dict[str, str], name: str) -> str:
    chain = [name]
    while seen[chain[-1]]:
        chain.append(seen[chain[-1]])
    return " <- ".join(chain)


def test_building_blocks_never_import_the_training_loop_or_the_commands():
    starts = [f"vgssl_train.{p}" for p in LOW_LEVEL]
    starts += [
        ".".join(f.relative_to(REPO).with_suffix("").parts)
        for p in LOW_LEVEL
        if (PACKAGE / p).is_dir()
        for f in (PACKAGE / p).rglob("*.py")
        if f.name != "__init__.py"
    ]
    assert len(starts) > 30, starts  # the walk found the modules
    bad = []
    for start in starts:
        seen = reachable(start)
        bad += [_chain(seen, m) for m in seen if m.startswith(HIGH_LEVEL)]
    assert not bad, "layering broken:\n" + "\n".join(bad)


def test_the_walk_sees_indirect_imports():
    seen = reachable("vgssl_train.commands.train")  # commands -> training.loop -> methods -> losses
    assert {"vgssl_train.training.loop", "vgssl_train.methods.base", "vgssl_train.losses.info_nce"} <= set(seen)
    assert "vgssl_train.distributed" in reachable("vgssl_train.methods.mocov2")
