"""storage.db: pragmas, transactions, serialization of writers, isolation of the read connection."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from storage.backends import open_database
from storage.db import Database, SqliteDatabase, from_db_time, to_db_time, utcnow

# SQLite itself: its files, pragmas and the migration runner on files.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
async def raw(tmp_path: Path):
    """An open database with one counter table (no migrations needed here)."""
    database = await SqliteDatabase.open_file(tmp_path / "nested" / "dir" / "t.sqlite3")
    async with database.transaction() as tx:
        await tx.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
        await tx.execute("INSERT INTO counter (id, n) VALUES (1, 0)")
    try:
        yield database
    finally:
        await database.close()


async def counter(db: Database) -> int:
    row = await db.fetch_one("SELECT n FROM counter WHERE id = 1")
    assert row is not None
    return int(row["n"])


async def test_open_creates_parent_folder_and_sets_pragmas(raw: SqliteDatabase) -> None:
    assert raw.path.parent.is_dir()
    mode = await raw.fetch_one("PRAGMA journal_mode")
    assert mode is not None and mode[0] == "wal"
    async with raw.transaction() as tx:
        fk = await tx.fetch_one("PRAGMA foreign_keys")
        busy = await tx.fetch_one("PRAGMA busy_timeout")
        sync = await tx.fetch_one("PRAGMA synchronous")
    assert fk is not None and fk[0] == 1
    assert busy is not None and busy[0] == 5000
    assert sync is not None and sync[0] == 1  # NORMAL
    for pragma, value in (("secure_delete", 1), ("cache_size", -2000)):  # SQLite's 2 MB
        assert (await raw.fetch_one(f"PRAGMA {pragma}") or [None])[0] == value, pragma
    assert (await raw.fetch_one("PRAGMA query_only") or [None])[0] == 1  # the read connection


async def test_the_page_cache_is_the_setting_on_both_connections_and_after_analyze(
    tmp_path: Path,
) -> None:
    """``SQLITE_CACHE_MB`` (issue #14); ``analyze`` reopens the read connection with it."""
    database = await open_database(tmp_path / "cached.sqlite3", sqlite_cache_mb=48)
    try:
        assert (await database.fetch_one("PRAGMA cache_size") or [None])[0] == -48 * 1024
        async with database.transaction() as tx:
            assert (await tx.fetch_one("PRAGMA cache_size") or [None])[0] == -48 * 1024
        await database.analyze()
        assert (await database.fetch_one("PRAGMA cache_size") or [None])[0] == -48 * 1024
    finally:
        await database.close()


async def test_foreign_keys_are_enforced(raw: SqliteDatabase) -> None:
    async with raw.transaction() as tx:
        await tx.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await tx.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent)")
    with pytest.raises(Exception, match="FOREIGN KEY"):
        async with raw.transaction() as tx:
            await tx.execute("INSERT INTO child (id, p) VALUES (1, 42)")


async def test_commit_and_rollback(raw: SqliteDatabase) -> None:
    async with raw.transaction() as tx:
        changed = await tx.execute("UPDATE counter SET n = 5 WHERE id = 1")
    assert changed == 1
    assert await counter(raw) == 5

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with raw.transaction() as tx:
            await tx.execute("UPDATE counter SET n = 99 WHERE id = 1")
            row = await tx.fetch_one("SELECT n FROM counter WHERE id = 1")
            assert row is not None and row["n"] == 99  # the transaction sees its own write
            raise Boom
    assert await counter(raw) == 5
    # The connection is usable again afterwards.
    async with raw.transaction() as tx:
        await tx.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
    assert await counter(raw) == 6


async def test_execute_many_and_fetch_all(raw: SqliteDatabase) -> None:
    async with raw.transaction() as tx:
        await tx.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        inserted = await tx.execute_many(
            "INSERT INTO item (id, name) VALUES (?, ?)", [(i, f"item {i}") for i in range(10)]
        )
        last = await tx.fetch_one("INSERT INTO item (name) VALUES (?) RETURNING id", ("x",))
    assert inserted == 10
    assert last is not None and last["id"] == 10
    rows = await raw.fetch_all("SELECT id, name FROM item WHERE id < ? ORDER BY id", (3,))
    assert [dict(row) for row in rows] == [
        {"id": 0, "name": "item 0"},
        {"id": 1, "name": "item 1"},
        {"id": 2, "name": "item 2"},
    ]
    assert await raw.fetch_one("SELECT id FROM item WHERE id = -1") is None


async def test_concurrent_read_modify_write_loses_no_increment(raw: SqliteDatabase) -> None:
    async def increment() -> None:
        async with raw.transaction() as tx:
            row = await tx.fetch_one("SELECT n FROM counter WHERE id = 1")
            assert row is not None
            await asyncio.sleep(0)  # yield to the others mid-transaction: they must wait
            await tx.execute("UPDATE counter SET n = ? WHERE id = 1", (row["n"] + 1,))

    await asyncio.gather(*(increment() for _ in range(50)))
    assert await counter(raw) == 50


