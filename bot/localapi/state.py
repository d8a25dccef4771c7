"""The simulated Telegram: bots, chats, pending updates, events, and the virtual-user side.

Everything here is synchronous and runs on the event loop thread, so a state change is atomic
with respect to other requests. Waiting (long polling, tests waiting for a reply) goes through
one :class:`ChangeNotifier` that wakes all waiters on every change; they re-check their own
condition. That keeps waits free of polling sleeps and of lost wake-ups.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
import mimetypes
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from bot.localapi.errors import ApiError, LocalApiUsageError
from bot.localapi.flood import FloodControl, FloodLimits
from bot.localapi.formatting import detect_bot_commands
from bot.localapi.models import (
    BotInfo,
    CallbackQueryRecord,
    ChatRecord,
    Event,
    EventKind,
    InjectedFault,
    MessageVersion,
    ServerStats,
    StoredFile,
    StoredMessage,
    VirtualUserInfo,
)
from bot.localapi.webhook import RetryPolicy, WebhookDelivery

logger = logging.getLogger("bot.localapi")

JSONDict = dict[str, Any]
BotRef = BotInfo | str | int
"""A bot given as its :class:`BotInfo`, token, username or numeric id."""

T = TypeVar("T")


class Outage(StrEnum):
    """How the Bot API can fail for a while, as seen from the bot (:meth:`ApiState.begin_outage`).

    The HTTP side (:class:`bot.localapi.server.LocalBotApi`) acts each one out; the simulated
    Telegram behind it (users writing, webhooks to the bot) keeps working.
    """

    #: A gateway in front of the API answers 502 with its own HTML page; nothing is carried out.
    BAD_GATEWAY = "bad_gateway"
    #: A gateway answers 404 with its own HTML page (PTB once read this as an invalid token and
    #: stopped polling for good); nothing is carried out.
    GATEWAY_NOT_FOUND = "gateway_not_found"
    #: Nothing listens: connections are refused and open ones are closed (all methods). For
    #: chosen methods the connection is reset instead, before the call is carried out.
    REFUSED = "refused"
    #: The call is carried out, but its answer is held back for ``delay`` seconds (or until the
    #: outage ends): longer than the client waits, so it gives up not knowing what happened.
    SLOW = "slow"


@dataclass(eq=False)
class ActiveOutage:
    kind: Outage
    #: Lower-case method names, or ``None`` for every method.
    methods: frozenset[str] | None
    bot_id: int | None
    #: SLOW: how long an answer is held at most.
    delay: float
    ended: bool = False

    def covers(self, method: str, bot_id: int) -> bool:
        return (
            not self.ended
            and (self.methods is None or method.lower() in self.methods)
            and self.bot_id in (None, bot_id)
        )

    @property
    def stops_listening(self) -> bool:
        return self.kind is Outage.REFUSED and self.methods is None and self.bot_id is None


# Telegram's default update set leaves these out unless asked for explicitly.
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class ChangeNotifier:
    """Wakes waiters on state changes, like ``Condition.notify_all`` without a lock.

    State changes happen in plain synchronous code (request handlers, the virtual-user API),
    which cannot acquire an ``asyncio.Condition``'s lock; swapping a fresh ``asyncio.Event`` on
    each change gives the same semantics with a synchronous ``notify()``.

    A waiter may name a chat (``chat``): it is then woken only by changes in that chat or by
    changes in no chat at all. Waking every virtual user on every message made the harness the
    bottleneck with a hundred users at once (each event re-ran a hundred predicates).
    """

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None
        self._by_chat: dict[int, asyncio.Event] = {}

    def notify(self, chat: int | None = None) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None
        if chat is None:
            for event in self._by_chat.values():
                event.set()
            self._by_chat.clear()
        elif chat in self._by_chat:
            self._by_chat.pop(chat).set()

    def _next_change(self, chat: int | None) -> asyncio.Event:
        if chat is not None:
            return self._by_chat.setdefault(chat, asyncio.Event())
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    async def wait_until(
        self,
        predicate: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
        *,
        chat: int | None = None,
    ) -> T | None:
        """Wait until ``predicate()`` is truthy and return it, or ``None`` after ``timeout``.
        With ``chat``, the predicate must depend only on that chat's events."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            event = self._next_change(chat)
            try:
                async with asyncio.timeout(remaining):
                    await event.wait()
            except TimeoutError:
                pass


