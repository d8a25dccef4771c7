"""bot.domain.geo (distances, the "near me" pre-filter box) and bot.domain.ics (the calendar
file behind "Add to calendar"), parsed back with the ``icalendar`` library."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Component, vGeo

from bot.domain.activities import Activity, ActivityStatus
from bot.domain.geo import EARTH_RADIUS_KM, BoundingBox, Point, bounding_box, distance_km
from bot.domain.ics import ALARM_BEFORE, PRODUCT_ID, activity_ics, activity_uid
from tests.factories import activity_model

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180  # along a meridian, on the haversine sphere

CHANGSHA = Point(28.2282, 112.9388)  # 五一广场
WUHAN = Point(30.5928, 114.3055)


def destination(start: Point, bearing_degrees: float, km: float) -> Point:
    """The point ``km`` from ``start`` in direction ``bearing_degrees`` (0 = north, 90 = east),
    on the same sphere as :func:`distance_km`."""
    delta = km / EARTH_RADIUS_KM
    theta = math.radians(bearing_degrees)
    phi1, lambda1 = math.radians(start.latitude), math.radians(start.longitude)
    phi2 = math.asin(
        math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return Point(math.degrees(phi2), math.degrees(lambda2))


def inside(box: BoundingBox, point: Point) -> bool:
    return (
        box.min_latitude <= point.latitude <= box.max_latitude
        and box.min_longitude <= point.longitude <= box.max_longitude
    )


# -- distances ------------------------------------------------------------------------------------


def test_distance_to_itself_is_zero() -> None:
    assert distance_km(CHANGSHA, CHANGSHA) == 0.0


def test_distance_is_symmetric() -> None:
    assert distance_km(CHANGSHA, WUHAN) == pytest.approx(distance_km(WUHAN, CHANGSHA))


def test_one_degree_of_latitude_is_about_111_km() -> None:
    assert distance_km(Point(28.0, 113.0), Point(29.0, 113.0)) == pytest.approx(
        KM_PER_DEGREE, rel=1e-9
    )
    assert math.isclose(KM_PER_DEGREE, 111.195, abs_tol=0.001)


def test_a_degree_of_longitude_shrinks_towards_the_poles() -> None:
    at_equator = distance_km(Point(0.0, 10.0), Point(0.0, 11.0))
    at_60_north = distance_km(Point(60.0, 10.0), Point(60.0, 11.0))
    assert at_equator == pytest.approx(KM_PER_DEGREE, rel=1e-9)
    assert at_60_north == pytest.approx(at_equator / 2, rel=1e-3)


def test_changsha_to_wuhan_is_about_295_km() -> None:
    """A city-scale sanity check against a published great-circle figure (≈ 295 km)."""
    assert distance_km(CHANGSHA, WUHAN) == pytest.approx(295, abs=3)


def test_antipodes_are_half_the_circumference_apart() -> None:
    """Rounding may push the haversine term just above 1: the ``min`` keeps ``asin`` defined."""
    assert distance_km(Point(0.0, 0.0), Point(0.0, 180.0)) == pytest.approx(
        math.pi * EARTH_RADIUS_KM
    )
    assert distance_km(Point(90.0, 0.0), Point(-90.0, 0.0)) == pytest.approx(
        math.pi * EARTH_RADIUS_KM
    )


@pytest.mark.parametrize("km", [0.5, 2.0, 5.0, 10.0])
def test_destination_helper_agrees_with_distance_km(km: float) -> None:
    for bearing in (0, 45, 90, 180, 270):
        assert distance_km(CHANGSHA, destination(CHANGSHA, bearing, km)) == pytest.approx(km)


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(90.5, 0.0), (-91.0, 0.0), (0.0, 180.5), (0.0, -181.0)]
)
def test_a_point_off_the_earth_is_refused(latitude: float, longitude: float) -> None:
    with pytest.raises(ValueError, match="not a position on Earth"):
        Point(latitude, longitude)


def test_the_extreme_positions_are_points() -> None:
    assert Point(90, 180).latitude == 90
    assert Point(-90, -180).longitude == -180


# -- the bounding box -----------------------------------------------------------------------------


def test_box_is_centred_and_wider_in_longitude_away_from_the_equator() -> None:
    box = bounding_box(CHANGSHA, 10.0)
    assert inside(box, CHANGSHA)
    assert box.max_latitude - CHANGSHA.latitude == pytest.approx(
        CHANGSHA.latitude - box.min_latitude
    )
    assert box.max_longitude - CHANGSHA.longitude == pytest.approx(
        CHANGSHA.longitude - box.min_longitude
    )
    half_height = box.max_latitude - CHANGSHA.latitude
    half_width = box.max_longitude - CHANGSHA.longitude
    assert half_height == pytest.approx(10.0 / KM_PER_DEGREE, rel=0.01)
    assert half_width == pytest.approx(half_height / math.cos(math.radians(CHANGSHA.latitude)))


@pytest.mark.parametrize("radius_km", [1.0, 5.0, 10.0, 50.0])
def test_box_contains_the_circle_with_a_small_margin(radius_km: float) -> None:
    """Every point 99 % of the radius away, in 72 directions, is inside the box."""
    box = bounding_box(CHANGSHA, radius_km)
    for bearing in range(0, 360, 5):
        point = destination(CHANGSHA, bearing, radius_km * 0.99)
        assert inside(box, point), (bearing, point)


def test_box_leaves_out_what_is_clearly_farther() -> None:
    box = bounding_box(CHANGSHA, 10.0)
    for bearing in (0, 90, 180, 270):
        assert not inside(box, destination(CHANGSHA, bearing, 10.5))


def test_box_contains_every_point_within_the_radius() -> None:
    box = bounding_box(CHANGSHA, 10.0)
    for bearing in (0, 90, 180, 270):
        point = destination(CHANGSHA, bearing, 9.995)
        assert distance_km(CHANGSHA, point) < 10.0
        assert inside(box, point), bearing


def test_box_is_clamped_at_the_poles() -> None:
    box = bounding_box(Point(89.95, 0.0), 20.0)
    assert box.max_latitude == 90.0
    assert -180.0 <= box.min_longitude < box.max_longitude <= 180.0


def test_box_is_clamped_at_the_date_line() -> None:
    box = bounding_box(Point(0.0, 179.99), 10.0)
    assert box.max_longitude == 180.0
    assert box.min_longitude == pytest.approx(179.99 - 10.0 / KM_PER_DEGREE, abs=0.001)


# -- the calendar file ----------------------------------------------------------------------------


def make_activity(**overrides: Any) -> Activity:
    """The calendar's example: activity 42 in Furong with a map pin, Saturday 10:00 Shanghai."""
    fields: dict[str, Any] = {
        "activity_id": 42,
        "organization_id": 7,
        "description": "为社区老人测量血压。",
        "place": "芙蓉区定王台街道社区服务中心",
        "area_code": "furong",
        "latitude": 28.1936,
        "longitude": 112.9826,
        **overrides,
    }
    starts_at = fields.pop("starts_at", datetime(2026, 11, 28, 2, 0, tzinfo=UTC))
    return activity_model(starts_at, **fields)


