"""The statistics table (活动开展情况统计表, seed ``002``), its figures and campaign periods (no
Telegram, no I/O).

The form the Zhaoqing 3·5 notice asks every unit to fill in each Friday of the action month has,
per activity: 序号, 活动名称（含主办单位）, 参与志愿者人次, 参与志愿服务组织数量, 覆盖人群 (类型 and
服务人次), 累计志愿服务时数 and 投入资金及物料（元）, with a 合计 row; and a media table: 活动名称,
纸媒报道数, 网站报道数, 网页或微信链接, 阅读数, 合计. Hours and 人次 come from confirmed service
records; the rest is what organizers record after the activity (:class:`ActivityFigures`).

Money is whole fen (分) everywhere; :func:`parse_yuan` reads what people type (``1200``,
``1,200.50``, ``1200元``, ``￥1200``) and :func:`yuan_text` shows it back.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from bot.domain.activities import PeopleServed
from bot.domain.validation import InvalidInput
from bot.i18n import N_

__all__ = [
    "MAX_FEN",
    "MAX_ORGANIZATIONS",
    "MAX_READS",
    "MAX_SERVED",
    "ActivityFigures",
    "Breakdown",
    "CampaignPeriod",
    "ChartKind",
    "MediaKind",
    "MediaReport",
    "MediaRow",
    "PeriodKind",
    "PeriodSpan",
    "ScopeKind",
    "StatRow",
    "StatTable",
    "Stats",
    "months_back",
    "parse_count",
    "parse_link",
    "parse_period_range",
    "parse_yuan",
    "period_on",
    "yuan_text",
]

MAX_FEN: Final = 100_000_000_000  # 10 亿元: more is a typing mistake
MAX_SERVED: Final = 10_000_000
MAX_READS: Final = 1_000_000_000
MAX_ORGANIZATIONS: Final = 1000
MAX_LINK_LENGTH: Final = 500
MAX_MEDIA_PER_ACTIVITY: Final = 50


class MediaKind(StrEnum):
    PAPER = "paper"  # 纸媒
    WEB = "web"  # 网站
    WECHAT = "wechat"  # 微信公众号
    VIDEO = "video"  # 视频号、抖音 …
    OTHER = "other"

    @property
    def is_paper(self) -> bool:
        """The form counts 纸媒 apart; every other kind counts as 网站报道 (online)."""
        return self is MediaKind.PAPER


class ScopeKind(StrEnum):
    ORGANIZATION = "o"
    AREA = "a"
    ALL = "all"


class PeriodKind(StrEnum):
    CAMPAIGN = "c"  # the campaign period today is in (or the latest one this year)
    MONTH = "m"  # this calendar month
    YEAR = "y"  # this calendar year


@dataclass(frozen=True)
class PeriodSpan:
    """Local days ``start``..``end`` (both included) and, for a campaign, its key date."""

    start: date
    end: date
    key_date_code: str | None = None
    key_day: date | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a period ends on or after its start")

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class CampaignPeriod:
    """A campaign period: ``days_before`` to ``days_after`` around a key date's day."""

    key_date_code: str
    days_before: int
    days_after: int
    is_enabled: bool = True

    def around(self, key_day: date) -> PeriodSpan:
        return PeriodSpan(
            key_day - timedelta(days=self.days_before),
            key_day + timedelta(days=self.days_after),
            self.key_date_code,
            key_day,
        )


def period_on(periods: list[tuple[CampaignPeriod, list[date]]], day: date) -> PeriodSpan | None:
    """The enabled campaign period ``day`` falls in, given each period with the days of its key
    date in the years around ``day``; the one whose key day is nearest when two overlap."""
    found: list[PeriodSpan] = []
    for period, key_days in periods:
        if not period.is_enabled:
            continue
        for key_day in key_days:
            span = period.around(key_day)
            if span.contains(day):
                found.append(span)
    if not found:
        return None
    return min(found, key=lambda span: (abs((span.key_day or day) - day), span.start))


# ------------------------------------------------------------------------------------ figures


@dataclass(frozen=True)
class MediaReport:
    media_id: int
    activity_id: int
    kind: MediaKind
    title: str | None
    url: str | None
    reads: int | None


