"""Monthly honours: the volunteers with the most confirmed hours in a month, per organization
and per district, among those who opted in (``honour_opt_ins``, migration 0022)."""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.honours import Honoured
from storage.db import Database
from storage.timeutil import to_db_time


class HonoursRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def opted_in(self, volunteer_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM honour_opt_ins WHERE volunteer_id = ?", (volunteer_id,)
        )
        return row is not None

    async def set_opt_in(self, volunteer_id: int, on: bool, now: datetime) -> None:
        async with self._db.transaction() as tx:
            if on:
                await tx.execute(
                    "INSERT INTO honour_opt_ins (volunteer_id, opted_in_at) VALUES (?, ?) "
                    "ON CONFLICT (volunteer_id) DO NOTHING",
                    (volunteer_id, to_db_time(now)),
                )
            else:
                await tx.execute(
                    "DELETE FROM honour_opt_ins WHERE volunteer_id = ?", (volunteer_id,)
                )

    async def top(
        self,
        first: date,
        after: date,
        limit: int,
        *,
        organization_id: int | None = None,
        area_code: str | None = None,
    ) -> list[Honoured]:
        """The month ``[first, after)`` of one organization's records, or of the volunteers
        living in one district; opted-in, not deleted; most hours first."""
        if organization_id is not None:
            scope, value = "r.organization_id = ?", organization_id
        elif area_code is not None:
            scope, value = "v.area_code = ?", area_code  # type: ignore[assignment]
        else:
            raise ValueError("an organization or a district")
        rows = await self._db.fetch_all(
            "SELECT r.volunteer_id, v.real_name, SUM(r.minutes) AS total "
            "FROM service_records r "
            "JOIN volunteers v ON v.volunteer_id = r.volunteer_id "
            "JOIN honour_opt_ins h ON h.volunteer_id = r.volunteer_id "
            f"WHERE {scope} AND r.service_date >= ? AND r.service_date < ? "
            "AND v.deleted_at IS NULL "
            "GROUP BY r.volunteer_id, v.real_name HAVING SUM(r.minutes) > 0 "
            "ORDER BY total DESC, r.volunteer_id LIMIT ?",
            (value, first.isoformat(), after.isoformat(), limit),
        )
        return [Honoured(r["volunteer_id"], r["real_name"] or "", int(r["total"])) for r in rows]

    async def organizations_served(self, volunteer_id: int, limit: int) -> list[tuple[int, str]]:
        """The organizations a volunteer has records with (for the honours screen's buttons)."""
        rows = await self._db.fetch_all(
            "SELECT o.organization_id, o.name, MAX(r.service_date) AS last_day "
            "FROM service_records r JOIN organizations o ON o.organization_id = r.organization_id "
            "WHERE r.volunteer_id = ? GROUP BY o.organization_id, o.name "
            "ORDER BY last_day DESC, o.organization_id LIMIT ?",
            (volunteer_id, limit),
        )
        return [(r["organization_id"], r["name"]) for r in rows]

    async def organization_name(self, organization_id: int) -> str | None:
        row = await self._db.fetch_one(
            "SELECT name FROM organizations WHERE organization_id = ?", (organization_id,)
        )
        return row["name"] if row is not None else None
