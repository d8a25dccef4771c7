"""Emergency mobilization (应急动员): the on-call pool, needs, waves of alerts and the headcount.

Volunteers opt in to an **on-call pool** with the emergency skills they have (a fixed list,
:class:`EmergencySkill`), their district, when they may be called (:class:`Availability`) and how
far they would travel. An administrator or an organizer of an organization allowed to mobilize
starts a **mobilization**: what, where (a pin and the rally point), when, how many people with
which skill (:class:`NeedSkill`; ``any`` is anyone on call), drill or real.

Alerts go out **in waves**, nearest first (:func:`plan_wave`, a pure function):

* the first wave reaches about ``first_factor`` (2) times the number needed of each skill, the
  nearest who can be called now and would travel that far, however far that is; the wave's
  radius is then the distance of the farthest one alerted;
* each later wave (the periodic job, while some skill is still short) widens the radius
  (× ``growth``, at least ``min_step_km`` more, at most ``max_radius_km``) and alerts the nearest
  not yet alerted within it, about ``later_factor`` times the number still missing per skill;
* once every skill has its headcount, no wave goes out; once nobody is left within the largest
  radius, the waves are done.

Nobody is alerted twice (the store's UNIQUE key; :func:`plan_wave` also skips them). A person
who says "I can come" counts towards one need (:func:`counted_skill`): the shortest of the
needs their skills fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum

from bot.domain.refusals import Refused
from bot.i18n import N_


class EmergencySkill(StrEnum):
    """What an on-call volunteer can do in an emergency (fixed: alerts are matched on it)."""

    FIRST_AID = "first_aid"
    RESCUE = "rescue"
    DRIVING = "driving"
    MEDICAL = "medical"
    LOGISTICS = "logistics"
    COUNSELLING = "counselling"
    COMMUNICATIONS = "communications"


class NeedSkill(StrEnum):
    """What a mobilization asks for: a skill, or ``any`` volunteer on call."""

    ANY = "any"
    FIRST_AID = "first_aid"
    RESCUE = "rescue"
    DRIVING = "driving"
    MEDICAL = "medical"
    LOGISTICS = "logistics"
    COUNSELLING = "counselling"
    COMMUNICATIONS = "communications"

    @property
    def skill(self) -> EmergencySkill | None:
        return None if self is NeedSkill.ANY else EmergencySkill(self.value)

    def fits(self, skills: Set[EmergencySkill]) -> bool:
        return self is NeedSkill.ANY or EmergencySkill(self.value) in skills


#: Labels (message ids; translated where shown), by the value both enums share.
SKILL_LABELS: Mapping[str, str] = {
    NeedSkill.ANY.value: N_("Anyone on call"),
    EmergencySkill.FIRST_AID.value: N_("First aid"),
    EmergencySkill.RESCUE.value: N_("Search and rescue"),
    EmergencySkill.DRIVING.value: N_("Driving"),
    EmergencySkill.MEDICAL.value: N_("Medical care"),
    EmergencySkill.LOGISTICS.value: N_("Logistics and supplies"),
    EmergencySkill.COUNSELLING.value: N_("Psychological support"),
    EmergencySkill.COMMUNICATIONS.value: N_("Radio and communications"),
}


class Availability(StrEnum):
    """When an on-call volunteer may be called: any time, in the day (08:00–20:00 local), or at
    night (20:00–08:00)."""

    ANY = "any"
    DAY = "day"
    NIGHT = "night"

    def allows(self, local: time) -> bool:
        if self is Availability.ANY:
            return True
        daytime = DAY_STARTS <= local < NIGHT_STARTS
        return daytime if self is Availability.DAY else not daytime


DAY_STARTS = time(8, 0)
NIGHT_STARTS = time(20, 0)

AVAILABILITY_LABELS: Mapping[Availability, str] = {
    Availability.ANY: N_("Any time"),
    Availability.DAY: N_("Daytime (08:00–20:00)"),
    Availability.NIGHT: N_("Night (20:00–08:00)"),
}

#: How far an on-call volunteer would travel (km), as offered on the pool screen.
TRAVEL_CHOICES: tuple[int, ...] = (3, 5, 10, 20, 50)
DEFAULT_TRAVEL_KM = 10
#: "I can come" with an arrival estimate (minutes).
ETA_CHOICES: tuple[int, ...] = (15, 30, 60)
#: When people should be at the rally point, minutes from the start.
RALLY_CHOICES: tuple[int, ...] = (0, 30, 60, 120)
#: Most people of one skill a mobilization may ask for (the CHECK of mobilization_needs).
MAX_NEED = 500
TITLE_MAX = 60
RALLY_TEXT_MAX = 100
UPDATE_MAX = 500


class MobilizationStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    STOOD_DOWN = "stood_down"


class Answer(StrEnum):
    COMING = "coming"
    CANNOT = "cannot"


class EmergencyRefusal(StrEnum):
    NOT_VOLUNTEER = "not_volunteer"  # the on-call pool is for registered volunteers
    NOT_ALLOWED = "not_allowed"  # may not mobilize for this organization / coordinate this one
    NO_ORGANIZATION = "no_organization"  # no organization allowed to mobilize (yet)
    NOT_FOUND = "not_found"  # no such mobilization or organization
    CHANGED = "changed"  # the draft changed since this screen was drawn
    INCOMPLETE = "incomplete"  # the draft lacks a title, the pin or the needs
    STARTED = "started"  # the draft was started already
    NOT_ALERTED = "not_alerted"  # an answer to a mobilization this person was not alerted for
    STOOD_DOWN = "stood_down"  # the mobilization is over
    TOO_MANY = "too_many"  # a need beyond MAX_NEED


class EmergencyRefused(Refused):
    def __init__(self, reason: EmergencyRefusal) -> None:
        super().__init__(reason)
        self.reason: EmergencyRefusal = reason


# ------------------------------------------------------------------------------ the pool


@dataclass(frozen=True)
class PoolEntry:
    """A volunteer's on-call answers (also when they left the pool: the answers are kept)."""

    volunteer_id: int
    on_call: bool
    skills: frozenset[EmergencySkill]
    area_code: str | None
    availability: Availability
    max_km: int
    latitude: float | None
    longitude: float | None

    @property
    def has_pin(self) -> bool:
        return self.latitude is not None and self.longitude is not None


