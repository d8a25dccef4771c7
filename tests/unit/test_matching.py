"""bot.domain.matching: why one activity is suggested above another.

Every case is built by hand (no database) so the arithmetic can be read off the test: the
comments add up the points of :mod:`bot.domain.matching`'s table. Unless a test is about
urgency, activities start on Saturday 5 December 2026, twelve days after ``NOW``, so the
"needs people soon" points (within 3 or 7 days) never blur the comparison.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.activities import Activity, ActivityStatus
from bot.domain.geo import EARTH_RADIUS_KM, Point
from bot.domain.matching import (
    AREA_POINTS,
    AVAILABILITY_POINTS,
    FULL_PENALTY,
    INTEREST_POINTS,
    SKILL_POINTS,
    SKILL_POINTS_MAX,
    Match,
    ReasonKind,
    can_join,
    missing_skills,
    rank,
    score,
    slot_of,
)
from bot.domain.volunteers import NotificationSettings, Slot, VolunteerProfile
from tests.factories import activity_model

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time, as the aware UTC datetime the domain stores."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


NOW = local(2026, 11, 23, 10)  # Monday
SATURDAY_MORNING = local(2026, 12, 5, 9)  # 12 days ahead: no urgency points
MONDAY_EVENING = local(2026, 12, 7, 19)  # 14 days ahead

# The volunteer's shared location, and the activities' pins, on the same meridian.
HOME = Point(28.2, 112.98)
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180


def km_north(km: float) -> tuple[float, float]:
    """Latitude and longitude of the point ``km`` due north of :data:`HOME`."""
    return HOME.latitude + km / KM_PER_DEGREE, HOME.longitude


def make_activity(activity_id: int = 1, **overrides: Any) -> Activity:
    """A published, open, empty activity of category ``health`` with no area and no pin,
    starting on a Saturday morning; ``overrides`` change any field."""
    starts_at = overrides.pop("starts_at", SATURDAY_MORNING)
    fields: dict[str, Any] = {
        "activity_id": activity_id,
        "title": f"活动 {activity_id}",
        "created_at": NOW - timedelta(days=1),
        "updated_at": NOW - timedelta(days=1),
        **overrides,
    }
    return activity_model(starts_at, **fields)


def make_volunteer(
    *,
    categories: tuple[str, ...] = (),
    skills: tuple[str, ...] = (),
    availability: Slot | int = 0,
    area_code: str | None = None,
    is_minor: bool = False,
) -> VolunteerProfile:
    """A volunteer with nothing in common with anything, unless told otherwise."""
    return VolunteerProfile(
        volunteer_id=1,
        telegram_id=500_001,
        real_name="王小明",
        phone="+8613800000001",
        id_number=None,
        gender=None,
        birth_date=datetime(2010 if is_minor else 1990, 5, 1).date(),
        is_minor=is_minor,
        guardian_consent_at=NOW if is_minor else None,
        area_code=area_code,
        area_text=None,
        skills=skills,
        categories=categories,
        availability=int(availability),
        groups=(),
        consent_version="test",
        consent_at=NOW,
        registered_at=NOW,
        updated_at=NOW,
        paused_until=None,
        notifications=NotificationSettings(),
    )


def score_of(activity: Activity, volunteer: VolunteerProfile, **kwargs: Any) -> Match:
    return score(activity, volunteer, now=NOW, tz=SHANGHAI, **kwargs)


def ranked_ids(activities: list[Activity], volunteer: VolunteerProfile, **kwargs: Any) -> list[int]:
    matches = rank(activities, volunteer, now=NOW, tz=SHANGHAI, **kwargs)
    return [match.activity.activity_id for match in matches]


def kinds(match: Match) -> list[ReasonKind]:
    return [reason.kind for reason in match.reasons]


# -- the parts of the score -----------------------------------------------------------------------


def test_interest_beats_availability_only() -> None:
    """A is in a category the volunteer chose (40) but at a time they are busy; B is at a time
    they marked free (20) but in a category they did not choose. Interest weighs more."""
    volunteer = make_volunteer(categories=("health",), availability=Slot.WEEKEND_MORNING)
    a = make_activity(1, category_code="health", starts_at=MONDAY_EVENING)
    b = make_activity(2, category_code="sports", starts_at=SATURDAY_MORNING)

    assert score_of(a, volunteer).score == INTEREST_POINTS == 40
    assert score_of(b, volunteer).score == AVAILABILITY_POINTS == 20
    # B starts earlier, so only the score can put A first.
    assert ranked_ids([b, a], volunteer) == [1, 2]


def test_reasons_name_what_matched() -> None:
    """The reasons carry the codes the bot shows: the category, the slot's name, the area."""
    volunteer = make_volunteer(
        categories=("health",), availability=Slot.WEEKEND_MORNING, area_code="furong"
    )
    match = score_of(make_activity(area_code="furong"), volunteer)

    assert kinds(match) == [ReasonKind.INTEREST, ReasonKind.AVAILABILITY, ReasonKind.AREA]
    assert [reason.codes for reason in match.reasons] == [
        ("health",),
        ("WEEKEND_MORNING",),
        ("furong",),
    ]
    assert match.score == 40 + 20 + 15
    assert match.personal


