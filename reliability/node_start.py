"""The real localizer node started on given model and map files, and what its start-up gave."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

NODES_AT_ONCE = 4
"""Node processes a campaign starts together (each loads ONNX Runtime and FAISS)."""


def _yaml_quoted(path: Path, quote: bool) -> str:
    """A -p value YAML reads back as ``path``: single-quoted (a quote doubled), or double-quoted with JSON escapes
    when it holds a newline (YAML folds a newline inside single quotes into a space)."""
    if not quote:
        return str(path)
    return json.dumps(str(path)) if "\n" in str(path) else "'" + str(path).replace("'", "''") + "'"


def start_node(work: Path, model: Path, geo_map: Path, quote: bool = True) -> tuple[subprocess.Popen[str], Path]:
    """Start the localizer node on ``model`` and ``geo_map`` (YAML-quoted -p values unless ``quote`` is False), DDS
    on this machine only; its output goes to a log file in ``work``."""
    env = {**os.environ, "ROS_DOMAIN_ID": str(150 + os.getpid() % 50), "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parents[1]), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "vgssl_ros.node.localizer_node", "--ros-args", "-p"]
    cmd += [f"model:={_yaml_quoted(model, quote)}", "-p", f"map:={_yaml_quoted(geo_map, quote)}"]
    cmd += ["-p", "intra_op_threads:=1"]
    log = work / f"node-{time.monotonic_ns()}.log"
    with log.open("w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=work, text=True)
    return proc, log


def node_outcome(proc: subprocess.Popen[str], log: Path, timeout_s: float = 90.0) -> tuple[int | None, str, str]:
    """(2, '', output) when it refused; (0, ...) once it says it is localizing (then it is stopped)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = log.read_text()
        if proc.poll() is not None:
            return proc.returncode, "", text
        if "localizing " in text:
            proc.terminate()
            proc.wait(10)
            return 0, text, ""
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    return None, "", f"no answer in {timeout_s:.0f} s: {log.read_text()[-300:]}"
