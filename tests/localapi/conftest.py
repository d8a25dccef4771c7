"""Fixtures for the local Bot API tests: a running server, a registered bot, a PTB Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.localapi import BotInfo, LocalBotApi, VirtualUser, VirtualUserInfo

TOKEN = "123456:TEST-token_abc"
ALICE = VirtualUserInfo(1001, "Alice", "Liu", "alice_l", "en")
BOB = VirtualUserInfo(1002, "Bob", language_code="zh-hans")


class FakeClock:
    """A monotonic clock the test advances by hand, so flood tests never sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as running:
        yield running


@pytest.fixture
def bot_info(server: LocalBotApi) -> BotInfo:
    return server.add_bot(TOKEN, "zhiyuan_test_bot", "Zhiyuan")


def make_bot(server: LocalBotApi, token: str) -> Bot:
    return Bot(token, base_url=server.bot_api_url, base_file_url=server.file_url)


@pytest.fixture
async def bot(server: LocalBotApi, bot_info: BotInfo) -> AsyncIterator[Bot]:
    async with make_bot(server, bot_info.token) as ptb_bot:
        yield ptb_bot


@pytest.fixture
def alice(server: LocalBotApi, bot_info: BotInfo) -> VirtualUser:
    return VirtualUser(server, bot_info, ALICE)


@pytest.fixture
def bob(server: LocalBotApi, bot_info: BotInfo) -> VirtualUser:
    return VirtualUser(server, bot_info, BOB)
