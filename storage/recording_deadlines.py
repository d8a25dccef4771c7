"""Finished activities whose hours nobody confirmed yet (columns of migration 0019), for the
"record within 10 working days" reminders and the administrators' list of late ones."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, Row
from storage.timeutil import from_db_time, to_db_time

__all__ = ["RecordingDeadlinesRepository", "Unrecorded"]

# "Hours still to record": published volunteer service that has ended, hours not confirmed.
# activities_unrecorded_idx (hours_confirmed_at, ends_at) serves the range on ends_at.
_UNRECORDED = "a.hours_confirmed_at IS NULL AND a.status = 'published' AND a.is_volunteering = 1 "
_SELECT = (
    "SELECT a.activity_id, a.organization_id, a.title, a.ends_at, o.name AS organization_name "
    "FROM activities a JOIN organizations o ON o.organization_id = a.organization_id "
)


@dataclass(frozen=True)
class Unrecorded:
    activity_id: int
    organization_id: int
    title: str
    ends_at: datetime
    organization_name: str


def _to_unrecorded(row: Row) -> Unrecorded:
    return Unrecorded(
        activity_id=row["activity_id"],
        organization_id=row["organization_id"],
        title=row["title"],
        ends_at=from_db_time(row["ends_at"]),
        organization_name=row["organization_name"],
    )


class RecordingDeadlinesRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def ended_between(self, since: datetime, until: datetime) -> list[Unrecorded]:
        """Unrecorded activities that ended in ``[since, until)``, of approved organizations."""
        rows = await self._db.fetch_all(
            f"{_SELECT}WHERE {_UNRECORDED}AND a.ends_at >= ? AND a.ends_at < ? "
            "AND o.status = 'approved' ORDER BY a.ends_at, a.activity_id",
            (to_db_time(since), to_db_time(until)),
        )
        return [_to_unrecorded(row) for row in rows]

    async def ended_before(self, before: datetime, limit: int, offset: int) -> list[Unrecorded]:
        """Unrecorded activities that ended before ``before``, longest ago first (a page)."""
        rows = await self._db.fetch_all(
            f"{_SELECT}WHERE {_UNRECORDED}AND a.ends_at < ? "
            "ORDER BY a.ends_at, a.activity_id LIMIT ? OFFSET ?",
            (to_db_time(before), limit, offset),
        )
        return [_to_unrecorded(row) for row in rows]

    async def count_ended_before(self, before: datetime) -> int:
        row = await self._db.fetch_one(
            f"SELECT COUNT(*) AS n FROM activities a WHERE {_UNRECORDED}AND a.ends_at < ?",
            (to_db_time(before),),
        )
        return int(row["n"]) if row is not None else 0

    async def get(self, activity_id: int) -> Unrecorded | None:
        """The activity if its hours are still to record (``None`` once confirmed, cancelled,
        marked as not volunteering, or gone)."""
        row = await self._db.fetch_one(
            f"{_SELECT}WHERE a.activity_id = ? AND {_UNRECORDED}LIMIT 1", (activity_id,)
        )
        return _to_unrecorded(row) if row is not None else None

    async def staff_of(self, organization_ids: Collection[int]) -> dict[int, list[int]]:
        """Managers and organizers of each organization (Telegram ids)."""
        ids = sorted(set(organization_ids))
        if not ids:
            return {}
        rows = await self._db.fetch_all(
            "SELECT organization_id, telegram_id FROM organization_members "
            f"WHERE organization_id IN ({', '.join('?' * len(ids))}) "
            "ORDER BY organization_id, telegram_id",
            tuple(ids),
        )
        found: dict[int, list[int]] = {}
        for row in rows:
            found.setdefault(row["organization_id"], []).append(row["telegram_id"])
        return found

    async def is_member(self, organization_id: int, telegram_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM organization_members WHERE organization_id = ? AND telegram_id = ? "
            "LIMIT 1",
            (organization_id, telegram_id),
        )
        return row is not None