# ------------------------------------------------------------------------------ mobilizations


@dataclass(frozen=True)
class Need:
    skill: NeedSkill
    needed: int


@dataclass(frozen=True)
class Mobilization:
    mobilization_id: int
    organization_id: int
    organization_name: str
    created_by: int | None
    status: MobilizationStatus
    version: int
    title: str
    rally_text: str
    latitude: float | None
    longitude: float | None
    rally_in_minutes: int
    is_drill: bool
    needs: tuple[Need, ...]
    activity_id: int | None = None
    started_at: datetime | None = None
    rally_at: datetime | None = None
    ended_at: datetime | None = None
    wave: int = 0
    radius_km: float = 0.0
    next_wave_at: datetime | None = None
    waves_done: bool = False
    answers_version: int = 0
    shown_version: int = 0
    chat_id: int | None = None
    message_id: int | None = None

    @property
    def needed(self) -> dict[NeedSkill, int]:
        return {need.skill: need.needed for need in self.needs}

    @property
    def missing(self) -> list[str]:
        """What the draft still lacks before it can start (field names)."""
        gaps = []
        if not self.title:
            gaps.append("title")
        if self.latitude is None or not self.rally_text:
            gaps.append("place")
        if not self.needs:
            gaps.append("needs")
        return gaps


def draft_stamp(mobilization: Mobilization) -> int:
    """What "Start" was drawn for: the draft's version (every edit bumps it)."""
    return mobilization.version


# ------------------------------------------------------------------------------ waves


@dataclass(frozen=True)
class Candidate:
    """An on-call volunteer who may be alerted now (available at this hour, not paused)."""

    volunteer_id: int
    skills: frozenset[EmergencySkill]
    #: From where they usually are (a pin, else their district's centre); ``None``: unknown.
    distance_km: float | None
    max_km: int

    def within(self, radius_km: float) -> bool:
        """Close enough for a wave of this radius, and no farther than they would travel.
        Someone whose position is unknown is only reached once the radius is at its largest
        (``math.inf`` here), never before everyone whose distance is known."""
        if self.distance_km is None:
            return math.isinf(radius_km)
        return self.distance_km <= min(radius_km, self.max_km)


@dataclass(frozen=True)
class WavePolicy:
    first_factor: float = 2.0
    later_factor: float = 2.0
    growth: float = 2.0
    min_step_km: float = 2.0
    max_radius_km: float = 50.0


@dataclass(frozen=True)
class PlannedAlert:
    volunteer_id: int
    skill: NeedSkill  # the need they are alerted for
    distance_km: float | None


@dataclass(frozen=True)
class WavePlan:
    alerts: tuple[PlannedAlert, ...]
    radius_km: float
    #: Every need has its headcount: no wave at all.
    reached: bool = False
    #: Nobody is left to alert within the largest radius: no further wave.
    exhausted: bool = False


def shortfall(
    needs: Mapping[NeedSkill, int], coming: Mapping[NeedSkill, int]
) -> dict[NeedSkill, int]:
    """People still missing per need (only the needs that are short)."""
    return {
        skill: needed - coming.get(skill, 0)
        for skill, needed in needs.items()
        if needed > coming.get(skill, 0)
    }


