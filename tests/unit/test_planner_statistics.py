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
