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
    return Pacer(rate, interval, group, clock=fake.clock, sleep=fake.sleep)


def most_in_one_second(times: list[float]) -> int:
    """The largest number of sends in any window (t − 1, t] (checked at every send)."""
    times = sorted(times)
    return max(sum(1 for u in times if end - 1.0 < u <= end + 1e-9) for end in times)


async def test_bulk_is_evenly_spaced_without_a_burst() -> None:
    fake = FakeTime()
    paced = pacer(fake)
    sent_at = []
    for chat in range(100):
        await paced.take(chat)
        sent_at.append(fake.now)
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert all(gap == pytest.approx(0.04) for gap in gaps)
    assert most_in_one_second(sent_at) <= 26
    # After a pause the rate is not caught up in a burst.
    fake.now += 10
    again = []
    for chat in range(200, 210):
        await paced.take(chat)
        again.append(fake.now)
    assert all(b - a == pytest.approx(0.04) for a, b in itertools.pairwise(again))


async def test_concurrent_reservations_queue_in_order() -> None:
    fake = FakeTime()
    paced = pacer(fake, rate=10, interval=0)
    waits = [paced.reserve(chat) for chat in range(5)]  # all at the same instant
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


async def test_answers_and_bulk_together_stay_within_the_one_second_limit() -> None:
    """At 28/s bulk alone uses 28 of every second; answers sent meanwhile push bulk slots
    later, so no window (t − 1, t] ever holds more than 30 (Telegram's overall limit)."""
    fake = FakeTime()
    paced = pacer(fake, rate=28, interval=0)
    window = paced.window
    sends: list[float] = []
    for n in range(400):
        if n % 3 == 0:  # an answer to someone who wrote, sent right now
            window.record(answer=True)
            sends.append(fake.now)
        await paced.take(n)
        sends.append(fake.now)
    assert most_in_one_second(sends) <= 30
    # Without answers the bulk rate is reached.
    fake2 = FakeTime()
    alone = pacer(fake2, rate=28, interval=0)
    times = []
    for n in range(280):
        await alone.take(n)
        times.append(fake2.now)
    assert len(times) / (times[-1] - times[0] + 1 / 28) >= 27.5


async def test_a_429_slows_bulk_down_and_it_recovers() -> None:
    fake = FakeTime()
    paced = pacer(fake, rate=28, interval=0)
    paced.slow_down()
    assert paced.rate == 14
    fake.now += 4
    paced.reserve(1)
    assert paced.rate == 14  # not yet
    fake.now += 30
    paced.reserve(2)
    assert paced.rate == 28


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
