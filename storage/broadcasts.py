"""Broadcasts, the drafts administrators compose them in, and who they reach (migration 0012).

The audience queries read volunteers in Telegram-id order after a resume point (keyset
pagination on the unique ``volunteers.telegram_id`` index), so each chunk is one index range
and a resumed queuing picks up exactly where it stopped. See :mod:`bot.domain.broadcasts` for
who belongs to which audience.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.broadcasts import (
    Audience,
    AudienceKind,
    Broadcast,
    BroadcastDraft,
    BroadcastStatus,
)
from storage.audiences import VOLUNTEER_USERS, reachable_volunteer
from storage.db import Database, Row, Transaction
from storage.outbox import QUIET_HOURS
from storage.timeutil import from_db_time, to_db_time

__all__ = ["BroadcastsRepository"]

_COLUMNS = (
    "broadcast_id, created_by, text, audience_kind, audience_code, status, recipients, "
    "queued_through, created_at, queued_at, cancelled_at"
)

# Live (not deleted) volunteers whose account is reachable, paused ones included: a broadcast
# is an announcement from the administrators (see bot/services/broadcasts.py).
_REACHABLE = f" FROM {VOLUNTEER_USERS} WHERE {reachable_volunteer(respect_pause=False)} "

_AUDIENCE_FILTERS: dict[AudienceKind, str] = {
    AudienceKind.ALL: "",
    # The area itself or an area directly below it (streets under a district, later).
    AudienceKind.AREA: (
        " AND (v.area_code = ? OR v.area_code IN (SELECT code FROM areas WHERE parent_code = ?))"
    ),
    AudienceKind.CATEGORY: (
        " AND EXISTS (SELECT 1 FROM volunteer_categories vc "
        "WHERE vc.volunteer_id = v.volunteer_id AND vc.category_code = ?)"
    ),
}


def _audience_sql(audience: Audience) -> tuple[str, tuple[object, ...]]:
    where = _AUDIENCE_FILTERS[audience.kind]
    if audience.kind is AudienceKind.ALL:
        return where, ()
    if audience.kind is AudienceKind.AREA:
        return where, (audience.code, audience.code)
    return where, (audience.code,)


def _time(value: str | None) -> datetime | None:
    return from_db_time(value) if value is not None else None


def _to_broadcast(row: Row) -> Broadcast:
    return Broadcast(
        broadcast_id=row["broadcast_id"],
        created_by=row["created_by"],
        text=row["text"],
        audience=Audience(kind=AudienceKind(row["audience_kind"]), code=row["audience_code"]),
        status=BroadcastStatus(row["status"]),
        recipients=row["recipients"],
        queued_through=row["queued_through"],
        created_at=from_db_time(row["created_at"]),
        queued_at=_time(row["queued_at"]),
        cancelled_at=_time(row["cancelled_at"]),
    )


def _to_draft(row: Row) -> BroadcastDraft:
    kind = row["audience_kind"]
    audience = (
        Audience(kind=AudienceKind(kind), code=row["audience_code"]) if kind is not None else None
    )
    return BroadcastDraft(
        telegram_id=row["telegram_id"],
        text=row["text"],
        audience=audience,
        updated_at=from_db_time(row["updated_at"]),
    )


class BroadcastsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- drafts ----------------------------------------------------------------------------------

    async def get_draft(self, telegram_id: int) -> BroadcastDraft | None:
        row = await self._db.fetch_one(
            "SELECT telegram_id, text, audience_kind, audience_code, updated_at "
            "FROM broadcast_drafts WHERE telegram_id = ?",
            (telegram_id,),
        )
        return _to_draft(row) if row is not None else None

    async def save_draft(self, draft: BroadcastDraft) -> None:
        audience = draft.audience
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO broadcast_drafts "
                "(telegram_id, text, audience_kind, audience_code, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET "
                "text = excluded.text, audience_kind = excluded.audience_kind, "
                "audience_code = excluded.audience_code, updated_at = excluded.updated_at",
                (
                    draft.telegram_id,
                    draft.text,
                    audience.kind.value if audience is not None else None,
                    audience.code if audience is not None else None,
                    to_db_time(draft.updated_at),
                ),
            )

    async def delete_draft(self, telegram_id: int) -> None:
        async with self._db.transaction() as tx:
            await self.delete_draft_in(tx, telegram_id)

    @staticmethod
    async def delete_draft_in(
        tx: Transaction, telegram_id: int, *, updated_at: datetime | None = None
    ) -> bool:
        """Delete the draft (with ``updated_at``: only that version of it); ``False`` when
        there was none (sent by another press meanwhile, or edited since it was read)."""
        if updated_at is None:
            changed = await tx.execute(
                "DELETE FROM broadcast_drafts WHERE telegram_id = ?", (telegram_id,)
            )
        else:
            changed = await tx.execute(
                "DELETE FROM broadcast_drafts WHERE telegram_id = ? AND updated_at = ?",
                (telegram_id, to_db_time(updated_at)),
            )
        return changed > 0

    # -- audiences -------------------------------------------------------------------------------

    async def count_audience(self, audience: Audience) -> int:
        where, params = _audience_sql(audience)
        row = await self._db.fetch_one(f"SELECT COUNT(*) AS n {_REACHABLE}{where}", params)
        return int(row["n"]) if row is not None else 0

    @staticmethod
    async def audience_chunk(
        tx: Transaction, audience: Audience, after: int, limit: int
    ) -> list[int]:
        """The next ``limit`` recipients' Telegram ids greater than ``after``, in order."""
        where, params = _audience_sql(audience)
        rows = await tx.fetch_all(
            f"SELECT v.telegram_id {_REACHABLE}{where} AND v.telegram_id > ? "
            "ORDER BY v.telegram_id LIMIT ?",
            (*params, after, limit),
        )
        return [int(row["telegram_id"]) for row in rows]

    async def held_for_quiet_hours(
        self, batch_key: str, now: datetime
    ) -> tuple[int, datetime | None, datetime | None]:
        """Pending rows of a mass sending that delivery deferred to the end of the recipients'
        quiet hours (``OutboxRepository.defer`` marks them), and the first and last time they
        are due."""
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n, MIN(due_at) AS first, MAX(due_at) AS last FROM outbox "
            "WHERE batch_key = ? AND status = 'pending' AND last_error = ? AND due_at > ?",
            (batch_key, QUIET_HOURS, to_db_time(now)),
        )
        if row is None:
            return 0, None, None
        return int(row["n"]), _time(row["first"]), _time(row["last"])

    # -- broadcasts ------------------------------------------------------------------------------

    @staticmethod
    async def create(
        tx: Transaction, created_by: int, text: str, audience: Audience, now: datetime
    ) -> Broadcast:
        row = await tx.fetch_one(
            "INSERT INTO broadcasts (created_by, text, audience_kind, audience_code, status, "
            f"created_at) VALUES (?, ?, ?, ?, 'queuing', ?) RETURNING {_COLUMNS}",
            (created_by, text, audience.kind.value, audience.code, to_db_time(now)),
        )
        if row is None:  # pragma: no cover - INSERT ... RETURNING always yields the row
            raise RuntimeError("inserting a broadcast returned no row")
        return _to_broadcast(row)

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE broadcast_id = ?", (broadcast_id,)
        )
        return _to_broadcast(row) if row is not None else None

    @staticmethod
    async def get_in(tx: Transaction, broadcast_id: int) -> Broadcast | None:
        row = await tx.fetch_one(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE broadcast_id = ?", (broadcast_id,)
        )
        return _to_broadcast(row) if row is not None else None

    async def recent(self, limit: int) -> list[Broadcast]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM broadcasts ORDER BY created_at DESC, broadcast_id DESC "
            "LIMIT ?",
            (limit,),
        )
        return [_to_broadcast(row) for row in rows]

    async def queuing_ids(self) -> list[int]:
        """Broadcasts whose queuing stopped half-way (the bot stopped while queuing)."""
        rows = await self._db.fetch_all(
            "SELECT broadcast_id FROM broadcasts WHERE status = 'queuing' ORDER BY broadcast_id"
        )
        return [row["broadcast_id"] for row in rows]

    @staticmethod
    async def advance(
        tx: Transaction, broadcast_id: int, through: int, added: int, *, after: int
    ) -> bool:
        """One chunk was queued: move the resume point and count the new rows.

        Only if the broadcast is still queuing from ``after`` (the resume point the chunk was
        read from): ``False`` when it was cancelled or another process queued that chunk
        first, and the caller rolls its chunk back and reads again."""
        changed = await tx.execute(
            "UPDATE broadcasts SET queued_through = ?, recipients = recipients + ? "
            "WHERE broadcast_id = ? AND status = 'queuing' AND queued_through = ?",
            (through, added, broadcast_id, after),
        )
        return changed > 0

    @staticmethod
    async def mark_queued(tx: Transaction, broadcast_id: int, now: datetime) -> None:
        await tx.execute(
            "UPDATE broadcasts SET status = 'queued', queued_at = ? "
            "WHERE broadcast_id = ? AND status = 'queuing'",
            (to_db_time(now), broadcast_id),
        )

    async def mark_cancelled(self, broadcast_id: int, by: int, now: datetime) -> bool:
        """``False`` when it was already cancelled (the first cancellation is kept)."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE broadcasts SET status = 'cancelled', cancelled_at = ?, cancelled_by = ? "
                "WHERE broadcast_id = ? AND status <> 'cancelled'",
                (to_db_time(now), by, broadcast_id),
            )
        return changed > 0
