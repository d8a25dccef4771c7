"""Awards (table ``awards`` of migration 0019) and the volunteers an award may be for."""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.awards import Award, NewAward, VolunteerBrief
from bot.domain.notifications import Notification, NotificationKind
from storage.db import Database, Row
from storage.outbox import OutboxRepository
from storage.timeutil import from_db_time, to_db_time

__all__ = ["AwardsRepository"]

_COLUMNS = (
    "award_id, volunteer_id, title, issuer, awarded_on, organization_id, entered_by, entered_at"
)


def _to_award(row: Row) -> Award:
    return Award(
        award_id=row["award_id"],
        volunteer_id=row["volunteer_id"],
        title=row["title"],
        issuer=row["issuer"],
        awarded_on=date.fromisoformat(row["awarded_on"]),
        organization_id=row["organization_id"],
        entered_by=row["entered_by"],
        entered_at=from_db_time(row["entered_at"]),
    )


def _to_brief(row: Row) -> VolunteerBrief:
    return VolunteerBrief(
        volunteer_id=row["volunteer_id"], name=row["real_name"], telegram_id=row["telegram_id"]
    )


class AwardsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- whom for ------------------------------------------------------------------------------

    async def served_with_page(
        self, organization_id: int, page: int, page_size: int
    ) -> tuple[list[VolunteerBrief], int]:
        """Volunteers (not deleted) with a service record of the organization, by name."""
        where = (
            "FROM volunteers v WHERE v.deleted_at IS NULL AND EXISTS (SELECT 1 FROM "
            "service_records r WHERE r.volunteer_id = v.volunteer_id AND r.organization_id = ?)"
        )
        total = await self._db.fetch_one(f"SELECT COUNT(*) AS n {where}", (organization_id,))
        rows = await self._db.fetch_all(
            f"SELECT v.volunteer_id, v.real_name, v.telegram_id {where} "
            "ORDER BY v.real_name, v.volunteer_id LIMIT ? OFFSET ?",
            (organization_id, page_size, page * page_size),
        )
        return [_to_brief(row) for row in rows], int(total["n"]) if total is not None else 0

    async def served_with(self, volunteer_id: int, organization_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM service_records WHERE volunteer_id = ? AND organization_id = ? LIMIT 1",
            (volunteer_id, organization_id),
        )
        return row is not None

    async def volunteer(self, volunteer_id: int) -> VolunteerBrief | None:
        """A volunteer who has not deleted their account."""
        row = await self._db.fetch_one(
            "SELECT volunteer_id, real_name, telegram_id FROM volunteers "
            "WHERE volunteer_id = ? AND deleted_at IS NULL",
            (volunteer_id,),
        )
        return _to_brief(row) if row is not None else None

    async def volunteer_by_username(self, username: str) -> VolunteerBrief | None:
        """A volunteer by their Telegram @username (case-insensitive)."""
        row = await self._db.fetch_one(
            "SELECT v.volunteer_id, v.real_name, v.telegram_id FROM users u "
            "JOIN volunteers v ON v.telegram_id = u.telegram_id "
            "WHERE lower(u.username) = lower(?) AND v.deleted_at IS NULL "
            "ORDER BY u.last_seen_at DESC LIMIT 1",
            (username,),
        )
        return _to_brief(row) if row is not None else None

    # -- the awards ----------------------------------------------------------------------------

    async def add(
        self, new: NewAward, entered_by: int, recipient: int | None, now: datetime
    ) -> Award:
        """Store the award and, in the same transaction, tell the volunteer (``recipient``,
        their Telegram id; ``None`` when they cannot be reached)."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO awards (volunteer_id, title, issuer, awarded_on, organization_id, "
                f"entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                (
                    new.volunteer_id,
                    new.title,
                    new.issuer,
                    new.awarded_on.isoformat(),
                    new.organization_id,
                    entered_by,
                    to_db_time(now),
                ),
            )
            assert row is not None  # INSERT … RETURNING returns the row
            award = _to_award(row)
            if recipient is not None:
                await OutboxRepository.enqueue(
                    tx,
                    Notification(
                        kind=NotificationKind.AWARD_GRANTED,
                        telegram_id=recipient,
                        subject=f"award:{award.award_id}",
                        payload={"award_id": award.award_id},
                        due_at=now,
                    ),
                    now,
                )
        return award

    async def get(self, award_id: int) -> Award | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM awards WHERE award_id = ?", (award_id,)
        )
        return _to_award(row) if row is not None else None

    async def awards_of(self, volunteer_id: int) -> list[Award]:
        """A volunteer's awards, latest first."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM awards WHERE volunteer_id = ? "
            "ORDER BY awarded_on DESC, award_id DESC",
            (volunteer_id,),
        )
        return [_to_award(row) for row in rows]