@dataclass(eq=False)
class BotState:
    """Everything the server keeps for one bot token."""

    info: BotInfo
    chats: dict[int, ChatRecord] = field(default_factory=dict)
    updates: list[JSONDict] = field(default_factory=list)
    next_update_id: int = 1
    allowed_updates: frozenset[str] | None = None
    # The webhook set with setWebhook (url, secret_token, max_connections, ip_address,
    # has_custom_certificate); None while the bot polls.
    webhook: JSONDict | None = None
    # The latest failed webhook request, for getWebhookInfo; cleared with a new URL.
    webhook_last_error_date: int | None = None
    webhook_last_error_message: str | None = None
    commands: dict[tuple[str, str], list[JSONDict]] = field(default_factory=dict)
    default_menu_button: JSONDict | None = None
    files: dict[str, StoredFile] = field(default_factory=dict)
    files_by_path: dict[str, StoredFile] = field(default_factory=dict)
    callback_queries: dict[str, CallbackQueryRecord] = field(default_factory=dict)
    # Bumped by each getUpdates call; an older waiting call that sees a newer value gets 409.
    poll_generation: int = 0


def scope_key(scope: Any) -> str:
    """Canonical key of a ``BotCommandScope`` ("default" when absent)."""
    if scope is None or scope == "":
        scope = {"type": "default"}
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise ApiError.bad_request("can't parse BotCommandScope JSON object")
    normal = dict(scope)
    for key in ("chat_id", "user_id"):
        if key in normal:
            try:
                normal[key] = int(normal[key])
            except (TypeError, ValueError):
                raise ApiError.bad_request("chat not found") from None
    return json.dumps(normal, sort_keys=True)


