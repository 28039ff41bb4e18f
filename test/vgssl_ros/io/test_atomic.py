"""Atomic outputs: a killed build's staging folder is cleaned by the next build, a live one's is not."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from vgssl_ros.io import atomic_dir, atomic_path, staging_dir


def dead_pid() -> int:
    """The id of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.slow
def test_the_next_build_removes_what_a_killed_build_left(tmp_path):
    out = tmp_path / "map"
    killed = tmp_path / f".map.{dead_pid()}.x1y2.partial"
    running = tmp_path / f".map.{os.getpid()}.k3l4.partial"  # another build of this path, still running
    other = tmp_path / f".other.{dead_pid()}.z9.partial"
    for d in (killed, running, other):
        (d / "index").mkdir(parents=True)
    with atomic_dir(out) as tmp:
        (tmp / "map.json").write_text("{}")
        assert tmp.name.startswith(f".map.{os.getpid()}.") and tmp.name.endswith(".partial")
    assert (out / "map.json").exists()
    assert not killed.exists() and running.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.glob(".map.*")) == [running.name]


def test_a_failed_build_leaves_nothing_and_the_path_untouched(tmp_path):
    out = tmp_path / "map"
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "half").write_text("x")
            raise RuntimeError("embedding failed")
    assert not out.exists() and not list(tmp_path.iterdir())
    fresh = staging_dir(out)
    assert fresh.parent == tmp_path and fresh.is_dir()


@pytest.mark.slow
def test_a_file_write_removes_the_temporary_a_killed_write_left(tmp_path):
    out = tmp_path / "best.pt"
    killed = tmp_path / f".best.pt.{dead_pid()}.a1b2.tmp"
    running = tmp_path / f".best.pt.{os.getpid()}.c3d4.tmp"
    killed.write_bytes(b"half a checkpoint")
    running.write_bytes(b"another writer")
    with atomic_path(out) as tmp:
        tmp.write_bytes(b"whole")
    assert out.read_bytes() == b"whole" and not killed.exists() and running.exists()


