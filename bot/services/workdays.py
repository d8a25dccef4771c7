"""The working-day calendar: seeding it from the maintained source, administrators' edits, and
the warning when next year is missing.

The maintained source is the ``chinesecalendar`` package (MIT), which carries each year's State
Council arrangement from its release on; it covers years up to its latest release only, so the
calendar lives in the database (``calendar_days``): copied from the package by each process
before it first reads or writes the table (:meth:`WorkdayService.seed`, idempotent; not at
start-up, which it slowed by the package's import, #14), and editable by administrators, whose
rows always win. When next year has no row from December 1 on, every administrator is told once
(``WORKDAYS_MISSING``, one outbox key per year) and the calendar screen says so.

```mermaid
flowchart LR
    P[chinesecalendar package] -->|first use in a process: seed| T[(calendar_days)]
    A[administrator types 2027-02-06 上班 春节调休] -->|source admin, wins| T
    T --> C[WorkdayCalendar] --> R[recording reminders · late list]
    T -->|Dec 1+, next year missing| W[WORKDAYS_MISSING to administrators, once per year]
```
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Set
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]

from bot.clock import Clock
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.users import Role
from bot.domain.workdays import (
    CalendarDay,
    DayKind,
    WorkdayCalendar,
    parse_override,
)
from bot.services.staff import StaffService
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.users import UsersRepository
from storage.workdays import CalendarDaysRepository, YearCount

__all__ = ["WARNING_MONTH", "CalendarOverview", "WorkdayService", "package_days"]

log = logging.getLogger(__name__)

#: From this month on, a missing next year is told to administrators (the State Council
#: publishes the arrangement in October or November).
WARNING_MONTH = 12


def package_days() -> list[CalendarDay]:
    """Every holiday and make-up workday the package knows, named in Chinese (春节, 国庆节 …)."""
    chinese = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}
    days = [
        CalendarDay(day, DayKind.HOLIDAY, chinese.get(name, name))
        for day, name in chinese_calendar.holidays.items()
    ]
    days += [
        CalendarDay(day, DayKind.WORKDAY, chinese.get(name, name))
        for day, name in chinese_calendar.workdays.items()
    ]
    return sorted(days, key=lambda day: day.day)


@dataclass(frozen=True)
class CalendarOverview:
    years: list[YearCount]
    today: date
    next_year: int
    next_year_missing: bool


class WorkdayService:
    def __init__(
        self,
        db: Database,
        days: CalendarDaysRepository,
        users: UsersRepository,
        staff: StaffService,
        outbox: OutboxRepository,
        clock: Clock,
        tz: ZoneInfo,
        admin_ids: Set[int],
        source: Callable[[], list[CalendarDay]] = package_days,
    ) -> None:
        self._db = db
        self._days = days
        self._users = users
        self._staff = staff
        self._outbox = outbox
        self._clock = clock
        self.tz = tz
        self._admin_ids = admin_ids
        self._source = source
        self._seeded = False
        self._seeding = asyncio.Lock()

    def today(self, now: datetime | None = None) -> date:
        return (now or self._clock()).astimezone(self.tz).date()

    async def seed(self) -> int:
        """Copy the package's days into the table (idempotent: admins' rows win)."""
        written = await self._days.seed(self._source(), self._clock())
        self._seeded = True
        if written:
            log.info("working-day calendar: %s days written from the package", written)
        return written

    async def _table(self) -> CalendarDaysRepository:
        """The days, seeded from the package once in this process before their first use (a
        newer package's year arrives with the first use after an upgrade's restart)."""
        if not self._seeded:
            async with self._seeding:
                if not self._seeded:
                    await self.seed()
        return self._days

    async def calendar(self) -> WorkdayCalendar:
        return await (await self._table()).calendar()

    # -- administrators ---------------------------------------------------------------------

    async def overview(self, actor: int) -> CalendarOverview:
        """The years covered; opening it also tells administrators of a missing next year
        (from December on, once per year)."""
        await self._staff.require_admin(actor)
        years = await (await self._table()).years()
        today = self.today()
        covered = {year for year, *_ in years}
        await self.warn_missing_year()
        return CalendarOverview(years, today, today.year + 1, today.year + 1 not in covered)

    async def year(self, actor: int, year: int) -> list[CalendarDay]:
        await self._staff.require_admin(actor)
        return await (await self._table()).in_year(year)

    async def set_day(self, actor: int, text: str) -> CalendarDay:
        """An administrator's typed day (``2027-02-06 上班 春节调休``); raises ``InvalidInput``."""
        await self._staff.require_admin(actor)
        override = parse_override(text)
        saved = await (await self._table()).put_admin(
            CalendarDay(override.day, override.kind, override.name), actor, self._clock()
        )
        log.info(
            "working-day calendar: %s set %s to %s (%s)",
            actor,
            saved.day,
            saved.kind.value,
            saved.name,
        )
        return saved

    async def remove(self, actor: int, day: date) -> bool:
        """Remove an administrator's row; the package's day comes back if it has one."""
        await self._staff.require_admin(actor)
        restore = next((found for found in self._source() if found.day == day), None)
        removed = await (await self._table()).remove_admin(day, restore, self._clock())
        if removed:
            log.info("working-day calendar: %s removed their row for %s", actor, day)
        return removed

    # -- the warning ------------------------------------------------------------------------

    async def admin_ids(self) -> list[int]:
        appointed = {user.telegram_id for user in await self._users.list_by_role(Role.ADMIN)}
        return sorted(set(self._admin_ids) | appointed)

    async def warn_missing_year(self) -> int:
        """From December 1, if next year has no row, queue the warning for every administrator
        (one outbox key per year and administrator: told once). Returns how many were queued."""
        now = self._clock()
        today = self.today(now)
        if today.month < WARNING_MONTH:
            return 0
        year = today.year + 1
        if (await (await self._table()).calendar()).covers(year):
            return 0
        queued = 0
        admins = await self.admin_ids()
        async with self._db.transaction() as tx:
            for admin in admins:
                queued += await self._outbox.enqueue(
                    tx,
                    Notification(
                        kind=NotificationKind.WORKDAYS_MISSING,
                        telegram_id=admin,
                        subject=f"year:{year}",
                        payload={"year": year},
                        due_at=now,
                    ),
                    now,
                )
        if queued:
            log.warning(
                "working-day calendar: no data for %s; %s administrators told", year, queued
            )
        return queued

    async def still_missing(self, year: int, telegram_id: int) -> bool:
        """For the warning at send time: still no data for ``year``, still an administrator."""
        if not await self._staff.is_admin(telegram_id):
            return False
        return not (await (await self._table()).calendar()).covers(year)
