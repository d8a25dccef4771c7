"""Star levels, points, rewards and honours end to end (issue #17), in Chinese and English.

Service records are stored the way the lead's "confirm hours" step stores them
(tests/service_records.py); the recognition job (every 0.2 s here) turns them into points and
levels, as it does for records confirmed through the organizer's screens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.context import Services
from bot.domain.points import PointTier
from bot.localapi import VirtualUser
from bot.localapi.models import BotInfo
from handlers.rewards import RwBack, RwCancel, RwHand, RwOff, RwTier
from tests.e2e.conftest import ADMIN_ID, BotProcess, eventually
from tests.e2e.test_manage import organizer_of, press_unshown, volunteer
from tests.factories import NOW, add_activity, add_organization
from tests.service_records import add_record

MakeUser = Callable[..., VirtualUser]


@pytest.fixture
async def bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    """Monday 2026-11-23 10:00 in Shanghai (outside quiet hours); the sweep runs often."""
    fast = settings.model_copy(update={"recognition_sweep_seconds": 0.2})
    process = BotProcess(fast, clock=ManualClock(NOW))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


def _services(bot: BotProcess) -> Services:
    assert bot.runtime is not None
    return bot.runtime.application.services


async def _started(user: VirtualUser) -> None:
    await user.send("/start")  # the bot learns the user's language
    await user.next_reply()


async def test_levels_points_rewards_and_honours(bot: BotProcess, make_user: MakeUser) -> None:
    now = bot.clock()
    organization = await add_organization(bot.db, now=now)
    boss = make_user("李老师", language_code="zh")
    await organizer_of(bot, boss, organization)
    await _started(boss)
    li, ann = make_user("Li", language_code="zh"), make_user("Ann", language_code="en")
    li_profile = await volunteer(bot, li, "李四")
    ann_profile = await volunteer(bot, ann, "Ann Smith")
    await _started(li)
    await _started(ann)
    first = await add_activity(bot.db, organization, starts_in=-timedelta(days=2), now=now)
    await add_record(bot.db, first, li_profile.volunteer_id, now, minutes=180)
    await add_record(bot.db, first, ann_profile.volunteer_id, now, minutes=120)

    # /profile: no level yet with the default thresholds (100 h for 1★), and the hours to go.
    await li.send("/profile")
    card = await li.wait_for_text("星级")
    assert "尚无星级" in card.visible_text and "距 1★ 还差 97 小时" in card.visible_text

    # An administrator edits the thresholds (a wrong order is explained, then accepted).
    admin = make_user("Admin", language_code="en", user_id=ADMIN_ID)
    await _started(admin)
    await admin.send("/starlevels")
    home = await admin.wait_for_text("Star thresholds")
    assert "1★ · 100 h" in home.visible_text
    await admin.press("✏️ Type new thresholds", message=home)
    await admin.wait_for_text("Type the hours needed")
    await admin.send("2 1 6 8 10")
    await admin.wait_for_text("more hours than the one before it")
    await admin.send("2 4 6 8 10")
    saved = await admin.wait_for_text("Thresholds saved")
    assert "2★ · 4 h" in saved.visible_text

    # The next read shows the new level; the sweep congratulates (Chinese and English).
    await li.send("/profile")
    card = await li.wait_for_text("星级")
    assert "1★ 志愿者" in card.visible_text and "距 2★ 还差 1 小时" in card.visible_text
    told = await li.wait_for_text("恭喜您", timeout=10)
    assert "1★ 志愿者" in told.visible_text
    told = await ann.wait_for_text("Congratulations", timeout=10)
    assert "you are now a 1★ volunteer" in told.visible_text

    # The organizer marks the next activity hard or risky (×2), from /rewards → point tiers.
    second = await add_activity(
        bot.db, organization, title="抗洪抢险", starts_in=-timedelta(days=1), now=now
    )
    await boss.send("/rewards")
    listing = await boss.wait_for_text("礼遇回馈")
    await boss.press("⚖️ 积分系数", message=listing)
    tiers = await boss.wait_for_text("积分系数")
    await boss.press_data(tiers.message_id, RwTier(second.activity_id, PointTier.DEMANDING).pack())
    await boss.wait_for_text("积分系数已保存")

    # Ann's confirmed hours cross 2★ (2 h → 4 h): congratulated once, points at ×2.
    await add_record(bot.db, second, ann_profile.volunteer_id, now, minutes=120)
    told = await ann.wait_for_text("you are now a 2★ volunteer", timeout=10)
    assert "reached 4 h" in told.visible_text
    points = _services(bot).points
    await eventually(lambda: points.balance_of(ann_profile.volunteer_id), lambda b: b == 600)

    # The organizer offers a reward: one umbrella for 5 points.
    await boss.send("/rewards")
    listing = await boss.wait_for_text("礼遇回馈")
    await boss.press(f"🏷 {organization.name}的礼遇", message=listing)
    mine = await boss.wait_for_text("您提供的礼遇")
    await boss.press("➕ 新增礼遇", message=mine)
    await boss.wait_for_text("名称 / 积分 / 数量")
    await boss.send("爱心雨伞 / 5")
    await boss.wait_for_text("请按“名称 / 积分 / 数量”输入礼遇")
    await boss.send("爱心雨伞 / 5 / 1")
    offered = await boss.wait_for_text("已上架")
    assert "5 积分" in offered.visible_text
    row = await bot.db.fetch_one("SELECT reward_id FROM rewards")
    assert row is not None
    reward_id = int(row["reward_id"])

    # Ann redeems it in English; the organizer is told and confirms the hand-over.
    await ann.send("/rewards")
    shop = await ann.wait_for_text("Rewards")
    assert "Your points: 6" in shop.visible_text
    await ann.press("🎁 爱心雨伞 · 5", message=shop)
    ask = await ann.wait_for_text("Redeem «爱心雨伞» for 5 points?")
    await ann.press("✅ Redeem", message=ask)
    done = await ann.wait_for_text("Redeemed «爱心雨伞»")
    assert "My points: 1" in done.visible_text
    assert await points.balance_of(ann_profile.volunteer_id) == 100
    redemption = await bot.db.fetch_one("SELECT redemption_id FROM reward_redemptions")
    assert redemption is not None
    redemption_id = int(redemption["redemption_id"])

    # Li (1.5 points, and the umbrella is gone) cannot take the last one.
    await li.send("/rewards")
    shop = await li.wait_for_text("礼遇回馈")
    assert "剩余 0 份" in shop.visible_text and "🎁 爱心雨伞 · 5" not in shop.button_labels()

    # Forged presses: Li cancels Ann's redemption; another organization's manager hands it
    # over, cancels it, or withdraws the reward. Nothing changes.
    assert "失效" in await press_unshown(li, RwCancel(redemption_id).pack())
    other = await add_organization(bot.db, name="别的协会", now=now)
    mallory = make_user("Mallory", language_code="en")
    await organizer_of(bot, mallory, other)
    for data in (RwHand(redemption_id), RwBack(redemption_id), RwOff(reward_id)):
        assert "not allowed" in await press_unshown(mallory, data.pack())
    state = await bot.db.fetch_one(
        "SELECT d.status, w.is_active, w.stock FROM reward_redemptions d "
        "JOIN rewards w ON w.reward_id = d.reward_id"
    )
    assert state is not None and tuple(state) == ("reserved", 1, 0)
    assert await points.balance_of(ann_profile.volunteer_id) == 100

    told = await boss.wait_for_text("有志愿者兑换了礼遇", timeout=10)
    assert "Ann Smith" in told.visible_text and "爱心雨伞" in told.visible_text
    await boss.press("✅ 已交付", message=told)
    await boss.wait_for_text("已交付给Ann Smith")
    state = await bot.db.fetch_one("SELECT status FROM reward_redemptions")
    assert state is not None and state["status"] == "handed_over"
    await ann.send("/points")
    history = await ann.wait_for_text("My points")
    assert "handed over" in history.visible_text and "redeemed" in history.visible_text
    assert await points._points.ledger_problems() == []

    # Honours: only those who opted in are listed.
    await ann.send("/honours")
    honours = await ann.wait_for_text("Honours of")
    assert "Ann Smith" not in honours.visible_text
    await ann.press("✅ List me", message=honours)
    honours = await ann.wait_for_text("You will be listed")
    assert "🥇 Ann Smith · 4 h" in honours.visible_text
    assert "李四" not in honours.visible_text
