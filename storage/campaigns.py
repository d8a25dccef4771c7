"""Campaign planning: runs (table ``campaign_runs`` of migration 0010), audiences read in chunks,
and the activities a campaign or digest lists.

Audiences are read by ascending id after a cursor, ``LIMIT`` rows at a time, so the planner can
write one chunk of outbox rows per short transaction (see :mod:`bot.services.campaigns`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.activities import Activity
from storage.activities import load_activities
from storage.audiences import VOLUNTEER_USERS, reachable_volunteer
from storage.db import Database, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

__all__ = ["CampaignRun", "CampaignsRepository", "Recipient"]

MAX_CANDIDATES = 200


@dataclass(frozen=True)
class CampaignRun:
    run_key: str
    kind: str
    key_date: str | None
    occurs_on: date | None
    due_at: datetime
    cursor: int
    planned: int
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class Recipient:
    cursor: int  # the id the audience is ordered by (volunteer_id, or telegram_id of organizers)
    telegram_id: int


def _to_run(row: Row) -> CampaignRun:
    return CampaignRun(
        run_key=row["run_key"],
        kind=row["kind"],
        key_date=row["key_date"],
        occurs_on=date.fromisoformat(row["occurs_on"]) if row["occurs_on"] else None,
        due_at=from_db_time(row["due_at"]),
        cursor=row["cursor"],
        planned=row["planned"],
        started_at=from_db_time(row["started_at"]),
        finished_at=from_db_time(row["finished_at"]) if row["finished_at"] else None,
    )


# Live, reachable volunteers who are not paused today (parameters: today, the cursor).
_VOLUNTEER_AUDIENCE = (
    f"SELECT v.volunteer_id AS cursor, v.telegram_id FROM {VOLUNTEER_USERS} "
    f"WHERE {reachable_volunteer(respect_pause=True)} AND v.volunteer_id > ? "
)


class CampaignsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- runs ------------------------------------------------------------------------------------

    async def get_run(self, run_key: str) -> CampaignRun | None:
        row = await self._db.fetch_one(
            "SELECT run_key, kind, key_date, occurs_on, due_at, cursor, planned, started_at, "
            "finished_at FROM campaign_runs WHERE run_key = ?",
            (run_key,),
        )
        return _to_run(row) if row is not None else None

    async def start_run(
        self,
        run_key: str,
        kind: str,
        key_date: str | None,
        occurs_on: date | None,
        due_at: datetime,
        now: datetime,
    ) -> CampaignRun:
        """The run, created unless it exists (two planners racing both get the same row)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO campaign_runs (run_key, kind, key_date, occurs_on, due_at, "
                "started_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_key) DO NOTHING",
                (
                    run_key,
                    kind,
                    key_date,
                    occurs_on.isoformat() if occurs_on else None,
                    to_db_time(due_at),
                    to_db_time(now),
                ),
            )
        run = await self.get_run(run_key)
        assert run is not None
        return run

    @staticmethod
    async def advance(
        tx: Transaction, run_key: str, cursor: int, planned: int, finished_at: datetime | None
    ) -> None:
        """Record a planned chunk, in the transaction that wrote its outbox rows."""
        await tx.execute(
            "UPDATE campaign_runs SET cursor = ?, planned = planned + ?, finished_at = ? "
            "WHERE run_key = ?",
            (cursor, planned, to_db_time(finished_at) if finished_at else None, run_key),
        )

    # -- audiences -------------------------------------------------------------------------------

    @staticmethod
    async def organizers(tx: Transaction, after: int, limit: int) -> list[Recipient]:
        """Reachable members of approved organizations, by Telegram id."""
        rows = await tx.fetch_all(
            "SELECT DISTINCT m.telegram_id AS cursor, m.telegram_id FROM organization_members m "
            "JOIN organizations o ON o.organization_id = m.organization_id "
            "JOIN users u ON u.telegram_id = m.telegram_id "
            "WHERE o.status = 'approved' AND u.is_reachable = 1 AND m.telegram_id > ? "
            "ORDER BY m.telegram_id LIMIT ?",
            (after, limit),
        )
        return [Recipient(row["cursor"], row["telegram_id"]) for row in rows]

    @staticmethod
    async def campaign_volunteers(
        tx: Transaction, today: date, after: int, limit: int
    ) -> list[Recipient]:
        """Volunteers who opted in to campaigns (live, reachable, not paused)."""
        rows = await tx.fetch_all(
            _VOLUNTEER_AUDIENCE + "AND v.notify_campaigns = 1 ORDER BY v.volunteer_id LIMIT ?",
            (today.isoformat(), after, limit),
        )
        return [Recipient(row["cursor"], row["telegram_id"]) for row in rows]

    @staticmethod
    async def digest_volunteers(
        tx: Transaction,
        today: date,
        since: datetime,
        until: datetime,
        now: datetime,
        after: int,
        limit: int,
    ) -> list[Recipient]:
        """Volunteers who opted in to the digest and for whom at least one activity published
        in ``since``..``until`` is in one of their categories or their area (the renderer
        applies the exact rules; this only spares rows that would be dropped anyway)."""
        rows = await tx.fetch_all(
            _VOLUNTEER_AUDIENCE + "AND v.notify_digest = 1 AND EXISTS ("
            "  SELECT 1 FROM activities a WHERE a.status = 'published' "
            "  AND a.published_at >= ? AND a.published_at < ? AND a.starts_at > ? "
            "  AND (a.area_code = v.area_code OR a.category_code IN ("
            "    SELECT c.category_code FROM volunteer_categories c "
            "    WHERE c.volunteer_id = v.volunteer_id))) "
            "ORDER BY v.volunteer_id LIMIT ?",
            (
                today.isoformat(),
                after,
                to_db_time(since),
                to_db_time(until),
                to_db_time(now),
                limit,
            ),
        )
        return [Recipient(row["cursor"], row["telegram_id"]) for row in rows]

    # -- what campaigns list ---------------------------------------------------------------------

    async def campaign_candidates(
        self, key_date: str, near_from: datetime, near_until: datetime, now: datetime
    ) -> list[Activity]:
        """Upcoming published activities tagged with the key date or starting near it."""
        rows = await self._db.fetch_all(
            "SELECT a.activity_id FROM activities a "
            "WHERE a.status = 'published' AND a.starts_at > ? "
            "AND (a.key_date = ? OR (a.starts_at >= ? AND a.starts_at < ?)) "
            "ORDER BY a.starts_at, a.activity_id LIMIT ?",
            (to_db_time(now), key_date, to_db_time(near_from), to_db_time(near_until),
             MAX_CANDIDATES),
        )  # fmt: skip
        found = await load_activities(self._db.fetch_all, [row["activity_id"] for row in rows])
        return [found[row["activity_id"]] for row in rows if row["activity_id"] in found]

    async def has_campaign_candidates(
        self, key_date: str, near_from: datetime, near_until: datetime, now: datetime
    ) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 AS found FROM activities a WHERE a.status = 'published' AND a.starts_at > ? "
            "AND (a.key_date = ? OR (a.starts_at >= ? AND a.starts_at < ?)) LIMIT 1",
            (to_db_time(now), key_date, to_db_time(near_from), to_db_time(near_until)),
        )
        return row is not None

    async def published_between(
        self, since: datetime, until: datetime, now: datetime
    ) -> list[Activity]:
        """Activities published in ``since``..``until`` that have not started yet."""
        rows = await self._db.fetch_all(
            "SELECT a.activity_id FROM activities a WHERE a.status = 'published' "
            "AND a.published_at >= ? AND a.published_at < ? AND a.starts_at > ? "
            "ORDER BY a.starts_at, a.activity_id LIMIT ?",
            (to_db_time(since), to_db_time(until), to_db_time(now), MAX_CANDIDATES),
        )
        ids = [row["activity_id"] for row in rows]
        found = await load_activities(self._db.fetch_all, ids)
        return [found[activity_id] for activity_id in ids if activity_id in found]

    async def active_activity_ids(self, volunteer_id: int) -> frozenset[int]:
        """Activities the volunteer is signed up or waiting for (not suggested again)."""
        rows = await self._db.fetch_all(
            "SELECT activity_id FROM signups WHERE volunteer_id = ? "
            "AND status IN ('confirmed', 'waitlisted', 'offered')",
            (volunteer_id,),
        )
        return frozenset(row["activity_id"] for row in rows)
