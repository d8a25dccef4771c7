"""Search as people type it (issue #13 item 6): English words find Chinese activities through
their category and skill names; traditional characters and missing spaces still match."""

from __future__ import annotations

from collections.abc import Callable

from bot.localapi import VirtualUser
from tests.e2e.conftest import BotProcess
from tests.factories import add_activity, add_organization

MakeUser = Callable[..., VirtualUser]


async def test_english_and_traditional_words_find_chinese_activities(
    bot: BotProcess, make_user: MakeUser
) -> None:
    organization = await add_organization(bot.db, now=bot.clock())
    await add_activity(
        bot.db,
        organization,
        now=bot.clock(),
        title="重阳节敬老院探访",
        description="陪老人聊天",
        category_code="elderly_children",
    )
    await add_activity(
        bot.db, organization, now=bot.clock(), title="河道清洁", category_code="environment"
    )
    english = make_user("Ann")
    await english.send("/search elderly")
    page = await english.wait_for_text("Results for")
    assert "重阳节敬老院探访" in (page.plain_text or "")
    assert "河道清洁" not in (page.plain_text or "")

    chinese = make_user("王芳", language_code="zh-hant")
    await chinese.send("/search 敬老院探訪")
    page = await chinese.wait_for_text("重阳节敬老院探访")
    assert "河道清洁" not in (page.plain_text or "")
