"""The notification outbox (table of migration 0005).

:meth:`OutboxRepository.enqueue` is called inside the transaction of the change that causes the
notification. :meth:`OutboxRepository.claim_due` takes a lease on due rows in one statement
(``UPDATE ... RETURNING``), so two delivery runs never claim the same row while the lease lasts,
and a row whose deliverer crashed becomes due again when its lease expires.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable
from datetime import datetime, time, timedelta

from bot.domain.notifications import Notification, NotificationKind, OutboxItem
from storage.db import Database, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

__all__ = ["OutboxRepository", "OutboxStatus"]

_LOGGER = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 500


#: Why a row was deferred without counting an attempt (and how held rows are found).
QUIET_HOURS = "quiet hours"


class OutboxStatus:
    PENDING = "pending"
    SENT = "sent"
    DROPPED = "dropped"
    FAILED = "failed"


def _to_item(row: Row) -> OutboxItem | None:
    try:
        kind = NotificationKind(row["kind"])
    except ValueError:
        _LOGGER.error("outbox row %s has an unknown kind %r", row["notification_id"], row["kind"])
        return None
    return OutboxItem(
        notification_id=row["notification_id"],
        kind=kind,
        telegram_id=row["telegram_id"],
        payload=json.loads(row["payload"]),
        due_at=from_db_time(row["due_at"]),
        attempts=row["attempts"],
        batch_key=row["batch_key"],
    )


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        #: The lease this repository wrote on each row it claimed and has not settled yet
        #: (the ``lease_until`` stamp, unique per claim of a row): :meth:`finish`,
        #: :meth:`retry_at`, :meth:`release` and :meth:`defer` change a row only while that
        #: lease is still on it. A deliverer that stalled past its lease (another instance
        #: claimed the row meanwhile) then leaves the new holder's row alone.
        self._leases: dict[int, str] = {}

    def _lease_check(self, notification_ids: Iterable[int]) -> tuple[str, list[object]]:
        """SQL (`` AND (...)``) and parameters testing that the rows still carry the leases
        this repository wrote; rows it never claimed are not tested (tools, tests)."""
        clauses: list[str] = []
        params: list[object] = []
        for notification_id in notification_ids:
            lease = self._leases.pop(notification_id, None)
            if lease is None:
                clauses.append("notification_id = ?")
                params.append(notification_id)
            else:
                clauses.append("(notification_id = ? AND lease_until = ?)")
                params.extend((notification_id, lease))
        return f" AND ({' OR '.join(clauses)})", params

    def _lost(self, changed: int, expected: int, what: str) -> None:
        if changed < expected:
            _LOGGER.warning(
                "outbox: %s of %s rows were not %s: their lease passed to another deliverer",
                expected - changed,
                expected,
                what,
            )

    @staticmethod
    async def enqueue(tx: Transaction, notification: Notification, now: datetime) -> bool:
        """Store a notification unless one with the same key exists; ``True`` if stored."""
        changed = await tx.execute(
            "INSERT INTO outbox (dedup_key, kind, telegram_id, payload, due_at, batch_key, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
            (
                notification.dedup_key,
                notification.kind.value,
                notification.telegram_id,
                json.dumps(notification.payload, sort_keys=True),
                to_db_time(notification.due_at),
                notification.batch_key,
                to_db_time(now),
            ),
        )
        return changed > 0

    @staticmethod
    async def enqueue_many(
        tx: Transaction, notifications: Iterable[Notification], now: datetime
    ) -> int:
        """:meth:`enqueue` for many at once (one statement prepared once: a 500-person
        confirmation queues its notices in a few milliseconds); how many were stored."""
        created = to_db_time(now)
        return await tx.execute_many(
            "INSERT INTO outbox (dedup_key, kind, telegram_id, payload, due_at, batch_key, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
            [
                (
                    notification.dedup_key,
                    notification.kind.value,
                    notification.telegram_id,
                    json.dumps(notification.payload, sort_keys=True),
                    to_db_time(notification.due_at),
                    notification.batch_key,
                    created,
                )
                for notification in notifications
            ],
        )

    async def claim_due(
        self,
        now: datetime,
        lease: timedelta,
        limit: int,
        *,
        skip_chats: Collection[int] = (),
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` due rows (soonest first) and count the attempt.

        ``skip_chats`` are recipients the deliverer may not write to yet (paced): their rows
        stay unclaimed, so a long backlog for one chat does not fill every batch. The scan
        walks ``outbox_due_idx (status, due_at)`` in order (the rowid breaks ties inside the
        index), so it stops after ``limit`` matches however large the table is.
        """
        stamp = to_db_time(now)
        skip = sorted(set(skip_chats))
        skip_sql = f"AND telegram_id NOT IN ({', '.join('?' * len(skip))}) " if skip else ""
        # The outer WHERE repeats the lease and status test on purpose. In PostgreSQL (READ
        # COMMITTED) the subquery's candidates come from a snapshot: a second deliverer can pick
        # the same rows while the first one's claim is uncommitted, then wait for the row lock.
        # Once it gets the lock, PostgreSQL re-checks the outer WHERE against the committed row,
        # sees the fresh lease and skips the row, so a row is claimed once per lease. (The
        # second deliverer then claims fewer rows than ``limit``; its next pass picks up more.)
        # With SKIP LOCKED (PostgreSQL) the second one passes over rows being claimed and takes
        # the next free ones instead, so concurrent deliverers fill their batches.
        async with self._db.transaction() as tx:
            # The candidates are a MATERIALIZED CTE, evaluated once: as a plain ``IN (SELECT …
            # LIMIT ?)`` PostgreSQL may rescan the subquery, and with SKIP LOCKED each rescan
            # can pick different rows, leasing more than ``limit``.
            rows = await tx.fetch_all(
                "WITH picked AS MATERIALIZED ("
                "  SELECT notification_id FROM outbox WHERE status = 'pending' AND due_at <= ? "
                "  AND (lease_until IS NULL OR lease_until <= ?) "
                f"  {skip_sql}"
                f"  ORDER BY due_at, notification_id LIMIT ?{self._db.skip_locked}) "
                "UPDATE outbox SET lease_until = ?, attempts = attempts + 1 "
                "WHERE notification_id IN (SELECT notification_id FROM picked) "
                "AND status = 'pending' AND (lease_until IS NULL OR lease_until <= ?) "
                "RETURNING notification_id, kind, telegram_id, payload, due_at, attempts, "
                "batch_key",
                (stamp, stamp, *skip, limit, to_db_time(now + lease), stamp),
            )
        lease_stamp = to_db_time(now + lease)
        for row in rows:
            self._leases[row["notification_id"]] = lease_stamp
        items = [_to_item(row) for row in rows]
        return sorted(
            (item for item in items if item is not None),
            key=lambda item: (item.due_at, item.notification_id),
        )

    async def has_due_for(self, now: datetime, telegram_ids: Collection[int]) -> bool:
        """Whether any of these recipients has a due, unleased row (paced chats waiting)."""
        if not telegram_ids:
            return False
        ids = sorted(set(telegram_ids))
        stamp = to_db_time(now)
        row = await self._db.fetch_one(
            "SELECT 1 FROM outbox WHERE status = 'pending' "
            f"AND telegram_id IN ({', '.join('?' * len(ids))}) AND due_at <= ? "
            "AND (lease_until IS NULL OR lease_until <= ?) LIMIT 1",
            (*ids, stamp, stamp),
        )
        return row is not None

    async def release(self, notification_ids: Iterable[int]) -> None:
        """Give claimed rows back unsent (pacing): no attempt counted, due as before."""
        ids = list(notification_ids)
        if not ids:
            return
        owned, params = self._lease_check(ids)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE outbox SET lease_until = NULL, "
                "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END "
                f"WHERE status = 'pending'{owned}",
                tuple(params),
            )
        self._lost(changed, len(ids), "released")

    async def defer(
        self, notification_id: int, due_at: datetime, reason: str = QUIET_HOURS
    ) -> None:
        """Make a claimed row due later without counting the attempt (quiet hours)."""
        owned, params = self._lease_check([notification_id])
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE outbox SET due_at = ?, lease_until = NULL, "
                "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, last_error = ? "
                f"WHERE status = 'pending'{owned}",
                (to_db_time(due_at), _clip(reason), *params),
            )
        self._lost(changed, 1, "deferred")

    async def quiet_hours(self, telegram_ids: Collection[int]) -> dict[int, tuple[time, time]]:
        """Quiet hours (local start, end) of those recipients who have a volunteer profile.

        Read here rather than through the volunteers repository: the deliverer needs just these
        two columns for a whole batch in one query.
        """
        if not telegram_ids:
            return {}
        ids = sorted(set(telegram_ids))
        rows = await self._db.fetch_all(
            "SELECT telegram_id, quiet_start, quiet_end FROM volunteers "
            f"WHERE telegram_id IN ({', '.join('?' * len(ids))}) AND deleted_at IS NULL",
            tuple(ids),
        )
        return {
            row["telegram_id"]: (
                time.fromisoformat(row["quiet_start"]),
                time.fromisoformat(row["quiet_end"]),
            )
            for row in rows
        }

    async def finish(
        self, notification_id: int, status: str, now: datetime, error: str | None = None
    ) -> None:
        """Record the outcome: sent, dropped (stale or unreachable) or failed."""
        owned, params = self._lease_check([notification_id])
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE outbox SET status = ?, finished_at = ?, lease_until = NULL, "
                f"last_error = ? WHERE 1 = 1{owned}",
                (status, to_db_time(now), _clip(error), *params),
            )
        self._lost(changed, 1, f"marked {status}")

    async def retry_at(self, notification_id: int, due_at: datetime, error: str) -> None:
        """Release the lease and make the row due again at ``due_at``."""
        owned, params = self._lease_check([notification_id])
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE outbox SET due_at = ?, lease_until = NULL, last_error = ? "
                f"WHERE 1 = 1{owned}",
                (to_db_time(due_at), _clip(error), *params),
            )
        self._lost(changed, 1, "rescheduled")

    async def bring_forward(self, now: datetime, within: timedelta, marker: str) -> int:
        """Rows waiting out a retry after an error whose text begins with ``marker`` (the Bot
        API was unreachable) and due within ``within`` are made due ``now``: the API answers
        again, so they need not wait the rest of their backoff. Rows deferred for another
        reason (quiet hours) or leased right now are left as they are."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            return await tx.execute(
                "UPDATE outbox SET due_at = ? WHERE status = 'pending' AND due_at > ? "
                "AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?) "
                "AND last_error LIKE ?",
                (stamp, stamp, to_db_time(now + within), stamp, f"{marker}%"),
            )

    async def drop_pending_for(self, telegram_id: int, now: datetime, reason: str) -> int:
        """Drop everything still pending for a recipient (they blocked the bot)."""
        async with self._db.transaction() as tx:
            return await self.drop_pending_in(tx, telegram_id, now, reason)

    @staticmethod
    async def drop_pending_in(tx: Transaction, telegram_id: int, now: datetime, reason: str) -> int:
        """:meth:`drop_pending_for` inside the caller's transaction (account deletion)."""
        return await tx.execute(
            "UPDATE outbox SET status = 'dropped', finished_at = ?, lease_until = NULL, "
            "last_error = ? WHERE telegram_id = ? AND status = 'pending'",
            (to_db_time(now), reason, telegram_id),
        )

    async def counts(self) -> dict[str, int]:
        rows = await self._db.fetch_all("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        return {row["status"]: row["n"] for row in rows}

    async def batch_counts(self, batch_key: str) -> dict[str, int]:
        """Progress of one mass sending: rows per status."""
        rows = await self._db.fetch_all(
            "SELECT status, COUNT(*) AS n FROM outbox WHERE batch_key = ? GROUP BY status",
            (batch_key,),
        )
        return {row["status"]: row["n"] for row in rows}

    async def drop_pending_batch(self, batch_key: str, now: datetime, reason: str) -> int:
        """Cancel the unsent rest of a mass sending (rows already leased are sent)."""
        async with self._db.transaction() as tx:
            return await tx.execute(
                "UPDATE outbox SET status = 'dropped', finished_at = ?, last_error = ? "
                "WHERE batch_key = ? AND status = 'pending' "
                "AND (lease_until IS NULL OR lease_until <= ?)",
                (to_db_time(now), reason, batch_key, to_db_time(now)),
            )

    async def for_recipient(self, telegram_id: int) -> list[Row]:
        """Every row for one recipient (tests and support)."""
        return await self._db.fetch_all(
            "SELECT notification_id, kind, status, payload, due_at, attempts, last_error "
            "FROM outbox WHERE telegram_id = ? ORDER BY notification_id",
            (telegram_id,),
        )


def _clip(error: str | None) -> str | None:
    return error[:MAX_ERROR_LENGTH] if error is not None else None