def test_skill_points_are_15_per_held_skill() -> None:
    volunteer = make_volunteer(skills=("first_aid", "medical"))
    match = score_of(make_activity(required_skills=("first_aid",)), volunteer)

    assert kinds(match) == [ReasonKind.SKILL]
    assert match.reasons[0].codes == ("first_aid",)
    assert match.score == SKILL_POINTS == 15


def test_skill_points_are_capped_at_30() -> None:
    """Three required skills held would be 45 points, but skills alone must not outweigh
    interest (40): the skill part stops at 30."""
    volunteer = make_volunteer(skills=("first_aid", "medical", "driving"))
    match = score_of(make_activity(required_skills=("first_aid", "medical", "driving")), volunteer)

    assert match.reasons[0].kind is ReasonKind.SKILL
    assert match.reasons[0].codes == ("first_aid", "medical", "driving")
    assert match.score == SKILL_POINTS_MAX == 30


def test_skills_the_volunteer_holds_but_the_activity_does_not_need_score_nothing() -> None:
    volunteer = make_volunteer(categories=("health",), skills=("first_aid", "legal"))
    assert kinds(score_of(make_activity(), volunteer)) == [ReasonKind.INTEREST]


def test_area_match_ranks_the_local_activity_first() -> None:
    """Same category for both (40 each); only A is in the volunteer's district (+15)."""
    volunteer = make_volunteer(categories=("health",), area_code="furong")
    a = make_activity(1, area_code="furong", starts_at=SATURDAY_MORNING + timedelta(days=1))
    b = make_activity(2, area_code="yuelu")

    assert score_of(a, volunteer).score == INTEREST_POINTS + AREA_POINTS
    assert score_of(b, volunteer).score == INTEREST_POINTS
    assert ranked_ids([b, a], volunteer) == [1, 2]


def test_no_area_on_either_side_is_not_an_area_match() -> None:
    """``None == None`` must not count as "the same district"."""
    volunteer = make_volunteer(categories=("health",), area_code=None)
    assert ReasonKind.AREA not in kinds(score_of(make_activity(area_code=None), volunteer))


@pytest.mark.parametrize(
    ("km", "points"),
    [(0.0, 20), (1.5, 20), (1.99, 20), (2.01, 12), (4.9, 12), (5.1, 6), (9.9, 6)],
)
def test_distance_tiers_with_a_shared_location(km: float, points: int) -> None:
    """Within 2 km: 20 points, within 5 km: 12, within 10 km: 6."""
    latitude, longitude = km_north(km)
    match = score_of(
        make_activity(latitude=latitude, longitude=longitude), make_volunteer(), location=HOME
    )

    assert kinds(match) == [ReasonKind.DISTANCE]
    assert match.score == points
    assert match.distance_km == pytest.approx(km, abs=1e-6)
    assert match.reasons[0].distance_km == pytest.approx(km, abs=1e-6)


def test_beyond_10_km_is_no_distance_reason_but_the_distance_is_still_reported() -> None:
    latitude, longitude = km_north(10.5)
    match = score_of(
        make_activity(latitude=latitude, longitude=longitude), make_volunteer(), location=HOME
    )

    assert match.reasons == ()
    assert match.distance_km == pytest.approx(10.5, abs=1e-6)


def test_distance_needs_both_a_shared_location_and_a_pin() -> None:
    latitude, longitude = km_north(1)
    pinned = make_activity(latitude=latitude, longitude=longitude)
    no_pin = make_activity()

    assert score_of(pinned, make_volunteer()).reasons == ()  # no location shared
    assert score_of(no_pin, make_volunteer(), location=HOME).distance_km is None


