"""Resident requests (菜单式服务 both ways: 群众点单 → 中心派单 → 志愿者接单 → 群众评单).

Models and the rules that need no storage: the order form's steps and checks, the life of a
request, who may see the resident's address and phone, the dispatch suggestion (a pure score),
the acceptance timeout and the urgent escalation, masking, and the numbers.

```mermaid
stateDiagram-v2
    [*] --> queued: the resident submits (点单)
    queued --> dispatched: a dispatcher sends it to an organization (派单)
    queued --> rejected: a dispatcher rejects it, with a reason
    dispatched --> accepted: the team accepts (接单)
    dispatched --> queued: the team declines (with a reason), or no answer after twice the timeout
    dispatched --> dispatched: no answer after twice the timeout, re-dispatched to the next best
    accepted --> in_service: the team starts
    in_service --> completed: the team completes, with hours and a short report
    completed --> completed: the resident rates 1–5 (评单)
    queued --> cancelled: the resident cancels
    dispatched --> cancelled
    accepted --> cancelled
```

Privacy (民政部令第67号 Art. 16 spirit; the resident is not a volunteer and chose whom to tell):
the address and the phone are shown to the dispatchers of the request's area (and the
federation's administrators, who dispatch everywhere) and to the team that *accepted* it; a team
that was only offered the request sees the district, time and need until it accepts. Volunteers
the team asks see the district and the time (and the need, which the form keeps free of phone
numbers), never the address or the phone: the team, which took responsibility for the request,
briefs them itself. The bot therefore never puts the resident's contact into the chat of anyone
the resident did not give it to. Thirty days after a request is closed its address, phone and
pin are overwritten (:data:`MASK_AFTER`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from statistics import mean
from typing import Final

from pydantic import BaseModel, ConfigDict

from bot.domain.validation import InvalidInput, clean_free_text
from bot.i18n import N_

NEED_MIN: Final = 4
NEED_MAX: Final = 300
ADDRESS_MIN: Final = 4
ADDRESS_MAX: Final = 120
REASON_MIN: Final = 2
REASON_MAX: Final = 200
REPORT_MIN: Final = 2
REPORT_MAX: Final = 300
COMMENT_MAX: Final = 300
STARS: Final = range(1, 6)
#: A rating at or below this is told to the dispatchers of the area.
LOW_RATING: Final = 2
#: The resident's address and phone are overwritten this long after the request was closed.
MASK_AFTER: Final = timedelta(days=30)
#: Hours the team may credit for one request (half hours, ½ h to 12 h).
MINUTES_MIN: Final = 30
MINUTES_MAX: Final = 720
MINUTE_CHOICES: Final = (60, 90, 120, 180, 240)
#: Without an end typed, an activity made from a request lasts this long.
DEFAULT_DURATION: Final = timedelta(hours=2)
#: What the masking leaves in place of the address and the phone.
MASKED: Final = "***"

NEED_HAS_PHONE: Final = N_(
    "Please leave phone numbers out of the description: you give a contact in a later step, "
    "and only the dispatcher and the team that takes your request will see it."
)
HOURS_INVALID: Final = N_("Please choose between half an hour and 12 hours.")


class RequestStatus(StrEnum):
    QUEUED = "queued"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def closed(self) -> bool:
        return self in (RequestStatus.COMPLETED, RequestStatus.REJECTED, RequestStatus.CANCELLED)

    @property
    def cancellable(self) -> bool:
        """The resident may cancel until the team has started."""
        return self in (RequestStatus.QUEUED, RequestStatus.DISPATCHED, RequestStatus.ACCEPTED)


class Beneficiary(StrEnum):
    SELF = "self"
    ELDERLY = "elderly"  # an elderly relative or neighbour (空巢老人, 独居老人)
    CHILD = "child"
    DISABLED = "disabled"
    OTHER = "other"


class ServiceMode(StrEnum):
    VOLUNTEERS = "volunteers"  # the team asks volunteers one by one
    ACTIVITY = "activity"  # the team publishes an activity with sign-up


class HelperStatus(StrEnum):
    ASKED = "asked"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class OrderStep(StrEnum):
    """The order form's questions, in order (the preview last)."""

    CATEGORY = "category"
    NEED = "need"
    WHEN = "when"
    AREA = "area"
    ADDRESS = "address"
    BENEFICIARY = "beneficiary"
    CONTACT = "contact"
    URGENT = "urgent"
    PREVIEW = "preview"

    @property
    def next(self) -> OrderStep:
        steps = list(OrderStep)
        return steps[min(steps.index(self) + 1, len(steps) - 1)]


