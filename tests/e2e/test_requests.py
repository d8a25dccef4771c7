"""Resident requests end to end (issue #19), in Chinese and English: a resident orders a service
(点单), a dispatcher sends it to an organization (派单), the team accepts it and asks volunteers
(接单), completes it with hours that land in the volunteers' service records, and the resident
rates it (评单); a rejection; a re-dispatch after the acceptance timeout (ManualClock); a
cancellation; forged presses by another team and by another resident; and a scan of every
message the local server recorded: nobody but the resident, the dispatcher and the accepting
team ever receives the resident's phone or address.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import MemberRole, Organization
from bot.domain.requests import Beneficiary, OrderStep, RequestStatus
from bot.localapi import LocalBotApi, StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from bot.services.requests import RequestService
from storage.organizations import OrganizationsRepository
from storage.requests import RequestsRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess, eventually
from tests.factories import add_activity, add_organization, add_user, add_volunteer

MakeUser = Callable[..., VirtualUser]


async def started(user: VirtualUser) -> VirtualUser:
    """The person has opened the chat (the bot can only write to those who did)."""
    await user.send("/start")
    await user.next_reply()
    return user


SHANGHAI = ZoneInfo("Asia/Shanghai")
# Tuesday 1 December 2026, 09:00 in Changsha.
START = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
ADDRESS = "解放西路88号3栋201"
TYPED_PHONE = "139 1234 5678"
PHONE_DIGITS = "13912345678"


@pytest.fixture
async def bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    process = BotProcess(settings, ManualClock(START))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


def requests_of(bot: BotProcess) -> RequestService:
    assert bot.runtime is not None
    return bot.runtime.application.services.requests


def clock_of(bot: BotProcess) -> ManualClock:
    assert isinstance(bot.clock, ManualClock)
    return bot.clock


async def team(
    bot: BotProcess, make_user: MakeUser, name: str, language: str, *, category: bool
) -> tuple[VirtualUser, Organization]:
    """An approved organization in Furong with one manager; ``category``: it has published an
    activity of the 扶老爱幼 kind (so the suggestion ranks it first)."""
    now = bot.clock()
    organization = await add_organization(bot.db, name=name, now=now)
    organizer = await started(make_user(f"{name}负责人", language_code=language))
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, organizer.id, MemberRole.MANAGER, now
    )
    if category:
        await add_activity(
            bot.db, organization, now=now, category_code="elderly_children", title="敬老助餐"
        )
    return organizer, organization


async def dispatcher(bot: BotProcess, make_user: MakeUser, language: str) -> VirtualUser:
    user = await started(make_user("派单员", language_code=language))
    await add_user(bot.db, ADMIN_ID, first_name="管理员", now=bot.clock())
    await RequestsRepository(bot.db).appoint("furong", user.id, ADMIN_ID, bot.clock())
    return user


async def order_by_service(bot: BotProcess, resident: VirtualUser, *, urgent: bool = False) -> int:
    """A request ordered through the service (the form itself is driven in the first test)."""
    if not resident.history():
        await started(resident)
    svc = requests_of(bot)
    uid = resident.id
    await svc.start_order(uid)
    await svc.choose(uid, OrderStep.CATEGORY, "elderly_children")
    await svc.type_need(uid, "帮独居的奶奶买菜和药")
    await svc.type_when(uid, "12月3日 9:00-11:00")
    await svc.choose(uid, OrderStep.AREA, "furong")
    await svc.type_address(uid, ADDRESS)
    await svc.choose(uid, OrderStep.BENEFICIARY, Beneficiary.ELDERLY.value)
    await svc.type_phone(uid, TYPED_PHONE, resident.info.first_name)
    await svc.choose(uid, OrderStep.URGENT, "yes" if urgent else "no")
    request = await svc.submit(uid)
    return request.request_id


async def status(bot: BotProcess, request_id: int) -> RequestStatus:
    request = await RequestsRepository(bot.db).get(request_id)
    assert request is not None
    return request.status


def _texts(message: StoredMessage) -> Iterable[str]:
    yield message.visible_text
    yield message.text or ""
    for version in message.edits:
        yield version.plain_text or ""
        yield version.text or ""


def leaks(api: LocalBotApi, bot_info: BotInfo, allowed: set[int], secrets: list[str]) -> list[str]:
    """Every bot message (and every earlier version of an edited one) in a chat outside
    ``allowed`` that contains a secret, digits compared without spaces or dashes."""
    found = []
    for chat_id, chat in api.bot_state(bot_info).chats.items():
        if chat_id in allowed:
            continue
        for message in chat.messages:
            if not message.from_bot:
                continue
            for text in _texts(message):
                squeezed = re.sub(r"[\s\-]", "", text)
                for secret in secrets:
                    if secret in text or secret in squeezed:
                        found.append(f"chat {chat_id}: {text[:80]!r}")
    return found


async def test_full_loop_from_order_to_rating_zh(
    bot: BotProcess, api: LocalBotApi, make_user: MakeUser, bot_info: BotInfo
) -> None:
    clock = clock_of(bot)
    organizer, _organization = await team(
        bot, make_user, "芙蓉区敬老志愿服务队", "zh", category=True
    )
    other_organizer, _other = await team(
        bot, make_user, "岳麓区青年志愿者协会", "en", category=False
    )
    desk = await dispatcher(bot, make_user, "en")
    helpers = []
    for number, language in enumerate(("zh", "en", "zh")):
        user = make_user(f"V{number}", language_code=language)
        profile = await add_volunteer(
            bot.db, user.id, name=f"志愿者{number}", categories=("elderly_children",),
            now=clock(),
        )  # fmt: skip
        helpers.append((await started(user), profile))
    resident = make_user("王阿姨", language_code="zh")
    stranger = make_user("路人", language_code="zh")

    # 点单: the main menu leads there; every answer is checked.
    await resident.send("/start")
    menu = await resident.wait_for_text("欢迎使用")
    await resident.press("🙋 我要点单", message=menu)
    await resident.wait_for_text("您需要哪类服务")
    await resident.press("扶老爱幼")
    await resident.wait_for_text("需要什么帮助")
    await resident.send("请帮忙买菜，电话13812345678")
    await resident.wait_for_text("请不要在描述中写手机号码")
    await resident.send("帮独居的奶奶买菜和药，顺便陪她聊聊天")
    await resident.wait_for_text("什么时间")
    await resident.send("2月30日 9点")
    await resident.wait_for_text("日期不存在")
    await resident.send("12月3日 上午9点-11点")
    await resident.wait_for_text("在哪个区县")
    await resident.press("芙蓉区")
    await resident.wait_for_text("具体地址")
    await resident.send(ADDRESS)
    await resident.wait_for_text("为谁服务")

    # The bot restarts: the draft and the step survive.
    await bot.restart()
    await resident.send("/request")
    await resident.wait_for_text("为谁服务")
    await resident.press("老人（如独居的亲属）")
    await resident.wait_for_text("联系手机号码")
    await resident.send("12345")
    await resident.next_reply()
    await resident.send(TYPED_PHONE)
    await resident.wait_for_text("是否紧急")
    await resident.press("🔴 是，紧急")
    preview = await resident.wait_for_text("请核对您的需求")
    assert ADDRESS in preview.visible_text and "139 1234 5678" in preview.visible_text
    await resident.press("✅ 发送需求", message=preview)
    sent = await resident.wait_for_text("已发送")
    number = int(re.search(r"#(\d+)", sent.visible_text).group(1))  # type: ignore[union-attr]
    assert await status(bot, number) is RequestStatus.QUEUED

    # A second press of the stale "Send" creates nothing.
    await resident.press_data(preview.message_id, "rq.send")
    refused = await resident.callback_answer()
    assert refused.text is not None and "已经发送" in refused.text

    # 派单: the dispatcher (English) gets the new request with the address and phone.
    notice = await desk.wait_for_text("A new request in your area")
    assert ADDRESS in notice.visible_text and "139 1234 5678" in notice.visible_text
    await desk.press("🗂 Dispatch it", message=notice)
    card = await desk.wait_for_text("Suggested organizations")
    assert card.visible_text.index("芙蓉区敬老志愿服务队") < card.visible_text.index("岳麓区")
    await desk.press("➡️ 芙蓉区敬老志愿服务队", message=card)
    await desk.wait_for_text("Sent to a team")
    assert await status(bot, number) is RequestStatus.DISPATCHED
    await resident.wait_for_text("已派给芙蓉区敬老志愿服务队")

    # The team sees the district and the need, not yet the address or phone.
    offer = await organizer.wait_for_text("有一个居民需求派给您的队伍")
    assert ADDRESS not in offer.visible_text and "139" not in offer.visible_text

    # Forged presses: another organization's organizer, and a stranger as the resident.
    request = await RequestsRepository(bot.db).get(number)
    assert request is not None
    await other_organizer.send("/start")
    their_menu = await other_organizer.wait_for_text("Welcome")
    await other_organizer.press_data(their_menu.message_id, f"tm.acc:{number}:{request.version}")
    answer = await other_organizer.callback_answer()
    assert answer.text is not None and "not with your organization" in answer.text
    await stranger.send("/start")
    stranger_menu = await stranger.wait_for_text("欢迎使用")
    await stranger.press_data(stranger_menu.message_id, f"mr.cyes:{number}:{request.version}")
    answer = await stranger.callback_answer()
    assert answer.text is not None and "不是您的需求" in answer.text
    await stranger.press_data(stranger_menu.message_id, f"dp.send:{number}:{request.version}:1")
    answer = await stranger.callback_answer()
    assert answer.text is not None and "派单员" in answer.text
    assert await status(bot, number) is RequestStatus.DISPATCHED

    # 接单: the team accepts and then sees the address and phone.
    await organizer.press("✅ 接单", message=offer)
    accepted = await organizer.wait_for_text("队伍已接单")
    assert ADDRESS in accepted.visible_text and "139 1234 5678" in accepted.visible_text
    await resident.wait_for_text("正在处理")

    # The team asks two matching volunteers; one says yes, one says no.
    await organizer.press("👥 邀请志愿者", message=accepted)
    suggestions = await organizer.wait_for_text("匹配的志愿者")
    await organizer.press("🙋 邀请志愿者0", message=suggestions)
    suggestions = await organizer.wait_for_text("已邀请")
    await organizer.press("🙋 邀请志愿者1", message=suggestions)
    await organizer.wait_for_text("志愿者1")
    yes_user, yes_profile = helpers[0]
    no_user, _no_profile = helpers[1]
    asked = await yes_user.wait_for_text("能帮忙吗")
    assert ADDRESS not in asked.visible_text and "139" not in asked.visible_text
    await yes_user.press("✅ 好的，我来服务", message=asked)
    await yes_user.wait_for_text("队伍会联系您")
    asked_en = await no_user.wait_for_text("Can you help?")
    await no_user.press("Not this time", message=asked_en)
    await no_user.wait_for_text("maybe next time")
    await organizer.wait_for_text("将服务需求")

    # In service, then completed with 2 hours and a report; the record is written.
    await organizer.send("/requests")
    mine = await organizer.wait_for_text("我的需求")
    await organizer.press("🏢 我的队伍承接的需求", message=mine)
    listing = await organizer.wait_for_text("我的队伍承接的需求")
    await organizer.press(next(label for label in listing.button_labels() if f"#{number}" in label))
    card = await organizer.wait_for_text("队伍已接单")
    await organizer.press("🚶 开始服务", message=card)
    await organizer.wait_for_text("服务中")
    await resident.wait_for_text("服务中")
    await organizer.press("🎉 已完成")
    hours = await organizer.wait_for_text("用了多长时间")
    await organizer.press("2 小时", message=hours)
    await organizer.wait_for_text("服务小结")
    await organizer.send("买了菜和药，陪奶奶聊了一小时")
    await organizer.wait_for_text("已为 1 位志愿者记入服务时长")
    row = await bot.db.fetch_one(
        "SELECT * FROM service_records WHERE volunteer_id = ?", (yes_profile.volunteer_id,)
    )
    assert row is not None
    assert row["kind"] == "service" and row["minutes"] == 120 and row["activity_id"] is None
    assert row["organization_name"] == "芙蓉区敬老志愿服务队" and row["place"] == "芙蓉区"
    assert ADDRESS not in row["place"] + row["content"]
    thanks = await yes_user.wait_for_text("感谢您服务需求")
    assert "2 小时" in thanks.visible_text
    await yes_user.send("/hours")
    await yes_user.wait_for_text("居民点单")

    # 评单: the resident rates ⭐2 with a comment; the dispatcher hears of it.
    done = await resident.wait_for_text("请给本次服务打 1 到 5 星")
    await resident.press("⭐2", message=done)
    await resident.wait_for_text("想补充几句吗")
    await resident.send("来得有点晚")
    await resident.wait_for_text("评价已保存")
    low = await desk.wait_for_text("rated")
    assert "(2/5)" in low.visible_text
    request = await RequestsRepository(bot.db).get(number)
    assert request is not None and request.rating == 2 and request.rating_comment == "来得有点晚"

    # Nobody outside the resident, the dispatcher and the team received the phone or address.
    secrets = [ADDRESS, PHONE_DIGITS, PHONE_DIGITS[-8:]]
    allowed = {resident.id, desk.id, organizer.id}
    assert leaks(api, bot_info, allowed, secrets) == []

    # Thirty days after completion the address and phone are overwritten.
    clock.advance(timedelta(days=31))
    report = await requests_of(bot).tick()
    assert report.masked == 1
    masked = await RequestsRepository(bot.db).get(number)
    assert masked is not None and masked.address == "***" and masked.phone == "***"
    assert (await requests_of(bot).tick()).masked == 0


async def test_rejection_and_cancellation_en(
    bot: BotProcess, api: LocalBotApi, make_user: MakeUser, bot_info: BotInfo
) -> None:
    organizer, _organization = await team(bot, make_user, "Furong Helpers", "en", category=True)
    desk = await dispatcher(bot, make_user, "en")
    resident = make_user("Ms Wang", language_code="en")
    rejected = await order_by_service(bot, resident)
    await desk.wait_for_text("A new request in your area")

    # A rejection with a reason: the resident reads it.
    await desk.send("/dispatch")
    queue = await desk.wait_for_text("Dispatch queue")
    await desk.press(next(label for label in queue.button_labels() if f"#{rejected}" in label))
    card = await desk.wait_for_text("Suggested organizations")
    await desk.press("❌ Reject", message=card)
    await desk.wait_for_text("Why is request")
    await desk.send("x")
    await desk.wait_for_text("at least")
    await desk.send("Shopping is covered by the community canteen this week.")
    await desk.wait_for_text("is rejected")
    news = await resident.wait_for_text("News about your request")
    assert "Not accepted" in news.visible_text and "community canteen" in news.visible_text
    assert await status(bot, rejected) is RequestStatus.REJECTED

    # A cancellation by the resident while the team has it; the team is told, without the
    # address. After the service has started, cancelling is refused.
    cancelled = await order_by_service(bot, resident)
    svc = requests_of(bot)
    request = await RequestsRepository(bot.db).get(cancelled)
    assert request is not None
    organization_id = (await svc.dispatch_card(desk.id, cancelled))[1][0].candidate.organization_id
    await svc.dispatch(desk.id, cancelled, request.version, organization_id)
    await organizer.wait_for_text("A resident's request for your team")
    await resident.send("/requests")
    listing = await resident.wait_for_text("My requests")
    await resident.press(
        next(label for label in listing.button_labels() if f"#{cancelled}" in label)
    )
    card = await resident.wait_for_text(f"Request #{cancelled}")
    await resident.press("🚫 Cancel the request", message=card)
    sure = await resident.wait_for_text("The team and the dispatcher will be told")
    await resident.press("Yes, cancel it", message=sure)
    await resident.wait_for_text("Cancelled")
    assert await status(bot, cancelled) is RequestStatus.CANCELLED
    gone = await organizer.wait_for_text("The resident cancelled this request")
    assert ADDRESS not in gone.visible_text
    # The old "Accept" on the team's notice is stale now.
    await organizer.press("✅ Accept")
    answer = await organizer.callback_answer()
    assert answer.text is not None and "changed meanwhile" in answer.text

    started = await order_by_service(bot, resident)
    request = await RequestsRepository(bot.db).get(started)
    assert request is not None
    await svc.dispatch(desk.id, started, request.version, organization_id)
    accepted = await svc.accept(organizer.id, started, request.version + 1)
    await svc.start_service(organizer.id, started, accepted.request.version)
    fresh = await RequestsRepository(bot.db).get(started)
    assert fresh is not None
    await resident.press_data(card.message_id, f"mr.cyes:{started}:{fresh.version}")
    answer = await resident.callback_answer()
    assert answer.text is not None and "already started" in answer.text
    assert await status(bot, started) is RequestStatus.IN_SERVICE

    allowed = {resident.id, desk.id, organizer.id}
    assert leaks(api, bot_info, allowed, [ADDRESS, PHONE_DIGITS, PHONE_DIGITS[-8:]]) == []


async def test_redispatch_after_the_acceptance_timeout(
    bot: BotProcess, api: LocalBotApi, make_user: MakeUser, bot_info: BotInfo
) -> None:
    clock = clock_of(bot)
    slow, slow_org = await team(bot, make_user, "芙蓉区敬老志愿服务队", "zh", category=True)
    quick, quick_org = await team(bot, make_user, "Furong Youth", "en", category=False)
    desk = await dispatcher(bot, make_user, "zh")
    resident = make_user("李大爷", language_code="zh")
    number = await order_by_service(bot, resident, urgent=True)
    svc = requests_of(bot)
    request = await RequestsRepository(bot.db).get(number)
    assert request is not None
    await svc.dispatch(desk.id, number, request.version, slow_org.organization_id)
    await slow.wait_for_text("有一个居民需求派给您的队伍")

    # Half an hour: nobody accepted the urgent request; the administrators are told, once.
    admin = make_user("管理员", language_code="zh", user_id=ADMIN_ID)
    await admin.send("/start")
    await admin.next_reply()
    clock.advance(timedelta(minutes=31))
    first = await svc.tick()
    assert first.escalated == 1
    escalation = await admin.wait_for_text("有紧急需求在等待")
    assert ADDRESS not in escalation.visible_text
    assert (await svc.tick()).escalated == 0

    # Two hours: the team is reminded, once.
    clock.advance(timedelta(hours=2))
    assert (await svc.tick()).reminded == 1
    await slow.wait_for_text("仍在等待您的答复")
    assert (await svc.tick()).reminded == 0

    # Four hours: the request goes to the next suggestion; the slow team and the dispatcher
    # are told; the resident hears of the new team.
    clock.advance(timedelta(hours=2))
    moved = await svc.tick()
    assert moved.redispatched == 1 and moved.requeued == 0
    fresh = await RequestsRepository(bot.db).get(number)
    assert fresh is not None and fresh.organization_id == quick_org.organization_id
    assert fresh.dispatch_round == 2
    await slow.wait_for_text("已转派给其他队伍")
    await desk.wait_for_text("转派给下一个推荐的组织")
    offer = await quick.wait_for_text("A resident's request for your team")
    await resident.wait_for_text("已派给Furong Youth")
    assert (await svc.tick()).redispatched == 0

    # The slow team's old Accept is refused; the new team accepts.
    await slow.press("✅ 接单")
    answer = await slow.callback_answer()
    assert answer.text is not None and "不在您的组织" in answer.text
    await quick.press("✅ Accept", message=offer)
    await quick.wait_for_text("Accepted by a team")

    # A second request the new team lets time out goes on to the other team.
    second = await order_by_service(bot, resident)
    request = await RequestsRepository(bot.db).get(second)
    assert request is not None
    await svc.dispatch(desk.id, second, request.version, quick_org.organization_id)
    clock.advance(timedelta(hours=4, minutes=1))
    back = await svc.tick()
    assert back.redispatched == 1
    numbers = await svc.stats()
    assert numbers.overall.total == 2
    team_figures = {figures.name: figures for figures in numbers.teams}
    assert team_figures["Furong Youth"].to_accept is not None

    allowed = {resident.id, desk.id, slow.id, quick.id, ADMIN_ID}
    assert leaks(api, bot_info, allowed, [ADDRESS, PHONE_DIGITS, PHONE_DIGITS[-8:]]) == []
    # The administrator is allowed by role, and still never got the address in a notice.
    assert leaks(api, bot_info, allowed - {ADMIN_ID}, [ADDRESS]) == []


async def test_activity_mode_and_the_dispatchers_screen(
    bot: BotProcess, make_user: MakeUser
) -> None:
    admin = make_user("管理员", language_code="en", user_id=ADMIN_ID)
    candidate = make_user("Xiao Li", language_code="en")
    await candidate.send("/start")
    await candidate.next_reply()

    # The administrator appoints a dispatcher of Furong by id.
    await admin.send("/dispatchers")
    home = await admin.wait_for_text("Dispatchers by area")
    await admin.press("Furong District (0)", message=home)
    await admin.wait_for_text("Nobody yet")
    await admin.press("➕ Appoint a dispatcher")
    await admin.wait_for_text("user id")
    await admin.send("@nobody_here")
    await admin.wait_for_text("has used this bot")
    await admin.send(str(candidate.id))
    await admin.wait_for_text("is now a dispatcher")
    assert await requests_of(bot).dispatch_areas(candidate.id) == ["furong"]
    # A non-administrator's forged press on the screen is refused.
    await candidate.press_data((await candidate.wait_for_text("Welcome", anywhere=True)).message_id,
                               f"da.rm:furong:{candidate.id}")  # fmt: skip
    answer = await candidate.callback_answer()
    assert answer.text is not None and "administrators" in answer.text

    # A team turns a request into an activity with sign-up; completing it records the
    # volunteers who signed up, against the activity.
    organizer, organization = await team(bot, make_user, "Furong Helpers", "en", category=True)
    resident = make_user("Mr Zhao", language_code="en")
    number = await order_by_service(bot, resident)
    svc = requests_of(bot)
    request = await RequestsRepository(bot.db).get(number)
    assert request is not None
    await svc.dispatch(candidate.id, number, request.version, organization.organization_id)
    view = await svc.accept(organizer.id, number, request.version + 1)
    await organizer.send("/requests")
    mine = await organizer.wait_for_text("My requests")
    await organizer.press("🏢 Requests for my team", message=mine)
    listing = await organizer.wait_for_text("Requests for my team")
    await organizer.press(next(label for label in listing.button_labels() if f"#{number}" in label))
    card = await organizer.wait_for_text("Accepted by a team")
    await organizer.press("📅 Publish as an activity", message=card)
    published = await organizer.wait_for_text("Published as an activity")
    fresh = await RequestsRepository(bot.db).get(number)
    assert fresh is not None and fresh.activity_id is not None
    activity = await bot.db.fetch_one(
        "SELECT place, status FROM activities WHERE activity_id = ?", (fresh.activity_id,)
    )
    assert activity is not None and activity["status"] == "published"
    assert ADDRESS not in activity["place"]
    volunteer = make_user("Helper", language_code="en")
    profile = await add_volunteer(bot.db, volunteer.id, name="帮手", now=bot.clock())
    assert bot.runtime is not None
    await bot.runtime.application.services.signups.sign_up(volunteer.id, fresh.activity_id)
    # Asking volunteers one by one is refused now: the request is served by the activity.
    await organizer.press_data(published.message_id, f"tm.help:{number}")
    answer = await organizer.callback_answer()
    assert answer.text is not None and "the other way" in answer.text
    _done, written = await svc.complete(
        organizer.id, number, view.request.version + 1, 90, "Groceries delivered.", "Li"
    )
    assert written == 1
    row = await bot.db.fetch_one(
        "SELECT activity_id, minutes FROM service_records WHERE volunteer_id = ?",
        (profile.volunteer_id,),
    )
    assert row is not None and row["activity_id"] == fresh.activity_id and row["minutes"] == 90
    await eventually(lambda: status(bot, number), lambda s: s is RequestStatus.COMPLETED)


async def test_a_forged_hours_press_is_answered_and_changes_nothing(
    bot: BotProcess, make_user: MakeUser
) -> None:
    """A press carries only the hours its screen offered; any other value (found by the fuzz
    suite) gets the localized range as an alert instead of an error."""
    organizer, _organization = await team(bot, make_user, "Furong Helpers", "en", category=False)
    await organizer.send("/requests")
    shown = await organizer.wait_for_text("My requests")
    await organizer.press_data(shown.message_id, "tm.hours:1:1:99999")
    answer = await organizer.callback_answer()
    assert answer.text is not None and "12 hours" in answer.text
    assert await bot.db.fetch_all("SELECT 1 FROM service_records") == []
