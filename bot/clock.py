"""Time as the program sees it. Everything that stamps or compares times takes a ``Clock`` so
tests (and the scheduler's tests especially) can move time without waiting for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The production clock: the system time as an aware UTC datetime."""
    return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (for tests and demos)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)
