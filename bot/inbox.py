"""Updates that survive crashes and outages: stored first, then processed in per-lane order.

```mermaid
flowchart LR
    tg[Telegram] -->|getUpdates| poller[Poller: store, then move the offset]
    tg -->|POST webhook| hook[Webhook: check the secret, store, then 200]
    poller & hook --> inbox[(inbox: pending)]
    inbox -->|claim the head of each lane, leased| workers[InboxProcessor: up to N lanes at once]
    workers -->|application.process_update| handlers[Handlers]
    workers -->|done| inbox
    workers -.->|crash: the lease runs out| inbox
```

* **Nothing acknowledged before it is stored.** Polling asks for the next offset only after the
  batch is in the inbox; the webhook answers 200 only after the insert committed. A repeated
  ``update_id`` (a webhook retry, a replay after a crash) is stored once.
* **Order without a lock in memory.** Only the oldest pending update of a lane (one user in one
  chat kind, :func:`lane_of`) can be claimed; it is leased while it runs and renewed every few
  seconds. Lanes run side by side up to ``CONCURRENT_USERS``. Several processes share the same
  inbox (PostgreSQL): a head is claimed by one of them (``SKIP LOCKED``, the lease re-checked).
* **After a crash** the unfinished updates are claimed again when their lease runs out (at most
  :data:`LEASE` late) and handled once more: the handlers re-check state (a second "Sign up" says
  "already signed up"), so a replay acts at most once.
* **Outages**: any error while polling (refused, 5xx, a gateway's 404, a timeout) backs off up
  to :data:`MAX_BACKOFF` seconds and keeps polling; one warning when an outage starts and one
  line when it ends, not one traceback per try. :attr:`Poller.healthy` says whether the last
  poll worked.
* **Replies through an outage**: while an update is handled, a reply that failed because the
  API could not be reached is sent again until ``REPLY_RETRY_SECONDS`` after the update was
  stored (:mod:`bot.api_retry`, which also says why the call is retried rather than the update).
* **Periodic jobs once across instances**: :class:`Leadership` holds the "scheduler" lease; only
  the holder's job queue runs (delivery at the global send rate, sweeps, campaigns). On SQLite,
  with one process, the lease is simply always held.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.request import BaseRequest

from bot.api_retry import retry_replies_until
from bot.clock import Clock, system_clock
from bot.http_client import request_data
from storage.inbox import InboxItem, InboxRepository, LeasesRepository, NewUpdate

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
RENEW_EVERY = 10.0  # seconds
IDLE_CHECK_EVERY = 1.0  # seconds between looks for work stored by another instance
MAX_BACKOFF = 5.0  # seconds
KEEP_DONE = timedelta(days=2)  # Telegram retries a webhook for about a day at most
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
SCHEDULER_LEASE = "scheduler"
WEBHOOK_LEASE = "webhook"


def instance_name(configured: str | None = None, port: int | None = None) -> str:
    """This instance among several, the same across its restarts: INSTANCE_NAME, else the host
    (and the webhook port, which differs between instances on one host)."""
    if configured:
        return configured
    host = socket.gethostname()
    return f"{host}:{port}" if port else host


def lane_of(data: dict[str, Any]) -> str:
    """The ordering lane of an update (its JSON): one user's private chat, one user in one
    group, or the chat itself when no user is known. A user's group updates wait for that
    group's send budget without holding up their private chat."""
    body: dict[str, Any] = {}
    for key in ("message", "edited_message", "callback_query", "my_chat_member", "chat_member"):
        if isinstance(data.get(key), dict):
            body = data[key]
            break
    user = body.get("from") if isinstance(body.get("from"), dict) else None
    inner = body.get("message")
    message: dict[str, Any] = inner if isinstance(inner, dict) else body
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else None
    user_id = user.get("id") if user else None
    chat_id = chat.get("id") if chat else None
    chat_type = chat.get("type") if chat else None
    if user_id is not None and chat_type in (None, "private"):
        return f"u:{user_id}"
    if user_id is not None:
        return f"g:{chat_id}:{user_id}"
    if chat_id is not None:
        return f"c:{chat_id}"
    return "none"


def new_update(data: dict[str, Any]) -> NewUpdate:
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise ValueError("an update needs an integer update_id")
    return NewUpdate(
        update_id, lane_of(data), json.dumps(_without_keyboard(data), ensure_ascii=False)
    )


