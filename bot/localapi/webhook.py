"""Webhook delivery of the local Bot API: POST each pending update to the bot's URL, like Telegram.

Pending updates stay in ``BotState.updates`` (the same list getUpdates reads) until the webhook
answers 2xx, so ``pending_update_count`` counts them, a retried update is the very same object,
and deleting the webhook without ``drop_pending_updates`` hands what is left to getUpdates.

Order: updates are grouped by an *ordering key*, the chat they belong to (see
:func:`ordering_key`). Only the oldest pending update of a key is ever sent, so a key's updates
reach the bot strictly one after the other, each only after the previous one got 2xx; different
keys are sent concurrently, up to the webhook's ``max_connections`` requests at once, the oldest
ready update first.

Failures: a non-2xx answer, a timeout or a connection error is retried after a delay that
doubles with each failure of that update, from ``RetryPolicy.base`` up to ``RetryPolicy.maximum``
seconds; meanwhile the key's later updates wait and other keys go on. The last failure is kept
for getWebhookInfo (``last_error_date``, ``last_error_message``). Delivery never gives up (Telegram
keeps updates for 24 hours; a local run is shorter than that), so a bot that comes back gets
everything in order.

Delivery is *at least once*, as on Telegram: an update whose request was cut off (deleteWebhook
or the server stopping while it was in flight) is sent again (or returned by getUpdates), so a
receiver must recognize a repeated ``update_id``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import aiohttp

from bot.localapi.models import BotInfo, Event, EventKind, ServerStats

logger = logging.getLogger("bot.localapi")

JSONDict = dict[str, Any]
T = TypeVar("T")


class WebhookBot(Protocol):
    """What delivery reads and changes of a bot (``bot.localapi.state.BotState``)."""

    info: BotInfo
    updates: list[JSONDict]
    webhook: JSONDict | None
    webhook_last_error_date: int | None
    webhook_last_error_message: str | None


class DeliveryHost(Protocol):
    """What delivery needs of the server's state (``bot.localapi.state.ApiState``); a protocol
    so that this module does not import the state module that owns the deliveries."""

    closing: bool
    stats: ServerStats

    def notify(self) -> None: ...

    async def wait_until(
        self,
        predicate: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
    ) -> T | None: ...

    def record(
        self,
        kind: EventKind,
        bot_id: int,
        chat_id: int | None = None,
        message_id: int | None = None,
        detail: str = "",
    ) -> Event: ...


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# The delivery loop waits for a state change (a new update, a finished request, a retry delay
# running out) and re-checks at least this often.
_IDLE_WAIT = 3600.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed webhook requests are retried, and how long one request may take."""

    base: float = 0.5
    maximum: float = 10.0
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.base <= 0 or self.maximum < self.base or self.timeout <= 0:
            raise ValueError("webhook retries need 0 < base <= maximum and timeout > 0")

    def delay(self, failures: int) -> float:
        """Seconds to wait before the next attempt after ``failures`` failed ones (>= 1)."""
        return min(self.maximum, self.base * 2.0 ** max(failures - 1, 0))


def ordering_key(update: JSONDict) -> int:
    """The chat an update belongs to; one key's updates are delivered strictly in order.

    Telegram orders messages per chat and callback queries per *user*, so there a message and a
    button press can arrive concurrently. Here a callback query belongs to the chat of the
    message its button is on: in a private chat (almost all of this bot's traffic) the chat id is
    the user id, so this is the same order; in a group it is stricter (deterministic tests). A
    query without a message (inline mode) falls back to its user.
    """
    for kind, payload in update.items():
        if kind == "update_id" or not isinstance(payload, dict):
            continue
        if kind == "callback_query":
            message = payload.get("message")
            if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                return int(message["chat"]["id"])
        chat = payload.get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        sender = payload.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return int(sender["id"])
    return 0


