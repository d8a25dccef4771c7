"""Delivering the outbox: the repeating job that sends due notifications.

Each run (every ``OUTBOX_INTERVAL_SECONDS``, and right after an action that queued something)
drains the outbox while rows are due, batch after batch:

1. the waitlist sweep expires unanswered offers and offers free spots (:meth:`SignupService.sweep`;
   again every ``OUTBOX_INTERVAL_SECONDS`` while a long run drains);
2. due rows are claimed with a lease (:meth:`OutboxRepository.claim_due`), leaving out chats the
   :class:`Pacer` says may not be written to yet;
3. rows of non-time-critical kinds whose recipient is inside their quiet hours are deferred to
   the end of the quiet period; rows for a chat already served in this batch are released (sent
   on a later pass, in order); neither counts as an attempt;
4. the rest are sent concurrently (at most :data:`MAX_IN_FLIGHT` at a time), each rendered in the
   recipient's language *now* by the renderer registered for its kind — a renderer returns
   ``None`` when the notification has gone stale, and the row is dropped — and each waiting for
   its slot from the :class:`Pacer` (``SEND_RATE_PER_SECOND`` overall, ``CHAT_INTERVAL_SECONDS``
   between two messages into one chat, ``GROUP_MESSAGES_PER_MINUTE`` into a group);
5. the outcome is recorded: sent; ``RetryAfter`` → due again after ``retry_after`` (only that
   row waits); ``Forbidden`` (the user blocked the bot) → the user is marked unreachable and
   their pending rows are dropped; network and server errors → retried with exponential backoff
   (capped) while the notification is timely, failed after :data:`MAX_ATTEMPTS`; other refusals
   (bad request) → failed at once.

After network or server errors each run first asks the API whether it answers again (``getMe``,
:data:`PROBE_TIMEOUT`); once it does, the rows waiting out their backoff are made due at once
(:meth:`OutboxRepository.bring_forward`), so an outage's notifications go out within a run of
its end instead of up to :data:`MAX_BACKOFF` later.

A crash between claiming and recording leaves the lease to expire, and the row is sent again
on a later run: at-least-once delivery, duplicates bounded by one batch.

Telegram's overall limit is per bot, so one process paces bulk sends: with several instances
(PostgreSQL) the holder of the scheduler lease runs the outbox job, and an instance that loses
the lease holds its deliverer at once (:meth:`Deliverer.hold`, wired in :mod:`bot.runtime`).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time as _time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter

from bot.clock import Clock
from bot.config import Settings
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.users import Language
from bot.i18n import Translator
from storage.outbox import OutboxStatus

if TYPE_CHECKING:
    from bot.services.accounts import AccountService
    from storage.outbox import OutboxRepository

log = logging.getLogger(__name__)

#: Rows claimed per pass: four seconds of sending at 25/s, well inside the lease.
BATCH_SIZE = 100
LEASE = timedelta(seconds=60)
#: Network and server errors are retried while the notification is still timely (its renderer
#: drops it once stale: a reminder after the start, an offer after its deadline), with the
#: delay growing to :data:`MAX_BACKOFF`; about four hours of outage before giving up. Six tries
#: (the old rule) turned everything queued into "failed" after a 2½-minute outage (issue #15).
MAX_ATTEMPTS = 64
BACKOFF_BASE = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=4)
#: How ``last_error`` begins for a row retried because the Bot API could not be reached (or
#: answered with a server error): the rows :meth:`Deliverer._after_outage` brings forward.
API_UNREACHABLE = "api unreachable: "
#: Seconds the outbox's "does the API answer again?" probe may take (it runs before a run's
#: sends only after a network or server error, so during an outage a run waits this long).
PROBE_TIMEOUT = 5.0
#: Sends in flight at once. At 25/s with ~100 ms round trips about three are needed; this
#: leaves room for slow networks (up to ~600 ms) without letting a batch run unbounded.
MAX_IN_FLIGHT = 16
#: One run drains at most this long, then returns so the job's next run starts afresh (the
#: sweep runs inside the run too, so nothing waits for it meanwhile).
MAX_RUN = timedelta(minutes=5)


# ------------------------------------------------------------------------------- rate limiter

#: ``rate_limit_args`` value with which the outbox asks :class:`DeliveryRateLimiter` to hand a 429
#: straight back instead of sleeping and retrying.
NO_RETRIES = -1


class _PassedOn(Exception):
    def __init__(self, error: RetryAfter) -> None:
        super().__init__(str(error))
        self.error = error


def _is_private(chat_id: object) -> bool:
    """A private chat's id is the user's: positive (groups and channels are negative)."""
    if isinstance(chat_id, str):
        return chat_id.isdigit()
    return isinstance(chat_id, int) and chat_id > 0


class DeliveryRateLimiter(AIORateLimiter):
    """PTB's :class:`AIORateLimiter`, except that sends of the outbox are never retried.

    The stock limiter (built with ``max_retries=2``) answers a 429 by sleeping ``retry_after``
    and trying again, and while it sleeps it holds back *every* request of the bot. For the
    outbox that is wrong twice: one paced-out chat would stall the whole batch, and the row
    would be sent late instead of being rescheduled. ``rate_limit_args=0`` does not help
    (PTB reads it as ``rate_limit_args or max_retries``), so the deliverer passes
    :data:`NO_RETRIES`: the request still goes through the limiter's overall and group
    throttles, but a ``RetryAfter`` is smuggled past the retry loop and re-raised to the
    deliverer, which reschedules that row alone. Answers in private chats skip the overall
    throttle (see :meth:`_reply`); answers in groups keep the group throttle.
    """

    def __init__(self, *args: Any, window: SendWindow | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.window = window

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        if rate_limit_args != NO_RETRIES and self.window is not None and chat_id is not None:
            # An answer (or an edit of one): counted where the bulk pacer looks, so bulk and
            # answers together stay within Telegram's overall limit.
            self.window.record(answer=True)
        if rate_limit_args != NO_RETRIES and _is_private(chat_id):
            return await self._reply(callback, args, kwargs)
        if rate_limit_args != NO_RETRIES:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )

        async def once(*a: Any, **kw: Any) -> bool | dict[str, Any] | list[dict[str, Any]]:
            try:
                return await callback(*a, **kw)
            except RetryAfter as error:
                raise _PassedOn(error) from None

        try:
            return await super().process_request(once, args, kwargs, endpoint, data, None)
        except _PassedOn as passed:
            raise passed.error from None

    @staticmethod
    async def _reply(
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """An answer to someone who wrote, in a private chat: Telegram limits those per chat,
        not by the ~30/s bulk budget, so it does not queue behind the overall throttle (which
        capped the whole bot at ~30 answers a second, issue #14). A 429 for this chat waits
        for that chat only, at most twice."""
        for attempt in range(3):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == 2:
                    raise
                wait = error.retry_after
                seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                await asyncio.sleep(min(seconds, 30.0))
        raise AssertionError("unreachable")  # pragma: no cover


# ------------------------------------------------------------------------------- pacing

Sleep = Callable[[float], Awaitable[None]]


#: Telegram's overall limit: about this many messages per bot in any one second.
WINDOW_LIMIT = 30
#: Places in every second that bulk sends leave to answers not sent yet, at least: an answer is
#: counted when it goes out, after the bulk slots around it were booked. While people write,
#: bulk leaves as many places as answers went out in the last second (:meth:`Pacer.reserve`).
REPLY_HEADROOM = 2
#: After a 429 the bulk rate halves (not below :data:`MIN_RATE`), and from this many seconds
#: later it grows back by :data:`RECOVER_STEP` messages per second each second.
MIN_RATE = 3.0
RECOVER_AFTER = 5.0
RECOVER_STEP = 1.0


class SendWindow:
    """Every message the bot sent, answers and bulk alike, over the last second (monotonic
    clock): what Telegram's overall limit counts. Bulk slots booked ahead are in it too."""

    def __init__(self, clock: Callable[[], float] = _time.monotonic) -> None:
        self.clock = clock
        self._times: list[float] = []  # sorted
        self._answers: list[float] = []  # sorted; answers only

    def record(self, at: float | None = None, *, answer: bool = False) -> None:
        now = self.clock()
        at = now if at is None else at
        bisect.insort(self._times, at)
        if answer:
            bisect.insort(self._answers, at)
        for times in (self._times, self._answers):
            del times[: bisect.bisect_right(times, now - 1.0)]

    def count(self, end: float) -> int:
        """Messages in the one second that ends at ``end``: (end − 1, end]."""
        first = bisect.bisect_right(self._times, end - 1.0)
        return bisect.bisect_right(self._times, end) - first

    def answers(self, now: float) -> int:
        """Answers sent in the last second: the rate to keep free for the next one."""
        return len(self._answers) - bisect.bisect_right(self._answers, now - 1.0)

    def leaves_at(self, end: float) -> float:
        """When the earliest message of the second ending at ``end`` leaves that window."""
        return self._times[bisect.bisect_right(self._times, end - 1.0)] + 1.0


class Pacer:
    """Telegram's flood limits as the deliverer sees them, on a monotonic clock (injectable).

    * overall: bulk sends evenly spaced at ``rate_per_second`` and booked only where the
      :class:`SendWindow` (shared with the answers, see :class:`DeliveryRateLimiter`) holds
      fewer than ``WINDOW_LIMIT − REPLY_HEADROOM`` in the second before: no one-second window
      ever holds more than Telegram allows, and a stall is not caught up in a burst.
      :meth:`take` books the slot synchronously and then sleeps until it, so concurrent
      senders queue up in order. A 429 halves the rate (:meth:`slow_down`); it recovers;
    * per chat: ``chat_interval`` seconds between two messages into the same chat;
    * per group (negative chat id): at most ``group_per_minute`` in any 60 seconds.
    """

    def __init__(
        self,
        rate_per_second: float,
        chat_interval: float,
        group_per_minute: int,
        *,
        window: SendWindow | None = None,
        clock: Callable[[], float] = _time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.base_rate = rate_per_second
        self.rate = rate_per_second
        self.chat_interval = chat_interval
        self.group_per_minute = group_per_minute
        self.clock = clock
        self.window = window if window is not None else SendWindow(clock)
        self._sleep = sleep
        self._next = clock()
        self._slowed_at: float | None = None
        self._recovered_at = 0.0
        self._chat_last: dict[int, float] = {}
        self._group_sent: dict[int, deque[float]] = {}
        self._turn = asyncio.Lock()

    def chat_wait(self, chat_id: int, now: float | None = None) -> float:
        """Seconds until ``chat_id`` may receive the next message (0: now)."""
        now = self.clock() if now is None else now
        wait = 0.0
        last = self._chat_last.get(chat_id)
        if last is not None:
            wait = max(wait, last + self.chat_interval - now)
        if chat_id < 0:
            sent = self._group_sent.get(chat_id)
            if sent is not None:
                while sent and sent[0] <= now - 60.0:
                    sent.popleft()
                if len(sent) >= self.group_per_minute:
                    wait = max(wait, sent[0] + 60.0 - now)
        return max(wait, 0.0)

    def busy_chats(self) -> list[int]:
        """Chats that may not be written to now (and forget the ones that are free again)."""
        now = self.clock()
        busy: list[int] = []
        for chat_id in set(self._chat_last) | set(self._group_sent):
            if self.chat_wait(chat_id, now) > 0:
                busy.append(chat_id)
            else:
                self._chat_last.pop(chat_id, None)
                if not self._group_sent.get(chat_id):
                    self._group_sent.pop(chat_id, None)
        return sorted(busy)

    def slow_down(self) -> None:
        """Telegram answered 429 to a bulk send: halve the rate for a while."""
        now = self.clock()
        self.rate = max(MIN_RATE, self.rate / 2)
        self._slowed_at = now
        self._recovered_at = now + RECOVER_AFTER
        log.warning("429 from Telegram: bulk sending slowed to %.1f/s", self.rate)

    def _recover(self, now: float) -> None:
        if self.rate >= self.base_rate or now < self._recovered_at:
            return
        seconds = int(now - self._recovered_at) + 1
        self.rate = min(self.base_rate, self.rate + seconds * RECOVER_STEP)
        self._recovered_at += seconds
        if self.rate >= self.base_rate:
            log.info("bulk sending back at %.1f/s", self.rate)

    def _limit(self, now: float) -> int:
        # Answers are not paced: as many as came in the last second may come in the next, so
        # bulk leaves that many places free (and never fewer than the headroom), besides the
        # answers already in the window: a margin against answers picking up, so bulk gets
        # 30 − 2 × (answers a second) while people write (tests/unit/test_send_window.py).
        return max(1, WINDOW_LIMIT - max(REPLY_HEADROOM, self.window.answers(now)))

    def _book(self, chat_id: int, at: float) -> None:
        self.window.record(at)
        interval = 1.0 / self.rate
        # On schedule (a sleep wakes a little late): the next slot follows the planned one, so
        # the lateness does not add up; after a stall the schedule starts again from now
        # rather than catching up in a burst.
        self._next = self._next + interval if at - self._next < interval else at + interval
        self._chat_last[chat_id] = max(self._chat_last.get(chat_id, at), at)
        if chat_id < 0:
            self._group_sent.setdefault(chat_id, deque()).append(at)

    def reserve(self, chat_id: int) -> float:
        """Book the next overall slot for a message into ``chat_id`` now, however far ahead it
        is; seconds to wait for it. :meth:`take` decides at the moment of sending instead."""
        now = self.clock()
        self._recover(now)
        at = max(now, self._next)
        while self.window.count(at) >= self._limit(now):
            at = self.window.leaves_at(at) + 1e-6
        self._book(chat_id, at)
        return at - now

    async def pause(self, seconds: float) -> None:
        await self._sleep(seconds)

    async def take(self, chat_id: int) -> None:
        """Wait for the next overall slot; the chat counts as written to from then on.

        One sender at a time decides, at the moment it may send: the window then holds every
        answer sent so far, where a slot booked ahead would have missed the answers sent while
        it waited."""
        async with self._turn:
            while True:
                now = self.clock()
                self._recover(now)
                if self._next > now:
                    await self._sleep(self._next - now)
                    continue
                if self.window.count(now) >= self._limit(now):
                    await self._sleep(max(self.window.leaves_at(now) - now, 0.0) + 1e-3)
                    continue
                self._book(chat_id, now)
                return


# ------------------------------------------------------------------------------- quiet hours


def quiet_until(now: datetime, tz: ZoneInfo, start: time, end: time) -> datetime | None:
    """End of the quiet period ``now`` falls in (UTC), or ``None`` outside quiet hours.

    ``start``/``end`` are local wall-clock times in ``tz``; equal times mean no quiet hours;
    ``start > end`` spans midnight (22:00–08:00).
    """
    if start == end:
        return None
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    day = local.date()
    if start < end:
        if not start <= clock < end:
            return None
    elif clock >= start:
        day += timedelta(days=1)  # the evening part: quiet until tomorrow morning
    elif not clock < end:
        return None
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


# ------------------------------------------------------------------------------- the deliverer


@dataclass(frozen=True)
class RenderedFile:
    """A file sent as a document, ``text`` becoming its caption (at most 1024 characters)."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None
    # Runs once Telegram accepted the message (e.g. "Still coming?" counts as asked only
    # then); not on a retry, a block or a failure.
    after_sent: Callable[[], Awaitable[object]] | None = None
    # Sent as a document with ``text`` as its caption (the Friday statistics table).
    document: RenderedFile | None = None


#: What renderers are handed besides the row: the services container (``bot.context``).
C = TypeVar("C")

#: Renders one notification for its recipient, or returns ``None`` when it went stale.
Renderer = Callable[[OutboxItem, C, Translator], Awaitable["Rendered | None"]]


@dataclass
class DeliveryReport:
    sent: int = 0
    dropped: int = 0
    retried: int = 0
    failed: int = 0
    #: Deferred to the end of the recipient's quiet hours.
    deferred: int = 0
    #: Released unsent because their chat had to wait (sent on a later pass).
    paced: int = 0
    #: The run stopped at MAX_RUN with rows still due: the next one should start right away
    #: rather than at the next tick (a pause there showed as a dip in bench.delivery).
    cut_short: bool = False


class Deliverer(Generic[C]):
    """Sends the outbox. It depends on what it uses, no more: the outbox, the accounts (who is
    reachable, in which language), the waitlist sweep, the clock and the settings; the
    renderers come as a table (:func:`handlers.notification_renderers`), each called with
    ``render_context`` (the services container) so that it can read what it shows."""

    def __init__(
        self,
        *,
        outbox: OutboxRepository,
        accounts: AccountService,
        sweep: Callable[[], Awaitable[object]],
        clock: Clock,
        settings: Settings,
        translator_for: Callable[[Language], Translator],
        renderers: Mapping[NotificationKind, Renderer[C]],
        render_context: C,
        pacer: Pacer | None = None,
        monotonic: Callable[[], float] = _time.monotonic,
    ) -> None:
        self._outbox = outbox
        self._accounts = accounts
        self._sweep = sweep
        self._clock = clock
        self._settings = settings
        self._translator_for = translator_for
        self._render_context = render_context
        self.pacer = pacer or Pacer(
            settings.send_rate_per_second,
            settings.chat_interval_seconds,
            settings.group_messages_per_minute,
        )
        self._monotonic = monotonic
        # Kept as given: the handlers' table imports a module when its kind is first sent.
        self._renderers = renderers
        self._replaced: dict[NotificationKind, Renderer[C]] = {}
        self._running = asyncio.Lock()
        self._again = False
        self._stopping = False
        self._held = False
        #: A send failed on the network or the API's side since the API last answered: rows may
        #: be waiting out a backoff that can end early once it answers again.
        self._api_failed = False

    def stop(self) -> None:
        """The process is shutting down: sends in flight finish, nothing new starts, and the
        rows not sent yet are given back to the outbox (sent by the next run, here or in
        another instance) instead of holding the shutdown for a whole run (up to MAX_RUN)."""
        self._stopping = True

    def hold(self) -> None:
        """Another instance sends the outbox now (PostgreSQL: the holder of the scheduler
        lease). Telegram's ~30/s is one budget per bot, and one :class:`Pacer` keeps it only
        if one process sends bulk at a time; so this one stops as for :meth:`stop` (rows in
        hand go back to the outbox, a run in progress ends at its next send) until
        :meth:`resume`. Without this, an instance that lost the lease in the middle of a
        broadcast would go on sending for up to MAX_RUN beside the new holder."""
        self._held = True

    def resume(self) -> None:
        """This instance sends the outbox again (it holds the scheduler lease)."""
        self._held = False

    @property
    def running(self) -> bool:
        """A run is draining the outbox right now."""
        return self._running.locked()

    @property
    def _paused(self) -> bool:
        return self._stopping or self._held

    def register(self, kind: NotificationKind, renderer: Renderer[C]) -> None:
        """Replace one kind's renderer (tests and benchmarks send stand-in texts)."""
        self._replaced[kind] = renderer

    async def run_once(self, bot: Bot) -> DeliveryReport:
        """Drain what is due, batch after batch; returns at once if a run is already going
        (it will pick up whatever this call was nudged for)."""
        report = DeliveryReport()
        if self._paused:
            return report
        if self._running.locked():
            self._again = True
            return report
        async with self._running:
            await self._drain(bot, report)
        return report

    async def _drain(self, bot: Bot, report: DeliveryReport) -> None:
        started = self._monotonic()
        sweep_every = self._settings.outbox_interval_seconds
        last_sweep: float | None = None
        await self._after_outage(bot)
        while not self._paused:
            self._again = False
            if last_sweep is None or self._monotonic() - last_sweep >= sweep_every:
                await self._sweep()
                last_sweep = self._monotonic()
            busy = self.pacer.busy_chats()
            items = await self._outbox.claim_due(self._clock(), LEASE, BATCH_SIZE, skip_chats=busy)
            if not items:
                if busy and await self._outbox.has_due_for(self._clock(), busy):
                    # Only paced chats have something due: wait for the first to free up.
                    now = self.pacer.clock()
                    wait = min(self.pacer.chat_wait(chat, now) for chat in busy)
                    await self.pacer.pause(min(max(wait, 0.01), sweep_every))
                    continue
                if self._again:
                    continue
                return
            progressed = await self._deliver_batch(bot, items, report)
            if self._monotonic() - started >= MAX_RUN.total_seconds():
                report.cut_short = True  # the caller starts the next run at once
                return
            if not progressed and not self._again:
                return

    async def _after_outage(self, bot: Bot) -> None:
        """After sends failed on the network or the API's side, rows wait out their backoff,
        up to :data:`MAX_BACKOFF`. Nothing would try them before then, so ask the API (a
        cheap ``getMe``) and, once it answers, make them due now: the rest of this run sends
        them (paced as usual)."""
        if not self._api_failed:
            return
        try:
            await bot.get_me(
                connect_timeout=PROBE_TIMEOUT, read_timeout=PROBE_TIMEOUT, pool_timeout=1
            )
        except TelegramError:  # still down (NetworkError, a 5xx): the backoff stands
            return
        self._api_failed = False
        moved = await self._outbox.bring_forward(self._clock(), MAX_BACKOFF, API_UNREACHABLE)
        if moved:
            log.info("the Bot API answers again: %s notifications made due now", moved)

    async def _deliver_batch(
        self, bot: Bot, items: list[OutboxItem], report: DeliveryReport
    ) -> bool:
        """Send one claimed batch; ``False`` if every row had to be given back unsent."""
        outbox = self._outbox
        now = self._clock()
        quiet = await outbox.quiet_hours(
            {item.telegram_id for item in items if not item.kind.is_time_critical}
        )
        served: set[int] = set()
        released: list[int] = []
        to_send: list[OutboxItem] = []
        for item in items:  # soonest first, so each chat's rows keep their order
            hours = None if item.kind.is_time_critical else quiet.get(item.telegram_id)
            until = quiet_until(now, self._settings.tz, *hours) if hours else None
            if until is not None:
                await outbox.defer(item.notification_id, until)
                report.deferred += 1
                continue
            if item.telegram_id in served or self.pacer.chat_wait(item.telegram_id) > 0:
                served.add(item.telegram_id)
                released.append(item.notification_id)
                continue
            served.add(item.telegram_id)
            to_send.append(item)
        await outbox.release(released)
        report.paced += len(released)
        if to_send:
            # A TaskGroup: if recording an outcome fails (the database is gone), the rest of the
            # batch is cancelled and its leases expire — the crash case, delivered again later.
            in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)

            async def one(item: OutboxItem) -> None:
                async with in_flight:
                    if self._paused:
                        await outbox.release([item.notification_id])
                        report.paced += 1
                        return
                    await self._deliver(bot, item, report)

            async with asyncio.TaskGroup() as group:
                for item in to_send:
                    group.create_task(one(item))
        return len(released) < len(items)

    async def _deliver(self, bot: Bot, item: OutboxItem, report: DeliveryReport) -> None:
        outbox = self._outbox
        user = await self._accounts.get(item.telegram_id)
        if user is None or not user.is_reachable:
            await outbox.finish(
                item.notification_id,
                OutboxStatus.DROPPED,
                self._clock(),
                "recipient unknown or unreachable",
            )
            report.dropped += 1
            return
        renderer = self._replaced.get(item.kind) or self._renderers.get(item.kind)
        if renderer is None:
            log.error(
                "no renderer for notification kind %s (row %s)", item.kind, item.notification_id
            )
            await outbox.finish(
                item.notification_id, OutboxStatus.FAILED, self._clock(), "no renderer"
            )
            report.failed += 1
            return
        t = self._translator_for(self._accounts.language_of(user))
        try:
            rendered = await renderer(item, self._render_context, t)
        except Exception as error:  # a renderer bug must not take the batch down with it
            log.exception("rendering notification %s (%s) failed", item.notification_id, item.kind)
            await self._retry_later(item, f"renderer: {error!r}", report)
            return
        if rendered is None:
            await outbox.finish(item.notification_id, OutboxStatus.DROPPED, self._clock(), "stale")
            report.dropped += 1
            return
        await self.pacer.take(item.telegram_id)
        if self._paused:  # stopped while waiting for the slot: the next run sends it
            await outbox.release([item.notification_id])
            report.paced += 1
            return
        try:
            await self._send(bot, item, rendered)
        except RetryAfter as error:
            wait = error.retry_after
            delay = wait if isinstance(wait, timedelta) else timedelta(seconds=float(wait))
            log.warning("429 for notification %s: retrying after %s", item.notification_id, delay)
            self.pacer.slow_down()
            await outbox.retry_at(item.notification_id, self._clock() + delay, str(error))
            report.retried += 1
        except Forbidden as error:
            log.info("user %s blocked the bot; dropping their notifications", item.telegram_id)
            await outbox.finish(
                item.notification_id, OutboxStatus.DROPPED, self._clock(), str(error)
            )
            await self._accounts.blocked_bot(item.telegram_id)
            report.dropped += 1
        except BadRequest as error:
            log.error("notification %s (%s) refused: %s", item.notification_id, item.kind, error)
            await outbox.finish(
                item.notification_id, OutboxStatus.FAILED, self._clock(), str(error)
            )
            report.failed += 1
        except (NetworkError, TelegramError) as error:
            self._api_failed = True
            await self._retry_later(item, f"{API_UNREACHABLE}{error}", report)
        else:
            await outbox.finish(item.notification_id, OutboxStatus.SENT, self._clock())
            report.sent += 1
            if rendered.after_sent is not None:
                await rendered.after_sent()

    async def _send(self, bot: Bot, item: OutboxItem, rendered: Rendered) -> None:
        extra: dict[str, Any] = {}
        if isinstance(getattr(bot, "rate_limiter", None), DeliveryRateLimiter):
            extra["rate_limit_args"] = NO_RETRIES  # a 429 must come back here, see the class
        if rendered.document is not None:
            await bot.send_document(
                item.telegram_id,
                InputFile(rendered.document.data, filename=rendered.document.filename),
                caption=rendered.text,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.markup,
                **extra,
            )
            return
        await bot.send_message(
            item.telegram_id,
            rendered.text,
            parse_mode=ParseMode.HTML,
            reply_markup=rendered.markup,
            **extra,
        )

    async def _retry_later(self, item: OutboxItem, error: str, report: DeliveryReport) -> None:
        if item.attempts >= MAX_ATTEMPTS:
            log.error(
                "giving up on notification %s (%s) after %s attempts: %s",
                item.notification_id,
                item.kind,
                item.attempts,
                error,
            )
            await self._outbox.finish(
                item.notification_id, OutboxStatus.FAILED, self._clock(), error
            )
            report.failed += 1
            return
        delay = min(BACKOFF_BASE * 2 ** min(item.attempts - 1, 16), MAX_BACKOFF)
        # One warning when a notification first fails; its later tries are routine in an
        # outage and would otherwise log a line each.
        level = logging.WARNING if item.attempts <= 1 else logging.DEBUG
        log.log(
            level, "notification %s failed (%s), retrying in %s", item.notification_id, error, delay
        )
        await self._outbox.retry_at(item.notification_id, self._clock() + delay, error)
        report.retried += 1
