"""Contention between processes (issue #21): joins and cancels of the same sign-ups at once, a
transaction PostgreSQL aborts for a deadlock, and an outbox lease that passed to another
deliverer.

A join takes the activity's row and then the sign-up's; cancels, offer answers and the
"Still coming?" No take the activity's row first too (:meth:`SignupsRepository.lock_activity`),
so PostgreSQL finds no lock cycle among them. Should two transactions still wait for each
other (or conflict under SERIALIZABLE), :meth:`storage.db.Database.retrying` runs the aborted
one again. Runs on both backends; the deadlock itself can only be made on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.domain.activities import Organization
from bot.services.signups import SignupRefused
from storage.backends import open_database
from storage.db import Database
from storage.outbox import OutboxRepository, OutboxStatus
from tests.conftest import on_postgres
from tests.factories import NOW, add_activity, add_organization, add_volunteer, queue_broadcasts
from tests.unit.test_concurrency import outcomes, signup_service, unexpected
from tests.unit.test_signup_service import assert_counters_right


@pytest.fixture
async def other(db: Database, db_path: Path) -> AsyncIterator[Database]:
    second = await open_database(db_path)
    try:
        yield second
    finally:
        await second.close()


@pytest.fixture
async def org(db: Database) -> Organization:
    return await add_organization(db)


async def test_joins_and_cancels_of_the_same_signups_at_once_never_fail(
    db: Database, other: Database, org: Organization
) -> None:
    clock = ManualClock(NOW)
    services = (signup_service(db, clock), signup_service(other, clock))
    activity = await add_activity(db, org, capacity=4)
    people = [await add_volunteer(db) for _ in range(12)]
    for person in people[:6]:
        await services[0].join_waitlist(person.telegram_id, activity.activity_id)
    for round_number in range(4):
        # Each person joins through one process while cancelling through the other: on the
        # same sign-up row and the same activity row, in whichever order they get there.
        actions: list[Awaitable[object]] = []
        for n, person in enumerate(people):
            joiner, canceller = (
                services[(n + round_number) % 2],
                services[(n + round_number + 1) % 2],
            )
            actions.append(joiner.join_waitlist(person.telegram_id, activity.activity_id))
            actions.append(canceller.cancel(person.telegram_id, activity.activity_id))
        results = await outcomes(actions)
        assert unexpected(results, SignupRefused) == []
        counted = await assert_counters_right(db, activity.activity_id)
        assert counted.confirmed + counted.offered <= 4


@pytest.mark.skipif(
    not on_postgres(), reason="only PostgreSQL aborts a transaction to break a lock cycle"
)
async def test_a_deadlocked_transaction_is_run_again(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Two transactions take two rows in opposite orders: PostgreSQL aborts one (40P01) and
    ``retrying`` runs it again, so both complete, and the retry is logged once."""
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE lock_pair (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
        await tx.execute("INSERT INTO lock_pair (k, v) VALUES (1, 0), (2, 0)")
    holding = [asyncio.Event(), asyncio.Event()]
    tries = [0, 0]

    def work(me: int, first: int, second: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            tries[me] += 1
            async with db.transaction() as tx:
                await tx.execute("UPDATE lock_pair SET v = v + 1 WHERE k = ?", (first,))
                holding[me].set()
                # Both hold their first row before either asks for its second: a cycle.
                await holding[1 - me].wait()
                await tx.execute("UPDATE lock_pair SET v = v + 1 WHERE k = ?", (second,))

        return run

    with caplog.at_level(logging.INFO, logger="storage.postgres"):
        await asyncio.gather(db.retrying(work(0, 1, 2)), db.retrying(work(1, 2, 1)))
    rows = await db.fetch_all("SELECT k, v FROM lock_pair ORDER BY k")
    assert [(row["k"], row["v"]) for row in rows] == [(1, 2), (2, 2)]
    assert sorted(tries) == [1, 2]
    retried = [r for r in caplog.records if "running it again" in r.getMessage()]
    assert len(retried) == 1 and "40P01" in retried[0].getMessage()


async def test_a_deliverer_past_its_lease_leaves_the_new_holders_rows_alone(
    db: Database, other: Database
) -> None:
    """Instance A claims two rows and stalls past its lease; B claims them again. A's late
    ``retry_at`` of one and ``finish`` of the other change nothing (the leases on the rows are
    B's); B's ``finish`` does."""
    await queue_broadcasts(db, (4241, 4242), "lease")
    stalled, taker = OutboxRepository(db), OutboxRepository(other)
    lease = timedelta(minutes=1)
    mine = await stalled.claim_due(NOW, lease, 10)
    theirs = await taker.claim_due(NOW + 2 * lease, lease, 10)
    ids = [item.notification_id for item in mine]
    assert ids == [item.notification_id for item in theirs] and len(ids) == 2

    async def rows() -> list[tuple[str, str | None, str | None]]:
        found = await db.fetch_all(
            "SELECT status, lease_until, last_error FROM outbox ORDER BY notification_id"
        )
        return [(row["status"], row["lease_until"], row["last_error"]) for row in found]

    held = await rows()
    await stalled.retry_at(ids[0], NOW + 10 * lease, "timed out")
    await stalled.finish(ids[1], OutboxStatus.FAILED, NOW + 2 * lease, "late")
    assert await rows() == held  # still pending, under B's leases
    for notification_id in ids:
        await taker.finish(notification_id, OutboxStatus.SENT, NOW + 2 * lease)
    assert [row[:2] for row in await rows()] == [(OutboxStatus.SENT, None)] * 2
