"""Service hours from check-in and check-out: clipping, rounding and the daily maximum.

Hours are whole minutes everywhere (never floats); a rule turns the minutes served into the
minutes credited. The organizer reviews them before they become records
(:mod:`bot.services.service_records`).

* **Clipped to the schedule**: time before the start or after the end does not count, unless
  the organizer extended the end (``credit_until``) — coming early to chat is not service.
* **Missing times**: a volunteer marked present by hand has no times: the scheduled length is
  credited (as Engelsystem credits the shift). Checked in but never out: credited to the end.
* **Rounding** (setting ``HOURS_ROUNDING``):
    - ``half_hour`` (default): completed half hours, so 1 h 29 min counts 1 h;
    - ``shancheng`` (志愿山城): per started hour, the remainder ≤ 15 min → 0, 15–45 min → ½ h,
      over 45 min → 1 h;
    - ``minute``: exact minutes.
* **Daily maximum** (setting ``MAX_HOURS_PER_DAY``): per calendar day the activity spans.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

MAX_RECORD_MINUTES = 1440  # the CHECK of service_records.minutes


class RoundingRule(StrEnum):
    HALF_HOUR = "half_hour"
    SHANCHENG = "shancheng"
    MINUTE = "minute"

    def apply(self, minutes: int) -> int:
        if minutes <= 0:
            return 0
        if self is RoundingRule.MINUTE:
            return minutes
        if self is RoundingRule.HALF_HOUR:
            return minutes // 30 * 30
        whole, rest = divmod(minutes, 60)
        if rest <= 15:
            part = 0
        elif rest <= 45:
            part = 30
        else:
            part = 60
        return whole * 60 + part


class AttendanceMark(StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    EXCUSED = "excused"

    @property
    def served(self) -> bool:
        return self in (AttendanceMark.PRESENT, AttendanceMark.LATE)


#: A check-in this long after the time someone was expected counts as late.
LATE_GRACE = timedelta(minutes=15)


@dataclass(frozen=True)
class Arrival:
    """Whom a check-in was expecting, and by when.

    A volunteer who signed up is expected at the start. One who answered a mobilization's alert
    with "coming" is expected at their answer plus the ETA they chose (a mobilization "starts"
    when it is raised, before anyone could be there), and is not a walk-in: they answered the
    call rather than signing up. Someone who comes to a mobilization without answering was given
    no time, so is never late.
    """

    signed_up: bool = False
    mobilization: bool = False
    promised_at: datetime | None = None  # answered "coming" at + their ETA

    @property
    def walk_in(self) -> bool:
        return not self.signed_up and self.promised_at is None

    def late(self, now: datetime, starts_at: datetime) -> bool:
        if self.promised_at is not None and not self.signed_up:
            return now > self.promised_at + LATE_GRACE
        if self.mobilization:
            return False
        return now > starts_at + LATE_GRACE


@dataclass(frozen=True)
class Schedule:
    starts_at: datetime
    ends_at: datetime
    credit_until: datetime | None = None

    @property
    def credited_end(self) -> datetime:
        if self.credit_until is not None and self.credit_until > self.ends_at:
            return self.credit_until
        return self.ends_at


def days_spanned(start: datetime, end: datetime, tz: ZoneInfo) -> int:
    first: date = start.astimezone(tz).date()
    last: date = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return max(1, (last - first).days + 1)


def credited_minutes(
    schedule: Schedule,
    checked_in_at: datetime | None,
    checked_out_at: datetime | None,
    *,
    rule: RoundingRule,
    max_minutes_per_day: int,
    tz: ZoneInfo,
) -> int:
    """The minutes a present volunteer is credited (before any hand edit)."""
    start = schedule.starts_at if checked_in_at is None else max(checked_in_at, schedule.starts_at)
    end_limit = schedule.credited_end
    end = end_limit if checked_out_at is None else min(checked_out_at, end_limit)
    served = max(0, int((end - start).total_seconds()) // 60)
    cap = max_minutes_per_day * days_spanned(schedule.starts_at, end_limit, tz)
    return min(rule.apply(served), cap, MAX_RECORD_MINUTES)


def format_hours(minutes: int) -> str:
    """``3.5`` / ``2`` — hours as people write them (one decimal, no trailing ``.0``)."""
    hours = minutes / 60
    text = f"{hours:.1f}" if minutes % 60 else str(minutes // 60)
    return text.removesuffix(".0")


class HoursInputError(ValueError):
    """A typed number of hours that cannot be used (not a number, negative, too many)."""


def parse_hours(text: str, *, max_minutes: int = MAX_RECORD_MINUTES) -> int:
    """``3`` / ``3.5`` / ``3,5`` / ``3.5h`` / ``3.5小时`` → minutes (to the minute)."""
    cleaned = unicodedata.normalize("NFKC", text).strip().lower()
    for suffix in ("小时", "个小时", "hours", "hour", "hrs", "h"):
        cleaned = cleaned.removesuffix(suffix).strip()
    cleaned = cleaned.replace(",", ".").replace("，", ".").replace("。", ".")
    try:
        hours = float(cleaned)
    except ValueError as error:
        raise HoursInputError(text) from error
    if not math.isfinite(hours) or hours < 0:
        raise HoursInputError(text)
    minutes = round(hours * 60)
    if minutes > max_minutes:
        raise HoursInputError(text)
    return minutes


_CLOCK = re.compile(r"^\s*(\d{1,2})\s*[:：.]\s*(\d{2})\s*$")
_CHINESE_CLOCK = re.compile(r"^\s*(\d{1,2})\s*[点點时]\s*(半|(\d{1,2})\s*分?)?\s*$")


def parse_clock(text: str) -> time | None:
    """``12:30`` / ``12：30`` / ``12.30`` / ``12点半`` / ``12点15分`` → a time of day."""
    hour: int
    minute: int
    text = unicodedata.normalize("NFKC", text)
    if match := _CLOCK.match(text):
        hour, minute = int(match.group(1)), int(match.group(2))
    elif match := _CHINESE_CLOCK.match(text):
        hour = int(match.group(1))
        minute = 30 if match.group(2) == "半" else int(match.group(3) or 0)
    else:
        return None
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)
