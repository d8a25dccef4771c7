"""What browsing remembers between pages: the last search and a recently shared location."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from bot.clock import Clock
from bot.domain.geo import Point
from storage.browsing import BrowseSessionsRepository

#: A shared location is reused this long for "Near me" (the consent text says two hours).
LOCATION_MAX_AGE: Final = timedelta(hours=2)


class BrowsingService:
    def __init__(self, sessions: BrowseSessionsRepository, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def remember_search(self, telegram_id: int, words: list[str]) -> None:
        await self._sessions.save_search(telegram_id, words)

    async def last_search(self, telegram_id: int) -> list[str]:
        return await self._sessions.search(telegram_id)

    async def remember_location(self, telegram_id: int, point: Point) -> None:
        await self._sessions.save_location(telegram_id, point, self._clock())

    async def recent_location(self, telegram_id: int) -> Point | None:
        """The location shared within :data:`LOCATION_MAX_AGE`, else ``None``."""
        found = await self._sessions.location(telegram_id)
        if found is None:
            return None
        point, shared_at = found
        return point if self._clock() - shared_at <= LOCATION_MAX_AGE else None
