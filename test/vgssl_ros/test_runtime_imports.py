"""The runtime never imports torch or the trainer, and the core never imports rclpy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from test.conftest import REPO


@pytest.mark.slow
def test_runtime_modules_import_without_torch_or_rclpy():
    code = (
        "import sys, vgssl_ros.core, vgssl_ros.mapping.cli, vgssl_ros.bags; "
        "bad = [m for m in ('torch', 'vgssl_train', 'rclpy') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