def _order(skills: Iterable[NeedSkill]) -> list[NeedSkill]:
    """Specific skills first (specialists go to their specialty), ``any`` last."""
    return sorted(skills, key=lambda skill: (skill is NeedSkill.ANY, list(NeedSkill).index(skill)))


def _nearest_first(candidates: Iterable[Candidate]) -> list[Candidate]:
    return sorted(
        candidates,
        key=lambda c: (c.distance_km is None, c.distance_km or 0.0, c.volunteer_id),
    )


def plan_wave(
    candidates: Sequence[Candidate],
    needs: Mapping[NeedSkill, int],
    coming: Mapping[NeedSkill, int],
    alerted: Set[int],
    *,
    wave: int,
    previous_radius_km: float,
    policy: WavePolicy = WavePolicy(),
) -> WavePlan:
    """Who wave number ``wave`` (1 = the first) alerts, nearest first (see the module)."""
    short = shortfall(needs, coming)
    if not short:
        return WavePlan((), previous_radius_km, reached=True)
    pool = _nearest_first(c for c in candidates if c.volunteer_id not in alerted)
    if wave <= 1:
        # As far as it takes to reach the count (within the largest radius); the wave's radius
        # is then the distance of the farthest one alerted.
        limit = policy.max_radius_km
        factor = policy.first_factor
    else:
        limit = min(
            policy.max_radius_km,
            max(previous_radius_km * policy.growth, previous_radius_km + policy.min_step_km),
        )
        factor = policy.later_factor
    # At the largest radius of a later wave, those whose position is unknown are reached too.
    reach = math.inf if wave > 1 and limit >= policy.max_radius_km else limit
    picked: list[PlannedAlert] = []
    taken: set[int] = set()
    for skill in _order(short):
        quota = math.ceil(factor * short[skill])
        for candidate in pool:
            if quota <= 0:
                break
            if candidate.volunteer_id in taken or not skill.fits(candidate.skills):
                continue
            if not candidate.within(reach):
                continue
            picked.append(PlannedAlert(candidate.volunteer_id, skill, candidate.distance_km))
            taken.add(candidate.volunteer_id)
            quota -= 1
    picked.sort(key=lambda a: (a.distance_km is None, a.distance_km or 0.0, a.volunteer_id))
    if wave <= 1:
        radius = max((a.distance_km for a in picked if a.distance_km is not None), default=0.0)
    else:
        radius = limit
    left = any(
        c.volunteer_id not in taken
        and any(skill.fits(c.skills) for skill in short)
        and c.within(math.inf)
        for c in pool
    )
    return WavePlan(tuple(picked), radius, exhausted=not left)


def counted_skill(
    skills: Set[EmergencySkill],
    alerted_for: NeedSkill,
    needs: Mapping[NeedSkill, int],
    coming: Mapping[NeedSkill, int],
) -> NeedSkill:
    """The need a volunteer who says "I can come" counts towards: of the needs their skills fit,
    the one with the most people missing (ties: specific skills first); the need they were
    alerted for when none fits (their skills changed since)."""
    fitting = [skill for skill in _order(needs) if skill.fits(skills)]
    if not fitting:
        return alerted_for
    return max(fitting, key=lambda skill: needs[skill] - coming.get(skill, 0))


# ------------------------------------------------------------------------------ the headcount


@dataclass(frozen=True)
class NeedCount:
    skill: NeedSkill
    needed: int
    coming: int

    @property
    def reached(self) -> bool:
        return self.coming >= self.needed


@dataclass(frozen=True)
class Headcount:
    """What the coordinator's message shows, computed from the alert rows."""

    needs: tuple[NeedCount, ...]
    alerted: int
    coming: int
    cannot: int
    #: Coming, by arrival estimate (minutes → people).
    by_eta: Mapping[int, int] = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        return self.alerted - self.coming - self.cannot

    @property
    def reached(self) -> bool:
        return all(need.reached for need in self.needs)

    @property
    def coming_by_skill(self) -> dict[NeedSkill, int]:
        return {need.skill: need.coming for need in self.needs}


def headcount(
    needs: Sequence[Need],
    coming_by_skill: Mapping[NeedSkill, int],
    *,
    alerted: int,
    cannot: int,
    by_eta: Mapping[int, int],
) -> Headcount:
    ordered = sorted(needs, key=lambda need: _order(n.skill for n in needs).index(need.skill))
    counts = tuple(
        NeedCount(need.skill, need.needed, coming_by_skill.get(need.skill, 0)) for need in ordered
    )
    return Headcount(
        needs=counts,
        alerted=alerted,
        coming=sum(by_eta.values()),
        cannot=cannot,
        by_eta=dict(by_eta),
    )
