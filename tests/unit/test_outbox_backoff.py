"""After an outage the outbox need not wait out its backoff: rows retried because the Bot API
could not be reached are made due at once when it answers again, and no other row is moved.
Runs on both backends (the end-to-end side is in ``tests/e2e/test_outages.py``)."""

from __future__ import annotations

from datetime import timedelta

from bot.delivery import API_UNREACHABLE, MAX_BACKOFF
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.timeutil import to_db_time
from tests.factories import NOW, queue_broadcasts


async def test_only_rows_waiting_on_the_api_are_brought_forward(db: Database) -> None:
    await queue_broadcasts(db, range(5001, 5006), "backoff")
    outbox = OutboxRepository(db)
    first, second, third, fourth, fifth = (
        item.notification_id for item in await outbox.claim_due(NOW, timedelta(minutes=1), 10)
    )
    minute = timedelta(minutes=1)
    await outbox.retry_at(first, NOW + 2 * minute, f"{API_UNREACHABLE}Connection refused")
    await outbox.retry_at(
        second, NOW + minute, "renderer: ValueError('boom')"
    )  # a bug, not the API
    await outbox.defer(third, NOW + minute)  # quiet hours
    await outbox.retry_at(fourth, NOW + 10 * minute, f"{API_UNREACHABLE}Bad Gateway")  # too far
    # ``fifth`` stays leased: in another run's hands.

    assert await outbox.bring_forward(NOW, MAX_BACKOFF, API_UNREACHABLE) == 1
    due = await OutboxRepository(db).claim_due(NOW, timedelta(minutes=1), 10)
    assert [item.notification_id for item in due] == [first]
    assert await outbox.bring_forward(NOW, MAX_BACKOFF, API_UNREACHABLE) == 0  # nothing twice
    rows = {
        row["notification_id"]: (str(row["due_at"]), row["lease_until"] is not None)
        for row in await db.fetch_all("SELECT notification_id, due_at, lease_until FROM outbox")
    }
    assert rows[second] == (to_db_time(NOW + minute), False)
    assert rows[third] == (to_db_time(NOW + minute), False)
    assert rows[fourth] == (to_db_time(NOW + 10 * minute), False)
    assert rows[fifth] == (to_db_time(NOW), True)
