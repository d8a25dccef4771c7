"""The planner's statistics are refreshed at start-up only when they are missing or the big
tables have grown well past them (#14: ``ANALYZE`` no longer runs on every start)."""

from __future__ import annotations

import pytest

from storage.db import STALE_ROWS_SLACK, Database
from tests.factories import add_user

pytestmark = pytest.mark.sqlite_only


async def test_statistics_are_stale_when_missing_or_outgrown(db: Database) -> None:
    assert await db.statistics_stale()  # a new database: never analyzed
    await db.analyze()
    assert not await db.statistics_stale()  # just taken
    for _ in range(STALE_ROWS_SLACK + 5):
        await add_user(db)
    assert await db.statistics_stale()  # users grew from 0 to over the slack
    await db.analyze()
    assert not await db.statistics_stale()


async def test_rows_deleted_again_are_not_growth(db: Database) -> None:
    """The largest rowid only bounds the rows: past the limit, the rows are counted."""
    await add_user(db)
    await db.analyze()  # one user: stale beyond 2 × 1 + the slack
    limit = 2 + STALE_ROWS_SLACK
    for _ in range(limit + 3):
        await add_user(db)
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM users WHERE rowid <= ?", (limit,))
    largest = await db.fetch_one("SELECT MAX(rowid) AS n FROM users")
    assert largest is not None and largest["n"] > limit  # past the bound: counted
    assert not await db.statistics_stale()  # 2 rows
    for _ in range(limit - 1):
        await add_user(db)
    assert await db.statistics_stale()  # limit + 1 rows
