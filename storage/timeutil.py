"""The one place where times cross the database boundary.

Every timestamp in the database is UTC, stored as ISO-8601 TEXT with a fixed shape:
``2026-11-23T17:40:00.123456+00:00`` (always microseconds, always ``+00:00``).
The fixed width matters: SQL compares these strings (``due_at <= ?``), and string order equals
time order only when every value has the same shape. A PostgreSQL backend would use
``timestamptz`` and hand ``datetime`` objects through unchanged.

Code that stamps times never calls the system clock directly: it takes ``now: datetime`` from the
caller, and callers get it from a :class:`Clock` (``utcnow`` in production, a fake in tests).
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import Clock
from bot.clock import system_clock as utcnow

__all__ = ["Clock", "from_db_time", "to_db_time", "utcnow"]


def to_db_time(value: datetime) -> str:
    """Format an aware ``datetime`` for the database; naive values are refused, not guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to store a naive datetime: {value!r} (pass an aware UTC time)")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(value: str) -> datetime:
    """Parse a timestamp written by :func:`to_db_time` back into an aware UTC ``datetime``."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"timestamp in the database has no UTC offset: {value!r}")
    return parsed.astimezone(UTC)
