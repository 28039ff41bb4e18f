"""A static scan of the package sources for ways a user file or path could run code (security campaign, part 1)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("vgssl_ros", "vgssl_train", "launch")
"""What is scanned: every .py file below these folders of the repository."""

PATTERNS: dict[str, str] = {
    "pickle use": r"\bpickle\.(?!UnpicklingError\b)\w+|\b(cPickle|dill|shelve|marshal|joblib)\b",
    "eval(": r"(?<![\w.])eval\(",
    "exec(": r"(?<![\w.])exec\(",
    "shell=True": r"shell\s*=\s*True",
    "os.system / os.popen": r"\bos\.(system|popen|exec\w*|spawn\w*)\(",
    "allow_pickle=True": r"allow_pickle\s*=\s*True",
    "weights_only=False": r"weights_only\s*=\s*False",
    "unsafe YAML": r"\byaml\.(load|unsafe_load|full_load|load_all)\(",
}
"""What may not appear at all (``pickle.UnpicklingError``, an exception class, is allowed)."""

CALLS: dict[str, tuple[str, str]] = {
    "torch.load without weights_only=True": (r"\btorch\.load\(", r"weights_only\s*=\s*True"),
    "np.load with allow_pickle not False": (r"\bnp\.load\(", r"allow_pickle\s*=\s*False"),
    "subprocess with a string command": (r"\bsubprocess\.\w+\(\s*[\"f]", r"$^"),
}
"""Calls that must carry a keyword (the call's text up to its closing line is searched)."""

MAP_LOAD_WITHOUT_HASH = {
    "vgssl_ros/mapping/cli.py": "`vgssl-map info` inspects a map without a model (it says it did not check)",
    "vgssl_ros/eval/live.py": "the live scorer reads positions only; the node checks its own map and model",
    "vgssl_ros/eval/cli.py": "--live reads positions; with --model the hash is checked before anything plays",
}
"""Where ``Map.load`` may be called without ``model_sha256``, and why (any other call site is a failure)."""


def _call_text(lines: list[str], i: int) -> str:
    """The text of a call that starts on line ``i``, up to the line where its parentheses balance."""
    depth, out = 0, []
    for line in lines[i : i + 12]:
        out.append(line)
        depth += line.count("(") - line.count(")")
        if depth <= 0:
            break
    return "\n".join(out)


def scan_file(path: Path, rel: str) -> list[str]:
    """Every finding in one source file, as 'FILE:LINE: what'."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for n, line in enumerate(lines):
        code = line.split("#", 1)[0]
        stripped = code.strip()
        if stripped.startswith(('"""', "'''")) or not stripped:
            continue
        for what, pattern in PATTERNS.items():
            if re.search(pattern, code):
                found.append(f"{rel}:{n + 1}: {what}: {stripped[:100]}")
        for what, (call, needed) in CALLS.items():
            if re.search(call, code) and not re.search(needed, _call_text(lines, n)):
                found.append(f"{rel}:{n + 1}: {what}: {stripped[:100]}")
        if re.search(r"\bMap\.load\(", code) and "model_sha256" not in _call_text(lines, n):
            if rel not in MAP_LOAD_WITHOUT_HASH:
                found.append(f"{rel}:{n + 1}: Map.load without the model hash: {stripped[:100]}")
    return found


def scan(root: Path = REPO) -> tuple[int, list[str]]:
    """(files scanned, findings) over the packages' sources."""
    files = sorted(p for pkg in PACKAGES for p in (root / pkg).rglob("*.py"))
    findings = [f for p in files for f in scan_file(p, p.relative_to(root).as_posix())]
    return len(files), findings
