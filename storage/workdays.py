"""The working-day calendar's overrides (table ``calendar_days`` of migration 0020)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from bot.domain.workdays import CalendarDay, DayKind, DaySource, WorkdayCalendar
from storage.db import Database, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

__all__ = ["CalendarDaysRepository", "YearCount"]

_COLUMNS = "day, kind, name, source, updated_by, updated_at"

YearCount = tuple[int, int, int, int]  # year, holidays, make-up workdays, rows by administrators


def _to_day(row: Row) -> CalendarDay:
    return CalendarDay(
        day=date.fromisoformat(row["day"]),
        kind=DayKind(row["kind"]),
        name=row["name"],
        source=DaySource(row["source"]),
        updated_by=row["updated_by"],
        updated_at=from_db_time(row["updated_at"]),
    )


class CalendarDaysRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def calendar(self) -> WorkdayCalendar:
        """Every override (a few dozen rows a year), ready to compute with."""
        rows = await self._db.fetch_all(f"SELECT {_COLUMNS} FROM calendar_days")
        return WorkdayCalendar(_to_day(row) for row in rows)

    async def in_year(self, year: int) -> list[CalendarDay]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM calendar_days WHERE day >= ? AND day < ? ORDER BY day",
            (f"{year:04d}-01-01", f"{year + 1:04d}-01-01"),
        )
        return [_to_day(row) for row in rows]

    async def get(self, day: date) -> CalendarDay | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM calendar_days WHERE day = ?", (day.isoformat(),)
        )
        return _to_day(row) if row is not None else None

    async def years(self) -> list[YearCount]:
        """Per year with data: how many holidays, make-up workdays and administrators' rows."""
        rows = await self._db.fetch_all(
            "SELECT substr(day, 1, 4) AS year, "
            "SUM(CASE WHEN kind = 'holiday' THEN 1 ELSE 0 END) AS holidays, "
            "SUM(CASE WHEN kind = 'workday' THEN 1 ELSE 0 END) AS workdays, "
            "SUM(CASE WHEN source = 'admin' THEN 1 ELSE 0 END) AS edited "
            "FROM calendar_days GROUP BY substr(day, 1, 4) ORDER BY year"
        )
        return [(int(row["year"]), row["holidays"], row["workdays"], row["edited"]) for row in rows]

    async def seed(self, days: Iterable[CalendarDay], now: datetime) -> int:
        """Copy the maintained source's days in; returns how many rows were written.

        Idempotent and portable (``ON CONFLICT … DO UPDATE … WHERE``, as in PostgreSQL): a new
        day is inserted; a package day the source has since corrected is updated; a row an
        administrator wrote is never touched, and an unchanged day writes nothing.
        """
        stamp = to_db_time(now)
        rows = [
            (day.day.isoformat(), day.kind.value, day.name, DaySource.PACKAGE.value, stamp)
            for day in days
        ]
        if not rows:
            return 0
        async with self._db.transaction() as tx:
            return await tx.execute_many(
                "INSERT INTO calendar_days (day, kind, name, source, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, "
                "name = excluded.name, updated_at = excluded.updated_at "
                "WHERE calendar_days.source = 'package' "
                "AND (calendar_days.kind <> excluded.kind OR calendar_days.name <> excluded.name)",
                rows,
            )

    async def put_admin(self, day: CalendarDay, actor: int, now: datetime) -> CalendarDay:
        """An administrator's day: inserted, or replacing whatever the day had (from then on
        seeding leaves it alone)."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO calendar_days (day, kind, name, source, updated_by, updated_at) "
                "VALUES (?, ?, ?, 'admin', ?, ?) ON CONFLICT (day) DO UPDATE SET "
                "kind = excluded.kind, name = excluded.name, source = 'admin', "
                "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                (day.day.isoformat(), day.kind.value, day.name, actor, stamp),
            )
        return CalendarDay(day.day, day.kind, day.name, DaySource.ADMIN, actor, now)

    async def remove_admin(self, day: date, restore: CalendarDay | None, now: datetime) -> bool:
        """Remove an administrator's row (``False`` when the day has none: a package row is
        never removed), putting back the package's day ``restore`` if it has one."""
        async with self._db.transaction() as tx:
            removed = await tx.execute(
                "DELETE FROM calendar_days WHERE day = ? AND source = 'admin'",
                (day.isoformat(),),
            )
            if removed and restore is not None:
                await self._insert_package(tx, restore, now)
        return removed > 0

    @staticmethod
    async def _insert_package(tx: Transaction, day: CalendarDay, now: datetime) -> None:
        await tx.execute(
            "INSERT INTO calendar_days (day, kind, name, source, updated_at) "
            "VALUES (?, ?, ?, 'package', ?) ON CONFLICT (day) DO NOTHING",
            (day.day.isoformat(), day.kind.value, day.name, to_db_time(now)),
        )
