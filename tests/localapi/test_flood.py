"""Flood limits: token buckets on an injectable clock, and 429s surfacing as PTB RetryAfter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from bot.localapi import FloodLimits, LocalBotApi, VirtualUserInfo
from bot.localapi.flood import TokenBucket
from tests.localapi.conftest import FakeClock, make_bot

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USERS = [VirtualUserInfo(5000 + n, f"User {n}") for n in range(40)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def limited(clock: FakeClock) -> AsyncIterator[LocalBotApi]:
    limits = FloodLimits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
    async with LocalBotApi(flood_limits=limits, clock=clock) as server:
        info = server.add_bot("42:flood", "flood_bot")
        for user in USERS:
            server.user_send_text(info, user, "/start")
        yield server


@pytest.fixture
async def flood_bot(limited: LocalBotApi) -> AsyncIterator[Bot]:
    async with make_bot(limited, "42:flood") as bot:
        yield bot


def seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value if isinstance(value, int | float) else value.total_seconds()


def test_token_bucket() -> None:
    bucket = TokenBucket(rate=2.0, capacity=3.0, now=0.0)
    for _ in range(3):
        assert bucket.wait_time(0.0) == 0
        bucket.take(0.0)
    assert bucket.wait_time(0.0) == pytest.approx(0.5)
    assert bucket.wait_time(0.5) == 0
    bucket.take(0.5)
    assert bucket.wait_time(100.0) == 0
    assert bucket.tokens == 3.0  # never more than the capacity
    with pytest.raises(ValueError, match="capacity"):
        TokenBucket(rate=1.0, capacity=0.5, now=0.0)


async def test_per_chat_limit(limited: LocalBotApi, flood_bot: Bot, clock: FakeClock) -> None:
    chat = USERS[0].id
    await flood_bot.send_message(chat, "one")
    with pytest.raises(RetryAfter) as caught:
        await flood_bot.send_message(chat, "two")
    assert seconds(caught.value) == 1
    assert limited.stats.too_many_requests == 1
    clock.advance(1.0)
    await flood_bot.send_message(chat, "two")
    assert limited.stats.messages_sent == 2
    assert [m.visible_text for m in limited.bot_messages(flood_bot.token, chat)] == ["one", "two"]


async def test_no_429_when_paced(limited: LocalBotApi, flood_bot: Bot, clock: FakeClock) -> None:
    for n in range(10):
        for user in USERS[:25]:
            await flood_bot.send_message(user.id, f"round {n}")
        clock.advance(1.0)
    assert limited.stats.too_many_requests == 0
    assert limited.stats.messages_sent == 250


async def test_global_limit(limited: LocalBotApi, flood_bot: Bot, clock: FakeClock) -> None:
    for user in USERS[:30]:
        await flood_bot.send_message(user.id, "broadcast")
    with pytest.raises(RetryAfter) as caught:
        await flood_bot.send_message(USERS[30].id, "broadcast")
    assert seconds(caught.value) == 1
    clock.advance(0.1)  # refills 3 of the 30 tokens
    for user in USERS[30:33]:
        await flood_bot.send_message(user.id, "broadcast")
    with pytest.raises(RetryAfter):
        await flood_bot.send_message(USERS[33].id, "broadcast")
    assert limited.stats.too_many_requests == 2
    assert limited.stats.errors[429] == 2


async def test_group_limit(limited: LocalBotApi, flood_bot: Bot, clock: FakeClock) -> None:
    limited.create_group("42:flood", -1001234567890123, "Big group")
    for n in range(20):
        await flood_bot.send_message(-1001234567890123, f"msg {n}")
        clock.advance(0.05)  # well under the global and the 1/s private-chat limits
    with pytest.raises(RetryAfter) as caught:
        await flood_bot.send_message(-1001234567890123, "one too many")
    assert seconds(caught.value) == 2  # 1 message per 3 s refill, 1 s already elapsed
    clock.advance(2.0)
    await flood_bot.send_message(-1001234567890123, "ok again")
    assert limited.find_chat("42:flood", -1001234567890123) is not None
    assert limited.chat("42:flood", -1001234567890123).type == "supergroup"


async def test_no_limits_by_default(bot: Bot, server: LocalBotApi, bot_info: object) -> None:
    server.user_send_text(bot.token, USERS[0], "hi")
    for n in range(50):
        await bot.send_message(USERS[0].id, f"{n}")
    assert server.stats.too_many_requests == 0


def test_a_strict_window_refuses_a_burst_after_a_pause() -> None:
    """Telegram-like: at most 30 in any one second. A token bucket refilled during a pause
    lets 30 through at the end of one second and 30 more at the start of the next; the strict
    window does not."""
    from bot.localapi.flood import FloodControl

    now = [100.0]
    control = FloodControl(FloodLimits(strict_window=True), clock=lambda: now[0])
    accepted = []
    for n in range(60):
        now[0] = 100.0 + n * 0.02  # 50 a second offered
        if control.acquire(1, 10_000 + n, is_group=False) is None:
            accepted.append(now[0])
    # 30 in the first 0.6 s, then nothing until the first leaves the window at 101.0.
    assert len(accepted) == 30 + 10
    assert all(not (100.58 < t < 100.999) for t in accepted)
    assert max(sum(1 for u in accepted if t - 1.0 < u <= t) for t in accepted) == 30