def test_nearer_activity_ranks_first() -> None:
    """Same category (40 each); A is 1 km away (+20), B 4 km (+12), C 8 km (+6), D has no pin.
    They are passed in reverse order of start, so only distance orders them."""
    volunteer = make_volunteer(categories=("health",))
    pins = {1: km_north(1), 2: km_north(4), 3: km_north(8)}
    activities = [
        make_activity(
            activity_id,
            latitude=pins[activity_id][0] if activity_id in pins else None,
            longitude=pins[activity_id][1] if activity_id in pins else None,
            starts_at=SATURDAY_MORNING - timedelta(hours=activity_id),
        )
        for activity_id in (1, 2, 3, 4)
    ]

    matches = rank(activities, volunteer, now=NOW, tz=SHANGHAI, location=HOME)

    assert [m.activity.activity_id for m in matches] == [1, 2, 3, 4]
    assert [m.score for m in matches] == [60, 52, 46, 40]


# -- urgency --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_in", "taken", "points"),
    [
        (timedelta(days=2), 0, 10),  # within 3 days and under half full
        (timedelta(days=3), 4, 10),  # exactly 3 days counts as "within"
        (timedelta(days=2), 5, 5),  # half full is not "under half": the 7-day tier applies
        (timedelta(days=6), 0, 5),  # within 7 days and under 80 % full
        (timedelta(days=7), 7, 5),
        (timedelta(days=6), 8, 0),  # 80 % full: no longer short of people
        (timedelta(days=8), 0, 0),  # too far ahead
    ],
)
def test_needs_people_soon_points(starts_in: timedelta, taken: int, points: int) -> None:
    volunteer = make_volunteer(categories=("health",))
    activity = make_activity(starts_at=NOW + starts_in, capacity=10, confirmed_count=taken)
    match = score_of(activity, volunteer)

    assert match.score == INTEREST_POINTS + points
    assert (ReasonKind.SOON in kinds(match)) == (points > 0)


def test_offers_held_count_as_taken_for_urgency() -> None:
    """3 confirmed + 2 spots held for offers = half full: not "under half"."""
    volunteer = make_volunteer(categories=("health",))
    activity = make_activity(starts_at=NOW + timedelta(days=1), confirmed_count=3, offered_count=2)
    assert score_of(activity, volunteer).score == INTEREST_POINTS + 5


def test_needs_people_soon_adds_to_a_personal_match() -> None:
    """Both are in the volunteer's category (40) and start tomorrow. A is empty (+10); B is 90 %
    full (no urgency). A goes first although B would win a tie on its lower id."""
    volunteer = make_volunteer(categories=("health",))
    a = make_activity(2, starts_at=NOW + timedelta(days=1))
    b = make_activity(1, starts_at=NOW + timedelta(days=1), confirmed_count=9)

    assert ranked_ids([b, a], volunteer) == [2, 1]


def test_urgency_alone_never_makes_a_match() -> None:
    """An empty activity tomorrow scores 10 for urgency, but the volunteer has nothing in
    common with it: it is not suggested at all."""
    volunteer = make_volunteer(categories=("sports",))
    urgent = make_activity(1, category_code="health", starts_at=NOW + timedelta(days=1))
    match = score_of(urgent, volunteer)

    assert kinds(match) == [ReasonKind.SOON]
    assert match.score == 10
    assert not match.personal
    assert ranked_ids([urgent], volunteer) == []


def test_urgency_does_not_apply_to_an_activity_that_has_started() -> None:
    volunteer = make_volunteer(categories=("health",))
    started = make_activity(starts_at=NOW - timedelta(minutes=1))
    assert kinds(score_of(started, volunteer)) == [ReasonKind.INTEREST]


# -- full activities ------------------------------------------------------------------------------


def test_full_activities_are_penalised_but_still_suggested() -> None:
    """Both match by interest (40). A is full (40 - 25 = 15): it can still be suggested, for
    its waitlist, but after B, which has a spot free, although A starts earlier."""
    volunteer = make_volunteer(categories=("health",))
    full = make_activity(1, capacity=4, confirmed_count=3, offered_count=1)
    free = make_activity(2, capacity=4, confirmed_count=3, starts_at=MONDAY_EVENING)

    assert full.is_full
    assert score_of(full, volunteer).score == INTEREST_POINTS + FULL_PENALTY == 15
    assert ranked_ids([full, free], volunteer) == [2, 1]


def test_penalty_can_push_a_full_activity_below_a_weaker_open_one() -> None:
    """A is full and matches by interest and area: 40 + 15 - 25 = 30. B is open and matches by
    availability and area only: 20 + 15 = 35. Without the penalty A (55) would win."""
    volunteer = make_volunteer(
        categories=("health",), availability=Slot.WEEKDAY_EVENING, area_code="furong"
    )
    full = make_activity(
        1, area_code="furong", capacity=1, confirmed_count=1, starts_at=SATURDAY_MORNING
    )
    open_one = make_activity(
        2, category_code="sports", area_code="furong", starts_at=MONDAY_EVENING
    )

    assert score_of(full, volunteer).score == 30
    assert score_of(open_one, volunteer).score == 35
    assert ranked_ids([full, open_one], volunteer) == [2, 1]