class ApiState:
    """The in-process side of the local Bot API: simulated users act, tests observe and wait.

    :class:`bot.localapi.server.LocalBotApi` adds the HTTP endpoint the bot talks to.
    """

    def __init__(
        self,
        flood_limits: FloodLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        webhook_retry: RetryPolicy | None = None,
    ) -> None:
        self._bots: dict[int, BotState] = {}
        self._by_token: dict[str, BotState] = {}
        self._users: dict[int, VirtualUserInfo] = {}
        self._events: list[Event] = []
        self._faults: list[InjectedFault] = []
        self._outages: list[ActiveOutage] = []
        self._notifier = ChangeNotifier()
        self._wall_clock = wall_clock
        self._counter = 0
        self.closing = False
        self.stats = ServerStats()
        self.flood: FloodControl | None = (
            FloodControl(flood_limits, clock) if flood_limits is not None else None
        )
        self.webhook_retry = webhook_retry or RetryPolicy()
        self._deliveries: dict[int, WebhookDelivery] = {}

    # ---------------------------------------------------------------------------- bots

    def add_bot(self, token: str, username: str, first_name: str = "Test Bot") -> BotInfo:
        """Register a bot; its id is the number before ``:`` in ``token``."""
        head, sep, secret = token.partition(":")
        if not sep or not head.isdigit() or not secret:
            raise LocalApiUsageError(f"token {token!r} is not of the form '<digits>:<secret>'")
        info = BotInfo(id=int(head), token=token, username=username, first_name=first_name)
        if info.id in self._bots:
            raise LocalApiUsageError(f"a bot with id {info.id} is already registered")
        state = BotState(info)
        self._bots[info.id] = state
        self._by_token[token] = state
        logger.info("Registered bot @%s (id %s)", username, info.id)
        return info

    @property
    def bots(self) -> list[BotInfo]:
        return [state.info for state in self._bots.values()]

    def bot_state(self, bot: BotRef) -> BotState:
        """The server-side record of a bot (chats, pending updates, webhook, commands...)."""
        found: BotState | None = None
        if isinstance(bot, BotInfo):
            found = self._bots.get(bot.id)
        elif isinstance(bot, int):
            found = self._bots.get(bot)
        elif ":" in bot:
            found = self._by_token.get(bot)
        else:
            name = bot.lstrip("@").lower()
            found = next((s for s in self._bots.values() if s.info.username.lower() == name), None)
        if found is None:
            raise LocalApiUsageError(f"unknown bot {bot!r}; register it with add_bot() first")
        return found

    def bot_by_token(self, token: str) -> BotState | None:
        return self._by_token.get(token)

    # ---------------------------------------------------------------------------- events

    @property
    def seq(self) -> int:
        """Sequence number of the latest event (0 before any): a mark for "what came after"."""
        return len(self._events)

    @property
    def events(self) -> list[Event]:
        return list(self._events)

    def events_since(self, seq: int) -> list[Event]:
        """Events with a sequence number greater than ``seq``, oldest first."""
        return self._events[max(seq, 0) :]

    def record(
        self,
        kind: EventKind,
        bot_id: int,
        chat_id: int | None = None,
        message_id: int | None = None,
        detail: str = "",
    ) -> Event:
        event = Event(len(self._events) + 1, kind, bot_id, chat_id, message_id, detail)
        self._events.append(event)
        logger.debug("Event %s", event.describe())
        self._notifier.notify(chat_id)
        return event

    def notify(self) -> None:
        """Wake every waiter (long polls, ``wait_for``) so they re-check their condition."""
        self._notifier.notify()

    async def wait_until(
        self,
        predicate: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
    ) -> T | None:
        """Like :meth:`wait_for` but returns ``None`` on timeout instead of raising."""
        return await self._notifier.wait_until(predicate, timeout)

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline per wait is the point of the API
        *,
        description: str | None = None,
        bot: BotRef | None = None,
        chat_id: int | None = None,
        only_this_chat: bool = False,
    ) -> T:
        """Wait until ``predicate()`` returns something truthy and return that value.

        Re-evaluated on every state change, never by polling. On timeout raises
        ``TimeoutError`` naming what was awaited, with the chat's recent history (when ``bot``
        and ``chat_id`` are given) and the latest events, which usually shows what went wrong
        (an API error of the bot, a reply to another chat...). ``only_this_chat`` re-evaluates
        only on events of ``chat_id`` (for predicates that read nothing else).
        """
        woken_by = chat_id if only_this_chat else None
        result = await self._notifier.wait_until(predicate, timeout, chat=woken_by)
        if result:
            return result
        what = description or _describe_predicate(predicate)
        lines = [f"Timed out after {timeout:g}s waiting for {what}."]
        if bot is not None and chat_id is not None:
            chat = self.find_chat(bot, chat_id)
            transcript = chat.transcript() if chat else "(chat does not exist)"
            lines += [f"Chat {chat_id} history:", transcript]
        recent = self._events[-20:]
        lines.append("Recent events:")
        lines += [e.describe() for e in recent] or ["(none)"]
        raise TimeoutError("\n".join(lines))

    # ---------------------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
        *,
        bot: BotRef | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with this error (all bots or one)."""
        bot_id = self.bot_state(bot).info.id if bot is not None else None
        self._faults.append(
            InjectedFault(method.lower(), error_code, description, retry_after, times, bot_id)
        )

    def take_fault(self, method: str, bot_id: int) -> ApiError | None:
        for fault in self._faults:
            if fault.method == method.lower() and fault.bot_id in (None, bot_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                params = {"retry_after": fault.retry_after} if fault.retry_after else None
                self.stats.injected_faults += 1
                return ApiError(fault.error_code, fault.description, params)
        return None

    def begin_outage(
        self,
        kind: Outage,
        *,
        methods: Iterable[str] | None = None,
        bot: BotRef | None = None,
        delay: float = 30.0,
    ) -> ActiveOutage:
        """From now on, calls of ``methods`` (all when ``None``) of ``bot`` (all when ``None``)
        fail as ``kind`` says, until :meth:`end_outage`. :meth:`LocalBotApi.fail_for
        <bot.localapi.server.LocalBotApi.fail_for>` also stops listening for ``REFUSED``."""
        outage = ActiveOutage(
            kind,
            frozenset(m.lower() for m in methods) if methods is not None else None,
            self.bot_state(bot).info.id if bot is not None else None,
            delay,
        )
        self._outages.append(outage)
        logger.info("Outage begins: %s (%s)", kind.value, sorted(outage.methods or ["all"]))
        self.notify()
        return outage

    def end_outage(self, outage: ActiveOutage | None = None) -> None:
        """End ``outage`` (every outage when ``None``); answers held by SLOW go out now."""
        for active in [outage] if outage is not None else list(self._outages):
            active.ended = True
            if active in self._outages:
                self._outages.remove(active)
                logger.info("Outage ends: %s", active.kind.value)
        self.notify()

    def outage_for(self, method: str, bot_id: int) -> ActiveOutage | None:
        return next((o for o in self._outages if o.covers(method, bot_id)), None)

    @property
    def outages(self) -> list[ActiveOutage]:
        return list(self._outages)

    def check_flood(self, state: BotState, chat: ChatRecord) -> None:
        """Raise 429 when sending to ``chat`` now would exceed the flood limits."""
        if self.flood is None:
            return
        retry_after = self.flood.acquire(state.info.id, chat.id, is_group=chat.is_group)
        if retry_after is not None:
            raise ApiError.retry_after(retry_after)

    # ---------------------------------------------------------------------------- updates

    def queue_update(self, state: BotState, kind: str, payload: JSONDict) -> JSONDict | None:
        """Append an update for the bot unless its ``allowed_updates`` exclude the kind."""
        allowed = state.allowed_updates
        if (allowed is None and kind in _NOT_BY_DEFAULT) or (
            allowed is not None and kind not in allowed
        ):
            logger.debug("Dropped %s update for @%s (allowed_updates)", kind, state.info.username)
            return None
        update: JSONDict = {"update_id": state.next_update_id, kind: payload}
        state.next_update_id += 1
        state.updates.append(update)
        self.notify()
        return update

    def confirm_updates(self, state: BotState, offset: int) -> None:
        """getUpdates ``offset`` semantics: forget updates below it (negative: keep the tail)."""
        if offset > 0:
            state.updates = [u for u in state.updates if u["update_id"] >= offset]
        elif offset < 0:
            state.updates = state.updates[offset:]

    def pending_updates(self, bot: BotRef) -> list[JSONDict]:
        """Updates not yet confirmed by getUpdates, or not yet answered 2xx by the webhook."""
        return list(self.bot_state(bot).updates)

    # ---------------------------------------------------------------------------- webhooks

    def set_webhook(self, state: BotState, webhook: JSONDict, *, drop_pending: bool) -> None:
        """Switch the bot to webhook delivery (or change its webhook) and start sending.

        A changed URL forgets the previous URL's last error. Requests in flight finish with the
        settings they started with; later ones use the new settings.
        """
        previous = state.webhook
        if previous is None or previous["url"] != webhook["url"]:
            state.webhook_last_error_date = None
            state.webhook_last_error_message = None
        state.webhook = webhook
        if drop_pending:
            self.drop_pending_updates(state)
        delivery = self._deliveries.get(state.info.id)
        if delivery is None:
            delivery = WebhookDelivery(self, state, self.webhook_retry, self.now)
            self._deliveries[state.info.id] = delivery
        delivery.start()
        self.notify()  # a waiting getUpdates ends; the delivery looks at the pending updates

    async def delete_webhook(self, state: BotState, *, drop_pending: bool) -> None:
        """Back to getUpdates: requests in flight are cut off, their updates stay pending."""
        state.webhook = None
        state.webhook_last_error_date = None
        state.webhook_last_error_message = None
        delivery = self._deliveries.pop(state.info.id, None)
        if delivery is not None:
            await delivery.stop()
        if drop_pending:
            self.drop_pending_updates(state)
        self.notify()

    def drop_pending_updates(self, state: BotState) -> None:
        state.updates.clear()
        delivery = self._deliveries.get(state.info.id)
        if delivery is not None:
            delivery.forget_pending()

    def webhook_in_flight(self, bot: BotRef) -> int:
        """Webhook requests of the bot open right now (0 while it polls)."""
        delivery = self._deliveries.get(self.bot_state(bot).info.id)
        return delivery.in_flight if delivery is not None else 0

    def resume_webhooks(self) -> None:
        """Start delivering again for every bot whose webhook is set (the server restarted)."""
        for state in self._bots.values():
            if state.webhook is not None and state.info.id not in self._deliveries:
                self.set_webhook(state, state.webhook, drop_pending=False)

    async def stop_webhooks(self) -> None:
        """Stop every webhook delivery (the server is shutting down); updates stay pending."""
        deliveries = list(self._deliveries.values())
        self._deliveries.clear()
        for delivery in deliveries:
            await delivery.stop()

    # ---------------------------------------------------------------------------- chats

    def find_chat(self, bot: BotRef, chat_id: int) -> ChatRecord | None:
        return self.bot_state(bot).chats.get(chat_id)

    def chat(self, bot: BotRef, chat_id: int) -> ChatRecord:
        chat = self.find_chat(bot, chat_id)
        if chat is None:
            raise LocalApiUsageError(f"chat {chat_id} does not exist for bot {bot!r}")
        return chat

    def history(self, bot: BotRef, chat_id: int) -> list[StoredMessage]:
        """All messages of the chat in order, both sides, deleted ones included (flagged)."""
        return list(self.chat(bot, chat_id).messages)

    def bot_messages(
        self, bot: BotRef, chat_id: int, *, include_deleted: bool = False
    ) -> list[StoredMessage]:
        return self.chat(bot, chat_id).bot_messages(include_deleted=include_deleted)

    def message(self, bot: BotRef, chat_id: int, message_id: int) -> StoredMessage:
        found = self.chat(bot, chat_id).message(message_id)
        if found is None:
            raise LocalApiUsageError(f"no message #{message_id} in chat {chat_id}")
        return found

    def callback_query(self, query_id: str) -> CallbackQueryRecord:
        for state in self._bots.values():
            if query_id in state.callback_queries:
                return state.callback_queries[query_id]
        raise LocalApiUsageError(f"unknown callback query {query_id!r}")

    def commands(
        self, bot: BotRef, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict] | None:
        """Commands set for exactly this scope and language (``None`` when never set)."""
        return self.bot_state(bot).commands.get((scope_key(scope), language_code or ""))

    def user(self, user_id: int) -> VirtualUserInfo:
        if user_id not in self._users:
            raise LocalApiUsageError(f"unknown virtual user {user_id}")
        return self._users[user_id]

    def create_group(
        self,
        bot: BotRef,
        chat_id: int,
        title: str = "Test group",
        *,
        members: Iterable[VirtualUserInfo] = (),
    ) -> ChatRecord:
        """A group the bot is in. Ids below -10**12 make supergroups, like Telegram's -100..."""
        if chat_id >= 0:
            raise LocalApiUsageError("group chat ids are negative")
        state = self.bot_state(bot)
        chat = state.chats.get(chat_id)
        if chat is None:
            kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
            chat = state.chats[chat_id] = ChatRecord(id=chat_id, type=kind, title=title)
        for member in members:
            self._users[member.id] = member
        return chat

    def _chat_for(self, state: BotState, user: VirtualUserInfo, chat_id: int | None) -> ChatRecord:
        self._users[user.id] = user
        if chat_id is None or chat_id == user.id:
            chat = state.chats.get(user.id)
            if chat is None:
                chat = state.chats[user.id] = ChatRecord(id=user.id, type="private", user=user)
            elif chat.user != user:
                chat.user = user  # profile changes (name, language) show in later updates
        else:
            chat = self.create_group(state.info, chat_id, f"Group {abs(chat_id)}")
        if chat.blocked:
            raise LocalApiUsageError(
                f"user {user.id} has blocked @{state.info.username}; call user_unblocks_bot first"
            )
        return chat

    def now(self) -> int:
        return int(self._wall_clock())

    def new_message(
        self, chat: ChatRecord, sender: VirtualUserInfo | BotInfo, **fields: Any
    ) -> StoredMessage:
        message = StoredMessage(
            message_id=chat.next_message_id,
            chat=chat,
            sender=sender,
            date=self.now(),
            seq=self.seq + 1,
            **fields,
        )
        chat.next_message_id += 1
        chat.add(message)
        return message

    # ---------------------------------------------------------------------------- user side

    def _user_message(
        self,
        bot: BotRef,
        user: VirtualUserInfo,
        chat_id: int | None,
        reply_to_message_id: int | None = None,
        **fields: Any,
    ) -> StoredMessage:
        state = self.bot_state(bot)
        chat = self._chat_for(state, user, chat_id)
        reply_to = None
        if reply_to_message_id is not None:
            reply_to = chat.message(reply_to_message_id)
            if reply_to is None:
                raise LocalApiUsageError(f"no message #{reply_to_message_id} to reply to")
        message = self.new_message(chat, user, reply_to=reply_to, **fields)
        event = self.record(
            EventKind.USER_MESSAGE, state.info.id, chat.id, message.message_id, message.describe()
        )
        message.last_seq = event.seq
        self.queue_update(state, "message", message.to_api())
        return message

    def user_send_text(
        self,
        bot: BotRef,
        user: VirtualUserInfo,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> StoredMessage:
        """The user types ``text`` (``/command`` entities are added as Telegram does).

        ``chat_id`` defaults to the private chat; a negative id posts into that group.
        """
        if not text.strip():
            raise LocalApiUsageError("Telegram clients do not send empty messages")
        return self._user_message(
            bot,
            user,
            chat_id,
            reply_to_message_id,
            text=text,
            plain_text=text,
            entities=detect_bot_commands(text),
        )

    def user_share_contact(
        self,
        bot: BotRef,
        user: VirtualUserInfo,
        phone_number: str,
        first_name: str | None = None,
        user_id: int | None = None,
        *,
        last_name: str | None = None,
        chat_id: int | None = None,
    ) -> StoredMessage:
        """The user sends a contact; ``user_id`` links it to a Telegram account (own: user.id)."""
        contact: JSONDict = {"phone_number": phone_number, "first_name": first_name or ""}
        if not contact["first_name"]:
            contact["first_name"] = user.first_name
        if last_name:
            contact["last_name"] = last_name
        if user_id is not None:
            contact["user_id"] = user_id
        return self._user_message(bot, user, chat_id, contact=contact)

    def user_share_location(
        self,
        bot: BotRef,
        user: VirtualUserInfo,
        latitude: float,
        longitude: float,
        *,
        chat_id: int | None = None,
    ) -> StoredMessage:
        location = {"latitude": float(latitude), "longitude": float(longitude)}
        return self._user_message(bot, user, chat_id, location=location)

    def user_send_document(
        self,
        bot: BotRef,
        user: VirtualUserInfo,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> StoredMessage:
        """The user uploads a file; the bot can download it with getFile."""
        state = self.bot_state(bot)
        stored = self.store_file(state, data, file_name, mime_type)
        return self._user_message(
            bot,
            user,
            chat_id,
            document=stored,
            text=caption,
            plain_text=caption,
        )

    def user_press_button(
        self,
        bot: BotRef,
        user: VirtualUserInfo,
        message_id: int,
        callback_data: str,
        *,
        chat_id: int | None = None,
    ) -> str:
        """The user presses an inline button with ``callback_data`` under ``message_id``.

        The button is deliberately not checked to exist, so tests can forge stale or hostile
        presses; :class:`bot.localapi.harness.VirtualUser` finds real buttons by label.
        Returns the callback query id.
        """
        state = self.bot_state(bot)
        chat = self._chat_for(state, user, chat_id)
        message = chat.message(message_id)
        if message is None or message.deleted:
            raise LocalApiUsageError(f"no message #{message_id} in chat {chat.id} to press on")
        self._counter += 1
        query_id = f"{state.info.id}{self._counter:010d}"
        event = self.record(
            EventKind.CALLBACK_QUERY,
            state.info.id,
            chat.id,
            message_id,
            f"user {user.id} pressed {callback_data!r} (query {query_id})",
        )
        state.callback_queries[query_id] = CallbackQueryRecord(
            query_id, state.info.id, user, chat.id, message_id, callback_data, event.seq
        )
        instance = hashlib.sha1(f"{state.info.id}/{chat.id}".encode()).hexdigest()
        payload: JSONDict = {
            "id": query_id,
            "from": user.to_api(),
            "chat_instance": str(int(instance[:15], 16)),
            "message": message.to_api(),
            "data": callback_data,
        }
        self.queue_update(state, "callback_query", payload)
        return query_id

    def _member_update(self, bot: BotRef, user: VirtualUserInfo, blocked: bool) -> None:
        state = self.bot_state(bot)
        chat = state.chats.get(user.id)
        if chat is None:
            chat = self._chat_for(state, user, None)
        if chat.blocked == blocked:
            return
        chat.blocked = blocked
        bot_user = state.info.to_api()
        member = {"user": bot_user, "status": "member"}
        kicked = {"user": bot_user, "status": "kicked", "until_date": 0}
        self.record(
            EventKind.BOT_BLOCKED if blocked else EventKind.BOT_UNBLOCKED,
            state.info.id,
            chat.id,
            None,
            f"user {user.id} {'blocked' if blocked else 'unblocked'} the bot",
        )
        self.queue_update(
            state,
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": user.to_api(),
                "date": self.now(),
                "old_chat_member": member if blocked else kicked,
                "new_chat_member": kicked if blocked else member,
            },
        )

    def open_private_chat(self, bot: BotRef, user: VirtualUserInfo) -> ChatRecord:
        """The private chat of a user who started the bot earlier, without an update (benchmarks
        that seed thousands of recipients directly in the database)."""
        return self._chat_for(self.bot_state(bot), user, None)

    def user_blocks_bot(self, bot: BotRef, user: VirtualUserInfo) -> None:
        """The user blocks the bot: a ``my_chat_member`` update, then 403 on every send."""
        self._member_update(bot, user, blocked=True)

    def user_unblocks_bot(self, bot: BotRef, user: VirtualUserInfo) -> None:
        self._member_update(bot, user, blocked=False)

    # ---------------------------------------------------------------------------- bot side

    def store_file(
        self, state: BotState, data: bytes, file_name: str, mime_type: str | None = None
    ) -> StoredFile:
        self._counter += 1
        digest = hashlib.sha1(data).hexdigest()
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = StoredFile(
            file_id=f"BQACAgIAAxk{self._counter:06d}{digest[:20]}",
            file_unique_id=f"AgAD{digest[:12]}",
            file_path=f"documents/file_{self._counter}.{extension}",
            file_name=file_name,
            mime_type=mime,
            data=data,
        )
        state.files[stored.file_id] = stored
        state.files_by_path[stored.file_path] = stored
        return stored

    def bot_message(self, state: BotState, chat: ChatRecord, **fields: Any) -> StoredMessage:
        """Store a message the bot sent and track the reply keyboard it shows."""
        message = self.new_message(chat, state.info, **fields)
        markup = message.reply_markup or {}
        if "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        self.stats.messages_sent += 1
        event = self.record(
            EventKind.BOT_MESSAGE, state.info.id, chat.id, message.message_id, message.describe()
        )
        message.last_seq = event.seq
        return message

    def edit_message(self, state: BotState, message: StoredMessage, **changes: Any) -> None:
        """Apply an edit, keeping the previous version in ``message.edits``."""
        message.edits.append(
            MessageVersion(
                text=message.text,
                plain_text=message.plain_text,
                parse_mode=message.parse_mode,
                entities=message.entities,
                reply_markup=message.reply_markup,
                edit_date=message.edit_date,
                seq=message.last_seq,
            )
        )
        for name, value in changes.items():
            setattr(message, name, value)
        message.edit_date = self.now()
        event = self.record(
            EventKind.BOT_EDIT,
            state.info.id,
            message.chat_id,
            message.message_id,
            message.describe(),
        )
        message.last_seq = event.seq


def _describe_predicate(predicate: Callable[..., Any]) -> str:
    try:
        source = inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return getattr(predicate, "__qualname__", repr(predicate))
    return source if len(source) <= 300 else source[:300] + "..."


__all__ = ["ApiState", "BotRef", "BotState", "ChangeNotifier", "scope_key"]
