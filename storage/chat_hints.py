"""When each group or supergroup was last told that the bot works in private chats only."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import Database
from storage.timeutil import to_db_time


class ChatHintsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, chat_id: int, now: datetime, window: timedelta) -> bool:
        """True when this caller may hint ``chat_id`` now: never hinted, or longer ago than
        ``window``. The check and the stamp are one statement, so of several processes handling
        the same chat at once exactly one wins."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO chat_hints (chat_id, hinted_at) VALUES (?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET hinted_at = excluded.hinted_at "
                "WHERE chat_hints.hinted_at <= ? RETURNING chat_id",
                (chat_id, to_db_time(now), to_db_time(now - window)),
            )
        return row is not None
