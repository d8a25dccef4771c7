"""Property tests of the bulk pacer's one-second window (issue #14): whatever the answers to
people who write do, bulk never sends into a full window, and while answers stay within the
room bulk leaves them, no one-second window (t − 1, t] holds more than Telegram's 30."""

from __future__ import annotations

import asyncio
import bisect
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery import REPLY_HEADROOM, WINDOW_LIMIT, Pacer


class Timeline:
    """A fake monotonic clock whose sleep lets time pass through the answers planned in it:
    each answer is recorded in the pacer's window at its own instant, as
    :class:`bot.delivery.DeliveryRateLimiter` records one when it goes out."""

    def __init__(self, answers: list[float]) -> None:
        self.now = 0.0
        self.answers = sorted(answers)
        self._next = 0
        self.pacer: Pacer | None = None

    def clock(self) -> float:
        return self.now

    def _answer_until(self, end: float) -> None:
        assert self.pacer is not None
        while self._next < len(self.answers) and self.answers[self._next] <= end:
            self.now = max(self.now, self.answers[self._next])
            self.pacer.window.record(answer=True)
            self._next += 1

    async def sleep(self, seconds: float) -> None:
        end = self.now + max(seconds, 0.0)
        self._answer_until(end)
        self.now = end


def most_in_one_second(times: list[float]) -> int:
    """The largest number of sends in any window (t − 1, t]: the maximum is reached at a
    window ending on a send, so those are the only ends checked."""
    times = sorted(times)
    return max(
        bisect.bisect_right(times, end) - bisect.bisect_right(times, end - 1.0) for end in times
    )


def run_bulk(answers: list[float], sends: int, rate: float) -> tuple[list[float], Timeline]:
    """``sends`` bulk messages (each to its own chat) through one pacer; when each went."""
    timeline = Timeline(answers)
    pacer = Pacer(rate, 1.0, 20, clock=timeline.clock, sleep=timeline.sleep)
    timeline.pacer = pacer
    bulk: list[float] = []

    async def go() -> None:
        for chat in range(1, sends + 1):
            timeline._answer_until(timeline.now)
            await pacer.take(chat)
            bulk.append(timeline.now)

    asyncio.run(go())
    timeline._answer_until(bulk[-1])
    return bulk, timeline


def answers_sent(timeline: Timeline) -> list[float]:
    return timeline.answers[: timeline._next]


@settings(max_examples=60, deadline=None)
@given(
    answers=st.lists(st.floats(min_value=0.0, max_value=8.0), max_size=200),
    rate=st.sampled_from([25.0, 28.0, 30.0, 45.0]),
)
def test_bulk_never_sends_into_a_full_window(answers: list[float], rate: float) -> None:
    """Answers come whenever people write (any burst: they never wait for bulk). Every bulk
    send finds the second before it, answers and bulk together, below the limit, so bulk is
    never the message that goes over, even configured above Telegram's rate."""
    bulk, timeline = run_bulk(answers, 150, rate)
    everything = sorted(bulk + answers_sent(timeline))
    for sent in bulk:
        first = bisect.bisect_right(everything, sent - 1.0)
        assert bisect.bisect_right(everything, sent) - first <= WINDOW_LIMIT


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=1.0 / REPLY_HEADROOM + 0.01, max_value=3.0), max_size=40),
    rate=st.sampled_from([25.0, 28.0, 30.0]),
)
def test_no_one_second_window_ever_holds_more_than_the_limit(
    gaps: list[float], rate: float
) -> None:
    """While answers stay within the places bulk always leaves (REPLY_HEADROOM a second),
    bulk and answers together never exceed 30 in any sliding one-second window."""
    answers = list(itertools.accumulate(gaps))
    bulk, timeline = run_bulk(answers, 200, rate)
    assert most_in_one_second(bulk + answers_sent(timeline)) <= WINDOW_LIMIT


@settings(max_examples=30, deadline=None)
@given(per_second=st.integers(min_value=0, max_value=12), offset=st.floats(0.0, 0.99))
def test_steady_answers_push_bulk_aside_and_the_sum_stays_within_the_limit(
    per_second: int, offset: float
) -> None:
    """Answers at a steady rate (up to 12 a second here): the sum stays within the limit, and
    bulk still gets what the answers leave of the budget."""
    seconds = 12
    answers = [
        offset + second + n / per_second for second in range(seconds) for n in range(per_second)
    ]
    bulk, timeline = run_bulk(answers, 400, 28.0)
    assert most_in_one_second(bulk + answers_sent(timeline)) <= WINDOW_LIMIT
    # Bulk gets what answers leave: a send is booked only while the second before it, plus
    # as many answers again as may still come (never fewer than REPLY_HEADROOM), stays within
    # the limit, a margin against answers picking up that keeps a 429 rare.
    middle = [t for t in bulk if 2.0 < t <= 10.0]
    room = min(28, WINDOW_LIMIT - max(REPLY_HEADROOM, per_second) - per_second)
    assert len(middle) >= 8 * room - 8


def test_without_answers_bulk_sustains_its_rate_and_a_stall_is_not_caught_up() -> None:
    bulk, _ = run_bulk([], 280, 28.0)
    assert (len(bulk) - 1) / (bulk[-1] - bulk[0]) >= 27.5
    assert most_in_one_second(bulk) <= 28
