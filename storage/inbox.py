"""The durable inbox and the leases instances compete for (migration 0021).

The claim takes only the *head* of each lane (its oldest pending update) and leases it; the
next update of that lane becomes claimable only once the head is done. That one rule gives
per-user order and "never two at once" on one process or several: on PostgreSQL the candidates
are picked ``FOR UPDATE SKIP LOCKED`` and the outer ``UPDATE`` re-checks the lease, so two
instances never lease the same head; on SQLite the write lock serializes the claims.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Database
from storage.timeutil import from_db_time, to_db_time


@dataclass(frozen=True)
class InboxItem:
    update_id: int
    lane: str
    payload: str
    attempts: int
    #: When the update was stored: a reply to it is retried until REPLY_RETRY_SECONDS after.
    received_at: datetime | None = None


@dataclass(frozen=True)
class NewUpdate:
    update_id: int
    lane: str
    payload: str


#: Updates stored by one statement: four parameters each, far below either backend's limit.
STORE_ROWS = 100


class InboxRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def store(self, updates: Iterable[NewUpdate], now: datetime) -> int:
        """Store what arrived (a repeated ``update_id`` is ignored); how many were new.

        One statement per :data:`STORE_ROWS` updates (getUpdates returns at most 100): a
        batch cut short by an error is simply stored again, the repeats being ignored."""
        stamp = to_db_time(now)
        rows = list(updates)
        new = 0
        for first in range(0, len(rows), STORE_ROWS):
            chunk = rows[first : first + STORE_ROWS]
            values = ", ".join("(?, ?, ?, ?, 'pending')" for _ in chunk)
            params = [value for u in chunk for value in (u.update_id, u.lane, u.payload, stamp)]
            stored = await self._db.write(
                "INSERT INTO inbox (update_id, lane, payload, received_at, status) "
                f"VALUES {values} ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
                params,
            )
            new += len(stored)
        return new

    async def release_owned(self, owner: str) -> int:
        """At start-up: leases this instance held before it crashed are free again at once."""
        async with self._db.transaction() as tx:
            return await tx.execute(
                "UPDATE inbox SET lease_until = NULL, owner = NULL "
                "WHERE status = 'pending' AND owner = ?",
                (owner,),
            )

    async def claim(
        self, now: datetime, lease: timedelta, limit: int, owner: str = ""
    ) -> list[InboxItem]:
        """Lease up to ``limit`` heads of lanes that nobody is processing, oldest first."""
        stamp = to_db_time(now)
        rows = await self._db.write(
            "WITH picked AS MATERIALIZED ("
            "  SELECT i.update_id FROM inbox i "
            "  WHERE i.status = 'pending' AND (i.lease_until IS NULL OR i.lease_until <= ?) "
            "  AND NOT EXISTS (SELECT 1 FROM inbox e WHERE e.status = 'pending' "
            "    AND e.lane = i.lane AND e.update_id < i.update_id) "
            f"  ORDER BY i.update_id LIMIT ?{self._db.skip_locked}) "
            "UPDATE inbox SET lease_until = ?, owner = ?, attempts = attempts + 1 "
            "WHERE update_id IN (SELECT update_id FROM picked) AND status = 'pending' "
            "AND (lease_until IS NULL OR lease_until <= ?) "
            "RETURNING update_id, lane, payload, attempts, received_at",
            (stamp, limit, to_db_time(now + lease), owner, stamp),
        )
        items = [
            InboxItem(
                row["update_id"],
                row["lane"],
                row["payload"],
                row["attempts"],
                from_db_time(row["received_at"]),
            )
            for row in rows
        ]
        return sorted(items, key=lambda item: item.update_id)

    async def renew(self, update_ids: Iterable[int], until: datetime) -> None:
        ids = sorted(set(update_ids))
        if not ids:
            return
        async with self._db.transaction() as tx:
            await tx.execute(
                f"UPDATE inbox SET lease_until = ? WHERE status = 'pending' "
                f"AND update_id IN ({', '.join('?' * len(ids))})",
                (to_db_time(until), *ids),
            )

    async def done(self, update_id: int, now: datetime) -> None:
        await self._db.write(
            "UPDATE inbox SET status = 'done', done_at = ?, lease_until = NULL, owner = NULL "
            "WHERE update_id = ? AND status = 'pending'",
            (to_db_time(now), update_id),
        )

    async def pending(self) -> int:
        row = await self._db.fetch_one("SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending'")
        return int(row["n"]) if row is not None else 0

    async def has_claimable(self, now: datetime) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM inbox WHERE status = 'pending' "
            "AND (lease_until IS NULL OR lease_until <= ?) LIMIT 1",
            (to_db_time(now),),
        )
        return row is not None

    async def last_update_id(self) -> int | None:
        """The newest update stored: polling resumes after it (Telegram keeps the rest)."""
        row = await self._db.fetch_one("SELECT MAX(update_id) AS last FROM inbox")
        return int(row["last"]) if row is not None and row["last"] is not None else None

    async def prune(self, older_than: datetime, keep_last: int = 1) -> int:
        """Forget done updates older than ``older_than`` (Telegram's retries are over by then),
        keeping the newest so polling knows where it was."""
        async with self._db.transaction() as tx:
            return await tx.execute(
                "DELETE FROM inbox WHERE status = 'done' AND done_at < ? AND update_id < "
                "(SELECT MAX(update_id) FROM inbox) - ?",
                (to_db_time(older_than), keep_last - 1),
            )


class LeasesRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def hold(self, name: str, owner: str, now: datetime, lease: timedelta) -> bool:
        """Take ``name`` if it is free or ran out, or renew it if ``owner`` holds it."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO leases (name, owner, lease_until) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                "lease_until = excluded.lease_until "
                "WHERE leases.owner = excluded.owner OR leases.lease_until <= ? "
                "RETURNING owner",
                (name, owner, to_db_time(now + lease), to_db_time(now)),
            )
        return row is not None and row["owner"] == owner

    async def release(self, name: str, owner: str) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))

    async def set_value_once(self, name: str, value: str, owner: str, now: datetime) -> bool:
        """Record ``value`` under ``name`` unless it is already that value; ``True`` for the
        one caller who changed it (e.g. the instance that calls setWebhook)."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO leases (name, owner, lease_until, value) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                "lease_until = excluded.lease_until, value = excluded.value "
                "WHERE leases.value IS NULL OR leases.value <> excluded.value "
                "RETURNING owner",
                (name, owner, to_db_time(now), value),
            )
        return row is not None