class WebhookDelivery:
    """Sends one bot's pending updates to its webhook while the webhook is set.

    Runs as one asyncio task that starts requests (each its own task) whenever a key's oldest
    update may go and a connection is free; it is woken by the server's change notifier, so a
    new update goes out at once.
    """

    def __init__(
        self,
        state: DeliveryHost,
        bot: WebhookBot,
        policy: RetryPolicy,
        now: Callable[[], int],
    ) -> None:
        self.state = state
        self.bot = bot
        self.policy = policy
        self._now = now
        self._in_flight: dict[int, int] = {}  # ordering key -> update_id being sent
        self._retry_at: dict[int, float] = {}  # ordering key -> loop time of its next attempt
        self._failures: dict[int, int] = {}  # update_id -> failed attempts so far
        self._requests: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        self._session: aiohttp.ClientSession | None = None

    @property
    def in_flight(self) -> int:
        """Requests open right now (never more than ``max_connections``)."""
        return len(self._in_flight)

    def start(self) -> None:
        if self._runner is None:
            name = f"webhook delivery for @{self.bot.info.username}"
            self._runner = asyncio.create_task(self._run(), name=name)

    async def stop(self) -> None:
        """Stop sending; requests in flight are cut off and their updates stay pending."""
        tasks = [*self._requests, *([self._runner] if self._runner else [])]
        self._runner = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._requests.clear()
        self._in_flight.clear()
        self._retry_at.clear()
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def forget_pending(self) -> None:
        """Pending updates were dropped: their retry delays no longer hold anything back."""
        self._retry_at.clear()
        self._failures.clear()

    # ---------------------------------------------------------------------------- scheduling

    def _ready(self) -> list[tuple[int, JSONDict]]:
        """The updates that may be sent now: per key its oldest, if the key is free."""
        webhook = self.bot.webhook
        if webhook is None or self.state.closing:
            return []
        room = int(webhook["max_connections"]) - len(self._in_flight)
        if room <= 0:
            return []
        now = asyncio.get_running_loop().time()
        seen: set[int] = set()
        ready: list[tuple[int, JSONDict]] = []
        for update in self.bot.updates:
            key = ordering_key(update)
            if key in seen:
                continue
            seen.add(key)
            if key in self._in_flight or self._retry_at.get(key, 0.0) > now:
                continue
            ready.append((key, update))
            if len(ready) >= room:
                break
        return ready

    def _retry_due(self) -> None:
        now = asyncio.get_running_loop().time()
        self._timers = {t for t in self._timers if t.when() > now}
        self.state.notify()

    async def _run(self) -> None:
        while not self.state.closing and self.bot.webhook is not None:
            ready = await self.state.wait_until(self._ready, _IDLE_WAIT)
            for key, update in ready or ():
                self._in_flight[key] = update["update_id"]
                task = asyncio.create_task(self._deliver(key, update))
                self._requests.add(task)
                task.add_done_callback(self._requests.discard)
            self.state.notify()  # observers of webhook_in_flight()

    # ---------------------------------------------------------------------------- requests

    async def _deliver(self, key: int, update: JSONDict) -> None:
        webhook = self.bot.webhook
        try:
            error = await self._post(update, webhook) if webhook is not None else "no webhook"
        finally:
            self._in_flight.pop(key, None)
        update_id = update["update_id"]
        still_pending = any(u is update for u in self.bot.updates)
        if error is None:
            if still_pending:
                self.bot.updates = [u for u in self.bot.updates if u is not update]
            self._retry_at.pop(key, None)
            self._failures.pop(update_id, None)
            self.state.stats.webhook_deliveries += 1
            self.state.notify()
            return
        self.state.stats.webhook_errors += 1
        self.bot.webhook_last_error_date = self._now()
        self.bot.webhook_last_error_message = error
        if still_pending:
            failures = self._failures[update_id] = self._failures.get(update_id, 0) + 1
            delay = self.policy.delay(failures)
            loop = asyncio.get_running_loop()
            self._retry_at[key] = loop.time() + delay
            # Wake the delivery loop when the delay has run out (a small margin past it, so the
            # loop's own clock reading agrees that it has).
            self._timers.add(loop.call_later(delay + 0.001, self._retry_due))
            logger.info(
                "@%s webhook failed on update %s (attempt %s): %s; retrying in %.2fs",
                self.bot.info.username,
                update_id,
                failures,
                error,
                delay,
            )
        self.state.record(
            EventKind.WEBHOOK_ERROR,
            self.bot.info.id,
            key if key != 0 else None,
            None,
            f"update {update_id}: {error}",
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            # The connection count is limited by the scheduler (max_connections), not here.
            connector = aiohttp.TCPConnector(limit=0)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def _post(self, update: JSONDict, webhook: JSONDict) -> str | None:
        """Send one update; ``None`` on 2xx, else the error as getWebhookInfo reports it."""
        headers = {"Content-Type": "application/json"}
        if webhook.get("secret_token"):
            headers[SECRET_HEADER] = str(webhook["secret_token"])
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        timeout = aiohttp.ClientTimeout(total=self.policy.timeout)
        try:
            async with self._client().post(
                str(webhook["url"]), data=body, headers=headers, timeout=timeout
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, ConnectionRefusedError):
                return "Connection refused"
            return f"Failed to connect: {exc.os_error.strerror or exc}"
        except aiohttp.ClientError as exc:
            return f"Connection error: {type(exc).__name__}: {exc}"


__all__ = [
    "SECRET_HEADER",
    "DeliveryHost",
    "RetryPolicy",
    "WebhookBot",
    "WebhookDelivery",
    "ordering_key",
]