LINK = "https://t.me/zhiyuan_bot?start=a42"


def ics(activity: Activity | None = None, **kwargs: Any) -> bytes:
    arguments: dict[str, Any] = {
        "now": NOW,
        "description": "服务内容：测量血压",
        "link": LINK,
        "alarm_text": "两小时后开始：社区健康义诊",
    }
    arguments.update(kwargs)
    return activity_ics(activity or make_activity(), **arguments)


def the_event(data: bytes) -> Component:
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def test_calendar_header() -> None:
    calendar = Calendar.from_ical(ics())
    assert str(calendar["PRODID"]) == PRODUCT_ID
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"


def test_uid_is_stable_per_activity() -> None:
    """Importing the file again (even made at another time) updates the same event."""
    first = the_event(ics(now=NOW))
    later = the_event(ics(now=NOW + timedelta(days=2)))
    assert str(first["UID"]) == str(later["UID"]) == activity_uid(42)
    assert activity_uid(42) == "activity-42@zhiyuan.volunteer"
    other = the_event(ics(make_activity(activity_id=43)))
    assert str(other["UID"]) != str(first["UID"])


def test_start_and_end_are_written_in_utc() -> None:
    data = ics()
    event = the_event(data)
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    assert end == start + timedelta(hours=3)
    assert start.utcoffset() == timedelta(0)
    assert end.utcoffset() == timedelta(0)
    # The literal form: UTC ("Z"), no TZID that would need a VTIMEZONE.
    assert b"DTSTART:20261128T020000Z" in data
    assert b"DTEND:20261128T050000Z" in data
    assert b"TZID" not in data
    assert event.decoded("DTSTAMP") == NOW


def test_aware_local_times_are_converted_to_utc() -> None:
    activity = make_activity()
    local = activity.model_copy(
        update={
            "starts_at": activity.starts_at.astimezone(SHANGHAI),
            "ends_at": activity.ends_at.astimezone(SHANGHAI),
        }
    )
    data = ics(local)
    assert b"DTSTART:20261128T020000Z" in data
    assert b"TZID" not in data


def test_summary_location_description_and_organizer() -> None:
    event = the_event(ics())
    assert str(event["SUMMARY"]) == "社区健康义诊"
    assert str(event["LOCATION"]) == "芙蓉区定王台街道社区服务中心"
    assert str(event["DESCRIPTION"]) == "服务内容：测量血压"
    assert str(event["STATUS"]) == "CONFIRMED"
    organizer = event["ORGANIZER"]
    assert str(organizer) == "MAILTO:noreply@zhiyuan.volunteer"
    assert organizer.params["CN"] == "芙蓉区青年志愿者协会"


def test_text_with_ical_special_characters_round_trips() -> None:
    """Commas, semicolons, backslashes and newlines are escaped; long lines are folded."""
    description = "第一行, with a comma; a semicolon \\ a backslash\n第二行" + "长" * 120
    data = ics(description=description)
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    assert str(the_event(data)["DESCRIPTION"]) == description


def test_geo_is_the_activity_pin() -> None:
    data = ics()
    geo = the_event(data)["GEO"]
    assert isinstance(geo, vGeo)
    assert (geo.latitude, geo.longitude) == pytest.approx((28.1936, 112.9826))
    assert b"GEO:28.1936;112.9826" in data


def test_no_geo_without_a_pin() -> None:
    event = the_event(ics(make_activity(latitude=None, longitude=None)))
    assert "GEO" not in event


def test_url_is_the_deep_link_when_given() -> None:
    assert str(the_event(ics())["URL"]) == LINK
    assert "URL" not in the_event(ics(link=None))


def test_alarm_two_hours_before() -> None:
    alarms = the_event(ics()).walk("VALARM")
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm.decoded("TRIGGER") == -ALARM_BEFORE == timedelta(hours=-2)
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert str(alarm["DESCRIPTION"]) == "两小时后开始：社区健康义诊"
    assert b"TRIGGER:-PT2H" in ics()


def test_a_cancelled_activity_is_a_cancelled_event() -> None:
    event = the_event(ics(make_activity(status=ActivityStatus.CANCELLED)))
    assert str(event["STATUS"]) == "CANCELLED"