def _without_keyboard(data: dict[str, Any]) -> dict[str, Any]:
    """The update less the inline keyboard of the message a button was pressed on: a press
    carries what it acts on in its own data and no handler reads the keyboard (a test checks),
    while parsing it built a PTB object per button on every press and filled the inbox rows."""
    query = data.get("callback_query")
    if not isinstance(query, dict):
        return data
    message = query.get("message")
    if not isinstance(message, dict) or "reply_markup" not in message:
        return data
    shown = {name: value for name, value in message.items() if name != "reply_markup"}
    return {**data, "callback_query": {**query, "message": shown}}


# ---------------------------------------------------------------------------------- processing


class InboxProcessor:
    """Claims lane heads and hands them to ``handle`` (the application), at most ``lanes`` at
    once; marks each done when handled (errors are the application's error handler's)."""

    def __init__(
        self,
        inbox: InboxRepository,
        handle: Callable[[dict[str, Any]], Awaitable[None]],
        clock: Clock,
        *,
        lanes: int,
        owner: str = "",
        lease: timedelta = LEASE,
        reply_retry_for: timedelta = timedelta(0),
    ) -> None:
        self._inbox = inbox
        self._reply_retry_for = reply_retry_for
        self._handle = handle
        self._clock = clock
        self._lanes = lanes
        self._owner = owner
        self._lease = lease
        self._running: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def busy(self) -> int:
        return len(self._running)

    def wake(self) -> None:
        """Something was stored: look now rather than at the next idle check."""
        self._wake.set()

    async def start(self) -> None:
        released = await self._inbox.release_owned(self._owner)
        if released:
            log.warning(
                "taking back %s updates this instance had begun before it stopped", released
            )
        self._task = asyncio.create_task(self._loop(), name="inbox-processor")
        self._renewer = asyncio.create_task(self._renew(), name="inbox-renewer")

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a shutdown deadline
        """Claim nothing more; let what runs finish (up to ``timeout``); the rest is claimed
        again after a restart (its lease runs out)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=timeout)
        for task in list(self._running.values()):
            task.cancel()
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer

    async def idle(self, timeout: float) -> None:  # noqa: ASYNC109 - a test's deadline
        """Wait until no update is being handled (or ``timeout``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._running and loop.time() < deadline:
            await asyncio.wait(list(self._running.values()), timeout=deadline - loop.time())

    def abandon(self) -> None:
        """As after ``kill -9`` (tests): drop everything, mark nothing done."""
        self._stopping = True
        for task in (self._task, self._renewer, *self._running.values()):
            if task is not None:
                task.cancel()
        self._running.clear()

    async def _loop(self) -> None:
        while not self._stopping:
            # Cleared before looking, so an update stored (or finished) while the claim runs
            # wakes the next round at once; looking again right after each claim "in case" cost
            # an empty write transaction per update (issue #14).
            self._wake.clear()
            free = self._lanes - len(self._running)
            claimed = []
            if free > 0:
                try:
                    claimed = await self._inbox.claim(self._clock(), self._lease, free, self._owner)
                except Exception:
                    log.exception("could not claim updates from the inbox")
            for item in claimed:
                task = asyncio.create_task(self._run(item))
                self._running[item.update_id] = task
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_CHECK_EVERY)

    async def _run(self, item: InboxItem) -> None:
        update_id = item.update_id
        # Replies that fail because the API cannot be reached are retried (bot.api_retry) while
        # the update is recent enough for an answer to make sense.
        received = item.received_at or self._clock()
        left = (received + self._reply_retry_for - self._clock()).total_seconds()
        retry_replies_until(time.monotonic() + max(0.0, left))
        try:
            try:
                data = json.loads(item.payload)
                await self._handle(data)
            except Exception:
                # The application's error handler has seen handler errors already; this is
                # for an update that cannot be read at all. Do not retry it forever.
                log.exception("update %s could not be processed", update_id)
            await self._inbox.done(update_id, self._clock())
        except Exception:
            log.exception("update %s: could not mark it done (it will run again)", update_id)
        finally:
            self._running.pop(update_id, None)
            self._wake.set()  # its lane's next update may be waiting

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(min(RENEW_EVERY, self._lease.total_seconds() / 3))
            if self._running:
                try:
                    await self._inbox.renew(list(self._running), self._clock() + self._lease)
                except Exception:
                    log.exception("could not renew the inbox leases")

    async def prune(self) -> None:
        await self._inbox.prune(self._clock() - KEEP_DONE)


# ------------------------------------------------------------------------------------ polling


