"""China's working days: weekends off, official holidays off, make-up workdays (调休) on.

民政部令第67号 Art. 11 asks for service records within 10 *working* days after an activity, and
China moves workdays around its holidays: the Saturday before 春节 or after 国庆 is often a
workday and the Monday inside a holiday is not, so "Mon–Fri" is wrong several weeks a year. The
State Council publishes each year's arrangement in the autumn before; the table of overrides
(``calendar_days``) is seeded from a maintained package and edited by administrators, and this
module only computes with it.

Counting: the first working day *after* the activity's local end date is working day 1, so an
activity that ends on a Friday before a make-up Saturday is on day 1 that Saturday. A day that is
not a working day (a weekend, a holiday) has the number of the working day before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from bot.domain.validation import InvalidInput, clean_free_text
from bot.i18n import N_

__all__ = [
    "MAX_DAY_NAME_LENGTH",
    "MAX_YEAR",
    "MIN_YEAR",
    "CalendarDay",
    "DayKind",
    "DayOverride",
    "DaySource",
    "WorkdayCalendar",
    "latest_due_day",
    "parse_override",
]

MIN_YEAR: Final = 2000
MAX_YEAR: Final = 2099
MAX_DAY_NAME_LENGTH: Final = 20
#: The longest walk over days any computation makes (a guard against a wild date).
_MAX_SPAN_DAYS: Final = 3 * 366


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # off although it may be a weekday (法定节假日)
    WORKDAY = "workday"  # on although it may be a weekend (调休上班)


class DaySource(StrEnum):
    PACKAGE = "package"  # seeded from the maintained source at start-up
    ADMIN = "admin"  # typed by an administrator; seeding never overwrites it


@dataclass(frozen=True)
class DayOverride:
    """What an administrator typed: one day, holiday or workday, and its name."""

    day: date
    kind: DayKind
    name: str


@dataclass(frozen=True)
class CalendarDay:
    """A stored override (a row of ``calendar_days``)."""

    day: date
    kind: DayKind
    name: str
    source: DaySource = DaySource.PACKAGE
    updated_by: int | None = None
    updated_at: datetime | None = None


class WorkdayCalendar:
    """Weekends and the overrides. Pure and cheap: build one per job run or per screen."""

    def __init__(self, days: Iterable[CalendarDay] = ()) -> None:
        self._kinds: dict[date, DayKind] = {}
        self._years: set[int] = set()
        for day in days:
            self._kinds[day.day] = day.kind
            self._years.add(day.day.year)

    def covers(self, year: int) -> bool:
        """Whether the table has data for ``year`` (every year has holidays, so a year with no
        override is one nobody has entered yet, not a year without holidays)."""
        return year in self._years

    @property
    def years(self) -> list[int]:
        return sorted(self._years)

    def is_workday(self, day: date) -> bool:
        kind = self._kinds.get(day)
        if kind is not None:
            return kind is DayKind.WORKDAY
        return day.weekday() < 5

    def working_day_number(self, end_date: date, today: date) -> int:
        """How many working days have passed since ``end_date``: the working days ``d`` with
        ``end_date < d <= today`` (0 on the end date itself and before it)."""
        if today <= end_date:
            return 0
        span = min((today - end_date).days, _MAX_SPAN_DAYS)
        return sum(
            1 for offset in range(1, span + 1) if self.is_workday(end_date + timedelta(offset))
        )

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``n`` ≥ 1): the deadline of an activity that
        ended on ``day`` is ``nth_working_day_after(day, 10)``."""
        if n < 1:
            raise ValueError("n counts from 1")
        found, current = 0, day
        for _ in range(_MAX_SPAN_DAYS):
            current += timedelta(days=1)
            if self.is_workday(current):
                found += 1
                if found == n:
                    return current
        raise ValueError(f"no {n} working days within {_MAX_SPAN_DAYS} days of {day}")

    def first_end_date_within(self, today: date, n: int) -> date:
        """The earliest end date whose working-day number today is still at most ``n``: an
        activity that ended before it is past working day ``n``."""
        passed, end = 0, today
        for _ in range(_MAX_SPAN_DAYS):
            # Moving the end date one day back adds that day, if it is a working day.
            if self.is_workday(end):
                if passed == n:
                    return end
                passed += 1
            end -= timedelta(days=1)
        return end


def latest_due_day(number: int, reminder_days: Iterable[int], deadline_days: int) -> int | None:
    """The reminder due at working day ``number``: the latest reminder day already reached, as
    long as the deadline has not passed. A reminder missed while the bot was down is therefore
    sent once, late, and an older one it supersedes never."""
    if number > deadline_days:
        return None
    reached = [day for day in reminder_days if day <= number]
    return max(reached) if reached else None


# ------------------------------------------------------------------------------ typed input

OVERRIDE_NOT_UNDERSTOOD: Final = N_(
    "Please type a date, then 上班 / workday or 休 / holiday, then a name, for example "
    "2027-02-06 上班 春节调休 or 2027-10-01 holiday National Day."
)
OVERRIDE_NO_SUCH_DAY: Final = N_("{text} is not a day of the calendar. Please check the date.")
# TRANSLATORS: {min} and {max} are years.
OVERRIDE_YEAR_RANGE: Final = N_("Please give a year from {min} to {max}.")
OVERRIDE_UNKNOWN_KIND: Final = N_(
    "“{word}” is neither a workday nor a holiday. Type 上班 or workday, 休 or holiday."
)

_OVERRIDE = re.compile(
    r"^(?P<year>\d{4})\s*(?:[-./]|年)\s*(?P<month>\d{1,2})\s*(?:[-./]|月)\s*(?P<day>\d{1,2})"
    r"\s*日?(?:\s+|(?=[^\x00-\x7f]))(?P<kind>\S+?)(?:\s+(?P<name>.*))?$"
)
_WORKDAY_WORDS = frozenset({"上班", "班", "工作日", "调休上班", "workday", "work", "working"})
_HOLIDAY_WORDS = frozenset({"休", "休息", "放假", "假", "节假日", "holiday", "off", "rest"})


def parse_override(text: str) -> DayOverride:
    """``2027-02-06 上班 春节调休`` / ``2027-10-01 holiday National Day`` → a day override.

    The name is optional (``2027-10-08 休``). Raises :class:`InvalidInput` with a message id.
    """
    cleaned = clean_free_text(text, min_length=1, max_length=80)
    found = _OVERRIDE.match(cleaned)
    if found is None:
        raise InvalidInput(OVERRIDE_NOT_UNDERSTOOD)
    year, month, number = (int(found.group(part)) for part in ("year", "month", "day"))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(OVERRIDE_YEAR_RANGE, {"min": MIN_YEAR, "max": MAX_YEAR})
    try:
        day = date(year, month, number)
    except ValueError:
        raise InvalidInput(
            OVERRIDE_NO_SUCH_DAY, {"text": f"{year}-{month:02d}-{number:02d}"}
        ) from None
    word = found.group("kind").lower()
    if word in _WORKDAY_WORDS:
        kind = DayKind.WORKDAY
    elif word in _HOLIDAY_WORDS:
        kind = DayKind.HOLIDAY
    else:
        raise InvalidInput(OVERRIDE_UNKNOWN_KIND, {"word": found.group("kind")[:12]})
    raw_name = found.group("name") or ""
    name = (
        clean_free_text(raw_name, min_length=1, max_length=MAX_DAY_NAME_LENGTH)
        if raw_name.strip()
        else ""
    )
    return DayOverride(day, kind, name)
