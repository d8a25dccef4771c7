"""Telegram-like flood limits for sending messages, as token buckets on a monotonic clock.

Telegram documents roughly 30 messages/second per bot overall, 1 message/second per private
chat (short bursts tolerated) and 20 messages/minute per group, answering 429 with an integer
``retry_after`` beyond that. Benchmarks of notification fan-out and tests of the bot's
rate limiter need the same pressure locally; the clock is injectable so tests can advance time
instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Tolerance for float drift so that a sender pacing at exactly the allowed rate is not refused.
_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Limits per bot. Bucket capacities say how many messages may go out back-to-back.

    ``burst`` is the capacity of each private chat's bucket; ``global_burst`` defaults to one
    second's worth of the global rate and ``group_burst`` to one minute's worth of the group rate.
    """

    global_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_group_per_minute: float = 20.0
    burst: float = 1.0
    global_burst: float | None = None
    group_burst: float | None = None
    #: Count the global limit as Telegram is observed to: at most ``global_per_second``
    #: messages in ANY one-second window (t − 1, t], instead of a token bucket, which lets a
    #: sender that paused catch up with a burst above the limit.
    strict_window: bool = False


class TokenBucket:
    """Holds up to ``capacity`` tokens, refilled at ``rate`` tokens per second."""

    __slots__ = ("capacity", "last", "rate", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs rate > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.last = now

    def _refill(self, now: float) -> None:
        if now > self.last:
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
            self.last = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self._refill(now)
        missing = 1.0 - self.tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens = max(self.tokens - 1.0, 0.0)


class FloodControl:
    """All buckets of one server: a global one per bot, one per (bot, chat)."""

    def __init__(self, limits: FloodLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._global: dict[int, TokenBucket] = {}
        self._chats: dict[tuple[int, int], TokenBucket] = {}
        self._sent: dict[int, deque[float]] = {}

    def _bucket_global(self, bot_id: int, now: float) -> TokenBucket:
        bucket = self._global.get(bot_id)
        if bucket is None:
            rate = self.limits.global_per_second
            capacity = self.limits.global_burst or max(rate, 1.0)
            bucket = self._global[bot_id] = TokenBucket(rate, capacity, now)
        return bucket

    def _bucket_chat(self, bot_id: int, chat_id: int, is_group: bool, now: float) -> TokenBucket:
        bucket = self._chats.get((bot_id, chat_id))
        if bucket is None:
            if is_group:
                per_minute = self.limits.per_group_per_minute
                capacity = self.limits.group_burst or max(per_minute, 1.0)
                bucket = TokenBucket(per_minute / 60.0, capacity, now)
            else:
                rate = self.limits.per_chat_per_second
                bucket = TokenBucket(rate, max(self.limits.burst, 1.0), now)
            self._chats[(bot_id, chat_id)] = bucket
        return bucket

    def acquire(self, bot_id: int, chat_id: int, *, is_group: bool) -> int | None:
        """Take a token from every applicable bucket, or return ``retry_after`` seconds.

        Nothing is taken when refused, so a refused message does not eat into the budget.
        """
        now = self.clock()
        chat = self._bucket_chat(bot_id, chat_id, is_group, now)
        if self.limits.strict_window:
            sent = self._sent.setdefault(bot_id, deque())
            while sent and sent[0] <= now - 1.0:
                sent.popleft()
            wait = chat.wait_time(now)
            if len(sent) >= int(self.limits.global_per_second):
                wait = max(wait, sent[0] + 1.0 - now)
            if wait > 0:
                return max(1, math.ceil(wait - _EPSILON))
            sent.append(now)
            chat.take(now)
            return None
        buckets = (self._bucket_global(bot_id, now), chat)
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait - _EPSILON))
        for bucket in buckets:
            bucket.take(now)
        return None