async def test_conditional_update_respects_capacity_under_concurrency(raw: SqliteDatabase) -> None:
    async with raw.transaction() as tx:
        await tx.execute("CREATE TABLE slot (id INTEGER PRIMARY KEY, taken INTEGER, cap INTEGER)")
        await tx.execute("INSERT INTO slot VALUES (1, 0, 7)")

    async def take() -> bool:
        async with raw.transaction() as tx:
            changed = await tx.execute(
                "UPDATE slot SET taken = taken + 1 WHERE id = 1 AND taken < cap"
            )
        return changed == 1

    results = await asyncio.gather(*(take() for _ in range(30)))
    assert results.count(True) == 7
    row = await raw.fetch_one("SELECT taken FROM slot")
    assert row is not None and row["taken"] == 7


async def test_reads_do_not_see_uncommitted_writes(raw: SqliteDatabase) -> None:
    written = asyncio.Event()
    checked = asyncio.Event()

    async def writer() -> None:
        async with raw.transaction() as tx:
            await tx.execute("UPDATE counter SET n = 123 WHERE id = 1")
            written.set()
            await checked.wait()

    task = asyncio.create_task(writer())
    await written.wait()
    assert await counter(raw) == 0  # the read connection sees the last committed value
    checked.set()
    await task
    assert await counter(raw) == 123  # and sees the commit right after


async def test_read_connection_refuses_writes(raw: SqliteDatabase) -> None:
    with pytest.raises(Exception, match=r"readonly|read-only|query_only"):
        await raw.fetch_all("UPDATE counter SET n = 1")


async def test_nested_transaction_in_same_task_is_an_error_not_a_deadlock(
    raw: SqliteDatabase,
) -> None:
    with pytest.raises(RuntimeError, match="nested"):
        async with raw.transaction(), raw.transaction():
            pass  # pragma: no cover
    async with raw.transaction() as tx:  # the failed attempt left nothing open
        await tx.execute("UPDATE counter SET n = 1 WHERE id = 1")
    assert await counter(raw) == 1


async def test_transaction_object_is_unusable_after_its_block(raw: SqliteDatabase) -> None:
    async with raw.transaction() as tx:
        pass
    with pytest.raises(RuntimeError, match="finished"):
        await tx.execute("UPDATE counter SET n = 1")


async def test_cancelled_transaction_rolls_back_and_releases_the_lock(raw: SqliteDatabase) -> None:
    inside = asyncio.Event()

    async def stuck() -> None:
        async with raw.transaction() as tx:
            await tx.execute("UPDATE counter SET n = 77 WHERE id = 1")
            inside.set()
            await asyncio.Event().wait()  # until cancelled

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await counter(raw) == 0
    async with raw.transaction() as tx:
        await tx.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
    assert await counter(raw) == 1


async def test_close_waits_for_running_transaction_and_data_survives(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    db = await open_database(path)
    inside = asyncio.Event()

    async def write() -> None:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
            inside.set()
            await tx.execute("INSERT INTO t VALUES (1)")

    task = asyncio.create_task(write())
    await inside.wait()
    await db.close()
    await task
    assert db.closed
    await db.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await db.fetch_all("SELECT 1")
    assert not path.with_name(path.name + "-wal").exists()  # checkpointed on close

    reopened = await open_database(path)
    try:
        rows = await reopened.fetch_all("SELECT x FROM t")
        assert [row["x"] for row in rows] == [1]
    finally:
        await reopened.close()


def test_time_helpers_are_aware_utc_and_fixed_width() -> None:
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2026, 11, 24, 1, 40, tzinfo=shanghai)
    text = to_db_time(moment)
    assert text == "2026-11-23T17:40:00.000000+00:00"
    assert from_db_time(text) == moment
    assert from_db_time(text).tzinfo is UTC
    assert to_db_time(datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)) == (
        "2026-01-01T00:00:00.123456+00:00"
    )
    assert utcnow().tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        to_db_time(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="offset"):
        from_db_time("2026-01-01T00:00:00")


async def test_analyze_gives_the_planner_statistics_and_reads_keep_working(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        await tx.execute_many("INSERT INTO t (v) VALUES (?)", [(str(i),) for i in range(50)])
        await tx.execute("CREATE INDEX t_v ON t (v)")
    await db.analyze()
    stats = await db.fetch_all("SELECT tbl, idx FROM sqlite_stat1 WHERE tbl = 't'")
    assert {row["idx"] for row in stats} >= {"t_v"}
    assert (await db.fetch_one("SELECT COUNT(*) AS n FROM t"))["n"] == 50  # type: ignore[index]
