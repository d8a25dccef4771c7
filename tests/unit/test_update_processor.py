"""Per-user ordering with cross-user concurrency (bot.update_processor)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.update_processor import PerUserUpdateProcessor, ordering_key


def make_update(update_id: int, user_id: int) -> Update:
    user = User(id=user_id, first_name=f"u{user_id}", is_bot=False)
    chat = Chat(id=user_id, type="private")
    message = Message(
        message_id=update_id, date=datetime.now(UTC), chat=chat, from_user=user, text="hi"
    )
    return Update(update_id=update_id, message=message)


async def test_one_users_updates_run_in_order_while_others_proceed() -> None:
    processor = PerUserUpdateProcessor(concurrent_users=8)
    log: list[str] = []
    release_first = asyncio.Event()
    first_started = asyncio.Event()

    async def slow_first() -> None:
        log.append("A1 start")
        first_started.set()
        await release_first.wait()
        log.append("A1 end")

    async def record(name: str) -> None:
        log.append(name)

    async with processor:
        a1 = asyncio.create_task(processor.process_update(make_update(1, 100), slow_first()))
        a2 = asyncio.create_task(processor.process_update(make_update(2, 100), record("A2")))
        b1 = asyncio.create_task(processor.process_update(make_update(3, 200), record("B1")))
        await first_started.wait()
        await b1  # another user's update is not held up by A's slow handler
        assert "A2" not in log  # A's second update waits for the first
        release_first.set()
        await asyncio.gather(a1, a2)

    assert log.index("A1 start") < log.index("A1 end") < log.index("A2")
    assert log.index("B1") < log.index("A1 end")
    assert processor.tracked_keys == 0  # locks of idle users are dropped


async def test_many_updates_of_one_user_keep_arrival_order() -> None:
    processor = PerUserUpdateProcessor(concurrent_users=4)
    seen: list[int] = []

    async def handle(n: int) -> None:
        await asyncio.sleep(0)  # yield, so a wrong implementation would interleave
        seen.append(n)

    async with processor:
        await asyncio.gather(
            *(processor.process_update(make_update(n, 7), handle(n)) for n in range(200))
        )
    assert seen == list(range(200))


async def test_handler_concurrency_is_bounded_across_users() -> None:
    processor = PerUserUpdateProcessor(concurrent_users=3)
    running = 0
    peak = 0
    gate = asyncio.Event()
    started = asyncio.Condition()

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        async with started:
            started.notify_all()
        await gate.wait()
        running -= 1

    async with processor:
        tasks = [
            asyncio.create_task(processor.process_update(make_update(n, 1000 + n), handle()))
            for n in range(10)
        ]
        async with started:
            await started.wait_for(lambda: running == 3)
        assert peak == 3
        gate.set()
        await asyncio.gather(*tasks)
    assert peak == 3


def test_ordering_key_prefers_user_then_chat() -> None:
    assert ordering_key(make_update(1, 42)) == 42
    channel_post = Update(
        update_id=2,
        channel_post=Message(
            message_id=1, date=datetime.now(UTC), chat=Chat(id=-100, type="channel"), text="x"
        ),
    )
    assert ordering_key(channel_post) == -100
    assert ordering_key(object()) is None
