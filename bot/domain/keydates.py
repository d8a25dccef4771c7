"""Key dates (重要节点): the days campaigns are built around.

A key date is either fixed in the Gregorian calendar (3·5 学雷锋纪念日, 12·5 国际志愿者日 …) or
a day of the Chinese lunar calendar (春节 正月初一, 中秋 八月十五, 重阳 九月初九), converted with
the ``tyme4py`` library (MIT). The stored rows live in the ``key_dates`` table (migration 0010);
everything here is pure and needs no database.

Two edge rules, so every key date has exactly one day per (lunar) year:

* a fixed 2·29 falls on 2·28 in common years;
* a lunar 30th falls on the month's last day when that month has only 29 days (so 腊月三十
  means 除夕 every year). Leap months (闰月) are never used: 八月十五 is the regular 8th month.

A Gregorian year can hold two occurrences of a late lunar date (腊月 of two lunar years, one in
January and one in December), so :func:`occurrences_between` walks lunar years, and
:func:`occurrence` returns the first occurrence in the given year.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict
from tyme4py.lunar import LunarDay, LunarMonth

__all__ = [
    "BUILTIN_CODES",
    "CODE_PATTERN",
    "KeyDate",
    "is_valid_day",
    "occurrence",
    "occurrences_between",
    "suggest",
    "upcoming",
]

#: Codes travel in callback data and ``activities.key_date``: short ASCII words.
CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,23}")

BUILTIN_CODES = (
    "lei_feng",
    "youth_day",
    "party_day",
    "national_day",
    "intl_volunteer_day",
    "spring_festival",
    "mid_autumn",
    "double_ninth",
)


class KeyDate(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name_zh: str
    name_en: str
    month: int
    day: int
    is_lunar: bool = False
    is_enabled: bool = True
    builtin: bool = False

    def name(self, language: str) -> str:
        """The name in ``zh`` or ``en`` (the table holds both; no catalog lookup)."""
        return self.name_zh if language == "zh" else self.name_en


def is_valid_day(month: int, day: int, *, lunar: bool) -> bool:
    """Whether (month, day) is a day that exists in some year: 2·29 yes, 2·30 no; lunar days
    run to 30 in every month."""
    if not 1 <= month <= 12 or day < 1:
        return False
    if lunar:
        return day <= 30
    return day <= calendar.monthrange(2024, month)[1]  # 2024 is a leap year


def _solar(key_date: KeyDate, year: int) -> date:
    """The Gregorian day of the key date in (Gregorian or lunar) ``year``."""
    if key_date.is_lunar:
        day = min(key_date.day, LunarMonth.from_ym(year, key_date.month).get_day_count())
        solar = LunarDay.from_ymd(year, key_date.month, day).get_solar_day()
        return date(solar.get_year(), solar.get_month(), solar.get_day())
    day = min(key_date.day, calendar.monthrange(year, key_date.month)[1])
    return date(year, key_date.month, day)


def occurrences_between(key_date: KeyDate, start: date, end: date) -> list[date]:
    """Every day of the key date within ``start``..``end`` (both included), in order."""
    if end < start:
        return []
    # A lunar date of lunar year Y falls in Gregorian year Y or Y + 1.
    first_year = start.year - 1 if key_date.is_lunar else start.year
    found: list[date] = []
    for year in range(first_year, end.year + 1):
        day = _solar(key_date, year)
        if start <= day <= end:
            found.append(day)
    return sorted(found)


def occurrence(key_date: KeyDate, year: int) -> date:
    """The key date's (first) day in Gregorian ``year``."""
    found = occurrences_between(key_date, date(year, 1, 1), date(year, 12, 31))
    if not found:  # pragma: no cover - every month/day pair occurs each year (rules above)
        raise ValueError(f"{key_date.code} does not occur in {year}")
    return found[0]


def upcoming(key_dates: Iterable[KeyDate], start: date, end: date) -> list[tuple[KeyDate, date]]:
    """Enabled key dates falling within ``start``..``end`` (both included), soonest first."""
    found = [
        (key_date, day)
        for key_date in key_dates
        if key_date.is_enabled
        for day in occurrences_between(key_date, start, end)
    ]
    return sorted(found, key=lambda pair: (pair[1], pair[0].code))


def suggest(key_dates: Iterable[KeyDate], day: date, window_days: int = 7) -> KeyDate | None:
    """The enabled key date nearest to ``day`` within ``window_days`` either side (for tagging
    a new activity); on a tie the earlier one. ``None`` when none is that near."""
    window = timedelta(days=window_days)
    best: tuple[int, date, KeyDate] | None = None
    for key_date, when in upcoming(key_dates, day - window, day + window):
        candidate = (abs((when - day).days), when, key_date)
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    return best[2] if best is not None else None


@dataclass(frozen=True)
class KeyDateDraft:
    """What an administrator has typed so far (``code`` is ``None`` for a new key date)."""

    telegram_id: int
    code: str | None
    field: str
    name_zh: str | None
    name_en: str | None
    updated_at: datetime
