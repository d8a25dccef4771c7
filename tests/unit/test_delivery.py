"""The deliverer's pacing, quiet hours and rate-limiter bypass (no network, no wall-clock waits)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram.error import RetryAfter

from bot.delivery import NO_RETRIES, DeliveryRateLimiter, Pacer, quiet_until

SHANGHAI = ZoneInfo("Asia/Shanghai")


class FakeTime:
    """A monotonic clock and a sleep that advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(fake: FakeTime, rate: float = 25, interval: float = 1.0, group: int = 20) -> Pacer:
    return Pacer(rate, interval, group, burst_seconds=0.2, clock=fake.clock, sleep=fake.sleep)


async def test_overall_rate_is_kept_after_a_small_burst() -> None:
    fake = FakeTime()
    paced = pacer(fake)
    sent_at = []
    for chat in range(100):
        await paced.take(chat)
        sent_at.append(fake.now)
    # The bucket holds 0.2 s worth (5 messages): those go at once, then one every 40 ms.
    assert sent_at[:5] == [1000.0] * 5
    gaps = [b - a for a, b in itertools.pairwise(sent_at[5:])]
    assert all(gap == pytest.approx(0.04) for gap in gaps)
    # Over any second, never more than rate + burst.
    for i, start in enumerate(sent_at):
        assert sum(1 for t in sent_at[i:] if t < start + 1.0) <= 25 + 5
    assert (sent_at[-1] - sent_at[0]) == pytest.approx((100 - 5) / 25)


async def test_concurrent_reservations_queue_in_order() -> None:
    fake = FakeTime()
    paced = pacer(fake, rate=10, interval=0)
    waits = [paced.reserve(chat) for chat in range(5)]  # all at the same instant
    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2, 0.3])  # 0.2 s worth at 10/s: 2


async def test_private_chat_interval() -> None:
    fake = FakeTime()
    paced = pacer(fake)
    assert paced.chat_wait(7) == 0
    await paced.take(7)
    assert paced.chat_wait(7) == pytest.approx(1.0)
    assert paced.busy_chats() == [7]
    fake.now += 0.6
    assert paced.chat_wait(7) == pytest.approx(0.4)
    fake.now += 0.4
    assert paced.chat_wait(7) == 0
    assert paced.busy_chats() == []  # and forgotten


async def test_group_gets_at_most_n_per_minute() -> None:
    fake = FakeTime()
    paced = pacer(fake, interval=1.0, group=20)
    group = -100123
    first = fake.now
    for _ in range(20):
        assert paced.chat_wait(group) == 0
        await paced.take(group)
        fake.now += 1.0
    # 20 sent in the last 20 s: the 21st waits until the first leaves the 60 s window.
    assert paced.chat_wait(group) == pytest.approx(first + 60 - fake.now)
    assert group in paced.busy_chats()
    fake.now += 5  # past the 1 s interval, still at the per-minute limit
    assert paced.busy_chats() == [group]
    fake.now = first + 60
    assert paced.chat_wait(group) == 0
    # A private chat is not limited per minute.
    for _ in range(30):
        fake.now += 1.0
        assert paced.chat_wait(5) == 0
        await paced.take(5)


def test_quiet_hours_spanning_midnight() -> None:
    start, end = time(22, 0), time(8, 0)
    evening = datetime(2026, 11, 23, 23, 30, tzinfo=SHANGHAI)
    assert quiet_until(evening, SHANGHAI, start, end) == datetime(
        2026, 11, 24, 8, 0, tzinfo=SHANGHAI
    )
    night = datetime(2026, 11, 24, 3, 0, tzinfo=SHANGHAI)
    assert quiet_until(night, SHANGHAI, start, end) == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert quiet_until(datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI), SHANGHAI, start, end) is None
    assert (
        quiet_until(datetime(2026, 11, 24, 21, 59, tzinfo=SHANGHAI), SHANGHAI, start, end) is None
    )
    assert quiet_until(datetime(2026, 11, 24, 22, 0, tzinfo=SHANGHAI), SHANGHAI, start, end)


def test_quiet_hours_within_a_day_and_off() -> None:
    start, end = time(12, 0), time(14, 0)
    lunch = datetime(2026, 11, 23, 12, 30, tzinfo=SHANGHAI)
    assert quiet_until(lunch, SHANGHAI, start, end) == datetime(
        2026, 11, 23, 14, 0, tzinfo=SHANGHAI
    )
    assert quiet_until(datetime(2026, 11, 23, 14, 0, tzinfo=SHANGHAI), SHANGHAI, start, end) is None
    assert quiet_until(datetime(2026, 11, 23, 11, 0, tzinfo=SHANGHAI), SHANGHAI, start, end) is None
    assert quiet_until(lunch, SHANGHAI, time(22, 0), time(22, 0)) is None  # equal: off


async def test_rate_limiter_hands_429_of_outbox_sends_back_at_once() -> None:
    limiter = DeliveryRateLimiter(max_retries=2)
    calls = 0

    async def refuse(*args: Any, **kwargs: Any) -> bool:
        nonlocal calls
        calls += 1
        raise RetryAfter(30)

    with pytest.raises(RetryAfter):
        await limiter.process_request(refuse, (), {}, "sendMessage", {"chat_id": 5}, NO_RETRIES)
    assert calls == 1  # not slept on and retried

    async def accept(*args: Any, **kwargs: Any) -> bool:
        return True

    assert await limiter.process_request(accept, (), {}, "sendMessage", {"chat_id": 5}, NO_RETRIES)
    assert await limiter.process_request(accept, (), {}, "sendMessage", {"chat_id": 5}, None)
