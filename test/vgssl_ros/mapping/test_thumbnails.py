"""Map thumbnails: written with the map, read back per place, validated on load; maps without them still load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from test.conftest import ORIGIN, ZONE, place_image
from vgssl_ros.core import Map, MapError, Places
from vgssl_ros.core.thumbnails import THUMBNAILS_FILE, Thumbnails, encode_thumbnail
from vgssl_ros.geo import utm_to_latlon
from vgssl_ros.mapping import write_map

N = 5


def _images() -> list[np.ndarray]:
    return [place_image(i, 120, 320) for i in range(N)]


def _write(out: Path, thumbnails: bool = True) -> Path:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    utm = ORIGIN + np.c_[np.zeros(N), 10.0 * np.arange(N)]
    places = Places(utm, utm_to_latlon(utm, ZONE), np.full(N, 90.0), np.arange(N, dtype=float), np.array(list("abcde")))
    thumbs = Thumbnails.from_encoded([encode_thumbnail(im, 160) for im in _images()]) if thumbnails else None
    write_map(out, x, places, ZONE, "c" * 64, {}, "flat", {"kind": "test"}, False, thumbs, 160 if thumbs else 0)
    return out


def test_thumbnails_are_stored_small_and_read_back_per_place(tmp_path):
    m = Map.load(_write(tmp_path / "map"))
    assert m.thumbnails is not None and len(m.thumbnails) == N
    assert json.loads((m.path / "map.json").read_text())["thumbnails"] == {"file": THUMBNAILS_FILE, "width": 160}
    for i, source in enumerate(_images()):
        thumb = m.thumbnails.image(i)
        assert thumb.shape == (60, 160, 3)  # 320x120 scaled to 160 wide, aspect kept
        small = source.reshape(60, 2, 160, 2, 3).mean(axis=(1, 3))
        assert np.abs(thumb.astype(float) - small).mean() < 12  # the place's own picture, not another's
        other = _images()[(i + 1) % N].reshape(60, 2, 160, 2, 3).mean(axis=(1, 3))
        assert np.abs(thumb.astype(float) - other).mean() > 20


def test_small_images_are_not_enlarged():
    assert Thumbnails.from_encoded([encode_thumbnail(place_image(0, 32, 64))]).image(0).shape == (32, 64, 3)


def test_a_map_without_thumbnails_loads(tmp_path):
    m = Map.load(_write(tmp_path / "map", thumbnails=False))
    assert m.thumbnails is None and not (m.path / THUMBNAILS_FILE).exists()
    assert "thumbnails" not in json.loads((m.path / "map.json").read_text())


def _truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[:100])


def _not_jpeg(file: Path) -> None:
    with np.load(file) as z:
        jpeg, offsets = z["jpeg"].copy(), z["offsets"]
    jpeg[offsets[2] : offsets[2] + 2] = 0
    np.savez(file.with_suffix(""), jpeg=jpeg, offsets=offsets)  # np.savez adds .npz


def _wrong_count(file: Path) -> None:
    with np.load(file) as z:
        jpeg, offsets = z["jpeg"], z["offsets"]
    np.savez(file.with_suffix(""), jpeg=jpeg[: offsets[-2]], offsets=offsets[:-1])


def _bad_offsets(file: Path) -> None:
    with np.load(file) as z:
        jpeg, offsets = z["jpeg"], z["offsets"].copy()
    offsets[-1] += 7
    np.savez(file.with_suffix(""), jpeg=jpeg, offsets=offsets)


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (_truncate, "cannot be read"),
        (_not_jpeg, "not JPEG data, first at place 2"),
        (_wrong_count, "4 thumbnails for 5 places"),
        (_bad_offsets, "offsets do not cut"),
        (lambda f: f.unlink(), "missing from the map directory"),
    ],
)
def test_a_damaged_thumbnails_file_is_refused_with_what_to_do(tmp_path, damage, says):
    out = _write(tmp_path / "map")
    damage(out / THUMBNAILS_FILE)
    with pytest.raises(MapError, match=says) as err:
        Map.load(out)
    assert "rebuild the map" in str(err.value) or "vgssl-map build" in str(err.value)


def test_a_wrong_thumbnails_entry_in_map_json_is_refused(tmp_path):
    out = _write(tmp_path / "map")
    info = json.loads((out / "map.json").read_text())
    info["thumbnails"]["width"] = -1
    (out / "map.json").write_text(json.dumps(info))
    with pytest.raises(MapError, match="thumbnails.width"):
        Map.load(out)


def test_a_failed_thumbnails_write_leaves_no_map(tmp_path, monkeypatch):
    def partial_then_raise(self, path):
        Path(path).write_bytes(b"\x00partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Thumbnails, "save", partial_then_raise)
    with pytest.raises(OSError, match="No space"):
        _write(tmp_path / "map")
    assert not (tmp_path / "map").exists() and list(tmp_path.iterdir()) == []
