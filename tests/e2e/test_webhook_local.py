"""The real bot in webhook mode (``zhiyuan run --webhook``) behind the local Bot API server.

The server POSTs each update to the bot's endpoint with the secret header, as Telegram does;
virtual users read the same as with polling. While the bot is down the server retries, and
what the users typed meanwhile arrives once the bot is back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.localapi import LocalBotApi, VirtualUser
from bot.localapi.balancer import free_port
from bot.runtime import BotRuntime
from tests.e2e.conftest import TOKEN

MakeUser = Callable[..., VirtualUser]

SECRET = "local-webhook_secret"


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    # Retries within tens of milliseconds, so a restarted bot gets its updates at once.
    async with LocalBotApi(webhook_retry_base=0.02, webhook_retry_max=0.1) as server:
        yield server


@pytest.fixture
def webhook_settings(settings: Settings) -> Settings:
    port = free_port()
    return settings.model_copy(
        update={
            "webhook_url": f"http://127.0.0.1:{port}/telegram",
            "webhook_secret": SecretStr(SECRET),
            "webhook_host": "127.0.0.1",
            "webhook_port": port,
        }
    )


async def test_the_bot_in_webhook_mode_answers_virtual_users(
    api: LocalBotApi, webhook_settings: Settings, make_user: MakeUser
) -> None:
    runtime = await BotRuntime.start(webhook_settings, webhook=True)
    try:
        info = api.bot_state(TOKEN).webhook
        assert info is not None and info["url"] == webhook_settings.webhook_url
        assert info["secret_token"] == SECRET
        mary = make_user("Mary", language_code="en")
        await mary.send("/start")
        await mary.wait_for_text("Welcome to Zhiyuan")
        await mary.send("/language")
        await mary.wait_for_text("Choose your language")
        await mary.press("简体中文")
        await mary.callback_answer()
        assert api.stats.webhook_deliveries >= 3
        assert api.stats.webhook_errors == 0  # the secret matched every time
    finally:
        await runtime.stop()


async def test_updates_sent_while_the_bot_is_down_arrive_when_it_is_back(
    api: LocalBotApi, webhook_settings: Settings, make_user: MakeUser
) -> None:
    runtime = await BotRuntime.start(webhook_settings, webhook=True)
    await runtime.stop()
    mary = make_user("Mary", language_code="en")
    await mary.send("/start")
    await mary.send("/help")
    await api.wait_for(lambda: api.stats.webhook_errors >= 2)
    assert len(api.pending_updates(TOKEN)) == 2
    assert api.bot_state(TOKEN).webhook_last_error_message == "Connection refused"

    runtime = await BotRuntime.start(webhook_settings, webhook=True)
    try:
        await mary.wait_for_text("Welcome to Zhiyuan", anywhere=True)
        await mary.wait_for_text("/language")  # /help's answer, after the welcome
        await api.wait_for(lambda: not api.pending_updates(TOKEN))
    finally:
        await runtime.stop()
