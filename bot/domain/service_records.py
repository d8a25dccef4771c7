"""Service records (民政部令第67号): the models of check-in, attendance, review and records.

Who came is an :class:`AttendanceEntry` (made by a check-in, a hand mark or a walk-in); the
organizer reviews the :class:`ReviewLine` of everyone signed up or present, then confirms, and
each line with credited minutes becomes a :class:`ServiceRecord` — the Art. 7 fields copied from
the activity, so a later edit of the activity does not rewrite history. Records then change only
through a :class:`Correction` (Art. 12–13).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.domain.checkin import CheckMethod, CheckMode
from bot.domain.hours import AttendanceMark, Schedule
from bot.domain.refusals import Refused


class RecordsRefusal(StrEnum):
    NOT_VOLUNTEER = "not_volunteer"  # no volunteer profile: register first
    WINDOW_NOT_OPEN = "window_not_open"  # check-in opens later
    WINDOW_CLOSED = "window_closed"  # check-in closed
    NO_CHECKIN = "no_checkin"  # the organizer is not showing a code (for this mode)
    EXPIRED_CODE = "expired_code"  # an old (forwarded) code or link
    WRONG_CODE = "wrong_code"  # no activity shows this code now
    NOT_CHECKED_IN = "not_checked_in"  # checking out without having checked in
    ALREADY_CONFIRMED = "already_confirmed"  # hours confirmed: corrections only
    NOT_STARTED = "not_started"  # hours of an activity that has not begun
    NOT_RECORDED = "not_recorded"  # not volunteer service (Art. 19)
    CHANGED = "changed"  # the list changed since it was shown: look again
    NOT_YOURS = "not_yours"  # a record or correction of someone else
    PENDING = "pending"  # a correction is already waiting
    DECIDED = "decided"  # the correction was decided already
    SAME_HOURS = "same_hours"  # a correction that changes nothing
    NO_SUCH_VOLUNTEER = "no_such_volunteer"  # walk-in: nobody registered with that number
    CANCELLED = "cancelled"  # the activity was cancelled


class RecordsRefused(Refused):
    def __init__(self, reason: RecordsRefusal, *, when: datetime | None = None) -> None:
        super().__init__(reason)
        self.reason: RecordsRefusal = reason
        self.when = when  # e.g. when check-in opens


class RecordKind(StrEnum):
    SERVICE = "service"
    TRAINING = "training"


class CorrectionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RecordingActivity:
    """What recording needs to know of an activity (read in one query)."""

    activity_id: int
    organization_id: int
    organization_name: str
    title: str
    category_code: str
    description: str
    place: str
    leader_name: str | None
    starts_at: datetime
    ends_at: datetime
    credit_until: datetime | None
    latitude: float | None
    longitude: float | None
    cancelled: bool
    is_volunteering: bool
    hours_confirmed_at: datetime | None
    grants_qualification_id: int | None
    confirmed_count: int

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.starts_at, self.ends_at, self.credit_until)

    @property
    def kind(self) -> RecordKind:
        return (
            RecordKind.TRAINING if self.grants_qualification_id is not None else RecordKind.SERVICE
        )


@dataclass(frozen=True)
class CheckinDisplay:
    activity_id: int
    mode: CheckMode
    secret: str
    chat_id: int | None
    message_id: int | None
    shown_step: int | None
    closed_at: datetime | None


@dataclass(frozen=True)
class AttendanceEntry:
    """One person on the attendance list: signed up, and/or marked or checked in."""

    volunteer_id: int
    telegram_id: int | None
    name: str | None
    phone: str | None
    signed_up: bool
    mark: AttendanceMark | None  # None: no attendance row (not checked in, not marked)
    walk_in: bool
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    in_method: CheckMethod | None
    out_method: CheckMethod | None
    distance_m: int | None
    minutes_override: int | None
    override_reason: str | None


@dataclass(frozen=True)
class ReviewLine:
    entry: AttendanceEntry
    computed_minutes: int  # from times and the rules (0 when not served)

    @property
    def minutes(self) -> int:
        if self.entry.minutes_override is not None:
            return self.entry.minutes_override
        return self.computed_minutes

    @property
    def no_show(self) -> bool:
        return self.entry.signed_up and self.entry.mark in (None, AttendanceMark.ABSENT)


def review_stamp(lines: Iterable[ReviewLine]) -> int:
    """A fingerprint of what the review screen showed (who, mark, minutes): "Confirm" carries
    it, so confirming after someone else changed the list is refused instead of recording
    hours the organizer did not see."""
    text = ";".join(f"{line.entry.volunteer_id}:{line.entry.mark}:{line.minutes}" for line in lines)
    return zlib.crc32(text.encode()) & 0x7FFFFFFF


@dataclass(frozen=True)
class ServiceRecord:
    record_id: int
    volunteer_id: int
    activity_id: int | None
    organization_id: int | None
    kind: RecordKind
    activity_title: str
    service_date: date
    place: str
    category_code: str | None
    content: str
    organization_name: str
    leader_name: str | None
    minutes: int
    recorded_at: datetime
    pending_correction: bool = False


@dataclass(frozen=True)
class HoursSummary:
    total_minutes: int
    year_minutes: int
    records: int


@dataclass(frozen=True)
class Correction:
    correction_id: int
    record_id: int
    requested_by: int | None
    reason: str
    old_minutes: int
    proposed_minutes: int
    status: CorrectionStatus
    decided_by: int | None
    decided_at: datetime | None
    decision_reason: str | None
    created_at: datetime
    activity_title: str
    service_date: date
    organization_id: int | None
    volunteer_name: str | None


@dataclass(frozen=True)
class ConfirmReport:
    activity_id: int
    records: int
    total_minutes: int
    no_shows: int
    qualifications_granted: int


@dataclass(frozen=True)
class AttendanceChange:
    """One line of the audit trail: who changed what, when and why."""

    changed_at: datetime
    action: str
    volunteer_name: str | None
    changed_by_name: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None
