"""The quick security campaign, and the static scan finding what it looks for."""

from __future__ import annotations

import pytest

from reliability.__main__ import run_campaign
from reliability.source_scan import scan_file


@pytest.mark.slow
def test_quick_security_campaign_passes(tmp_path):
    result = run_campaign("security", seed=0, quick=True, work=tmp_path)
    assert result.passed, "\n".join(result.notes)
    assert result.trials > result.figures["files_scanned"] + 20


BAD = """\
import pickle
state = pickle.load(f)
x = eval(text)
exec(code)
subprocess.run(cmd, shell=True)
os.system("ls " + path)
a = np.load(path, allow_pickle=True)
b = np.load(path)
ckpt = torch.load(
    path, map_location="cpu"
)
t = torch.load(path, weights_only=False)
y = yaml.load(text)
m = Map.load(args.map)
model.eval()
ok = torch.load(path, weights_only=True)
"""


def test_static_scan_finds_each_unsafe_pattern(tmp_path):
    (tmp_path / "bad.py").write_text(BAD)
    found = "\n".join(scan_file(tmp_path / "bad.py", "pkg/bad.py"))
    for line, what in [
        (2, "pickle use"),
        (3, "eval("),
        (4, "exec("),
        (5, "shell=True"),
        (6, "os.system"),
        (7, "allow_pickle=True"),
        (8, "np.load with allow_pickle not False"),
        (9, "torch.load without weights_only=True"),
        (12, "weights_only=False"),
        (13, "unsafe YAML"),
        (14, "Map.load without the model hash"),
    ]:
        assert f"pkg/bad.py:{line}: {what}" in found, found
    assert ":15:" not in found and ":16:" not in found and ":1:" not in found
