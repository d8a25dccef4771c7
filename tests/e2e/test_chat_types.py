"""Chat types (issue #15 item 4): the bot serves private chats with people. Commands in groups
get one short hint per group and time window; anonymous group administrators, channel posts and
group chatter get nothing; no handler error anywhere; private chats keep working."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.localapi import LocalBotApi, VirtualUser, VirtualUserInfo
from bot.localapi.models import BotInfo
from tests.e2e.conftest import BotProcess, eventually

MakeUser = Callable[..., VirtualUser]

GROUP = -4242
SUPERGROUP = -1001234567890
CHANNEL = -1009876543210
HINT = "I work in private chats only"


def count_errors(bot: BotProcess) -> list[object]:
    errors: list[object] = []

    async def on_error(update: object, context: Any) -> None:
        errors.append(context.error)

    bot.runtime.application.add_error_handler(on_error)  # type: ignore[union-attr]
    return errors


async def all_processed(bot: BotProcess, api: LocalBotApi, bot_info: BotInfo) -> None:
    """Every update the server queued was fetched (acknowledged once stored) and processed."""

    async def pending() -> int:
        row = await bot.db.fetch_one("SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending'")
        stored = int(row["n"]) if row is not None else 0
        return stored + len(api.pending_updates(bot_info))

    await eventually(pending, lambda n: n == 0)


def bot_texts(api: LocalBotApi, bot_info: BotInfo, chat_id: int) -> list[str]:
    return [m.plain_text or "" for m in api.bot_messages(bot_info, chat_id)]


async def test_groups_get_one_hint_and_private_chats_keep_working(
    bot: BotProcess, api: LocalBotApi, bot_info: BotInfo, make_user: MakeUser
) -> None:
    errors = count_errors(bot)
    alice = make_user("Alice")
    bob = make_user("Bob", language_code="zh-hans")
    for chat_id in (GROUP, SUPERGROUP):
        api.create_group(bot_info, chat_id, members=[alice.info, bob.info])
        in_group = VirtualUser(api, bot_info, alice.info, chat_id=chat_id)
        await in_group.send("/start")
        hint = await in_group.next_reply()
        assert HINT in (hint.plain_text or "")
        assert "@zhiyuan_test_bot" in (hint.plain_text or "")
        # More commands and chatter by other members: no second hint, nothing else.
        for text in ("/my", "/start@zhiyuan_test_bot", "hello everyone", "/help"):
            await VirtualUser(api, bot_info, bob.info, chat_id=chat_id).send(text)
        await all_processed(bot, api, bot_info)
        assert bot_texts(api, bot_info, chat_id) == [hint.plain_text]

    # The private chat is untouched by all of that.
    await alice.send("/start")
    await alice.wait_for_text("Welcome")
    assert errors == []


async def test_anonymous_admins_channels_and_bot_senders_are_ignored(
    bot: BotProcess, api: LocalBotApi, bot_info: BotInfo, make_user: MakeUser
) -> None:
    errors = count_errors(bot)
    api.create_group(bot_info, SUPERGROUP)
    state = api.bot_state(bot_info)
    anonymous = {
        "id": 1087968824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    group = {"id": SUPERGROUP, "type": "supergroup", "title": "Volunteers"}
    channel = {"id": CHANNEL, "type": "channel", "title": "News"}
    command = {"text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}
    api.queue_update(
        state,
        "message",
        {"message_id": 1, "date": 0, "chat": group, "from": anonymous, "sender_chat": group}
        | command,
    )
    api.queue_update(state, "channel_post", {"message_id": 2, "date": 0, "chat": channel} | command)
    api.queue_update(
        state,
        "edited_channel_post",
        {"message_id": 2, "date": 0, "edit_date": 1, "chat": channel} | command,
    )
    # A bot in a private chat (Telegram never sends it; a forged update could).
    robot = {"id": 4711, "is_bot": True, "first_name": "Robot"}
    api.queue_update(
        state,
        "message",
        {"message_id": 3, "date": 0, "chat": {"id": 4711, "type": "private"}, "from": robot}
        | command,
    )
    # A press on an inline-mode message: a sender but no chat.
    api.queue_update(
        state,
        "callback_query",
        {
            "id": "q1",
            "from": VirtualUserInfo(2001, "Ann").to_api(),
            "chat_instance": "1",
            "inline_message_id": "abc",
            "data": "whatever",
        },
    )
    await all_processed(bot, api, bot_info)
    # The anonymous administrator's command is a command in a group: the group's one hint.
    assert len(bot_texts(api, bot_info, SUPERGROUP)) == 1
    assert errors == []
    # Still alive for private chats.
    alice = make_user("Alice")
    await alice.send("/start")
    await alice.wait_for_text("Welcome")


async def test_the_bot_added_to_a_group_is_no_error(
    bot: BotProcess, api: LocalBotApi, bot_info: BotInfo, make_user: MakeUser
) -> None:
    errors = count_errors(bot)
    alice = make_user("Alice")
    api.create_group(bot_info, GROUP, members=[alice.info])
    state = api.bot_state(bot_info)
    api.queue_update(
        state,
        "my_chat_member",
        {
            "chat": {"id": GROUP, "type": "group", "title": "Volunteers"},
            "from": alice.info.to_api(),
            "date": 0,
            "old_chat_member": {"status": "left", "user": bot_info.to_api()},
            "new_chat_member": {"status": "member", "user": bot_info.to_api()},
        },
    )
    await all_processed(bot, api, bot_info)
    assert errors == []
    assert bot_texts(api, bot_info, GROUP) == []