@dataclass(frozen=True)
class ActivityFigures:
    """What an organizer recorded for one activity (``recorded`` False: nothing yet)."""

    activity_id: int
    recorded: bool = False
    organizations: int = 1
    funds_fen: int = 0
    served: dict[PeopleServed, int] = field(default_factory=dict)
    media: tuple[MediaReport, ...] = ()

    @property
    def people_served(self) -> int:
        return sum(self.served.values())


# ------------------------------------------------------------------------------------ the table


@dataclass(frozen=True)
class StatRow:
    """One line of the statistics table."""

    activity_id: int
    title: str
    organization_name: str
    starts_at: datetime
    volunteers: int  # 参与志愿者人次: records with hours
    organizations: int
    people_kinds: tuple[PeopleServed, ...]
    people_served: int
    minutes: int
    funds_fen: int
    recorded: bool  # the organizer recorded the figures (or said there were none)


@dataclass(frozen=True)
class MediaRow:
    """One line of the media table (activities with at least one report)."""

    activity_id: int
    title: str
    organization_name: str
    paper: int
    online: int
    links: tuple[str, ...]
    reads: int


@dataclass(frozen=True)
class StatTable:
    rows: tuple[StatRow, ...]
    media: tuple[MediaRow, ...]

    @property
    def volunteers(self) -> int:
        return sum(row.volunteers for row in self.rows)

    @property
    def organizations(self) -> int:
        return sum(row.organizations for row in self.rows)

    @property
    def people_served(self) -> int:
        return sum(row.people_served for row in self.rows)

    @property
    def minutes(self) -> int:
        return sum(row.minutes for row in self.rows)

    @property
    def funds_fen(self) -> int:
        return sum(row.funds_fen for row in self.rows)

    @property
    def paper(self) -> int:
        return sum(row.paper for row in self.media)

    @property
    def online(self) -> int:
        return sum(row.online for row in self.media)

    @property
    def reads(self) -> int:
        return sum(row.reads for row in self.media)

    @property
    def missing(self) -> tuple[StatRow, ...]:
        """Activities whose figures nobody recorded yet."""
        return tuple(row for row in self.rows if not row.recorded)


def hours_of(minutes: int) -> float:
    """Hours with one decimal, as the form shows them (records are whole half hours mostly)."""
    return round(minutes / 60, 1)


# ------------------------------------------------------------------------------------ input

AMOUNT_INVALID = N_("Please send an amount in yuan, such as 1200 or 350.50.")
AMOUNT_TOO_LARGE = N_("That amount is too large. Please check it.")
COUNT_INVALID = N_("Please send a whole number from {min} to {max}.")
LINK_INVALID = N_("Please send a link starting with http:// or https://.")
PERIOD_INVALID = N_("Please send the first and the last day, such as 3-1 3-31 or 3月1日-3月31日.")
PERIOD_AROUND = N_(
    "The period must include the key date ({day}) and last at most {max} days on each side."
)
MAX_PERIOD_SIDE: Final = 180
PEOPLE_CODES: Final = frozenset(kind.value for kind in PeopleServed)

_AMOUNT = re.compile(r"^(\d{1,12})(?:\.(\d{1,2}))?$")
_CURRENCY = re.compile(r"^[￥¥]|(元|rmb|cny)$", re.IGNORECASE)


