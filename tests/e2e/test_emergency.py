"""Emergency mobilization end to end (issue #20): 300 on-call volunteers in three districts; an
administrator allows an organization, starts a drill needing 10 first-aiders; the nearest are
alerted first, past their quiet hours (an ordinary notification still waits); the headcount is
edited in place as answers arrive; a second wave widens the radius; once the target is reached no
wave goes out; an update reaches everyone coming; a volunteer checks in at the rally point; the
stand-down reaches every yes and the unanswered; the hours become records. Forged presses change
nothing. A second test sends 300 alerts through the local server's flood limits: no 429.

The bot runs as ``zhiyuan run`` starts it, on a ManualClock at 23:00 in Changsha (everyone's
default quiet hours are 22:00–08:00).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.context import Services
from bot.domain.emergency import Availability, EmergencySkill, NeedSkill, PoolEntry
from bot.domain.geo import Point, distance_km
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.service_records import review_stamp
from bot.localapi import FloodLimits, LocalBotApi, StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from storage.emergency import EmergencyRepository
from storage.outbox import OutboxRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess, eventually
from tests.factories import add_organization, add_user, add_volunteer

MakeUser = Callable[..., VirtualUser]
NIGHT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 23:00 in Changsha: quiet hours
CENTRES = {
    "furong": (28.1932, 113.0329),
    "yuelu": (28.2351, 112.9311),
    "kaifu": (28.2558, 113.0086),
}
RALLY = (28.1950, 113.0300)  # in Furong
ORG_NAME = "Furong Rescue Team"
CODE = re.compile(r"(\d{3}) (\d{3})")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NIGHT)


@pytest.fixture
async def bot(
    settings: Settings, bot_info: BotInfo, clock: ManualClock
) -> AsyncIterator[BotProcess]:
    process = BotProcess(settings, clock)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


def services_of(bot: BotProcess) -> Services:
    assert bot.runtime is not None
    return bot.runtime.application.services


class Member:
    def __init__(self, user: VirtualUser, volunteer_id: int, point: Point, aid: bool) -> None:
        self.user = user
        self.volunteer_id = volunteer_id
        self.point = point
        self.first_aid = aid

    @property
    def km(self) -> float:
        return distance_km(self.point, Point(*RALLY))


async def on_call_pool(
    bot: BotProcess, api: LocalBotApi, make_user: MakeUser, count: int = 300
) -> list[Member]:
    """``count`` on-call volunteers spread over three districts (pins a few km around each
    district's centre); every third one of each district knows first aid."""
    now = bot.clock()
    repo = EmergencyRepository(bot.db)
    members = []
    districts = list(CENTRES)
    for i in range(count):
        district = districts[i % 3]
        lat, lon = CENTRES[district]
        point = Point(lat + ((i * 37) % 61 - 30) / 1000, lon + ((i * 53) % 61 - 30) / 1000)
        aid = (i // 3) % 3 == 0
        user = make_user(f"V{i}")
        profile = await add_volunteer(
            bot.db, user.id, name=f"志愿者{i}", area_code=district, now=now
        )
        await repo.save_pool(
            PoolEntry(
                volunteer_id=profile.volunteer_id,
                on_call=True,
                skills=frozenset({EmergencySkill.FIRST_AID} if aid else {EmergencySkill.LOGISTICS}),
                area_code=district,
                availability=Availability.ANY,
                max_km=50,
                latitude=point.latitude,
                longitude=point.longitude,
            ),
            now,
        )
        api.open_private_chat(user.bot, user.info)
        members.append(Member(user, profile.volunteer_id, point, aid))
    return members


async def alert_rows(bot: BotProcess, mobilization_id: int) -> list[int]:
    rows = await bot.db.fetch_all(
        "SELECT volunteer_id FROM mobilization_alerts WHERE mobilization_id = ? "
        "ORDER BY wave, wave_rank",
        (mobilization_id,),
    )
    return [int(row["volunteer_id"]) for row in rows]


async def outbox_statuses(bot: BotProcess, kind: NotificationKind) -> list[str]:
    rows = await bot.db.fetch_all(
        "SELECT status FROM outbox WHERE kind = ? ORDER BY notification_id", (kind.value,)
    )
    return [row["status"] for row in rows]


async def allow_and_start(admin: VirtualUser, needed_first_aid: int) -> StoredMessage:
    """The administrator allows the organization, then starts a drill through /mobilize."""
    await admin.send("/mobilize")
    await admin.wait_for_text("Emergency mobilization")
    await admin.press("🔑 Organizations allowed to mobilize")
    await admin.wait_for_text("None yet.")
    await admin.press("➕ Allow an organization")
    await admin.wait_for_text("Type part of the organization")
    await admin.send("rescue")
    await admin.wait_for_text("Which one may mobilize?")
    await admin.press(ORG_NAME)
    await admin.wait_for_text("may now mobilize")

    await admin.send("/mobilize")
    await admin.wait_for_text("Emergency mobilization")
    await admin.press(f"➕ Mobilize: {ORG_NAME}")
    await admin.wait_for_text("What is happening")
    await admin.send("Flooding at Orange Isle")
    await admin.wait_for_text("map pin")
    await admin.share_location(*RALLY)
    await admin.wait_for_text("describe the rally point")
    await admin.send("North gate of the stadium")
    await admin.wait_for_text("New mobilization")
    for n in range(needed_first_aid):
        await admin.press(f"First aid: {n} ➕")
        await admin.wait_for_text(f"First aid ×{n + 1}")
    await admin.press("🚀 Start: alert the on-call volunteers")
    return await admin.wait_for_text("Headcount")


async def alert_of(member: Member) -> StoredMessage:
    return await member.user.wait_for_text("Can you come?", anywhere=True)


async def test_a_drill_needing_ten_first_aiders_from_alert_to_records(
    bot: BotProcess,
    api: LocalBotApi,
    make_user: MakeUser,
    clock: ManualClock,
) -> None:
    services = services_of(bot)
    now = clock()
    await add_organization(bot.db, name=ORG_NAME, now=now)
    members = await on_call_pool(bot, api, make_user)
    by_volunteer = {m.volunteer_id: m for m in members}
    # An ordinary notification in someone's quiet hours waits for the morning.
    sleeper = members[1]
    async with bot.db.transaction() as tx:
        await OutboxRepository.enqueue(
            tx,
            Notification(
                kind=NotificationKind.BROADCAST,
                telegram_id=sleeper.user.id,
                subject="quiet",
                payload={"broadcast": 1},
                due_at=now,
            ),
            now,
        )

    admin = make_user("Admin", language_code="en", user_id=ADMIN_ID)
    headcount = await allow_and_start(admin, 10)
    assert "DRILL" in headcount.visible_text
    assert "First aid: 0 / 10" in headcount.visible_text
    row = await bot.db.fetch_one("SELECT mobilization_id, activity_id FROM mobilizations")
    assert row is not None
    mid, activity_id = int(row["mobilization_id"]), int(row["activity_id"])

    # Wave 1: the 20 nearest first-aiders, nearest first, delivered at 23:00 all the same.
    aiders = sorted((m for m in members if m.first_aid), key=lambda m: m.km)
    wave1 = await alert_rows(bot, mid)
    assert wave1 == [m.volunteer_id for m in aiders[:20]]
    sent_order = await bot.db.fetch_all(
        "SELECT telegram_id FROM outbox WHERE kind = 'emergency_alert' ORDER BY notification_id"
    )
    assert [r["telegram_id"] for r in sent_order] == [m.user.id for m in aiders[:20]]
    await eventually(
        lambda: outbox_statuses(bot, NotificationKind.EMERGENCY_ALERT),
        lambda s: len(s) == 20 and all(x == "sent" for x in s),
    )
    for member in aiders[:20]:
        alert = await alert_of(member)
        assert alert.visible_text.startswith("🧪 DRILL — not a real emergency")
        assert "North gate of the stadium" in alert.visible_text
    quiet = await OutboxRepository(bot.db).for_recipient(sleeper.user.id)
    assert [(r["kind"], r["status"], r["last_error"]) for r in quiet] == [
        ("broadcast", "pending", "quiet hours")
    ]
    assert all(not m.user.bot_messages() for m in members if m.volunteer_id not in wave1)

    # Forged presses: an alert of a mobilization never sent to them, another one's id, a
    # made-up estimate. Nothing is recorded.
    far = aiders[-1]
    await far.user.send("/start")
    reply = await far.user.next_reply()
    await far.user.press_data(reply.message_id, f"em.ans:{mid}:15")
    assert "not sent to you" in ((await far.user.callback_answer()).text or "")
    first = aiders[0]
    alert = await alert_of(first)
    await first.user.press_data(alert.message_id, f"em.ans:{mid + 1}:15")
    assert "not sent to you" in ((await first.user.callback_answer()).text or "")
    await first.user.press_data(alert.message_id, f"em.ans:{mid}:20")
    assert "changed" in ((await first.user.callback_answer()).text or "")
    await admin.press_data(headcount.message_id, f"em.ans:{mid}:15")  # the admin is no volunteer
    await admin.callback_answer()
    tally = await EmergencyRepository(bot.db).tally(mid)
    assert tally.coming_by_skill == {} and tally.cannot == 0

    # Six say yes, two can't: the coordinator's message is edited in place (coalesced).
    for member in aiders[:6]:
        await member.user.press("✅ I can come: ~15 min", message=await alert_of(member))
        await member.user.wait_for_text("You are expected in about 15 minutes")
    for member in aiders[6:8]:
        await member.user.press("❌ Can't come", message=await alert_of(member))
        await member.user.wait_for_text("not counted as coming")
    # All eight answered within the same two seconds (the clock stands still): held back, then
    # drawn once by the edit job when the interval is over.
    assert not any(v.plain_text and "6 / 10" in v.plain_text for v in headcount.edits)
    clock.advance(timedelta(seconds=services.settings.emergency_edit_seconds + 1))
    edited = await admin.wait_for_text("First aid: 6 / 10", timeout=10)
    assert edited.message_id == headcount.message_id
    assert "Can't: 2 · No answer yet: 12 · Alerted: 20" in edited.visible_text
    assert len(edited.edits) == 1
    # A yes also brought the rally point's pin.
    assert any(m.location is not None for m in aiders[0].user.bot_messages())

    # Wave 2 after the interval: four missing, eight more, farther out, within a wider radius.
    clock.advance(services.settings.emergency_wave_interval + timedelta(seconds=1))
    await services.emergency.run_waves()
    alerted = await eventually(lambda: alert_rows(bot, mid), lambda rows: len(rows) == 28)
    wave2 = [by_volunteer[v] for v in alerted[20:]]
    assert [m.volunteer_id for m in wave2] == [m.volunteer_id for m in aiders[20:28]]
    mobilization = await services.emergency.mobilization(mid)
    assert mobilization is not None and mobilization.wave == 2
    assert all(aiders[19].km <= m.km <= mobilization.radius_km + 1e-6 for m in wave2)

    # Four of them come: the target is reached, and no further wave goes out.
    await eventually(
        lambda: outbox_statuses(bot, NotificationKind.EMERGENCY_ALERT),
        lambda s: len(s) == 28 and all(x == "sent" for x in s),
    )
    for member in wave2[:4]:
        await member.user.press("✅ I can come: ~30 min", message=await alert_of(member))
        await member.user.wait_for_text("about 30 minutes")
    clock.advance(timedelta(seconds=services.settings.emergency_edit_seconds + 1))
    reached = await admin.wait_for_text("First aid: 10 / 10", timeout=10)
    assert "Target reached" in reached.visible_text
    for _ in range(2):
        clock.advance(services.settings.emergency_wave_interval + timedelta(seconds=1))
        assert await services.emergency.run_waves() == []
    assert len(await alert_rows(bot, mid)) == 28
    coming = aiders[:6] + wave2[:4]

    # An update reaches everyone coming, labelled as a drill.
    await admin.press("📢 Send an update", message=headcount.message_id)
    await admin.wait_for_text("Type the update")
    await admin.send("Bring boots and a torch.")
    await admin.wait_for_text("Update sent to 10 people coming.")
    for member in coming:
        update = await member.user.wait_for_text("Bring boots and a torch.")
        assert "DRILL" in update.visible_text

    # Arrival at the rally point is a check-in (the service records' own display).
    await admin.press("📲 Check-in", message=headcount.message_id)
    photo = await eventually(lambda: _latest_photo(admin), lambda message: message is not None)
    assert photo is not None
    found = CODE.search(photo.visible_text)
    assert found is not None
    arriving = coming[0]
    await arriving.user.send(found.group(1) + found.group(2))
    await arriving.user.wait_for_text("Checked in")
    # They answered the call: expected (not a walk-in), due by their answer + 15 min.
    row = await bot.db.fetch_one(
        "SELECT mark, walk_in FROM attendance WHERE activity_id = ? AND volunteer_id = ?",
        (activity_id, arriving.volunteer_id),
    )
    assert row is not None and (row["mark"], row["walk_in"]) == ("present", 0)

    # Stand down: every yes and every alerted without an answer is told; the two who could
    # not come are not.
    await admin.press("🛑 Stand down", message=headcount.message_id)
    await admin.wait_for_text("Stand down?")
    await admin.press("🛑 Yes, stand down")
    await admin.wait_for_text("Stood down. 26 people are being told.")
    unanswered = aiders[8:20] + wave2[4:]
    for member in coming + unanswered:
        told = await member.user.wait_for_text("Stand down.", timeout=10)
        assert "DRILL" in told.visible_text
    for member in aiders[6:8]:
        assert not any("Stand down." in m.visible_text for m in member.user.bot_messages())
    clock.advance(timedelta(seconds=services.settings.emergency_edit_seconds + 1))
    final = await admin.wait_for_text("Stood down at", timeout=10)
    assert final.message_id == headcount.message_id
    # A late answer is refused.
    late = aiders[10]
    await late.user.press_data((await alert_of(late)).message_id, f"em.ans:{mid}:15")
    assert "stood down" in ((await late.user.callback_answer()).text or "")

    # The hours: the coordinator confirms them as for any activity; the one who checked in
    # has a service record of the organization.
    clock.advance(timedelta(hours=5))
    _activity, lines = await services.records.review(ADMIN_ID, activity_id)
    report = await services.records.confirm(ADMIN_ID, activity_id, review_stamp(lines))
    assert report.records == 1
    record = await services.records.record_of(activity_id, arriving.volunteer_id)
    assert record is not None and record.organization_name == ORG_NAME
    assert record.activity_title == "Emergency drill: Flooding at Orange Isle"


async def _latest_photo(user: VirtualUser) -> StoredMessage | None:
    photos = [m for m in user.bot_messages() if m.photo is not None]
    return photos[-1] if photos else None


# ------------------------------------------------------------------------------ the pace


@pytest.fixture
async def flood_api() -> AsyncIterator[LocalBotApi]:
    # Telegram's overall limit as a strict window: at most 30 in any one second (#14).
    async with LocalBotApi(flood_limits=FloodLimits(strict_window=True)) as server:
        yield server


async def test_three_hundred_alerts_go_out_at_the_outbox_pace_without_a_429(
    flood_api: LocalBotApi, settings: Settings, clock: ManualClock
) -> None:
    """Telegram's limits as the local server enforces them (at most 30 in any one second
    overall, 1/s per chat): all 300 on-call volunteers are alerted at once (150 people of any
    skill), through the outbox at SEND_RATE_PER_SECOND, while other people keep writing and
    get answers; the answers count in the same window, and the server never answers 429."""
    from tests.e2e.conftest import TOKEN

    bot_info = flood_api.add_bot(TOKEN, username="zhiyuan_test_bot", first_name="Zhiyuan")
    from bot.localapi import VirtualUserInfo

    numbers = iter(range(700_001, 800_000))

    def make(first_name: str = "V", language_code: str | None = "en") -> VirtualUser:
        number = next(numbers)
        return VirtualUser(
            flood_api,
            bot_info,
            VirtualUserInfo(id=number, first_name=first_name, language_code=language_code),
        )

    process = BotProcess(settings.model_copy(update={"bot_api_url": flood_api.url}), clock)
    await process.start()
    try:
        services = services_of(process)
        now = clock()
        organization = await add_organization(process.db, name=ORG_NAME, now=now)
        members = await on_call_pool(process, flood_api, make)
        svc = services.emergency
        await add_user(process.db, ADMIN_ID, first_name="Admin", now=now)
        await EmergencyRepository(process.db).grant(organization.organization_id, ADMIN_ID, now)
        draft = await svc.new_draft(ADMIN_ID, organization.organization_id)
        mid = draft.mobilization_id
        await svc.set_title(ADMIN_ID, mid, "City-wide drill")
        await svc.set_place(ADMIN_ID, mid, Point(*RALLY))
        await svc.set_rally_text(ADMIN_ID, mid, "Helong stadium")
        current = await svc.draft(ADMIN_ID, mid)
        for _ in range(2):  # 2 × 75 = 150 people of any skill: the first wave is everyone
            for _ in range(75):
                current = await svc.change_need(ADMIN_ID, mid, current.version, NeedSkill.ANY, 1)
        flood_api.stats.reset()
        started_at = time.monotonic()
        started = await svc.start(ADMIN_ID, mid, current.version, "City-wide drill")
        assert started.alerted == 300
        application = process.runtime.application  # type: ignore[union-attr]
        chatters = [make("Chatty") for _ in range(50)]

        async def chat(number: int, user: VirtualUser) -> None:
            # Spread over the delivery: each writes once a few more alerts have gone out.
            await eventually(
                lambda: outbox_statuses(process, NotificationKind.EMERGENCY_ALERT),
                lambda s: s.count("sent") >= 5 * number,
                timeout=60,
            )
            await user.send("/help")
            await user.wait_for_text("What I can do", timeout=30)

        await asyncio.gather(
            application.deliverer.run_once(application.bot),
            *(chat(n, u) for n, u in enumerate(chatters)),
        )
        statuses = await eventually(
            lambda: outbox_statuses(process, NotificationKind.EMERGENCY_ALERT),
            lambda s: len(s) == 300 and all(x == "sent" for x in s),
            timeout=60,
        )
        elapsed = time.monotonic() - started_at
        assert len(statuses) == 300
        assert flood_api.stats.too_many_requests == 0
        assert flood_api.stats.requests["sendMessage"] == 300 + 50
        rate = services.settings.send_rate_per_second
        # Paced: no faster than the outbox's rate (less its small burst).
        assert elapsed >= (300 - math.ceil(rate)) / rate
        assert all(len(m.user.bot_messages()) == 1 for m in members)
    finally:
        await process.stop()
