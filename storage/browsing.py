"""The ``browse_sessions`` table (migration 0015): a volunteer's last search and location."""

from __future__ import annotations

import json
from datetime import datetime

from bot.domain.geo import Point
from storage.db import Database
from storage.timeutil import from_db_time, to_db_time


class BrowseSessionsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save_search(self, telegram_id: int, words: list[str]) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO browse_sessions (telegram_id, search_words) VALUES (?, ?) "
                "ON CONFLICT (telegram_id) DO UPDATE SET search_words = excluded.search_words",
                (telegram_id, json.dumps(words, ensure_ascii=False)),
            )

    async def search(self, telegram_id: int) -> list[str]:
        row = await self._db.fetch_one(
            "SELECT search_words FROM browse_sessions WHERE telegram_id = ? LIMIT 1",
            (telegram_id,),
        )
        if row is None or row["search_words"] is None:
            return []
        words = json.loads(row["search_words"])
        return [str(word) for word in words] if isinstance(words, list) else []

    async def save_location(self, telegram_id: int, point: Point, now: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO browse_sessions (telegram_id, latitude, longitude, located_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET "
                "latitude = excluded.latitude, longitude = excluded.longitude, "
                "located_at = excluded.located_at",
                (telegram_id, point.latitude, point.longitude, to_db_time(now)),
            )

    async def location(self, telegram_id: int) -> tuple[Point, datetime] | None:
        row = await self._db.fetch_one(
            "SELECT latitude, longitude, located_at FROM browse_sessions "
            "WHERE telegram_id = ? AND located_at IS NOT NULL LIMIT 1",
            (telegram_id,),
        )
        if row is None:
            return None
        return Point(row["latitude"], row["longitude"]), from_db_time(row["located_at"])