class RequestDraft(BaseModel):
    """A half-filled order, stored as JSON (``request_drafts``)."""

    category_code: str | None = None
    need: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    area_code: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    beneficiary: Beneficiary | None = None
    contact_name: str | None = None
    phone: str | None = None
    urgent: bool | None = None

    def first_missing(self) -> OrderStep | None:
        """The first question without an answer, or ``None`` when the draft can be sent."""
        answered = {
            OrderStep.CATEGORY: self.category_code is not None,
            OrderStep.NEED: self.need is not None,
            OrderStep.WHEN: self.starts_at is not None,
            OrderStep.AREA: self.area_code is not None,
            OrderStep.ADDRESS: self.address is not None,
            OrderStep.BENEFICIARY: self.beneficiary is not None,
            OrderStep.CONTACT: self.phone is not None,
            OrderStep.URGENT: self.urgent is not None,
        }
        return next((step for step, done in answered.items() if not done), None)


@dataclass(frozen=True)
class DraftRow:
    """A stored draft and the step it is at."""

    step: str
    data: RequestDraft


class ServiceRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    request_id: int
    resident_id: int | None
    category_code: str
    need: str
    starts_at: datetime
    ends_at: datetime | None
    area_code: str
    address: str
    latitude: float | None
    longitude: float | None
    beneficiary: Beneficiary
    contact_name: str
    phone: str
    urgent: bool
    status: RequestStatus
    version: int
    organization_id: int | None
    organization_name: str | None
    dispatched_at: datetime | None
    first_dispatched_at: datetime | None
    dispatch_round: int
    reminded_at: datetime | None
    escalated_at: datetime | None
    accepted_by: int | None
    accepted_at: datetime | None
    service_mode: ServiceMode | None
    activity_id: int | None
    in_service_at: datetime | None
    completed_at: datetime | None
    minutes: int | None
    report: str | None
    status_reason: str | None
    closed_at: datetime | None
    rating: int | None
    rating_comment: str | None
    rated_at: datetime | None
    masked_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def ends(self) -> datetime:
        return self.ends_at if self.ends_at is not None else self.starts_at + DEFAULT_DURATION

    @property
    def has_pin(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class Helper(BaseModel):
    """A volunteer a team asked to serve a request (name only: no phone for anybody)."""

    model_config = ConfigDict(frozen=True)

    request_id: int
    volunteer_id: int
    telegram_id: int | None
    name: str
    status: HelperStatus


# ---------------------------------------------------------------------------- form checks

# Eleven digits in a row (a mainland mobile number), or 7+ digits with separators: a phone.
_PHONE_LIKE = re.compile(r"(?:\+?\d[\d \-]{6,}\d)")


def clean_need(text: str) -> str:
    """What is needed: 4–300 characters, several lines allowed, no phone numbers (they belong
    in the contact step, which only the dispatcher and the team see)."""
    cleaned = clean_free_text(text, min_length=NEED_MIN, max_length=NEED_MAX, multiline=True)
    digits = [match.group(0) for match in _PHONE_LIKE.finditer(cleaned)]
    if any(sum(char.isdigit() for char in found) >= 7 for found in digits):
        raise InvalidInput(NEED_HAS_PHONE)
    return cleaned


def clean_address(text: str) -> str:
    return clean_free_text(text, min_length=ADDRESS_MIN, max_length=ADDRESS_MAX)


def clean_reason(text: str) -> str:
    return clean_free_text(text, min_length=REASON_MIN, max_length=REASON_MAX, multiline=True)


def clean_report(text: str) -> str:
    return clean_free_text(text, min_length=REPORT_MIN, max_length=REPORT_MAX, multiline=True)


def clean_comment(text: str) -> str:
    return clean_free_text(text, min_length=1, max_length=COMMENT_MAX, multiline=True)


def check_minutes(minutes: int) -> int:
    if not MINUTES_MIN <= minutes <= MINUTES_MAX or minutes % 30:
        raise InvalidInput(HOURS_INVALID)
    return minutes


def stars(rating: int) -> str:
    return "★" * rating + "☆" * (max(STARS) - rating)


# ---------------------------------------------------------------------------- who sees what


class Viewer(StrEnum):
    """Who is looking at a request, as the privacy rule distinguishes them."""

    RESIDENT = "resident"  # the person who ordered it
    DISPATCHER = "dispatcher"  # a dispatcher of its area, or a federation administrator
    TEAM = "team"  # an organizer of the organization it was sent to
    HELPER = "helper"  # a volunteer the team asked


def shows_contact(viewer: Viewer, status: RequestStatus) -> bool:
    """Whether the address and phone may be shown to ``viewer`` (see the module docstring):
    the resident and the dispatchers always, the team once it has accepted, helpers never."""
    if viewer in (Viewer.RESIDENT, Viewer.DISPATCHER):
        return True
    if viewer is Viewer.TEAM:
        return status in (RequestStatus.ACCEPTED, RequestStatus.IN_SERVICE, RequestStatus.COMPLETED)
    return False


def mask_due(request_closed_at: datetime | None, now: datetime) -> bool:
    return request_closed_at is not None and now - request_closed_at >= MASK_AFTER


# ---------------------------------------------------------------------------- dispatch suggestion

CATEGORY_POINTS: Final = 40
CATEGORY_EXTRA_MAX: Final = 10  # +1 per past activity in the category, up to this
DISTRICT_POINTS: Final = 30
LOAD_POINTS: Final = -8  # per request the organization is serving now
LOAD_MAX: Final = -40
ACCEPTANCE_POINTS: Final = 30  # times the (smoothed) share of offers it accepted


class SuggestReason(StrEnum):
    CATEGORY = "category"
    DISTRICT = "district"
    LOAD = "load"
    ACCEPTANCE = "acceptance"


@dataclass(frozen=True)
class OrgCandidate:
    """An approved organization as the suggestion weighs it (figures from storage)."""

    organization_id: int
    name: str
    area_code: str | None
    category_activities: int  # its activities in the request's category, ever
    open_requests: int  # requests it holds now (dispatched, accepted, in service)
    offered: int  # requests ever offered to it
    accepted: int  # … of which it accepted


@dataclass(frozen=True)
class Suggestion:
    candidate: OrgCandidate
    score: int
    reasons: tuple[SuggestReason, ...]
    acceptance_percent: int


def acceptance_share(offered: int, accepted: int) -> float:
    """Past acceptance, smoothed (Laplace): a new organization counts as one half, so one
    early decline does not bury it and one early acceptance does not crown it."""
    return (accepted + 1) / (offered + 2)


def score_organization(candidate: OrgCandidate, area_code: str) -> Suggestion:
    reasons: list[SuggestReason] = []
    total = 0
    if candidate.category_activities > 0:
        total += CATEGORY_POINTS + min(CATEGORY_EXTRA_MAX, candidate.category_activities)
        reasons.append(SuggestReason.CATEGORY)
    if candidate.area_code is not None and candidate.area_code == area_code:
        total += DISTRICT_POINTS
        reasons.append(SuggestReason.DISTRICT)
    if candidate.open_requests > 0:
        total += max(LOAD_MAX, LOAD_POINTS * candidate.open_requests)
        reasons.append(SuggestReason.LOAD)
    share = acceptance_share(candidate.offered, candidate.accepted)
    total += round(ACCEPTANCE_POINTS * share)
    if candidate.offered > 0:
        reasons.append(SuggestReason.ACCEPTANCE)
    return Suggestion(candidate, total, tuple(reasons), round(100 * share))


def suggest_organizations(
    candidates: Iterable[OrgCandidate],
    area_code: str,
    *,
    exclude: frozenset[int] = frozenset(),
    limit: int = 3,
) -> list[Suggestion]:
    """The organizations to send a request to, best first: category served before, same
    district, little load now, a good record of accepting. ``exclude`` holds those that
    already declined it or let it time out. Ties go to the lower id (stable)."""
    scored = [
        score_organization(candidate, area_code)
        for candidate in candidates
        if candidate.organization_id not in exclude
    ]
    scored.sort(key=lambda s: (-s.score, s.candidate.organization_id))
    return scored[:limit]


# ---------------------------------------------------------------------------- the periodic job


class TimeoutAction(StrEnum):
    NONE = "none"
    REMIND = "remind"  # one accept timeout passed: remind the team
    REDISPATCH = "redispatch"  # twice the timeout: to the next best, or back to the queue


def timeout_action(
    request: ServiceRequest, now: datetime, accept_timeout: timedelta
) -> TimeoutAction:
    """What the job does with a request sent to a team that has not accepted it."""
    if request.status is not RequestStatus.DISPATCHED or request.dispatched_at is None:
        return TimeoutAction.NONE
    waited = now - request.dispatched_at
    if waited >= 2 * accept_timeout:
        return TimeoutAction.REDISPATCH
    if waited >= accept_timeout and request.reminded_at is None:
        return TimeoutAction.REMIND
    return TimeoutAction.NONE


def escalation_due(request: ServiceRequest, now: datetime, escalate_after: timedelta) -> bool:
    """An urgent request nobody has accepted within ``escalate_after`` of being ordered goes to
    the federation's administrators, once."""
    return (
        request.urgent
        and request.status in (RequestStatus.QUEUED, RequestStatus.DISPATCHED)
        and request.escalated_at is None
        and now - request.created_at >= escalate_after
    )


# ---------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class RequestTimes:
    """One request's moments, as the numbers need them."""

    area_code: str
    organization_id: int | None
    organization_name: str | None
    status: RequestStatus
    created_at: datetime
    first_dispatched_at: datetime | None
    accepted_at: datetime | None
    dispatched_at: datetime | None
    completed_at: datetime | None
    rating: int | None


@dataclass(frozen=True)
class RequestFigures:
    """Counts and average durations of a group of requests (a centre or a team)."""

    key: str  # the area code, or the organization id as text
    name: str | None  # the organization's name (teams)
    total: int
    completed: int
    open: int
    to_dispatch: timedelta | None  # ordered → first sent to a team
    to_accept: timedelta | None  # last sent → accepted
    to_complete: timedelta | None  # accepted → completed
    rating: float | None
    ratings: int


@dataclass(frozen=True)
class RequestStats:
    """Time to dispatch, to accept, to complete, and satisfaction, per centre (area) and per
    team (organization). Built by :meth:`bot.services.requests.RequestService.stats` for its
    own screen and for ``/stats``."""

    centres: tuple[RequestFigures, ...]
    teams: tuple[RequestFigures, ...]
    overall: RequestFigures


def _average(spans: Sequence[timedelta]) -> timedelta | None:
    if not spans:
        return None
    return timedelta(seconds=round(mean(span.total_seconds() for span in spans)))


def figures(key: str, name: str | None, rows: Sequence[RequestTimes]) -> RequestFigures:
    dispatch = [r.first_dispatched_at - r.created_at for r in rows if r.first_dispatched_at]
    accept = [r.accepted_at - r.dispatched_at for r in rows if r.accepted_at and r.dispatched_at]
    complete = [r.completed_at - r.accepted_at for r in rows if r.completed_at and r.accepted_at]
    rated = [r.rating for r in rows if r.rating is not None]
    return RequestFigures(
        key=key,
        name=name,
        total=len(rows),
        completed=sum(1 for r in rows if r.status is RequestStatus.COMPLETED),
        open=sum(1 for r in rows if not r.status.closed),
        to_dispatch=_average(dispatch),
        to_accept=_average(accept),
        to_complete=_average(complete),
        rating=mean(rated) if rated else None,
        ratings=len(rated),
    )


def request_stats(rows: Sequence[RequestTimes]) -> RequestStats:
    by_area: dict[str, list[RequestTimes]] = {}
    by_team: dict[int, list[RequestTimes]] = {}
    names: dict[int, str | None] = {}
    for row in rows:
        by_area.setdefault(row.area_code, []).append(row)
        if row.organization_id is not None:
            by_team.setdefault(row.organization_id, []).append(row)
            names[row.organization_id] = row.organization_name
    return RequestStats(
        centres=tuple(figures(area, None, group) for area, group in sorted(by_area.items())),
        teams=tuple(figures(str(org), names[org], group) for org, group in sorted(by_team.items())),
        overall=figures("", None, rows),
    )