class Poller:
    """getUpdates in a loop: store the batch, then ask from the next offset (which is what
    acknowledges the batch to Telegram).

    The updates are stored as the JSON Telegram sent, read through the request layer itself
    rather than ``Bot.get_updates``: that one builds PTB objects of every update, which were
    only turned back into JSON for the inbox (and parsed again to be handled) — a tenth of the
    bot's time under load in ``bench.mixed``.
    """

    def __init__(
        self,
        bot: Bot,
        request: BaseRequest,
        inbox: InboxRepository,
        processor: InboxProcessor,
        clock: Clock,
        *,
        timeout: int,
    ) -> None:
        self._bot = bot
        self._request = request
        self._inbox = inbox
        self._processor = processor
        self._clock = clock
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self.healthy = True
        self.last_success: float | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        last = await self._inbox.last_update_id()
        offset = last + 1 if last is not None else None
        backoff = 0.0
        outage_since: float | None = None
        while True:
            try:
                updates = await self._get_updates(offset)
            except asyncio.CancelledError:
                raise
            except (TelegramError, OSError) as error:
                # Refused, 5xx, a gateway's 404 (InvalidToken), timeouts: keep trying.
                self.healthy = False
                if outage_since is None:
                    outage_since = time.monotonic()
                    level = logging.ERROR if isinstance(error, InvalidToken) else logging.WARNING
                    log.log(level, "polling failed, retrying until it works: %s", error)
                if isinstance(error, RetryAfter):
                    delay = float(error.retry_after)  # type: ignore[arg-type]
                else:
                    backoff = min(MAX_BACKOFF, max(0.5, backoff * 2))
                    delay = backoff
                await asyncio.sleep(delay)
                continue
            if outage_since is not None:
                log.warning("polling works again after %.0f s", time.monotonic() - outage_since)
                outage_since = None
            backoff = 0.0
            self.healthy = True
            self.last_success = time.monotonic()
            if not updates:
                continue
            stored = _storable(updates)
            if not stored:
                continue
            while True:
                try:
                    await self._inbox.store(stored, self._clock())
                    break
                except Exception:
                    # Not stored, not acknowledged: Telegram keeps them; try again shortly.
                    log.exception("could not store %s updates; retrying", len(stored))
                    await asyncio.sleep(1.0)
            offset = stored[-1].update_id + 1
            self._processor.wake()

    async def _get_updates(self, offset: int | None) -> list[Any]:
        parameters = {
            "offset": offset,
            "timeout": self._timeout,
            "allowed_updates": ALLOWED_UPDATES,
        }
        result = await self._request.post(
            f"{self._bot.base_url}/getUpdates",
            request_data(parameters),
            # The long poll's own wait, and the usual margin for an answer on top.
            read_timeout=self._timeout + 10,
        )
        if not isinstance(result, list):
            raise NetworkError(f"getUpdates answered {type(result).__name__}, not a list")
        return result


def _storable(updates: list[Any]) -> list[NewUpdate]:
    """The batch as inbox rows; an update :func:`new_update` cannot store (no integer
    ``update_id``: Telegram never sends one, a proxy might) is logged and left out."""
    stored = []
    for update in updates:
        try:
            if not isinstance(update, dict):
                raise ValueError("an update is a JSON object")
            stored.append(new_update(update))
        except ValueError:
            log.error("getUpdates returned an update that cannot be stored: %.200r", update)
    return stored


# --------------------------------------------------------------------------------- leadership


class Leadership:
    """Holds the "scheduler" lease for this instance, renewing it; calls ``on_change(True)``
    when it becomes the leader and ``on_change(False)`` when it loses the lease."""

    def __init__(
        self,
        leases: LeasesRepository,
        owner: str,
        on_change: Callable[[bool], Awaitable[None]],
        *,
        lease: timedelta = timedelta(seconds=15),
        every: float = 5.0,
    ) -> None:
        self._leases = leases
        self._owner = owner
        self._on_change = on_change
        self._lease = lease
        self._every = every
        self.leader = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._tick()
        self._task = asyncio.create_task(self._loop(), name="leadership")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.leader:
            with contextlib.suppress(Exception):
                await self._leases.release(SCHEDULER_LEASE, self._owner)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            await self._tick()

    async def _tick(self) -> None:
        try:
            # The real time, not an injected test clock: leases are between processes.
            held = await self._leases.hold(
                SCHEDULER_LEASE, self._owner, system_clock(), self._lease
            )
        except Exception:
            log.exception("could not renew the scheduler lease")
            held = False
        if held != self.leader:
            self.leader = held
            log.info("%s the scheduler", "running" if held else "no longer running")
            await self._on_change(held)
