"""storage.db on SQLite and PostgreSQL alike: ``Database.write`` (one statement committed on its
own: the inbox's store, claim and done) and ``Transaction.after_commit``."""

from __future__ import annotations

import asyncio

import pytest

from storage.db import Database

INSERT = (
    "INSERT INTO inbox (update_id, lane, payload, received_at, status) "
    "VALUES (?, 'p:1', '{}', '2026-11-23T02:00:00.000000+00:00', 'pending') "
    "ON CONFLICT (update_id) DO NOTHING RETURNING update_id"
)


async def stored(db: Database) -> list[int]:
    rows = await db.fetch_all("SELECT update_id FROM inbox ORDER BY update_id")
    return [int(row["update_id"]) for row in rows]


async def test_a_write_is_committed_and_returns_its_rows(db: Database) -> None:
    assert [int(row["update_id"]) for row in await db.write(INSERT, (7,))] == [7]
    assert await db.write(INSERT, (7,)) == []  # the repeat inserted nothing, returned nothing
    assert await stored(db) == [7]  # seen by the read connection: committed


async def test_a_write_is_not_part_of_a_transaction_another_task_has_open(db: Database) -> None:
    """The other task's transaction rolls back; the write, made while it was open, stays."""
    inside, written = asyncio.Event(), asyncio.Event()

    class Undo(Exception):
        pass

    async def rolled_back() -> None:
        async with db.transaction() as tx:
            await tx.execute(INSERT, (1,))
            inside.set()
            await written.wait()
            raise Undo

    other = asyncio.create_task(rolled_back())
    await inside.wait()
    write = asyncio.create_task(db.write(INSERT, (2,)))
    # On SQLite the write waits for the transaction lock; on PostgreSQL it goes ahead on its
    # own connection. Either way it must end up committed alone.
    await asyncio.sleep(0)
    written.set()
    with pytest.raises(Undo):
        await other
    await write
    assert await stored(db) == [2]


async def test_a_write_inside_a_transaction_of_the_same_task_is_refused(db: Database) -> None:
    with pytest.raises(RuntimeError, match=r"write\(\) inside"):
        async with db.transaction():
            await db.write(INSERT, (3,))
    await db.write(INSERT, (4,))  # nothing was left open or locked
    assert await stored(db) == [4]


async def test_after_commit_runs_once_committed_and_never_after_a_rollback(db: Database) -> None:
    seen: list[str] = []

    async with db.transaction() as tx:
        await tx.execute(INSERT, (5,))
        tx.after_commit(lambda: seen.append("first"))
        tx.after_commit(lambda: seen.append("second"))
        assert seen == []  # not before the commit
    assert seen == ["first", "second"]

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with db.transaction() as tx:
            await tx.execute(INSERT, (6,))
            tx.after_commit(lambda: seen.append("rolled back"))
            raise Undo
    assert seen == ["first", "second"]
    assert await stored(db) == [5]
