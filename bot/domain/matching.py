"""Matching volunteers and activities (精准匹配): a score with the reasons behind it.

The score is a sum of plain, explainable parts, so a volunteer can be told *why* an activity is
suggested ("matches: elderly care, weekend mornings") and an organizer why a volunteer fits:

============================  ======  ==========================================================
part                          points  when
============================  ======  ==========================================================
interest                          40  the activity's category is one the volunteer chose
skill                             15  per required skill the volunteer holds (at most 30)
availability                      20  the activity starts in a slot the volunteer marked free
area                              15  the activity is in the volunteer's district
distance                      20/12/6 within 2 / 5 / 10 km of a shared location
needs people soon                 10  starts within 3 days and under half full
                                   5  starts within 7 days and under 80 % full
full (waitlist only)             -25  no spot left
============================  ======  ==========================================================

An activity is suggested only with at least one *personal* reason (interest, skill,
availability, area or distance): urgency alone does not make a match. Activities the volunteer
cannot join (missing skills, adults only, closed) are never suggested. Ties go to the earlier
start, then the lower id, so the ranking is stable.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.domain.activities import Activity
from bot.domain.geo import Point, distance_km
from bot.domain.volunteers import Slot, VolunteerProfile

INTEREST_POINTS = 40
SKILL_POINTS = 15
SKILL_POINTS_MAX = 30
AVAILABILITY_POINTS = 20
AREA_POINTS = 15
DISTANCE_POINTS = ((2.0, 20), (5.0, 12), (10.0, 6))  # (within km, points), nearest first
SOON_POINTS = ((timedelta(days=3), 0.5, 10), (timedelta(days=7), 0.8, 5))  # (within, fill<, pts)
FULL_PENALTY = -25
_SOON_LONGEST = max(within for within, _, _ in SOON_POINTS)
_NO_TIME = timedelta(0)


class ReasonKind(StrEnum):
    INTEREST = "interest"
    SKILL = "skill"
    AVAILABILITY = "availability"
    AREA = "area"
    DISTANCE = "distance"
    SOON = "soon"


PERSONAL_REASONS = frozenset(
    {ReasonKind.INTEREST, ReasonKind.SKILL, ReasonKind.AVAILABILITY, ReasonKind.AREA,
     ReasonKind.DISTANCE}
)  # fmt: skip


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    points: int
    codes: tuple[str, ...] = ()  # category / skill / area codes, or the slot's name
    distance_km: float | None = None


@dataclass(frozen=True)
class Match:
    activity: Activity
    score: int
    reasons: tuple[Reason, ...]
    distance_km: float | None = None

    @property
    def personal(self) -> bool:
        return any(reason.kind in PERSONAL_REASONS for reason in self.reasons)


def slot_of(moment: datetime, tz: ZoneInfo) -> Slot:
    """The availability slot an activity starting at ``moment`` falls in (local time)."""
    return _slot_and_bits(moment, tz)[0]


@functools.lru_cache(maxsize=8192)
def _slot_and_bits(moment: datetime, tz: ZoneInfo) -> tuple[Slot, int, str]:
    """:func:`slot_of`, with its bits as a plain int and its name. Kept per moment: "For you"
    asks it for 120 candidates on every call, mostly the same ones."""
    local = moment.astimezone(tz)
    weekend = local.weekday() >= 5
    if local.hour < 12:
        slot = Slot.WEEKEND_MORNING if weekend else Slot.WEEKDAY_MORNING
    elif local.hour < 18:
        slot = Slot.WEEKEND_AFTERNOON if weekend else Slot.WEEKDAY_AFTERNOON
    else:
        slot = Slot.WEEKEND_EVENING if weekend else Slot.WEEKDAY_EVENING
    return slot, int(slot), str(slot.name)


def missing_skills(activity: Activity, skills: Iterable[str]) -> tuple[str, ...]:
    """Required skills the volunteer does not hold (skill- and training-gated activities)."""
    if not activity.required_skills:  # most activities: no set to build
        return ()
    held = set(skills)
    return tuple(code for code in activity.required_skills if code not in held)


def can_join(activity: Activity, volunteer: VolunteerProfile, now: datetime) -> bool:
    return (
        activity.is_open_for_signup(now)
        and not missing_skills(activity, volunteer.skills)
        and not (activity.adults_only and volunteer.is_minor)
    )


def score(
    activity: Activity,
    volunteer: VolunteerProfile,
    *,
    now: datetime,
    tz: ZoneInfo,
    location: Point | None = None,
) -> Match:
    """Score one activity for one volunteer (eligibility is not checked here: see :func:`rank`).

    Written for speed as well as for reading: "For you" scores 120 candidates on every press,
    and recruiting a few hundred volunteers (issue #14). Hence a running total instead of a sum
    over the reasons, and the slot's bits as a plain int (``Slot`` is an ``IntFlag``, whose
    ``&`` runs in Python)."""
    reasons: list[Reason] = []
    total = 0
    if activity.category_code in volunteer.categories:
        reasons.append(Reason(ReasonKind.INTEREST, INTEREST_POINTS, (activity.category_code,)))
        total += INTEREST_POINTS
    if activity.required_skills:
        held = tuple(code for code in activity.required_skills if code in volunteer.skills)
        if held:
            points = min(SKILL_POINTS_MAX, SKILL_POINTS * len(held))
            reasons.append(Reason(ReasonKind.SKILL, points, held))
            total += points
    _, bits, slot_name = _slot_and_bits(activity.starts_at, tz)
    if volunteer.availability & bits:
        reasons.append(Reason(ReasonKind.AVAILABILITY, AVAILABILITY_POINTS, (slot_name,)))
        total += AVAILABILITY_POINTS
    if activity.area_code is not None and activity.area_code == volunteer.area_code:
        reasons.append(Reason(ReasonKind.AREA, AREA_POINTS, (activity.area_code,)))
        total += AREA_POINTS
    distance: float | None = None
    if location is not None and activity.latitude is not None and activity.longitude is not None:
        distance = distance_km(location, Point(activity.latitude, activity.longitude))
        for within, points in DISTANCE_POINTS:
            if distance <= within:
                reasons.append(Reason(ReasonKind.DISTANCE, points, distance_km=distance))
                total += points
                break
    until_start = activity.starts_at - now
    taken = activity.taken
    if until_start <= _SOON_LONGEST and until_start > _NO_TIME:
        fill = taken / activity.capacity
        for soon_within, fill_below, points in SOON_POINTS:
            if until_start <= soon_within and fill < fill_below:
                reasons.append(Reason(ReasonKind.SOON, points))
                total += points
                break
    if taken >= activity.capacity:  # Activity.is_full, without asking its properties again
        total += FULL_PENALTY
    return Match(activity, total, tuple(reasons), distance)


def rank(
    activities: Iterable[Activity],
    volunteer: VolunteerProfile,
    *,
    now: datetime,
    tz: ZoneInfo,
    location: Point | None = None,
    exclude: frozenset[int] = frozenset(),
    limit: int = 10,
) -> list[Match]:
    """The best matches for a volunteer, best first; ``exclude`` holds activity ids the
    volunteer already signed up for."""
    matches = [
        score(activity, volunteer, now=now, tz=tz, location=location)
        for activity in activities
        if activity.activity_id not in exclude and can_join(activity, volunteer, now)
    ]
    personal = [match for match in matches if match.personal]
    personal.sort(key=lambda m: (-m.score, m.activity.starts_at, m.activity.activity_id))
    return personal[:limit]
