"""Who revealed whose phone number on which roster, when and why (issue #15 item 6)."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database, Transaction
from storage.timeutil import to_db_time


class ContactRevealsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        viewer_telegram_id: int,
        volunteer_id: int,
        activity_id: int,
        reason: str,
        now: datetime,
    ) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO contact_reveals (viewer_telegram_id, volunteer_id, activity_id, "
                "reason, revealed_at) VALUES (?, ?, ?, ?, ?)",
                (viewer_telegram_id, volunteer_id, activity_id, reason, to_db_time(now)),
            )

    @staticmethod
    async def export_in(tx: Transaction, volunteer_id: int) -> list[dict[str, object]]:
        """For the volunteer's data export: every reveal of their number, oldest first."""
        rows = await tx.fetch_all(
            "SELECT r.viewer_telegram_id, u.first_name AS viewer_name, r.activity_id, "
            "a.title AS activity_title, r.reason, r.revealed_at FROM contact_reveals r "
            "LEFT JOIN users u ON u.telegram_id = r.viewer_telegram_id "
            "LEFT JOIN activities a ON a.activity_id = r.activity_id "
            "WHERE r.volunteer_id = ? ORDER BY r.revealed_at, r.reveal_id",
            (volunteer_id,),
        )
        columns = (
            "viewer_telegram_id",
            "viewer_name",
            "activity_id",
            "activity_title",
            "reason",
            "revealed_at",
        )
        return [{column: row[column] for column in columns} for row in rows]