# -- eligibility ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"required_skills": ("first_aid", "medical")}, "needs a skill the volunteer lacks"),
        ({"adults_only": True}, "adults only, and the volunteer is a minor"),
        ({"signup_deadline": NOW}, "the organizer's deadline has passed"),
        ({"signups_closed_at": NOW - timedelta(hours=1)}, "sign-up was closed early"),
        (
            {"starts_at": NOW - timedelta(hours=1), "ends_at": NOW + timedelta(hours=2)},
            "it has started",
        ),
        ({"status": ActivityStatus.CANCELLED}, "it was cancelled"),
        ({"status": ActivityStatus.DRAFT}, "it is a draft"),
    ],
)
def test_activities_the_volunteer_cannot_join_are_never_suggested(
    overrides: dict[str, Any], why: str
) -> None:
    """A perfect match in every other way (interest, skill, slot, area: 90 points)."""
    volunteer = make_volunteer(
        categories=("health",),
        skills=("medical",),
        availability=Slot.WEEKEND_MORNING,
        area_code="furong",
        is_minor=True,
    )
    base = {"area_code": "furong", "required_skills": ("medical",)}
    ineligible = make_activity(1, **{**base, **overrides})
    eligible = make_activity(2, **base)

    assert not can_join(ineligible, volunteer, NOW), why
    assert can_join(eligible, volunteer, NOW)
    assert ranked_ids([ineligible, eligible], volunteer) == [2], why


def test_adults_only_is_fine_for_adults() -> None:
    volunteer = make_volunteer(categories=("health",), is_minor=False)
    assert ranked_ids([make_activity(adults_only=True)], volunteer) == [1]


def test_excluded_activities_are_not_suggested_again() -> None:
    """``exclude`` holds what the volunteer already signed up for."""
    volunteer = make_volunteer(categories=("health",))
    activities = [make_activity(1), make_activity(2), make_activity(3)]
    assert ranked_ids(activities, volunteer, exclude=frozenset({2})) == [1, 3]


def test_missing_skills_keeps_the_activity_order() -> None:
    activity = make_activity(required_skills=("first_aid", "medical", "driving"))
    assert missing_skills(activity, ("medical",)) == ("first_aid", "driving")
    assert missing_skills(activity, ["driving", "medical", "first_aid"]) == ()
    assert missing_skills(make_activity(), ()) == ()


def test_can_join_until_the_moment_sign_up_closes() -> None:
    volunteer = make_volunteer()
    activity = make_activity(signup_deadline=NOW + timedelta(minutes=1))
    assert can_join(activity, volunteer, NOW)
    assert not can_join(activity, volunteer, NOW + timedelta(minutes=1))


# -- order ----------------------------------------------------------------------------------------


def test_ties_go_to_the_earlier_start_then_the_lower_id() -> None:
    """Four activities all worth 40 (interest only): 3 starts first; 1, 2 and 4 start together
    an hour later and are ordered by id."""
    volunteer = make_volunteer(categories=("health",))
    later = SATURDAY_MORNING + timedelta(hours=1)
    activities = [
        make_activity(4, starts_at=later),
        make_activity(2, starts_at=later),
        make_activity(3, starts_at=SATURDAY_MORNING),
        make_activity(1, starts_at=later),
    ]
    assert ranked_ids(activities, volunteer) == [3, 1, 2, 4]
    assert ranked_ids(list(reversed(activities)), volunteer) == [3, 1, 2, 4]


def test_rank_returns_at_most_limit_best_first() -> None:
    volunteer = make_volunteer(categories=("health",), area_code="furong")
    activities = [make_activity(i, area_code="furong" if i % 2 else None) for i in range(1, 8)]
    assert ranked_ids(activities, volunteer, limit=3) == [1, 3, 5]
    assert ranked_ids([], volunteer) == []