def _folded(text: str) -> str:
    """Full-width digits and punctuation to ASCII (people type on Chinese keyboards)."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_yuan(text: str) -> int:
    """An amount in 元 → fen. ``1,200.5`` → 120050; raises :class:`InvalidInput`."""
    cleaned = _CURRENCY.sub("", _folded(text).replace(" ", "")).replace(",", "")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise InvalidInput(AMOUNT_INVALID)
    whole, cents = match.groups()
    fen = int(whole) * 100 + int((cents or "0").ljust(2, "0"))
    if fen > MAX_FEN:
        raise InvalidInput(AMOUNT_TOO_LARGE)
    return fen


def yuan_text(fen: int) -> str:
    """Fen as 元 for people and files: ``120050`` → ``1200.50``, ``120000`` → ``1200``."""
    whole, cents = divmod(fen, 100)
    return f"{whole}" if cents == 0 else f"{whole}.{cents:02d}"


def parse_count(text: str, *, minimum: int, maximum: int) -> int:
    """A whole number typed with ASCII or full-width digits (and ``1,000``)."""
    cleaned = _folded(text).replace(",", "").replace(" ", "")
    for suffix in ("人次", "人", "次", "个", "家"):
        cleaned = cleaned.removesuffix(suffix)
    if not cleaned.isascii() or not cleaned.isdigit() or len(cleaned) > 12:
        raise InvalidInput(COUNT_INVALID, {"min": minimum, "max": maximum})
    value = int(cleaned)
    if not minimum <= value <= maximum:
        raise InvalidInput(COUNT_INVALID, {"min": minimum, "max": maximum})
    return value


def parse_link(text: str) -> str:
    """An http(s) link with a host, at most 500 characters, no spaces."""
    cleaned = _folded(text)
    if len(cleaned) > MAX_LINK_LENGTH or any(char.isspace() for char in cleaned):
        raise InvalidInput(LINK_INVALID)
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        raise InvalidInput(LINK_INVALID) from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "." not in (parts.hostname or "")
    ):
        raise InvalidInput(LINK_INVALID)
    return cleaned


_MONTH_DAY = re.compile(r"(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")


def parse_period_range(text: str, key_day: date) -> tuple[int, int]:
    """``3-1 3-31`` (or ``3月1日至3月31日``) around ``key_day`` → (days before, days after).

    The days are read in the key day's year; a first day after the key day is taken from the
    year before (a period across New Year), a last day before it from the year after."""
    found = _MONTH_DAY.findall(_folded(text))
    if len(found) != 2:
        raise InvalidInput(PERIOD_INVALID)
    days: list[date] = []
    for index, (month, day) in enumerate(found):
        try:
            value = date(key_day.year, int(month), int(day))
        except ValueError:
            raise InvalidInput(PERIOD_INVALID) from None
        if index == 0 and value > key_day:
            value = value.replace(year=key_day.year - 1)
        if index == 1 and value < key_day:
            value = value.replace(year=key_day.year + 1)
        days.append(value)
    before, after = (key_day - days[0]).days, (days[1] - key_day).days
    if not (0 <= before <= MAX_PERIOD_SIDE and 0 <= after <= MAX_PERIOD_SIDE):
        raise InvalidInput(PERIOD_AROUND, {"day": key_day.isoformat(), "max": MAX_PERIOD_SIDE})
    return before, after


# ------------------------------------------------------------------------------------ /stats


@dataclass(frozen=True)
class Breakdown:
    """One line of a breakdown by district or category: a code, 人次 and minutes."""

    code: str
    volunteers: int
    minutes: int
    registered: int | None = None  # districts: volunteers living there


@dataclass(frozen=True)
class Stats:
    registered: int
    active_30_days: int
    minutes_this_year: int
    activities_this_year: int
    signups: int  # confirmed sign-ups of activities whose hours were recorded
    attended: int  # of them checked in (present or late)
    rating_total: float
    ratings: int
    population: int | None
    by_area: tuple[Breakdown, ...] = ()
    by_category: tuple[Breakdown, ...] = ()

    @property
    def attendance_rate(self) -> float | None:
        return self.attended / self.signups if self.signups else None

    @property
    def average_rating(self) -> float | None:
        return self.rating_total if self.ratings else None

    @property
    def participation_rate(self) -> float | None:
        """Registered volunteers per inhabitant, when the population is configured."""
        return self.registered / self.population if self.population else None


class ChartKind(StrEnum):
    HOURS = "h"  # hours per month
    ACTIVE = "v"  # active volunteers per month
    ATTENDANCE = "s"  # sign-ups against attendance per month
    CATEGORY = "c"  # hours by category
    AREA = "a"  # hours by district


def months_back(today: date, count: int) -> list[tuple[int, int]]:
    """The ``count`` months up to and including ``today``'s, oldest first."""
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append((year, month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return months[::-1]
