"""Plain words no flow waits for (issue #13 item 14), the search and near-me flows, and the
service menu's memory in the database (issue #12)."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import Settings
from bot.domain.activities import Activity
from bot.localapi import VirtualUser
from bot.localapi.models import BotInfo
from bot.runtime import BotRuntime
from storage.flows import FlowsRepository
from storage.volunteers import VolunteersRepository
from tests.e2e.conftest import BotProcess, crash, eventually
from tests.factories import add_activity, add_organization

MakeUser = Callable[..., VirtualUser]


async def activity(bot: BotProcess, **fields: object) -> Activity:
    organization = await add_organization(bot.db, now=bot.clock())
    return await add_activity(bot.db, organization, now=bot.clock(), **fields)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ plain words


async def test_greetings_get_the_main_menu(bot: BotProcess, make_user: MakeUser) -> None:
    english = make_user("Gale")
    for words in ["hello", "Hi!", "HEY"]:
        await english.send(words)
        menu = await english.wait_for_text("Welcome to Zhiyuan")
        assert "🔍 Service menu" in menu.button_labels()
    chinese = make_user("小王", language_code="zh-hans")
    for words in ["你好", "您好！"]:
        await chinese.send(words)
        menu = await chinese.wait_for_text("欢迎")
        assert "🔍 服务菜单" in menu.button_labels()


async def test_sign_up_words_get_the_service_menu(bot: BotProcess, make_user: MakeUser) -> None:
    await activity(bot, title="Blood pressure checks")
    english = make_user("Sid")
    for words in ["sign up", "Volunteer"]:
        await english.send(words)
        menu = await english.wait_for_text("activities you can sign up for")
        assert "Health (1)" in menu.button_labels()
    chinese = make_user("小李", language_code="zh-hans")
    await chinese.send("我想报名")
    menu = await chinese.wait_for_text("服务菜单")
    assert "卫生健康 (1)" in menu.button_labels()
    await chinese.send("报名")
    await chinese.wait_for_text("服务菜单")


async def test_other_words_are_searched(bot: BotProcess, make_user: MakeUser) -> None:
    await activity(bot, title="Legal aid clinic", description="Free advice on tenancy")
    await activity(bot, title="义诊进社区", description="测血压")
    user = make_user("Wen")
    await user.send("tenancy")
    found = await user.wait_for_text("Results for “tenancy”")
    assert "Legal aid clinic" in (found.plain_text or "")
    chinese = make_user("小赵", language_code="zh-hans")
    await chinese.send("义诊")
    found = await chinese.wait_for_text("义诊进社区")
    assert "1. 义诊进社区" in found.button_labels()


async def test_words_for_a_form_go_to_the_form_not_to_the_defaults(
    bot: BotProcess, make_user: MakeUser
) -> None:
    user = make_user("Hal")
    await user.send("/register")
    await user.wait_for_text("Before you register")
    await user.press("✅ I accept")
    await user.wait_for_text("your real name")
    await user.send("Hello Kitty")  # a name, though it starts like a greeting
    await user.wait_for_text("your phone number")
    draft = await VolunteersRepository(bot.db).get_draft(user.id)
    assert draft is not None and draft.data.real_name == "Hello Kitty"


# ---------------------------------------------------------------------------- search flow


async def test_a_bare_search_waits_for_words_even_across_a_crash(
    bot: BotProcess, make_user: MakeUser
) -> None:
    await activity(bot, title="Legal aid clinic", description="Free advice on tenancy")
    user = make_user("Sam")
    await user.send("/search")
    await user.wait_for_text("Type the words to look for")
    await crash(bot)
    await bot.start()
    await user.send("x" * 80)  # refused, still waiting
    await user.wait_for_text("at most 60 characters")
    await user.send("hello")  # the words asked for, not a greeting
    await user.wait_for_text("Results for “hello”")
    await user.send("tenancy")  # the flow is over: plain words are searched by the defaults
    found = await user.wait_for_text("Results for “tenancy”")
    assert "Legal aid clinic" in (found.plain_text or "")
    await user.send("/search")
    await user.wait_for_text("Type the words to look for")
    await user.send("/cancel")
    await user.wait_for_text("OK, no search.")
    # Released by the dispatcher right after the answer is sent.
    await eventually(lambda: FlowsRepository(bot.db).get(user.id), lambda owner: owner is None)


async def test_the_next_page_of_a_search_is_served_by_another_process(
    settings: Settings, bot_info: BotInfo, bot: BotProcess, make_user: MakeUser
) -> None:
    """The words of the last search are in the database: a second process pages through them."""
    for number in range(8):
        await activity(bot, title=f"Reading hour {number}", description="library")
    user = make_user("Pia")
    await user.send("/search library")
    first = await user.wait_for_text("Results for “library”")
    assert "Page 1 of 2" in (first.plain_text or "")
    assert bot.runtime is not None
    await bot.runtime.stop_polling()
    other = await BotRuntime.start(settings, poll_timeout=1)
    try:
        await user.press("Next ▶️")
        second = await user.wait_for_text("Page 2 of 2")
        assert "Results for “library”" in (second.plain_text or "")
    finally:
        await other.stop()


# ------------------------------------------------------------------------------- near me


async def test_a_pin_after_near_me_is_for_it_even_with_a_form_left_half_way(
    bot: BotProcess, make_user: MakeUser
) -> None:
    await activity(bot, title="Close park patrol", latitude=28.196, longitude=112.972)
    user = make_user("Pim")
    await user.send("/register")
    await user.wait_for_text("Before you register")
    await user.press("✅ I accept")
    await user.wait_for_text("your real name")  # the form now waits for a name
    await user.send("/menu")
    await user.wait_for_text("Service menu")
    await user.press("📍 Near me")
    await user.wait_for_text("Share my location")
    await user.send("hello")  # words meanwhile get the defaults; the pin is still awaited
    await user.wait_for_text("Welcome to Zhiyuan")
    await user.share_location(28.1941, 112.9723)
    near = await user.wait_for_text("Near you")
    assert "Close park patrol" in (near.plain_text or "")
    draft = await VolunteersRepository(bot.db).get_draft(user.id)
    assert draft is not None and draft.step.value == "name" and draft.data.real_name is None

    # The location is kept (in the database) for the next "Near me".
    await user.send("/menu")
    await user.wait_for_text("Service menu")
    await user.press("📍 Near me")
    await user.wait_for_text("Near you")
