"""The foundation end to end: welcome in the user's language, /language, /help, /cancel,
deep links, fallbacks, forged buttons, the error handler, command menus and restarts."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.domain.users import Language, Role
from bot.localapi import LocalBotApi, VirtualUser
from bot.localapi.models import BotInfo
from storage.users import UsersRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess, eventually

MakeUser = Callable[..., VirtualUser]


def users_repo(bot: BotProcess) -> UsersRepository:
    assert bot.runtime is not None
    return UsersRepository(bot.runtime.db)


async def test_start_answers_in_chinese_for_zh_hans_and_english_for_en(
    bot: BotProcess, make_user: MakeUser
) -> None:
    chinese = make_user("小明", language_code="zh-hans")
    english = make_user("Mary", language_code="en")
    await chinese.send("/start")
    await english.send("/start")
    zh_welcome = await chinese.wait_for_text("欢迎使用志愿")
    en_welcome = await english.wait_for_text("Welcome to Zhiyuan")
    assert "小明" in (zh_welcome.plain_text or "")
    assert "🔍 服务菜单" in zh_welcome.button_labels()
    assert "🔍 Service menu" in en_welcome.button_labels()
    stored = await users_repo(bot).get(chinese.id)
    assert stored is not None and stored.telegram_language_code == "zh-hans"
    assert stored.language is None  # derived, not chosen


@pytest.mark.sqlite_only
async def test_the_running_bot_reads_with_the_page_cache_of_its_settings(bot: BotProcess) -> None:
    """``SQLITE_CACHE_MB`` reaches the connections ``zhiyuan run`` opens (issue #14)."""
    row = await bot.db.fetch_one("PRAGMA cache_size")
    assert row is not None and row[0] == -1024 * bot.settings.sqlite_cache_mb == -64 * 1024


async def test_unknown_language_tag_falls_back_to_the_default_language(
    bot: BotProcess, make_user: MakeUser
) -> None:
    nobody = make_user("Anon", language_code=None)
    await nobody.send("/start")
    await nobody.wait_for_text("欢迎使用志愿")  # DEFAULT_LANGUAGE is zh


async def test_language_switch_is_remembered_across_a_restart(
    bot: BotProcess, make_user: MakeUser, api: LocalBotApi, bot_info: BotInfo
) -> None:
    user = make_user("Li", language_code="zh-hans")
    await user.send("/language")
    picker = await user.wait_for_text("请选择语言")
    assert picker.button_labels() == ["✓ 简体中文", "English"]
    query = await user.press("English")
    answer = await user.callback_answer(query)
    assert answer.text == "Language: English"
    await user.wait_for_text("Welcome to Zhiyuan")
    # The chat's command menu follows the chosen language.
    scoped = api.commands(bot_info, scope={"type": "chat", "chat_id": user.id})
    assert scoped is not None and any(c["description"] == "Main menu" for c in scoped)

    await bot.restart()
    await user.send("/help")
    await user.wait_for_text("What I can do")
    stored = await users_repo(bot).get(user.id)
    assert stored is not None and stored.language is Language.EN


async def test_command_menus_are_published_per_language(
    bot: BotProcess, api: LocalBotApi, bot_info: BotInfo
) -> None:
    zh = api.commands(bot_info, language_code="zh")
    en = api.commands(bot_info, language_code="en")
    default = api.commands(bot_info)
    assert zh is not None and en is not None and default is not None
    assert {c["command"] for c in zh} == {
        "start",
        "menu",
        "my",
        "hours",
        "search",
        "register",
        "profile",
        "help",
        "language",
        "cancel",
        "organize",
        "certificate",
        "stars",
        "points",
        "rewards",
        "honours",
        "verify",
        "request",
        "requests",
    }
    # Staff commands are only published into administrators' own chats.
    assert not {"admin", "broadcast"} & {c["command"] for c in zh}
    assert next(c for c in zh if c["command"] == "start")["description"] == "主菜单"
    assert next(c for c in en if c["command"] == "start")["description"] == "Main menu"
    assert default == zh  # DEFAULT_LANGUAGE


async def test_help_cancel_and_what_the_bot_did_not_understand(
    bot: BotProcess, make_user: MakeUser
) -> None:
    user = make_user()
    await user.send("/help")
    help_message = await user.wait_for_text("/language")
    assert "/cancel" in (help_message.plain_text or "")
    await user.send("/cancel")
    await user.wait_for_text("There is nothing to cancel right now.")
    await user.send("/frobnicate")
    await user.wait_for_text("I don't know that command.")
    # A short message would be searched for (handlers.plain_text); a sentence is not a query.
    await user.send("what happens if I forget my password tomorrow")
    reply = await user.wait_for_text("Sorry, I did not understand that.")
    assert reply.button_labels() == ["🏠 Main menu"]
    await user.press("🏠 Main menu")
    await user.wait_for_text("Welcome to Zhiyuan")


async def test_admins_are_recognised_from_admin_ids(bot: BotProcess, make_user: MakeUser) -> None:
    admin = make_user("Root", user_id=ADMIN_ID)
    await admin.send("/help")
    await admin.wait_for_text("You are an administrator")
    stored = await users_repo(bot).get(ADMIN_ID)
    assert stored is not None and stored.role is Role.ADMIN


async def test_organizer_entry_of_the_main_menu_opens_the_application(
    bot: BotProcess, make_user: MakeUser
) -> None:
    user = make_user()
    await user.send("/start")
    await user.wait_for_text("Welcome")
    await user.press("🏢 For organizers")
    # Someone with no organization is offered the application form, in place of the menu.
    edited = await user.wait_for_text("full name")
    assert edited.edits, "the menu message is edited in place"


async def test_deep_links_are_parsed_and_routed(bot: BotProcess, make_user: MakeUser) -> None:
    user = make_user()
    await user.send("/start act_42")
    # No such activity: the service menu says so (real cards are tested in test_menu.py).
    await user.wait_for_text("does not exist")
    await user.send("/start bogus!!payload")
    await user.wait_for_text("That link is not valid or has expired.")


@pytest.mark.parametrize("data", ["lang:fr", "lang", "menu:nonsense", "zzz:1:2", "act:join:999999"])
async def test_forged_or_stale_button_presses_get_a_notice_and_the_menu(
    bot: BotProcess, make_user: MakeUser, data: str
) -> None:
    user = make_user()
    await user.send("/start")
    welcome = await user.wait_for_text("Welcome")
    query = await user.press_data(welcome.message_id, data)
    answer = await user.callback_answer(query)
    assert answer.text is not None
    assert "no longer valid" in answer.text
    stored = await users_repo(bot).get(user.id)
    assert stored is not None and stored.language is None  # nothing changed


async def test_an_unexpected_error_is_logged_and_the_user_gets_an_apology(
    bot: BotProcess,
    make_user: MakeUser,
    api: LocalBotApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = make_user("王芳", language_code="zh-hans")
    api.fail_next("sendMessage", 400, "Bad Request: something unexpected")
    with caplog.at_level(logging.ERROR, logger="handlers.errors"):
        await user.send("/start")
        apology = await user.wait_for_text("抱歉，系统出了点问题")
    assert "Traceback" not in (apology.plain_text or "")
    record = next(r for r in caplog.records if r.name == "handlers.errors")
    assert f"from user {user.id}" in record.getMessage()
    assert record.exc_info is not None


async def test_blocking_marks_the_user_unreachable_until_they_write_again(
    bot: BotProcess, make_user: MakeUser, api: LocalBotApi
) -> None:
    user = make_user()
    await user.send("/start")
    await user.wait_for_text("Welcome")
    await user.block()
    repo = users_repo(bot)

    async def reachable() -> bool | None:
        stored = await repo.get(user.id)
        return None if stored is None else stored.is_reachable

    # Blocking produces no message to wait for, only a database change.
    await eventually(reachable, lambda value: value is False)
    await user.unblock()
    await user.send("/start")
    await user.wait_for_text("Welcome")
    assert await reachable() is True


async def test_users_and_their_data_survive_a_restart(bot: BotProcess, make_user: MakeUser) -> None:
    user = make_user("Zhang", language_code="en")
    await user.send("/start")
    await user.wait_for_text("Welcome")
    before = await users_repo(bot).get(user.id)
    await bot.restart()
    after = await users_repo(bot).get(user.id)
    assert before is not None and after is not None
    assert after.created_at == before.created_at
    await user.send("/start")
    await user.wait_for_text("Welcome")
