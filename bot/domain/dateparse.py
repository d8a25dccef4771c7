"""Reading an activity's date and time as organizers type it (no Telegram, no clock, no I/O).

Organizers write times the way they would in a WeChat group, so both scripts are accepted,
whatever the user's language (full-width digits and punctuation are folded first)::

    2026-12-05 09:00            2026-12-05 09:00-11:30      2026/12/5 9:00
    12/5 9:00-11:30             12-05 9:00                  Dec 5 9am-11:30am
    12月5日 上午9点              12月5日 下午2点半-4点          12月5日 14:00至16:30
    明天 9:00                   后天 下午3点                  tomorrow 9am
    12月5日 9:00 - 12月6日 17:00 (several days)

Numeric dates are month first (``12/5`` is 5 December), as in both Chinese and US usage; a
missing year means the next occurrence (today included). The time is wall-clock time in the
deployment's zone (``tz``); the result is UTC. :func:`parse_when` returns the start and, when
one was typed, the end; :func:`parse_end` reads an end typed on its own ("11:30" on the start's
day, or a full date and time). Every failure is a :class:`WhenError` (never an exception), which
:func:`when_invalid` turns into the localized :class:`~bot.domain.validation.InvalidInput` the
handlers show.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Final

from bot.domain.validation import InvalidInput
from bot.i18n import N_

__all__ = [
    "MAX_DURATION",
    "ParsedWhen",
    "WhenError",
    "check_range",
    "parse_end",
    "parse_when",
    "wall_time",
    "when_invalid",
]

MAX_DURATION: Final = timedelta(days=7)
MAX_TEXT: Final = 80  # longer input is not a date; refuse before running any pattern


class WhenError(StrEnum):
    UNPARSEABLE = "unparseable"
    MISSING_TIME = "missing_time"  # a date without a time of day
    IMPOSSIBLE_DATE = "impossible_date"  # 2月30日, 13/1
    IMPOSSIBLE_TIME = "impossible_time"  # 25:00, 9:75
    IN_THE_PAST = "in_the_past"
    END_BEFORE_START = "end_before_start"
    TOO_LONG = "too_long"  # more than MAX_DURATION


MESSAGES: dict[WhenError, str] = {
    WhenError.UNPARSEABLE: N_(
        "I could not read that date and time. Please type it like 2026-12-05 09:00-11:30, "
        "12/5 9:00-11:30 or 12月5日 下午2点-4点."
    ),
    WhenError.MISSING_TIME: N_("Please add the time of day, for example 12/5 9:00-11:30."),
    WhenError.IMPOSSIBLE_DATE: N_("That date does not exist. Please check the month and the day."),
    WhenError.IMPOSSIBLE_TIME: N_(
        "That time does not exist: hours go from 0 to 23 and minutes from 0 to 59."
    ),
    WhenError.IN_THE_PAST: N_("That time has already passed. Please choose a time in the future."),
    WhenError.END_BEFORE_START: N_("The end must be after the start. Please check both times."),
    WhenError.TOO_LONG: N_("An activity can last at most 7 days. Please check the dates."),
}


def when_invalid(error: WhenError) -> InvalidInput:
    """The localized error for a handler (``error.translate(t.gettext)``)."""
    return InvalidInput(MESSAGES[error])


@dataclass(frozen=True)
class ParsedWhen:
    starts_at: datetime  # aware, UTC
    ends_at: datetime | None  # aware, UTC; None when only a start was typed


# ------------------------------------------------------------------------------------ patterns

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))

_RELATIVE = {
    "今天": 0,
    "今日": 0,
    "明天": 1,
    "明日": 1,
    "后天": 2,
    "後天": 2,
    "today": 0,
    "tomorrow": 1,
    "day after tomorrow": 2,
}
_RELATIVE_NAMES = "|".join(sorted((re.escape(k) for k in _RELATIVE), key=len, reverse=True))

_DATE = re.compile(
    rf"""
    (?:(?P<y>\d{{4}})\s*[-/.年]\s*(?P<ym>\d{{1,2}})\s*[-/.月]\s*(?P<yd>\d{{1,2}})\s*[日号]?
      |(?P<m>\d{{1,2}})\s*(?:[/]|月|-(?=\d{{1,2}}\b))\s*(?P<d>\d{{1,2}})\s*[日号]?
      |(?P<mn>{_MONTH_NAMES})\.?\s+(?P<mnd>\d{{1,2}})(?:st|nd|rd|th)?,?
      |(?P<rel>{_RELATIVE_NAMES})
    )""",
    re.VERBOSE,
)

_PERIODS = "上午|早上|早晨|中午|下午|傍晚|晚上|凌晨|am|pm|a\\.m\\.|p\\.m\\."
_TIME = re.compile(
    rf"""
    (?P<p1>{_PERIODS})?\s*
    (?P<h>\d{{1,2}})
    (?:
        \s*[:：.]\s*(?P<min>\d{{2}})
      | \s*[点點时時]\s*(?:(?P<half>半)|(?P<cmin>\d{{1,2}})\s*分?)?
    )?
    \s*(?P<p2>am|pm|a\.m\.|p\.m\.)?
    """,
    re.VERBOSE,
)
_RANGE_SEPARATOR = re.compile(r"\s*(?:-|~|至|到|to|until)\s*")
_TIME_WORDS = re.compile(r"[点點时時:]|am|pm|a\.m\.|p\.m\.|上午|早上|早晨|中午|下午|傍晚|晚上|凌晨")

_FOLD = str.maketrans({"–": "-", "—": "-", "－": "-", "～": "~", "〜": "~", "，": ",", "、": " "})


def _normalize(text: str) -> str:
    # NFKC folds full-width digits and "：" (common on Chinese keyboards) to ASCII.
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD).lower()
    return re.sub(r"\s+", " ", folded).strip()


# ------------------------------------------------------------------------------------- parsing


class _Failed(Exception):
    def __init__(self, error: WhenError) -> None:
        super().__init__(error.value)
        self.error = error


@dataclass(frozen=True)
class _Time:
    hour: int
    minute: int
    period: str | None  # "am" / "pm" / "noon" when one was written

    def resolve(self, inherited: str | None = None) -> time:
        period = self.period or inherited
        hour = self.hour
        if hour > 23 or self.minute > 59:
            raise _Failed(WhenError.IMPOSSIBLE_TIME)
        # 中午1点 is 13:00, 中午12点 is noon.
        if (period == "pm" and hour < 12) or (period == "noon" and hour < 11):
            hour += 12
        elif period == "am" and hour == 12:  # 12am is midnight
            hour = 0
        return time(hour, self.minute)


def _period(word: str | None) -> str | None:
    if word is None:
        return None
    if word in ("下午", "傍晚", "晚上", "pm", "p.m."):
        return "pm"
    if word == "中午":
        return "noon"
    return "am"


def _match_time(text: str, pos: int, *, bare_ok: bool) -> tuple[_Time, int] | None:
    """A time of day at ``pos``. A bare number ("9") counts only when ``bare_ok`` (after a
    range separator whose start was a time), so "12/5" is never read as hours."""
    found = _TIME.match(text, pos)
    if found is None:
        return None
    has_marker = any(found.group(g) for g in ("p1", "p2", "min", "half", "cmin")) or bool(
        re.search(r"[点點时時]", found.group(0))
    )
    if not has_marker and not bare_ok:
        return None
    if found.group("min") is not None:
        minute = int(found.group("min"))
    elif found.group("half"):
        minute = 30
    elif found.group("cmin") is not None:
        minute = int(found.group("cmin"))
    else:
        minute = 0
    period = _period(found.group("p2") or found.group("p1"))
    return _Time(int(found.group("h")), minute, period), found.end()


def _valid_date(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise _Failed(WhenError.IMPOSSIBLE_DATE)
    try:
        return date(year, month, day)
    except ValueError:
        raise _Failed(WhenError.IMPOSSIBLE_DATE) from None


def _infer_year(month: int, day: int, today: date) -> date:
    """The next occurrence of month/day, today included (29 February: the next leap year)."""
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise _Failed(WhenError.IMPOSSIBLE_DATE)
    for year in range(today.year, today.year + 5):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise _Failed(WhenError.IMPOSSIBLE_DATE)


def _match_date(text: str, pos: int, today: date) -> tuple[date, int] | None:
    found = _DATE.match(text, pos)
    if found is None:
        return None
    if found.group("y"):
        day = _valid_date(int(found.group("y")), int(found.group("ym")), int(found.group("yd")))
    elif found.group("m"):
        day = _infer_year(int(found.group("m")), int(found.group("d")), today)
    elif found.group("mn"):
        day = _infer_year(_MONTHS[found.group("mn")], int(found.group("mnd")), today)
    else:
        day = today + timedelta(days=_RELATIVE[found.group("rel")])
    return day, found.end()


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " ,":
        pos += 1
    return pos


def wall_time(day: date, moment: time, tz: tzinfo) -> datetime:
    """A wall-clock day and time in ``tz`` as an aware UTC datetime."""
    # zoneinfo picks the first of an ambiguous wall time (fold=0); Asia/Shanghai has no DST.
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


def _parse(text: str, now: datetime, tz: tzinfo) -> ParsedWhen:
    cleaned = _normalize(text)
    if not cleaned or len(cleaned) > MAX_TEXT:
        raise _Failed(WhenError.UNPARSEABLE)
    today = now.astimezone(tz).date()
    dated = _match_date(cleaned, 0, today)
    if dated is None:
        raise _Failed(WhenError.UNPARSEABLE)
    start_day, pos = dated
    pos = _skip(cleaned, pos)
    if pos == len(cleaned):
        raise _Failed(WhenError.MISSING_TIME)
    timed = _match_time(cleaned, pos, bare_ok=False)
    if timed is None:
        raise _Failed(
            WhenError.UNPARSEABLE
            if _TIME_WORDS.search(cleaned, pos) is None
            else WhenError.IMPOSSIBLE_TIME
        )
    start_time, pos = timed
    start_clock = start_time.resolve()
    starts_at = wall_time(start_day, start_clock, tz)
    pos = _skip(cleaned, pos)
    if pos == len(cleaned):
        return ParsedWhen(starts_at, None)
    separator = _RANGE_SEPARATOR.match(cleaned, pos)
    if separator is None:
        raise _Failed(WhenError.UNPARSEABLE)
    pos = separator.end()
    end_day = start_day
    end_dated = _match_date(cleaned, pos, start_day)
    if end_dated is not None:
        end_day, pos = end_dated
        pos = _skip(cleaned, pos)
    end_timed = _match_time(cleaned, pos, bare_ok=True)
    if end_timed is None:
        raise _Failed(WhenError.UNPARSEABLE)
    end_time, pos = end_timed
    if _skip(cleaned, pos) != len(cleaned):
        raise _Failed(WhenError.UNPARSEABLE)
    # "下午2点半-4点": the end takes the start's 下午 unless it names its own period.
    inherited = start_time.period if end_dated is None else None
    ends_at = wall_time(end_day, end_time.resolve(inherited), tz)
    return ParsedWhen(starts_at, ends_at)


def check_range(starts_at: datetime, ends_at: datetime | None, now: datetime) -> WhenError | None:
    """The rules every activity time follows: in the future, end after start, ≤ 7 days."""
    if starts_at <= now:
        return WhenError.IN_THE_PAST
    if ends_at is not None:
        if ends_at <= starts_at:
            return WhenError.END_BEFORE_START
        if ends_at - starts_at > MAX_DURATION:
            return WhenError.TOO_LONG
    return None


def parse_when(
    text: str, now: datetime, tz: tzinfo, language: str = "zh"
) -> ParsedWhen | WhenError:
    """A typed start (and optional end) in ``tz``, checked against ``now``.

    ``language`` is accepted for symmetry with the rest of the domain: both scripts are read
    whatever it is, since organizers often type Chinese dates in an English interface.
    """
    del language  # both scripts are always understood (see the docstring)
    try:
        parsed = _parse(text, now, tz)
    except _Failed as failure:
        return failure.error
    error = check_range(parsed.starts_at, parsed.ends_at, now)
    return error if error is not None else parsed


def parse_end(
    text: str, starts_at: datetime, now: datetime, tz: tzinfo, language: str = "zh"
) -> datetime | WhenError:
    """An end typed on its own: a time on the start's day ("11:30", "下午4点"), or a full date
    and time ("12/6 17:00"). An end that is not after the start is refused, never moved to the
    next day by guessing."""
    cleaned = _normalize(text)
    if not cleaned or len(cleaned) > MAX_TEXT:
        return WhenError.UNPARSEABLE
    try:
        timed = _match_time(cleaned, 0, bare_ok=False)
        if timed is not None and _skip(cleaned, timed[1]) == len(cleaned):
            local_start = starts_at.astimezone(tz)
            ends_at = wall_time(local_start.date(), timed[0].resolve(), tz)
        else:
            parsed = parse_when(cleaned, now, tz, language)
            if isinstance(parsed, WhenError):
                return parsed
            if parsed.ends_at is not None:
                return WhenError.UNPARSEABLE
            ends_at = parsed.starts_at
    except _Failed as failure:
        return failure.error
    error = check_range(starts_at, ends_at, now)
    return error if error is not None else ends_at


def parse_day(text: str, today: date, *, latest: bool = False) -> date | WhenError:
    """A day typed on its own: ``2026-12-05``, ``12/5``, ``12月5日``, ``Dec 5``, ``today``.

    Without a year the next occurrence is meant (today included), as for an activity; with
    ``latest`` the latest occurrence on or before today instead, for days that have already
    been (an award's date is entered after it was given). Only ``UNPARSEABLE`` and
    ``IMPOSSIBLE_DATE`` are returned; whether the day may be in the future is the caller's rule.
    """
    cleaned = _normalize(text)
    if not cleaned or len(cleaned) > MAX_TEXT:
        return WhenError.UNPARSEABLE
    found = _DATE.fullmatch(cleaned)
    if found is None:
        return WhenError.UNPARSEABLE
    try:
        if found.group("y"):
            return _valid_date(
                int(found.group("y")), int(found.group("ym")), int(found.group("yd"))
            )
        if found.group("rel"):
            return today + timedelta(days=_RELATIVE[found.group("rel")])
        month = int(found.group("m")) if found.group("m") else _MONTHS[found.group("mn")]
        day = int(found.group("d") or found.group("mnd"))
        if not latest:
            return _infer_year(month, day, today)
        _valid_date(2000, month, day)  # 2000 is a leap year: only impossible days fail here
        for year in range(today.year, today.year - 5, -1):
            try:
                candidate = date(year, month, day)
            except ValueError:  # 29 February of a common year
                continue
            if candidate <= today:
                return candidate
    except _Failed as failure:
        return failure.error
    return WhenError.IMPOSSIBLE_DATE
