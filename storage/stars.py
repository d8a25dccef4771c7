"""Star thresholds, each volunteer's levels (what happened to them), and the congratulations
(migration 0022).

A level is derived on every read from the confirmed minutes and the thresholds; the rows of
``volunteer_stars`` record what happened per level. The sweep inserts a row for each newly
reached level with ``ON CONFLICT DO NOTHING`` and queues the congratulation only for rows it
inserted, in the same transaction: a second process or a restart finds the row and queues
nothing, so each level is congratulated once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.notifications import Notification, NotificationKind
from bot.domain.stars import StarRow, StarStatus, Thresholds
from storage.db import Database, Row
from storage.outbox import OutboxRepository
from storage.timeutil import from_db_time, to_db_time


def _to_row(row: Row) -> StarRow:
    return StarRow(
        volunteer_id=row["volunteer_id"],
        level=row["level"],
        status=StarStatus(row["status"]),
        reached_at=from_db_time(row["reached_at"]),
        publicity_ends_at=(
            from_db_time(row["publicity_ends_at"]) if row["publicity_ends_at"] else None
        ),
        objection=row["objection"],
    )


@dataclass(frozen=True)
class Publicity:
    """A level in its publicity period (公示), for the list administrators and volunteers see."""

    volunteer_id: int
    name: str | None
    level: int
    minutes: int
    applied_at: datetime
    ends_at: datetime


class StarsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- thresholds ---------------------------------------------------------------------------

    async def thresholds(self) -> Thresholds:
        rows = await self._db.fetch_all("SELECT hours FROM star_thresholds ORDER BY level")
        return Thresholds(tuple(int(row["hours"]) for row in rows))

    async def set_thresholds(self, thresholds: Thresholds, by: int, now: datetime) -> None:
        """All five at once, in one transaction (so a reader never sees a half-edited set)."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            await tx.execute_many(
                "UPDATE star_thresholds SET hours = ?, updated_by = ?, updated_at = ? "
                "WHERE level = ?",
                [
                    (hours, by, stamp, level)
                    for level, hours in enumerate(thresholds.hours, start=1)
                ],
            )

    # -- one volunteer ------------------------------------------------------------------------

    async def minutes_of(self, volunteer_id: int) -> int:
        row = await self._db.fetch_one(
            "SELECT COALESCE(SUM(minutes), 0) AS total FROM service_records WHERE volunteer_id = ?",
            (volunteer_id,),
        )
        return int(row["total"]) if row is not None else 0

    async def rows_of(self, volunteer_id: int) -> list[StarRow]:
        rows = await self._db.fetch_all(
            "SELECT * FROM volunteer_stars WHERE volunteer_id = ? ORDER BY level",
            (volunteer_id,),
        )
        return [_to_row(row) for row in rows]

    async def apply(
        self,
        volunteer_id: int,
        level: int,
        now: datetime,
        ends_at: datetime,
        notify: Sequence[Notification],
    ) -> bool:
        """Start the publicity of ``level``; ``False`` when one is running already or the level
        is granted or publicised (a double press applies once)."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            running = await tx.fetch_one(
                "SELECT 1 FROM volunteer_stars WHERE volunteer_id = ? AND status = 'publicised' "
                "LIMIT 1",
                (volunteer_id,),
            )
            if running is not None:
                return False
            row = await tx.fetch_one(
                "INSERT INTO volunteer_stars (volunteer_id, level, status, reached_at, "
                "applied_at, publicity_ends_at) VALUES (?, ?, 'publicised', ?, ?, ?) "
                "ON CONFLICT (volunteer_id, level) DO UPDATE SET status = 'publicised', "
                "applied_at = excluded.applied_at, publicity_ends_at = excluded.publicity_ends_at, "
                "objection = NULL, decided_by = NULL "
                "WHERE volunteer_stars.status IN ('eligible', 'objected') RETURNING level",
                (volunteer_id, level, stamp, stamp, to_db_time(ends_at)),
            )
            if row is None:
                return False
            await OutboxRepository.enqueue_many(tx, notify, now)
        return True

    async def object(
        self,
        volunteer_id: int,
        level: int,
        by: int,
        reason: str,
        now: datetime,
        notify: Sequence[Notification],
    ) -> bool:
        """An administrator objects during the publicity; ``False`` when it is over already."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE volunteer_stars SET status = 'objected', objection = ?, decided_by = ? "
                "WHERE volunteer_id = ? AND level = ? AND status = 'publicised' "
                "AND publicity_ends_at > ?",
                (reason, by, volunteer_id, level, to_db_time(now)),
            )
            if not changed:
                return False
            await OutboxRepository.enqueue_many(tx, notify, now)
        return True

    async def publicity(self, now: datetime, limit: int) -> list[Publicity]:
        rows = await self._db.fetch_all(
            "SELECT s.volunteer_id, v.real_name, s.level, s.applied_at, s.publicity_ends_at, "
            "COALESCE((SELECT SUM(r.minutes) FROM service_records r "
            "WHERE r.volunteer_id = s.volunteer_id), 0) AS minutes "
            "FROM volunteer_stars s JOIN volunteers v ON v.volunteer_id = s.volunteer_id "
            "WHERE s.status = 'publicised' AND s.publicity_ends_at > ? "
            "ORDER BY s.publicity_ends_at, s.volunteer_id LIMIT ?",
            (to_db_time(now), limit),
        )
        return [
            Publicity(
                volunteer_id=r["volunteer_id"],
                name=r["real_name"],
                level=r["level"],
                minutes=int(r["minutes"]),
                applied_at=from_db_time(r["applied_at"]),
                ends_at=from_db_time(r["publicity_ends_at"]),
            )
            for r in rows
        ]

    # -- the sweep ----------------------------------------------------------------------------

    async def sweep(
        self,
        thresholds: Thresholds,
        *,
        application: bool,
        now: datetime,
        volunteer_ids: Collection[int] | None = None,
    ) -> int:
        """Record newly reached levels and queue one congratulation per volunteer for the
        highest of them (``STAR_REACHED``, or ``STAR_ELIGIBLE`` when levels need an
        application), and grant the levels whose publicity is over (``STAR_GRANTED``).
        Idempotent; returns how many notifications were queued.

        ``volunteer_ids`` limits the first part to these volunteers (after a confirmation);
        ``None`` looks at everyone with enough hours for 1★ (the periodic sweep, which also
        catches levels reached because an administrator lowered the thresholds)."""
        lowest = thresholds.minutes_for(1)
        where = ""
        params: list[object] = []
        if volunteer_ids is not None:
            if not volunteer_ids:
                where = "WHERE 1 = 0"
            else:
                where = "WHERE volunteer_id IN (" + ", ".join("?" for _ in volunteer_ids) + ")"
                params += sorted(volunteer_ids)
        rows = await self._db.fetch_all(
            "SELECT t.volunteer_id, t.total, COALESCE(s.top, 0) AS top, v.telegram_id "
            "FROM (SELECT volunteer_id, SUM(minutes) AS total FROM service_records "
            f"{where} GROUP BY volunteer_id) t "
            "JOIN volunteers v ON v.volunteer_id = t.volunteer_id "
            "LEFT JOIN (SELECT volunteer_id, MAX(level) AS top FROM volunteer_stars "
            "GROUP BY volunteer_id) s ON s.volunteer_id = t.volunteer_id "
            "WHERE t.total >= ?",
            (*params, lowest),
        )
        due = [
            (row["volunteer_id"], row["telegram_id"], int(row["total"]), int(row["top"]))
            for row in rows
            if thresholds.level_for(int(row["total"])) > int(row["top"])
        ]
        queued = 0
        stamp = to_db_time(now)
        status = StarStatus.ELIGIBLE if application else StarStatus.GRANTED
        kind = NotificationKind.STAR_ELIGIBLE if application else NotificationKind.STAR_REACHED
        for volunteer_id, telegram_id, total, top in due:
            level = thresholds.level_for(total)
            granted_at = stamp if status is StarStatus.GRANTED else None
            async with self._db.transaction() as tx:
                if level > top + 1:  # levels passed on the way (no message of their own)
                    await tx.execute_many(
                        "INSERT INTO volunteer_stars (volunteer_id, level, status, reached_at, "
                        "granted_at) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (volunteer_id, level) DO NOTHING",
                        [
                            (volunteer_id, reached, status.value, stamp, granted_at)
                            for reached in range(top + 1, level)
                        ],
                    )
                # Only the transaction that wrote the highest level's row congratulates.
                wrote = await tx.fetch_one(
                    "INSERT INTO volunteer_stars (volunteer_id, level, status, reached_at, "
                    "granted_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (volunteer_id, level) DO NOTHING RETURNING level",
                    (volunteer_id, level, status.value, stamp, granted_at),
                )
                if wrote is not None and telegram_id is not None:
                    queued += await OutboxRepository.enqueue(
                        tx,
                        Notification(
                            kind=kind,
                            telegram_id=telegram_id,
                            subject=f"level:{level}",
                            payload={"level": level, "minutes": total},
                            due_at=now,
                        ),
                        now,
                    )
        async with self._db.transaction() as tx:
            granted = await tx.fetch_all(
                "UPDATE volunteer_stars SET status = 'granted', granted_at = ? "
                "WHERE status = 'publicised' AND publicity_ends_at <= ? "
                "RETURNING volunteer_id, level",
                (stamp, stamp),
            )
            for row in granted:
                found = await tx.fetch_one(
                    "SELECT telegram_id FROM volunteers WHERE volunteer_id = ?",
                    (row["volunteer_id"],),
                )
                if found is None or found["telegram_id"] is None:
                    continue
                queued += await OutboxRepository.enqueue(
                    tx,
                    Notification(
                        kind=NotificationKind.STAR_GRANTED,
                        telegram_id=found["telegram_id"],
                        subject=f"level:{row['level']}",
                        payload={"level": row["level"]},
                        due_at=now,
                    ),
                    now,
                )
        return queued