# -- slots ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "slot"),
    [
        (local(2026, 11, 23, 0, 0), Slot.WEEKDAY_MORNING),  # Monday, midnight
        (local(2026, 11, 23, 11, 59), Slot.WEEKDAY_MORNING),
        (local(2026, 11, 23, 12, 0), Slot.WEEKDAY_AFTERNOON),
        (local(2026, 11, 23, 17, 59), Slot.WEEKDAY_AFTERNOON),
        (local(2026, 11, 23, 18, 0), Slot.WEEKDAY_EVENING),
        (local(2026, 11, 27, 23, 59), Slot.WEEKDAY_EVENING),  # Friday night
        (local(2026, 11, 28, 0, 0), Slot.WEEKEND_MORNING),  # Saturday
        (local(2026, 11, 28, 11, 59), Slot.WEEKEND_MORNING),
        (local(2026, 11, 28, 12, 0), Slot.WEEKEND_AFTERNOON),
        (local(2026, 11, 29, 18, 0), Slot.WEEKEND_EVENING),  # Sunday
        (local(2026, 11, 29, 23, 59), Slot.WEEKEND_EVENING),
    ],
)
def test_slot_of_boundaries_in_shanghai(moment: datetime, slot: Slot) -> None:
    assert slot_of(moment, SHANGHAI) is slot


def test_slot_of_uses_the_local_date_not_the_utc_one() -> None:
    """Friday 17:00 UTC is already Saturday 01:00 in Shanghai: a weekend morning."""
    friday_utc = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    assert friday_utc.weekday() == 4
    assert slot_of(friday_utc, SHANGHAI) is Slot.WEEKEND_MORNING
    assert slot_of(friday_utc, ZoneInfo("UTC")) is Slot.WEEKDAY_AFTERNOON


def test_availability_matches_only_the_slot_the_activity_starts_in() -> None:
    """The volunteer is free on weekday evenings only: the Monday 19:00 activity matches, the
    Saturday morning one does not."""
    volunteer = make_volunteer(availability=Slot.WEEKDAY_EVENING)
    assert kinds(score_of(make_activity(starts_at=MONDAY_EVENING), volunteer)) == [
        ReasonKind.AVAILABILITY
    ]
    assert score_of(make_activity(starts_at=SATURDAY_MORNING), volunteer).reasons == ()


# -- the arithmetic, whatever the activity ---------------------------------------------------

_CODES = st.sampled_from(["health", "elderly", "env", "edu"])
_SKILLS = st.lists(st.sampled_from(["first_aid", "sign", "driving", "photo"]), unique=True)


@st.composite
def _activities(draw: st.DrawFn) -> Activity:
    capacity = draw(st.integers(1, 30))
    confirmed = draw(st.integers(0, capacity))
    starts_at = NOW + timedelta(minutes=draw(st.integers(-600, 20 * 24 * 60)))
    deadline = draw(st.one_of(st.none(), st.integers(-3000, 30000)))
    closed = draw(st.one_of(st.none(), st.integers(-3000, 30000)))
    pin = draw(st.one_of(st.none(), st.floats(0, 15)))
    return make_activity(
        starts_at=starts_at,
        category_code=draw(_CODES),
        required_skills=tuple(draw(_SKILLS)),
        area_code=draw(st.sampled_from([None, "furong", "yuelu"])),
        latitude=None if pin is None else km_north(pin)[0],
        longitude=None if pin is None else km_north(pin)[1],
        capacity=capacity,
        confirmed_count=confirmed,
        offered_count=draw(st.integers(0, capacity - confirmed)),
        signup_deadline=None if deadline is None else NOW + timedelta(minutes=deadline),
        signups_closed_at=None if closed is None else NOW + timedelta(minutes=closed),
    )


@given(
    activity=_activities(),
    categories=st.lists(_CODES, unique=True),
    skills=_SKILLS,
    availability=st.integers(0, 63),
    area=st.sampled_from([None, "furong", "yuelu"]),
    located=st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_the_score_is_the_sum_of_its_reasons_and_closing_is_the_earliest_moment(
    activity: Activity,
    categories: list[str],
    skills: list[str],
    availability: int,
    area: str | None,
    located: bool,
) -> None:
    """``score`` keeps a running total for speed: it must still be the sum of the reasons it
    gives, less the penalty exactly when no spot is left; and sign-up closes at the earliest
    of the start, the deadline and the early close."""
    volunteer = make_volunteer(
        categories=tuple(categories), skills=tuple(skills), availability=availability
    )
    volunteer = volunteer.model_copy(update={"area_code": area})
    match = score(activity, volunteer, now=NOW, tz=SHANGHAI, location=HOME if located else None)
    penalty = FULL_PENALTY if activity.spots_left == 0 else 0
    assert match.score == sum(reason.points for reason in match.reasons) + penalty
    soon = [r for r in match.reasons if r.kind is ReasonKind.SOON]
    assert len(soon) <= 1
    if soon:
        assert timedelta(0) < activity.starts_at - NOW <= timedelta(days=7)
    moments = [activity.starts_at, activity.signup_deadline, activity.signups_closed_at]
    assert activity.signup_closes_at == min(m for m in moments if m is not None)
