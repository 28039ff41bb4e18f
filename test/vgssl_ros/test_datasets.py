"""Readers of geo-tagged images: VPR layout, CSV manifest, image decoding, positives by radius."""

from __future__ import annotations

import numpy as np
import pytest

from test.conftest import ORIGIN, ZONE, vpr_name
from vgssl_ros.datasets import DatasetError, load_rgb, parse_vpr_name, read_csv_manifest, read_vpr_folder
from vgssl_ros.geo import UtmZone, latlon_to_utm, neighbours_within, utm_to_latlon


def test_parse_vpr_name_roundtrip():
    east, north, zone, lat, lon = parse_vpr_name(vpr_name(450123.5, 7250042.25))
    assert (east, north, zone) == (450123.5, 7250042.25, ZONE)
    back, _ = latlon_to_utm(np.array([lat]), np.array([lon]), zone)
    assert np.allclose(back, [[450123.5, 7250042.25]], atol=0.2)


@pytest.mark.parametrize("name", ["photo.jpg", "@abc@7250000@33@W@66@15@.jpg", "@450000@7250000@99@W@@@.jpg"])
def test_parse_vpr_name_rejects_malformed(name):
    with pytest.raises(DatasetError, match="expected @utm_east@utm_north"):
        parse_vpr_name(name)


def _fields(east: float = 450000.0, north: float = 7250000.0) -> list[str]:
    return vpr_name(east, north).split("@")  # '', east, north, zone, band, lat, lon, tag, ext


@pytest.mark.parametrize(
    "edit,match",
    [
        (lambda f: [*f[:5], f[6], "90.0", *f[7:]], "lie .* m from UTM"),  # lat dropped, a heading shifts in
        (lambda f: [*f[:5], "", *f[5:]], "only one of lat and lon"),  # an empty field shifts lat/lon right
        (lambda f: [*f[:5], f[6], f[5], *f[7:]], "m from UTM"),  # lat/lon swapped
        (lambda f: [f[0], f[2], f[1], *f[3:]], "outside 0..1e6"),  # east/north swapped
        (lambda f: [*f[:3], "34", *f[4:]], "in zone 34W"),  # zone of the neighbour
        (lambda f: [f[0], "nan", *f[2:]], "not finite"),
        (lambda f: [*f[:5], "91", *f[6:]], "out of range"),
        (lambda f: [*f[:5], "nan", *f[6:]], "not finite or out of range"),
    ],
    ids=["lat-dropped", "shifted", "latlon-swapped", "en-swapped", "zone", "east-nan", "lat-91", "lat-nan"],
)
def test_parse_vpr_name_refuses_fields_that_disagree(edit, match):
    """Found by the fuzz-files campaign: these names were accepted with a wrong (or no) position."""
    name = "@".join(edit(_fields()))
    with pytest.raises(DatasetError, match=match) as exc:
        parse_vpr_name(name)
    assert name in str(exc.value) and "\n" not in str(exc.value)


def test_parse_vpr_name_accepts_empty_lat_lon_and_extra_fields():
    f = _fields()
    assert parse_vpr_name("@".join([*f[:5], "", "", *f[7:]]))[:2] == (450000.0, 7250000.0)
    assert parse_vpr_name("@".join([*f[:-1], "a", "b", f[-1]]))[:2] == (450000.0, 7250000.0)


def test_read_vpr_folder(vpr_dataset):
    images = read_vpr_folder(vpr_dataset / "images" / "test" / "database")
    assert len(images) == 12
    assert images.zone == ZONE
    assert np.allclose(images.utm[:, 0], ORIGIN[0])
    assert np.all(np.diff(images.utm[:, 1]) > 0)  # sorted by name = by place here
    assert np.allclose(utm_to_latlon(images.utm, ZONE), images.latlon, atol=1e-5)


def test_read_vpr_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        read_vpr_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        read_vpr_folder(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(DatasetError, match="holiday.jpg"):
        read_vpr_folder(tmp_path / "bad")


def test_load_rgb_names_the_broken_file(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(DatasetError, match="broken.jpg"):
        load_rgb(str(bad))


def test_csv_manifest_latlon_and_utm(tmp_path):
    lat, lon = utm_to_latlon(np.array([[450000.0, 7250000.0], [450000.0, 7250100.0]]), ZONE).T
    (tmp_path / "ll.csv").write_text(
        "image,lat,lon,heading\n" + "".join(f"img{i}.jpg,{lat[i]:.8f},{lon[i]:.8f},{90 * i}\n" for i in range(2))
    )
    images = read_csv_manifest(tmp_path / "ll.csv")
    assert images.zone == ZONE
    assert np.allclose(images.utm, [[450000.0, 7250000.0], [450000.0, 7250100.0]], atol=0.01)
    assert images.paths[1] == str(tmp_path / "img1.jpg")
    assert list(images.heading) == [0.0, 90.0]

    (tmp_path / "utm.csv").write_text(
        "image,utm_east,utm_north,utm_zone,utm_band,split,role\n"
        "a.png,1,2,33,W,train,database\nb.png,3,4,33,W,train,queries\n"
    )
    db = read_csv_manifest(tmp_path / "utm.csv", where={"split": "train", "role": "database"})
    assert db.ids == ["a.png"] and np.allclose(db.utm, [[1, 2]])


@pytest.mark.parametrize(
    "content,match",
    [
        ("path,lat,lon\na.jpg,1,2\n", "no 'image' column"),
        ("image,x,y\na.jpg,1,2\n", "no position columns"),
        ("image,lat,lon\n", "no rows"),
        ("image,lat,lon\na.jpg,north,2\n", "not a number"),
        ("image,lat,lon\na.jpg,,2\n", "missing position"),
        ("image,lat,lon\na.jpg,91,2\n", "outside UTM"),
        ("image,lat,lon\na.jpg,65.4,13.1\nb.jpg,13.1,65.4\n", "outside UTM zone 33W.*'b.jpg'"),  # swapped in a row
        ("image,lat,lon\na.jpg,65.4,13.1\nb.jpg,65.4," + "9" * 200_000 + "\n", "cannot be read as CSV"),
        ("image,utm_east,utm_north,utm_zone,utm_band\na.png,1e300,7250000,33,W\n", "outside UTM zone 33W"),
        ("image,utm_east,utm_north,utm_zone,utm_band\na.png,nan,7250000,33,W\n", "missing position"),
    ],
)
def test_csv_manifest_errors(tmp_path, content, match):
    (tmp_path / "m.csv").write_text(content)
    with pytest.raises(DatasetError, match=match):
        read_csv_manifest(tmp_path / "m.csv")


def test_neighbours_within_matches_brute_force():
    rng = np.random.default_rng(0)
    db = ORIGIN + rng.uniform(0, 300, (400, 2))
    q = ORIGIN + rng.uniform(0, 300, (50, 2))
    got = neighbours_within(q, db, 25.0)
    dist = np.linalg.norm(q[:, None] - db[None], axis=2)
    for i in range(len(q)):
        want = np.nonzero(dist[i] < 25.0)[0]
        assert sorted(got[i]) == sorted(want)
        assert np.all(np.diff(dist[i][got[i]]) >= 0)  # nearest first


def test_utm_zone_validation():
    with pytest.raises(ValueError):
        UtmZone(61, "W")
    with pytest.raises(ValueError):
        UtmZone(33, "O")
    assert UtmZone(33, "W").northern and not UtmZone(33, "C").northern
