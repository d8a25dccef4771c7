"""The durable inbox and leases (issues #15 and #21): lanes, head-of-lane claims across two
processes, crash take-back, pruning, and the leases instances compete for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.inbox import lane_of, new_update
from storage.backends import open_database
from storage.db import Database
from storage.inbox import STORE_ROWS, InboxRepository, LeasesRepository, NewUpdate

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@pytest.fixture
async def other(db: Database, db_path: Path) -> AsyncIterator[Database]:
    second = await open_database(db_path)
    try:
        yield second
    finally:
        await second.close()


def private(update_id: int, user: int, text: str = "hi") -> NewUpdate:
    return new_update(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "from": {"id": user, "is_bot": False, "first_name": "U"},
                "chat": {"id": user, "type": "private"},
                "text": text,
            },
        }
    )


def test_lanes_keep_a_users_private_chat_apart_from_their_groups() -> None:
    user = {"id": 7, "is_bot": False, "first_name": "U"}
    assert lane_of({"message": {"from": user, "chat": {"id": 7, "type": "private"}}}) == "u:7"
    assert (
        lane_of({"message": {"from": user, "chat": {"id": -100, "type": "supergroup"}}})
        == "g:-100:7"
    )
    press = {"callback_query": {"from": user, "message": {"chat": {"id": 7, "type": "private"}}}}
    assert lane_of(press) == "u:7"
    assert lane_of({"channel_post": {"chat": {"id": -5, "type": "channel"}}}) == "none"
    with pytest.raises(ValueError, match="update_id"):
        new_update({"message": {}})


async def test_only_the_head_of_a_lane_is_claimed_and_in_order(db: Database) -> None:
    inbox = InboxRepository(db)
    stored = await inbox.store([private(1, 10), private(2, 10), private(3, 11)], NOW)
    assert stored == 3
    # A webhook retry of update 2 is stored once.
    assert await inbox.store([private(2, 10)], NOW) == 0
    first = await inbox.claim(NOW, LEASE, 10, "a")
    assert [item.update_id for item in first] == [1, 3]  # user 10's second update waits
    assert await inbox.claim(NOW, LEASE, 10, "a") == []  # heads are leased
    await inbox.done(1, NOW)
    second = await inbox.claim(NOW, LEASE, 10, "a")
    assert [item.update_id for item in second] == [2]
    assert json.loads(second[0].payload)["message"]["text"] == "hi"


async def test_a_batch_longer_than_one_statement_is_stored_whole_and_once(db: Database) -> None:
    """A batch goes in STORE_ROWS at a time; repeats anywhere in it are ignored."""
    inbox = InboxRepository(db)
    batch = [private(n, 1000 + n) for n in range(1, 2 * STORE_ROWS + 31)]
    assert await inbox.store(batch[:40], NOW) == 40
    # A retry of the whole batch after a failure half-way stores only what was missing.
    assert await inbox.store(batch, NOW) == len(batch) - 40
    assert await inbox.store(batch, NOW) == 0
    assert await inbox.pending() == len(batch)
    assert await inbox.last_update_id() == batch[-1].update_id


async def test_a_crashed_workers_update_is_claimed_again_after_its_lease(db: Database) -> None:
    inbox = InboxRepository(db)
    await inbox.store([private(1, 10)], NOW)
    assert [i.update_id for i in await inbox.claim(NOW, LEASE, 5, "gone")] == [1]
    assert await inbox.claim(NOW + LEASE - timedelta(seconds=1), LEASE, 5, "b") == []
    again = await inbox.claim(NOW + LEASE, LEASE, 5, "b")
    assert [(i.update_id, i.attempts) for i in again] == [(1, 2)]


async def test_a_restarted_instance_takes_back_its_own_leases_at_once(db: Database) -> None:
    inbox = InboxRepository(db)
    await inbox.store([private(1, 10), private(2, 11)], NOW)
    await inbox.claim(NOW, LEASE, 1, "host-a")
    await inbox.claim(NOW, LEASE, 1, "host-b")
    assert await inbox.release_owned("host-a") == 1
    assert [i.update_id for i in await inbox.claim(NOW, LEASE, 5, "host-a")] == [1]


async def test_two_processes_never_run_one_lane_twice_or_out_of_order(
    db: Database, other: Database
) -> None:
    """Each process claims and finishes heads concurrently; per lane the updates are handled
    one at a time in update_id order, and each exactly once."""
    lanes, per_lane = 6, 8
    updates = [private(n, 100 + n % lanes) for n in range(1, lanes * per_lane + 1)]
    await InboxRepository(db).store(updates, NOW)
    handled: list[tuple[str, int]] = []
    running: set[str] = set()
    overlaps: list[str] = []

    async def work(database: Database, name: str) -> None:
        inbox = InboxRepository(database)
        idle = 0
        while idle < 3:
            items = await inbox.claim(NOW, LEASE, 3, name)
            if not items:
                idle += 1
                await asyncio.sleep(0)
                continue
            idle = 0
            for item in items:
                if item.lane in running:
                    overlaps.append(item.lane)
                running.add(item.lane)
                handled.append((item.lane, item.update_id))
                await asyncio.sleep(0)
                running.discard(item.lane)
                await inbox.done(item.update_id, NOW)

    await asyncio.gather(work(db, "a"), work(other, "b"), work(db, "c"), work(other, "d"))
    assert overlaps == []
    assert sorted(update_id for _lane, update_id in handled) == [u.update_id for u in updates]
    for lane in {lane for lane, _ in handled}:
        ids = [update_id for seen, update_id in handled if seen == lane]
        assert ids == sorted(ids), lane
    assert await InboxRepository(db).pending() == 0


async def test_pruning_keeps_the_newest_so_polling_knows_where_it_was(db: Database) -> None:
    inbox = InboxRepository(db)
    await inbox.store([private(n, 10 + n) for n in range(1, 6)], NOW)
    for item in await inbox.claim(NOW, LEASE, 10, "a"):
        await inbox.done(item.update_id, NOW)
    assert await inbox.prune(NOW + timedelta(days=3)) == 4
    assert await inbox.last_update_id() == 5


async def test_leases_are_held_by_one_owner_and_taken_over_when_they_run_out(
    db: Database, other: Database
) -> None:
    first, second = LeasesRepository(db), LeasesRepository(other)
    results = await asyncio.gather(
        first.hold("scheduler", "a", NOW, LEASE), second.hold("scheduler", "b", NOW, LEASE)
    )
    assert sorted(results) == [False, True]
    winner = "a" if results[0] else "b"
    loser, loser_repo = ("b", second) if winner == "a" else ("a", first)
    assert not await loser_repo.hold("scheduler", loser, NOW + timedelta(seconds=10), LEASE)
    assert await loser_repo.hold("scheduler", loser, NOW + LEASE, LEASE)  # ran out: taken over
    assert await first.set_value_once("webhook", "v1", "a", NOW)
    assert not await second.set_value_once("webhook", "v1", "b", NOW)  # already that value
    assert await second.set_value_once("webhook", "v2", "b", NOW)
