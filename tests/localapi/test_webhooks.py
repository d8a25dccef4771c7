"""Webhook mode of the local Bot API: setWebhook makes the server POST each update to the bot.

The receiver (tests/localapi/receiver.py) plays the bot's endpoint; the server's retry delays are
set low so failures resolve in milliseconds. Tests wait for conditions, never for time.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import random
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.localapi import BotInfo, EventKind, FloodLimits, LocalBotApi, VirtualUser
from bot.localapi.models import VirtualUserInfo
from bot.localapi.webhook import RetryPolicy, ordering_key
from tests.localapi.conftest import ALICE, BOB, TOKEN, FakeClock
from tests.localapi.receiver import JSONDict, WebhookReceiver, closed_port_url, never_answer

SECRET = "s3cret_Token-42"


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi(
        webhook_retry_base=0.02, webhook_retry_max=0.2, webhook_timeout=5.0
    ) as running:
        yield running


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as running:
        yield running


def api(server: LocalBotApi, method: str) -> str:
    return f"{server.url}/bot{TOKEN}/{method}"


async def delivered(server: LocalBotApi, receiver: WebhookReceiver, count: int) -> None:
    await server.wait_for(
        lambda: len(receiver.accepted) >= count and not server.pending_updates(TOKEN),
        description=f"{count} updates delivered to the webhook",
    )


# ------------------------------------------------------------------------------ delivery


async def test_updates_are_posted_as_json_with_the_secret_header(
    server: LocalBotApi, bot: Bot, alice: VirtualUser, receiver: WebhookReceiver
) -> None:
    assert await bot.set_webhook(receiver.url, secret_token=SECRET)
    await alice.send("你好")
    await delivered(server, receiver, 1)
    [request] = receiver.requests
    assert request.secret == SECRET
    assert request.content_type == "application/json"
    assert request.update["update_id"] == 1
    assert request.update["message"]["text"] == "你好"
    assert request.update["message"]["from"]["id"] == ALICE.id
    # The update parses as PTB's Update, as the bot's endpoint will parse it.
    update = Update.de_json(request.update, bot)
    assert update.effective_message is not None
    assert update.effective_message.text == "你好"
    assert server.stats.webhook_deliveries == 1
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_no_secret_no_header(
    server: LocalBotApi, bot: Bot, alice: VirtualUser, receiver: WebhookReceiver
) -> None:
    await bot.set_webhook(receiver.url)
    await alice.send("hi")
    await delivered(server, receiver, 1)
    assert receiver.requests[0].secret is None


async def test_one_chats_updates_in_order_several_chats_concurrently(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo, receiver: WebhookReceiver
) -> None:
    """5 chats × 20 messages to a slow receiver that fails a tenth of first attempts."""
    rng = random.Random(21)

    async def slow_and_flaky(update: JSONDict, attempt: int) -> int:
        await asyncio.sleep(rng.uniform(0, 0.004))  # the bot takes its time (not a sync)
        return 500 if attempt == 1 and rng.random() < 0.1 else 200

    receiver.answer = slow_and_flaky
    await bot.set_webhook(receiver.url, max_connections=3)
    users = [VirtualUser(server, bot_info, VirtualUserInfo(2000 + n, f"U{n}")) for n in range(5)]
    for round_ in range(20):
        for user in users:
            await user.send(f"{user.info.first_name} #{round_}")
    await delivered(server, receiver, 100)

    for user in users:
        assert receiver.texts(user.id) == [f"{user.info.first_name} #{r}" for r in range(20)]
        # A retry of an update always came before any request for the chat's next update.
        ids = [r.update_id for r in receiver.requests if r.chat_id == user.id]
        assert ids == sorted(ids)
    assert receiver.overlaps == 0  # never two requests of one chat open at once
    assert 2 <= receiver.max_in_flight <= 3  # chats went in parallel, within max_connections
    assert server.stats.webhook_errors == sum(r.status == 500 for r in receiver.requests) > 0
    assert len(receiver.accepted) == 100


async def test_a_failing_update_holds_back_its_chat_only_and_is_retried(
    server: LocalBotApi,
    bot: Bot,
    alice: VirtualUser,
    bob: VirtualUser,
    receiver: WebhookReceiver,
) -> None:
    async def fails_three_times_for_alice_first(update: JSONDict, attempt: int) -> int:
        if update["update_id"] == 1 and attempt <= 3:
            return 500
        return 200

    receiver.answer = fails_three_times_for_alice_first
    await bot.set_webhook(receiver.url)
    await alice.send("first")
    await alice.send("second")
    await bob.send("bob's")
    await delivered(server, receiver, 3)

    assert [r.status for r in receiver.requests if r.update_id == 1] == [500, 500, 500, 200]
    accepted = [u["update_id"] for u in receiver.accepted]
    assert accepted.index(3) < accepted.index(1) < accepted.index(2)  # bob did not wait
    first_request_of_second = next(i for i, r in enumerate(receiver.requests) if r.update_id == 2)
    last_of_first = max(i for i, r in enumerate(receiver.requests) if r.update_id == 1)
    assert first_request_of_second > last_of_first
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert isinstance(info.last_error_date, dtm.datetime)
    assert info.pending_update_count == 0
    errors = [e for e in server.events if e.kind is EventKind.WEBHOOK_ERROR]
    assert len(errors) == 3 and errors[0].chat_id == ALICE.id


async def test_retry_delays_grow_and_are_capped() -> None:
    policy = RetryPolicy(base=0.05, maximum=1.0)
    assert [policy.delay(n) for n in range(1, 8)] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    with pytest.raises(ValueError):
        RetryPolicy(base=0.0)


async def test_a_webhook_that_is_down_keeps_updates_pending_until_it_is_back(
    server: LocalBotApi, bot: Bot, alice: VirtualUser, receiver: WebhookReceiver
) -> None:
    await bot.set_webhook(closed_port_url())
    await alice.send("one")
    await alice.send("two")
    await server.wait_for(lambda: server.stats.webhook_errors >= 2)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 2
    assert info.last_error_message == "Connection refused"
    # The bot comes back at another address: everything arrives, in order, and the old
    # address's error is forgotten.
    await bot.set_webhook(receiver.url)
    await delivered(server, receiver, 2)
    assert receiver.texts(ALICE.id) == ["one", "two"]
    info = await bot.get_webhook_info()
    assert info.last_error_date is None and info.last_error_message is None


async def test_a_hung_request_times_out_and_is_retried() -> None:
    attempts: list[int] = []

    async def hangs_first(update: JSONDict, attempt: int) -> int:
        attempts.append(attempt)
        if attempt == 1:
            return await never_answer(update, attempt)
        return 200

    async with (
        LocalBotApi(webhook_retry_base=0.01, webhook_retry_max=0.01, webhook_timeout=0.2) as srv,
        WebhookReceiver(hangs_first) as receiver,
    ):
        srv.add_bot(TOKEN, "zhiyuan_test_bot")
        async with Bot(TOKEN, base_url=srv.bot_api_url) as ptb_bot:
            await ptb_bot.set_webhook(receiver.url)
            await VirtualUser(srv, TOKEN, ALICE).send("hello")
            await delivered(srv, receiver, 1)
            info = await ptb_bot.get_webhook_info()
    assert attempts == [1, 2]
    assert info.last_error_message == "Read timeout expired"


async def test_webhook_posts_are_not_flood_limited_but_sends_still_are(
    receiver: WebhookReceiver,
) -> None:
    clock = FakeClock()  # frozen: no bucket ever refills during the test
    async with LocalBotApi(flood_limits=FloodLimits(), clock=clock, webhook_retry_base=0.02) as srv:
        srv.add_bot(TOKEN, "zhiyuan_test_bot")
        async with Bot(TOKEN, base_url=srv.bot_api_url) as ptb_bot:
            await ptb_bot.set_webhook(receiver.url)
            alice = VirtualUser(srv, TOKEN, ALICE)
            for n in range(40):  # more than the global 30/s and the chat's 1/s
                await alice.send(f"m{n}")
            await delivered(srv, receiver, 40)
            await ptb_bot.send_message(ALICE.id, "one")
            with pytest.raises(RetryAfter):
                await ptb_bot.send_message(ALICE.id, "two")
    assert receiver.texts(ALICE.id) == [f"m{n}" for n in range(40)]


# ------------------------------------------------------------------------------ modes


async def test_get_updates_is_refused_while_a_webhook_is_set(
    server: LocalBotApi, bot: Bot, receiver: WebhookReceiver
) -> None:
    await bot.set_webhook(receiver.url)
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    async with httpx.AsyncClient() as client:
        response = await client.post(api(server, "getUpdates"))
    assert response.status_code == 409
    assert response.json()["description"] == (
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
        "delete the webhook first"
    )


async def test_set_webhook_ends_a_waiting_long_poll(
    server: LocalBotApi, bot: Bot, receiver: WebhookReceiver
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await server.wait_for(lambda: server.bot_state(TOKEN).poll_generation == 1)
    await bot.set_webhook(receiver.url)
    with pytest.raises(Conflict, match="terminated by setWebhook request"):
        await poll


async def test_delete_webhook_keeps_undelivered_updates_for_get_updates(
    server: LocalBotApi, bot: Bot, alice: VirtualUser
) -> None:
    await bot.set_webhook(closed_port_url())
    await alice.send("one")
    await alice.send("two")
    await server.wait_for(lambda: server.stats.webhook_errors >= 1)
    assert await bot.delete_webhook(drop_pending_updates=False)
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["one", "two"]
    info = await bot.get_webhook_info()
    assert info.url == "" and info.last_error_message is None


async def test_delete_webhook_can_drop_undelivered_updates(
    server: LocalBotApi, bot: Bot, alice: VirtualUser
) -> None:
    await bot.set_webhook(closed_port_url())
    await alice.send("one")
    await server.wait_for(lambda: server.stats.webhook_errors >= 1)
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_updates_queued_while_polling_go_to_the_webhook_unless_dropped(
    server: LocalBotApi, bot: Bot, alice: VirtualUser, receiver: WebhookReceiver
) -> None:
    await alice.send("before the webhook")
    await bot.set_webhook(receiver.url, drop_pending_updates=True)
    assert server.pending_updates(TOKEN) == []
    await bot.delete_webhook()
    await alice.send("kept")
    await bot.set_webhook(receiver.url)
    await delivered(server, receiver, 1)
    assert receiver.texts(ALICE.id) == ["kept"]


async def test_polling_after_delete_webhook_works_as_before(
    server: LocalBotApi, bot: Bot, alice: VirtualUser, receiver: WebhookReceiver
) -> None:
    await bot.set_webhook(receiver.url)
    await alice.send("by webhook")
    await delivered(server, receiver, 1)
    await bot.delete_webhook()
    await alice.send("by polling")
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.text == "by polling"
    assert len(receiver.requests) == 1


async def test_set_webhook_with_an_empty_url_removes_it(
    server: LocalBotApi, bot: Bot, receiver: WebhookReceiver
) -> None:
    await bot.set_webhook(receiver.url)
    assert await bot.set_webhook("")
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


# ------------------------------------------------------------------------------ info & validation


async def test_get_webhook_info_through_ptb(
    server: LocalBotApi, bot: Bot, alice: VirtualUser
) -> None:
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
    assert info.max_connections is None and info.last_error_date is None
    url = closed_port_url()
    assert await bot.set_webhook(
        url,
        secret_token=SECRET,
        max_connections=7,
        allowed_updates=["message", "callback_query"],
        ip_address="127.0.0.1",
    )
    await alice.send("waiting")
    await server.wait_for(lambda: server.stats.webhook_errors >= 1)
    info = await bot.get_webhook_info()
    assert info.url == url
    assert info.has_custom_certificate is False
    assert info.pending_update_count == 1
    assert info.max_connections == 7
    assert info.allowed_updates == ("callback_query", "message")
    assert info.ip_address == "127.0.0.1"
    assert info.last_error_message == "Connection refused"
    assert info.last_error_date is not None
    assert abs(info.last_error_date.timestamp() - server.now()) <= 2


async def test_max_connections_defaults_to_40_and_is_clamped(
    server: LocalBotApi, bot: Bot, receiver: WebhookReceiver
) -> None:
    await bot.set_webhook(receiver.url)
    assert (await bot.get_webhook_info()).max_connections == 40
    await bot.set_webhook(receiver.url, max_connections=500)
    assert (await bot.get_webhook_info()).max_connections == 100
    async with httpx.AsyncClient() as client:
        await client.post(
            api(server, "setWebhook"), data={"url": receiver.url, "max_connections": -3}
        )
    assert (await bot.get_webhook_info()).max_connections == 1


@pytest.mark.parametrize(
    ("params", "description"),
    [
        (
            {"url": "http://example.org/hook"},
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        ),
        (
            {"url": "example.org/hook"},
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        ),
        (
            {"url": "https://example.org:8080/hook"},
            "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
        ),
        ({"url": "ftp://127.0.0.1/hook"}, "Bad Request: invalid webhook URL specified"),
        ({"url": "https://:443/hook"}, "Bad Request: invalid webhook URL specified"),
        (
            {"url": "https://example.org/hook", "secret_token": "with space"},
            "Bad Request: secret token contains unallowed characters",
        ),
        (
            {"url": "https://example.org/hook", "secret_token": "a" * 257},
            "Bad Request: secret token is too long",
        ),
    ],
)
async def test_set_webhook_refuses_what_telegram_refuses(
    server: LocalBotApi, bot_info: BotInfo, params: dict[str, str], description: str
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(api(server, "setWebhook"), data=params)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}
    assert server.bot_state(TOKEN).webhook is None  # nothing was applied


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/hook",
        "https://example.org:8443/hook",
        "http://127.0.0.1:8081/hook",
        "http://localhost:9000/telegram",
        "http://[::1]:9000/hook",
        "https://127.0.0.2:1234/hook",
    ],
)
async def test_set_webhook_accepts_https_and_any_local_url(
    server: LocalBotApi, bot: Bot, url: str
) -> None:
    assert await bot.set_webhook(url, secret_token="a" * 256)
    assert (await bot.get_webhook_info()).url == url


async def test_a_secret_with_bad_characters_is_a_bad_request_for_ptb(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="unallowed characters"):
        await bot.set_webhook("https://example.org/hook", secret_token="no/slashes")


# ------------------------------------------------------------------------------ what is ordered


def test_ordering_key_is_the_chat_and_a_press_belongs_to_its_messages_chat() -> None:
    group_message = {"chat": {"id": -5}, "from": {"id": 7}, "text": "hi"}
    assert ordering_key({"update_id": 1, "message": group_message}) == -5
    press = {"id": "q", "from": {"id": 7}, "message": group_message, "data": "x"}
    assert ordering_key({"update_id": 2, "callback_query": press}) == -5
    inline_press = {"id": "q", "from": {"id": 7}, "inline_message_id": "m", "data": "x"}
    assert ordering_key({"update_id": 3, "callback_query": inline_press}) == 7
    member = {"chat": {"id": 7}, "from": {"id": 7}}
    assert ordering_key({"update_id": 4, "my_chat_member": member}) == 7


async def test_presses_and_messages_of_a_group_arrive_in_order(
    server: LocalBotApi, bot: Bot, bot_info: BotInfo, receiver: WebhookReceiver
) -> None:
    async def slow_first(update: JSONDict, attempt: int) -> int:
        if update["update_id"] == 1 and attempt == 1:
            return 503  # the first message is retried: the press behind it must wait
        return 200

    receiver.answer = slow_first
    group = -4242
    alice = VirtualUser(server, bot_info, ALICE, chat_id=group)
    bob = VirtualUser(server, bot_info, BOB, chat_id=group)
    await alice.send("hello group")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    await bot.send_message(group, "Vote", reply_markup=keyboard)
    await bot.set_webhook(receiver.url)
    await bob.press("Yes")
    await alice.send("after the press")
    await delivered(server, receiver, 3)
    kinds = [next(k for k in u if k != "update_id") for u in receiver.accepted]
    assert kinds == ["message", "callback_query", "message"]


async def test_allowed_updates_apply_to_the_webhook(
    server: LocalBotApi, bot: Bot, alice: VirtualUser, receiver: WebhookReceiver
) -> None:
    await bot.set_webhook(receiver.url, allowed_updates=["callback_query"])
    await alice.send("not wanted")
    assert server.pending_updates(TOKEN) == []
    await alice.block()
    assert server.pending_updates(TOKEN) == []


# ------------------------------------------------------------------------------ a real bot


async def test_a_ptb_application_in_webhook_mode_talks_with_virtual_users(
    server: LocalBotApi, bot_info: BotInfo, alice: VirtualUser
) -> None:
    """The harness reads the same in both modes: send, press, next_reply, wait_for_text."""
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(server.bot_api_url)
        .base_file_url(server.file_url)
        .updater(None)
        .build()
    )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again")]])
        await update.effective_message.reply_text(
            f"echo: {update.effective_message.text}", reply_markup=keyboard
        )

    async def again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("once more")
        await update.callback_query.edit_message_text("echo again")

    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(again))

    async def into_the_application(update: JSONDict, attempt: int) -> int:
        await application.process_update(Update.de_json(update, application.bot))
        return 200

    async with application, WebhookReceiver(into_the_application) as endpoint:
        await application.bot.set_webhook(endpoint.url, secret_token=SECRET)
        await alice.send("hello")
        reply = await alice.next_reply()
        assert reply.text == "echo: hello"
        await alice.press("Again")
        assert (await alice.callback_answer()).text == "once more"
        await alice.wait_for_text("echo again")
        assert all(request.secret == SECRET for request in endpoint.requests)
        await server.wait_for(lambda: server.stats.webhook_deliveries == 2)


async def test_server_stop_cuts_off_requests_and_keeps_their_updates(
    receiver: WebhookReceiver,
) -> None:
    receiver.answer = never_answer
    server = LocalBotApi(webhook_retry_base=0.02)
    server.add_bot(TOKEN, "zhiyuan_test_bot")
    async with server:
        async with Bot(TOKEN, base_url=server.bot_api_url) as ptb_bot:
            await ptb_bot.set_webhook(receiver.url)
        await VirtualUser(server, TOKEN, ALICE).send("in flight")
        await server.wait_for(lambda: server.webhook_in_flight(TOKEN) == 1)
    assert server.webhook_in_flight(TOKEN) == 0
    assert [u["message"]["text"] for u in server.pending_updates(TOKEN)] == ["in flight"]
