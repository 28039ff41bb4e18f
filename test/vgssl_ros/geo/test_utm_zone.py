"""UTM zones: validation, hemisphere, and lat/lon <-> UTM in one zone."""

import numpy as np
import pytest

from vgssl_ros.geo import UtmZone, latlon_to_utm, utm_to_latlon


@pytest.mark.parametrize(("number", "band"), [(1, "C"), (60, "X"), (33, "w")])
def test_valid_zones(number, band):
    assert str(UtmZone(number, band)) == f"{number}{band.upper()}"


@pytest.mark.parametrize(
    ("number", "band", "message"),
    [
        (0, "N", "^UTM zone number must be 1..60, got 0$"),
        (61, "N", "^UTM zone number must be 1..60, got 61$"),
        (33, "I", r"^UTM band must be one letter C..X \(not I/O\), got 'I'$"),
        (33, "B", "got 'B'"),
        (33, "Y", "got 'Y'"),
        (33, "NW", "got 'NW'"),
    ],
)
def test_invalid_zones_are_refused(number, band, message):
    with pytest.raises(ValueError, match=message):
        UtmZone(number, band)


def test_hemisphere_from_band():
    assert UtmZone(33, "N").northern and UtmZone(33, "x").northern and not UtmZone(33, "M").northern


def test_latlon_to_utm_takes_the_first_points_zone_and_round_trips():
    lat, lon = np.array([67.28, 67.30]), np.array([14.40, 14.45])  # Bodø, Norway: zone 33W
    utm_xy, zone = latlon_to_utm(lat, lon)
    assert zone == UtmZone(33, "W") and utm_xy.shape == (2, 2) and utm_xy.dtype == np.float64
    assert 400_000 < utm_xy[0, 0] < 500_000 and 7_400_000 < utm_xy[0, 1] < 7_500_000
    assert np.linalg.norm(utm_xy[1] - utm_xy[0]) == pytest.approx(3100.0, rel=0.01)
    assert np.allclose(utm_to_latlon(utm_xy, zone), np.c_[lat, lon], atol=1e-7)
    forced, same = latlon_to_utm(lat[:1], lon[:1], UtmZone(32, "W"))  # all points in the zone given
    assert same == UtmZone(32, "W") and forced[0, 0] > 600_000
    assert utm_to_latlon(np.zeros((0, 2)), zone).shape == (0, 2)
    with pytest.raises(ValueError, match="^latlon_to_utm needs at least one point$"):
        latlon_to_utm(np.array([]), np.array([]))


def test_southern_hemisphere_round_trip():
    utm_xy, zone = latlon_to_utm(np.array([-33.86]), np.array([151.21]))  # Sydney: 56H
    assert zone == UtmZone(56, "H") and not zone.northern
    assert np.allclose(utm_to_latlon(utm_xy, zone), [[-33.86, 151.21]], atol=1e-7)


def test_one_point_and_no_point_convert_back():
    zone = UtmZone(33, "W")
    latlon = utm_to_latlon(np.array([[450000.0, 7250000.0]]), zone)
    assert latlon.shape == (1, 2)
    back, _ = latlon_to_utm(latlon[:, 0], latlon[:, 1], zone)
    np.testing.assert_allclose(back, [[450000.0, 7250000.0]], atol=1e-3)
    assert utm_to_latlon(np.zeros((0, 2)), zone).shape == (0, 2)


def test_points_outside_the_zones_usual_easting_range_still_convert():
    zone = UtmZone(33, "W")  # a drive that crosses into the next zone keeps the map's zone: eastings below 100 km
    latlon = utm_to_latlon(np.array([[90000.0, 7250000.0]]), zone)
    back, _ = latlon_to_utm(latlon[:, 0], latlon[:, 1], zone)
    assert 6.0 < latlon[0, 1] < 12.0  # west of zone 33 (12..18 deg E)
    np.testing.assert_allclose(back, [[90000.0, 7250000.0]], atol=1.0)  # the series loses ~0.6 m this far out


def test_a_forced_northern_band_keeps_points_just_south_of_the_equator_continuous():
    east_north, zone = latlon_to_utm(np.array([0.001, -0.001]), np.array([9.0, 9.0]), UtmZone(32, "N"))
    assert zone == UtmZone(32, "N")
    np.testing.assert_allclose(east_north[:, 1], [110.6, -110.6], atol=0.5)  # no 10 000 km false-northing jump