@pytest.mark.parametrize(("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)])
def test_outputs_get_the_umask_permissions_not_the_temporaries_private_ones(tmp_path, umask, file_mode, dir_mode):
    """A map built by one user is readable by a node running as another (a robot's service account)."""
    from vgssl_ros.io import write_json_atomic

    old = os.umask(umask)
    try:
        write_json_atomic(tmp_path / "metrics.json", {"r1": 1.0})
        with atomic_path(tmp_path / "best.pt") as tmp, open(tmp, "wb") as f:  # how torch.save writes a checkpoint
            f.write(b"\x80\x02checkpoint")
        with atomic_dir(tmp_path / "map") as folder:
            write_json_atomic(folder / "map.json", {"places": 2})
    finally:
        os.umask(old)
    assert oct((tmp_path / "metrics.json").stat().st_mode & 0o777) == oct(file_mode)
    assert oct((tmp_path / "best.pt").stat().st_mode & 0o777) == oct(file_mode)
    assert oct((tmp_path / "map").stat().st_mode & 0o777) == oct(dir_mode)
    assert oct((tmp_path / "map" / "map.json").stat().st_mode & 0o777) == oct(file_mode)


def unused_pid() -> int:
    """A process id no process can have (above the kernel's pid_max), without starting one."""
    from pathlib import Path

    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


def test_stale_temporaries_of_gone_processes_are_removed_others_kept(tmp_path):
    dead = unused_pid()
    stale_dir = tmp_path / f".map.{dead}.ab12.partial"
    live_dir = tmp_path / f".map.{os.getpid()}.cd34.partial"
    other_dir = tmp_path / f".mapx.{dead}.ef56.partial"  # another output's staging folder
    odd = tmp_path / ".map.notapid.gh78.partial"
    for d in (stale_dir, live_dir, other_dir, odd):
        (d / "index").mkdir(parents=True)
    stale_file = tmp_path / f".best.pt.{dead}.a1b2.tmp"
    live_file = tmp_path / f".best.pt.{os.getpid()}.c3d4.tmp"
    for f in (stale_file, live_file):
        f.write_bytes(b"half")
    fresh = staging_dir(tmp_path / "map")
    assert not stale_dir.exists() and live_dir.is_dir() and other_dir.is_dir() and odd.is_dir()
    assert fresh.name.startswith(f".map.{os.getpid()}.") and fresh.name.endswith(".partial")
    with atomic_path(tmp_path / "best.pt") as tmp:
        assert tmp.name.startswith(f".best.pt.{os.getpid()}.") and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"whole")
    assert not stale_file.exists() and live_file.exists() and (tmp_path / "best.pt").read_bytes() == b"whole"


def test_outputs_in_missing_folders_create_them(tmp_path):
    fresh = staging_dir(tmp_path / "a" / "b" / "map")
    assert fresh.parent == tmp_path / "a" / "b" and fresh.is_dir()
    with atomic_path(tmp_path / "c" / "d" / "x.json") as tmp:
        tmp.write_text("{}")
    assert (tmp_path / "c" / "d" / "x.json").read_text() == "{}"


def test_umask_is_read_without_changing_it_with_or_without_proc(monkeypatch):
    from pathlib import Path

    from vgssl_ros.io.atomic import current_umask

    old = os.umask(0o027)
    try:
        assert current_umask() == 0o027
        real_read = Path.read_text

        def no_proc(self, *args, **kwargs):
            if str(self).startswith("/proc"):
                raise OSError("no /proc here")
            return real_read(self, *args, **kwargs)

        monkeypatch.setattr(Path, "read_text", no_proc)
        assert current_umask() == 0o027
        assert os.umask(0o027) == 0o027  # still the caller's mask
    finally:
        os.umask(old)


def test_json_is_indented_and_ends_with_a_newline(tmp_path):
    from vgssl_ros.io import write_json_atomic

    write_json_atomic(tmp_path / "m.json", {"a": [1, 2], "b": {"c": None}})
    assert (tmp_path / "m.json").read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": {\n    "c": null\n  }\n}\n'


def test_umask_is_read_from_proc_without_setting_it(monkeypatch):
    from vgssl_ros.io.atomic import current_umask

    old = os.umask(0o022)
    os.umask(old)

    def no_set(mask):
        raise AssertionError("os.umask called although /proc/self/status says the mask")

    monkeypatch.setattr(os, "umask", no_set)
    assert current_umask() == old


def test_a_pid_too_large_to_check_counts_as_alive(tmp_path):
    huge = tmp_path / f".map.{2**70}.ab12.partial"  # os.kill raises OverflowError: never removed
    huge.mkdir()
    staging_dir(tmp_path / "map")
    assert huge.is_dir()


def test_a_stale_temporary_another_cleaner_removes_first_is_no_error(tmp_path, monkeypatch):
    """Two builds start at once and both clean a killed build's leftovers: the one that loses the race goes on."""
    import pathlib
    import shutil

    dead = unused_pid()
    stale_dir = tmp_path / f".map.{dead}.ab12.partial"
    (stale_dir / "index").mkdir(parents=True)
    stale_file = tmp_path / f".best.pt.{dead}.a1b2.tmp"
    stale_file.write_bytes(b"half")
    real_is_dir = pathlib.Path.is_dir

    def other_cleaner_wins(self, *args, **kwargs):  # the other build removes it right after this one looked
        found = real_is_dir(self, *args, **kwargs)
        if self in (stale_dir, stale_file):
            shutil.rmtree(self) if found else self.unlink()
        return found

    monkeypatch.setattr(pathlib.Path, "is_dir", other_cleaner_wins)
    staging = staging_dir(tmp_path / "map")
    with atomic_path(tmp_path / "best.pt") as tmp:
        tmp.write_bytes(b"whole")
    monkeypatch.undo()
    assert staging.is_dir() and (tmp_path / "best.pt").read_bytes() == b"whole"
    assert not stale_dir.exists() and not stale_file.exists()
