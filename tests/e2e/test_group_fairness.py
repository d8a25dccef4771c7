"""A busy group never delays private chats (issue #15 item 3).

150 members of a group send commands and chatter at once, through the real application and the
local Bot API server with Telegram's flood limits on (20 messages a minute in a group, 1 a
second per chat, 30 a second overall). A volunteer who writes in private right behind them is
answered within 2 seconds.

Why it holds: every update has an ordering lane (:func:`bot.inbox.lane_of`) — a person's
private chat, or one person in one group — and the inbox runs different lanes side by side, so
the private chat never queues behind the group. The guard (:mod:`handlers.chat_types`) stops
group updates before any handler, answers commands with at most one hint per group and window
(claimed in the database, so a burst sends one), and that one send waits for the group's budget
in its sender's group lane only. The bound is generous for a loaded 2-core CI machine: the
answer itself takes a few milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.config import Settings
from bot.localapi import FloodLimits, LocalBotApi, VirtualUser, VirtualUserInfo
from bot.localapi.models import BotInfo
from tests.e2e.conftest import TOKEN, BotProcess, enter_next_years_calendar, eventually

GROUP = -1001777000111
HINT = "我只在私聊中提供服务"  # the members write in Chinese
MEMBERS = 150


@pytest.fixture
async def flood_api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi(flood_limits=FloodLimits()) as server:
        yield server


@pytest.fixture
def flood_bot_info(flood_api: LocalBotApi) -> BotInfo:
    return flood_api.add_bot(TOKEN, username="zhiyuan_test_bot", first_name="Zhiyuan")


@pytest.fixture
async def flood_bot(
    flood_api: LocalBotApi, flood_bot_info: BotInfo, settings: Settings
) -> AsyncIterator[BotProcess]:
    process = BotProcess(settings.model_copy(update={"bot_api_url": flood_api.url}))
    await enter_next_years_calendar(process.settings, process.clock)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def test_a_private_chat_is_answered_while_150_group_members_send_commands(
    flood_api: LocalBotApi, flood_bot_info: BotInfo, flood_bot: BotProcess
) -> None:
    bot_info = flood_bot_info
    errors: list[object] = []

    async def on_error(update: object, context: Any) -> None:
        errors.append(context.error)

    assert flood_bot.runtime is not None
    flood_bot.runtime.application.add_error_handler(on_error)
    members = [
        VirtualUserInfo(600_000 + n, f"Member {n}", language_code="zh-hans") for n in range(MEMBERS)
    ]
    flood_api.create_group(bot_info, GROUP, members=members)
    in_group = [VirtualUser(flood_api, bot_info, info, chat_id=GROUP) for info in members]
    volunteer = VirtualUser(flood_api, bot_info, VirtualUserInfo(599_999, "Ann", "en"))

    # Everyone in the group at once: a command each, then chatter, then another command.
    for member in in_group:
        await member.send("/start")
    for member in in_group:
        await member.send("大家好")
    for member in in_group:
        await member.send("/my")
    started = time.monotonic()
    await volunteer.send("/start")
    await volunteer.wait_for_text("Welcome", timeout=10)
    waited = time.monotonic() - started
    print(f"private answer after {waited * 1000:.0f} ms behind {3 * MEMBERS} group updates")
    assert waited < 2.0, f"the private chat waited {waited:.2f} s behind the group"

    # Every group update is handled: one hint in the group, nothing else, no error.
    async def pending() -> int:
        row = await flood_bot.db.fetch_one(
            "SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending'"
        )
        stored = int(row["n"]) if row is not None else 0
        return stored + len(flood_api.pending_updates(bot_info))

    await eventually(pending, lambda n: n == 0, timeout=30)
    texts = [m.plain_text or "" for m in flood_api.bot_messages(bot_info, GROUP)]
    assert len(texts) == 1 and HINT in texts[0]
    assert errors == []
