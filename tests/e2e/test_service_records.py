"""Service records end to end (issue #16): the organizer shows a rotating check-in code, volunteers
check in by typing it and by the QR's deep link, an old code is refused, a volunteer without a
phone is marked by hand, a walk-in is added, everyone checks out, the hours follow the rounding
rule, the organizer confirms them, ``/hours`` shows them, a correction is requested and approved,
and the data export contains the record. Forged presses change nothing.

The bot runs as ``zhiyuan run`` starts it, against the local Bot API server, on a ManualClock so
the 30-second code steps move only when the test says so.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import MemberRole, Organization
from bot.domain.checkin import CheckMode, code_for, link_token_for, step_at
from bot.domain.hours import AttendanceMark
from bot.domain.volunteers import VolunteerProfile
from bot.localapi import LocalBotApi, StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from handlers.checkin_display import checkin_link, qr_png
from handlers.record_buttons import (
    AllOutAt,
    AttendanceMarkWhy,
    CorrectionApprove,
    HoursConfirm,
    MyRecord,
)
from storage.attendance import AttendanceRepository
from storage.organizations import OrganizationsRepository
from storage.qualifications import QualificationsRepository
from storage.timeutil import to_db_time
from storage.volunteers import VolunteersRepository
from tests.e2e.conftest import BotProcess, eventually
from tests.factories import add_activity, add_organization, add_user, add_volunteer

MakeUser = Callable[..., VirtualUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Saturday 12 December 2026, 08:45 in Changsha; the activity runs 09:00–11:00.
START = datetime(2026, 12, 12, 9, 0, tzinfo=SHANGHAI)
PIN = (28.1960, 112.9770)
CODE = re.compile(r"(\d{3}) (\d{3})")


@pytest.fixture
async def bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    process = BotProcess(settings, ManualClock(START - timedelta(minutes=15)))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def count_records(bot: BotProcess) -> int:
    row = await bot.db.fetch_one("SELECT COUNT(*) AS n FROM service_records")
    assert row is not None
    return int(row["n"])


def clock_of(bot: BotProcess) -> ManualClock:
    assert isinstance(bot.clock, ManualClock)
    return bot.clock


async def setup(
    bot: BotProcess, make_user: MakeUser, volunteers: int
) -> tuple[VirtualUser, Organization, int, list[tuple[VirtualUser, VolunteerProfile]]]:
    now = bot.clock()
    organization = await add_organization(bot.db, now=now)
    organizer = make_user("李老师", language_code="zh")
    await add_user(bot.db, organizer.id, first_name="李老师", now=now)
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, organizer.id, MemberRole.MANAGER, now
    )
    activity = await add_activity(
        bot.db,
        organization,
        starts_at=START,
        duration=timedelta(hours=2),
        now=now,
        latitude=PIN[0],
        longitude=PIN[1],
        leader_name="李老师",
        capacity=20,
    )
    people = []
    services = bot.runtime.application.services  # type: ignore[union-attr]
    for number in range(volunteers):
        language = "en" if number % 2 else "zh"
        user = make_user(f"V{number}", language_code=language)
        profile = await add_volunteer(bot.db, user.id, name=f"志愿者{number}", now=now)
        await services.signups.sign_up(user.id, activity.activity_id)
        people.append((user, profile))
    return organizer, organization, activity.activity_id, people


async def open_card(
    organizer: VirtualUser, activity_id: int, title: str = "社区健康义诊"
) -> StoredMessage:
    await organizer.send("/start")
    menu = await organizer.next_reply()
    await organizer.press_data(menu.message_id, f"mg.card:{activity_id}")
    return await organizer.wait_for_text(title)


def shown_code(message: StoredMessage) -> str:
    found = CODE.search(message.visible_text)
    assert found is not None, message.visible_text
    return found.group(1) + found.group(2)


async def display_photo(organizer: VirtualUser) -> StoredMessage:
    photos = [m for m in organizer.bot_messages() if m.photo is not None]
    assert photos, "no check-in photo"
    return photos[-1]


async def test_check_in_hours_records_and_a_correction(
    bot: BotProcess, api: LocalBotApi, make_user: MakeUser, bot_info: BotInfo
) -> None:
    clock = clock_of(bot)
    organizer, _organization, aid, people = await setup(bot, make_user, 10)
    attendance = AttendanceRepository(bot.db)

    # The organizer opens check-in from the card: a photo of a QR code and a six-digit code.
    card = await open_card(organizer, aid)
    await organizer.press("📲 签到", message=card)
    photo = await organizer.wait_for_text("签到码")
    assert photo.photo is not None
    code = shown_code(photo)
    display = await attendance.display(aid)
    assert display is not None and display.mode is CheckMode.IN
    step = step_at(clock())
    # The picture is the QR code of the deep link for this step.
    assert photo.photo.data == qr_png(checkin_link(bot_info.username, display, step))
    token = link_token_for(display.secret, CheckMode.IN, step)

    # Five volunteers type the code (with or without the space), four scan the QR's link.
    for user, _profile in people[:5]:
        await user.send(f"{code[:3]} {code[3:]}" if user.id % 2 else code)
        reply = await user.next_reply()
        assert "签到" in reply.visible_text or "Checked in" in reply.visible_text
    for user, _profile in people[5:9]:
        await user.start(f"ck_{aid}_{token}")
        reply = await user.next_reply()
        assert "签到" in reply.visible_text or "Checked in" in reply.visible_text

    # The location question is optional: other text is handled as if it had not been asked.
    greeter = people[6][0]
    await greeter.send("你好")
    await greeter.wait_for_text("欢迎使用志愿")

    # One shares a location: the distance to the pin is stored and told (a signal only).
    first = people[0][0]
    await first.share_location(PIN[0] + 0.001, PIN[1])
    where = await first.next_reply()
    assert "米" in where.visible_text or " m " in where.visible_text + " "
    entry = await attendance.entry(aid, people[0][1].volunteer_id)
    assert entry is not None and entry.distance_m is not None and 100 <= entry.distance_m <= 125

    # Two minutes later the display has rotated (edited in place) and the old code is refused.
    clock.advance(timedelta(minutes=2))
    await eventually(lambda: display_photo(organizer), lambda m: len(m.edits) >= 1, timeout=10)
    late, late_profile = people[9]
    await late.send(code)
    refused = await late.next_reply()
    assert "过期" in refused.visible_text or "expired" in refused.visible_text
    await late.start(f"ck_{aid}_{token}")
    refused = await late.next_reply()
    assert "过期" in refused.visible_text or "expired" in refused.visible_text
    still = await attendance.entry(aid, late_profile.volunteer_id)
    assert still is not None and still.mark is None

    # At 09:40 the late volunteer checks in with the current code: marked late.
    clock.set(START + timedelta(minutes=40))
    current = code_for(display.secret, CheckMode.IN, step_at(clock()))
    await eventually(
        lambda: display_photo(organizer), lambda m: shown_code(m) == current, timeout=10
    )
    await late.send(current)
    reply = await late.next_reply()
    assert "迟到" in reply.visible_text or "late" in reply.visible_text

    # Someone who never signed up came (sign-up closed at the start): the organizer adds her as
    # a walk-in by her mobile number; she arrived now.
    nophone = make_user("无手机", language_code="zh")
    nophone_profile = await add_volunteer(bot.db, nophone.id, name="张奶奶", now=clock())
    await organizer.press("🙋 考勤", message=await display_photo(organizer))
    listing = await organizer.wait_for_text("考勤")
    await organizer.press("➕ 添加现场人员", message=listing)
    await organizer.wait_for_text("未报名")
    await organizer.send("13800000000")  # nobody has this number
    await organizer.wait_for_text("没有使用该手机号码")
    await organizer.send(nophone_profile.phone)
    listing = await organizer.wait_for_text("现场加入人员")
    row = await bot.db.fetch_one(
        "SELECT mark, walk_in FROM attendance WHERE activity_id = ? AND volunteer_id = ?",
        (aid, nophone_profile.volunteer_id),
    )
    assert row is not None and row["mark"] == "present" and row["walk_in"] == 1

    # Hand-marking: people[4] is marked late by hand ("the code did not work").
    target = people[4][1]
    await organizer.press_data(listing.message_id, f"at.p:{aid}:{target.volunteer_id}")
    person = await organizer.wait_for_text("标记为")
    await organizer.press("⏰ 迟到", message=person)
    why = await organizer.wait_for_text("原因是")
    await organizer.press("签到码无法使用", message=why)
    await organizer.wait_for_text("⏰ 迟到")
    audit = await bot.db.fetch_all(
        "SELECT changed_by, action, old_value, new_value, reason FROM attendance_changes "
        "WHERE activity_id = ? AND volunteer_id = ?",
        (aid, target.volunteer_id),
    )
    assert [tuple(r) for r in audit] == [(organizer.id, "mark", "present", "late", "code_failed")]

    # Check-out: at 11:05 the organizer switches to check-out; two volunteers type its code,
    # then "Everyone out at 11:00" checks out the rest.
    clock.set(START + timedelta(hours=2, minutes=5))
    photo = await display_photo(organizer)
    await organizer.press("👋 切换到签退", message=photo)
    out_photo = await organizer.wait_for_text("签退码")
    out_code = shown_code(out_photo)
    for user, _profile in people[:2]:
        await user.send(out_code)
        reply = await user.next_reply()
        assert "签退" in reply.visible_text or "Checked out" in reply.visible_text
    await organizer.press("🏁 全员签退", message=out_photo)
    ask = await organizer.wait_for_text("选择离开时间")
    # A forged time is refused and checks nobody out: before the start, or past any date
    # the platform can hold (found by the fuzz test: it raised instead).
    for minute in (int(START.timestamp()) // 60 - 1, 9_999_999_999_999_999):
        await organizer.press_data(ask.message_id, AllOutAt(aid, minute).pack())
        alert = await organizer.callback_answer()
        assert alert.text == "此按钮已失效。", minute
    await organizer.press("🏁 11:00签退", message=ask)
    await organizer.wait_for_text("名志愿者签退")

    # The review: clipped to 09:00–11:00, completed half hours; 09:40 → 11:00 counts 1 h.
    card = await open_card(organizer, aid)
    await organizer.press("🕒 时长", message=card)
    review = await organizer.wait_for_text("计时规则")
    assert "合计" in review.visible_text
    confirm = next(
        b for b in review.buttons() if str(b.get("callback_data", "")).startswith("hr.ok:")
    )

    # A forged confirmation from another organization's manager changes nothing.
    other_org = await add_organization(bot.db, name="别的协会", now=clock())
    intruder = make_user("Mallory", language_code="en")
    await add_user(bot.db, intruder.id, first_name="Mallory", now=clock())
    await OrganizationsRepository(bot.db).add_member(
        other_org.organization_id, intruder.id, MemberRole.MANAGER, clock()
    )
    await intruder.send("/start")
    menu = await intruder.next_reply()
    await intruder.press_data(menu.message_id, str(confirm["callback_data"]))
    refusal = await intruder.callback_answer()
    assert refusal.text and "not allowed" in refusal.text
    await intruder.press_data(
        menu.message_id,
        AttendanceMarkWhy(aid, target.volunteer_id, AttendanceMark.ABSENT, "did_not_come").pack(),
    )
    assert "not allowed" in ((await intruder.callback_answer()).text or "")
    assert await count_records(bot) == 0

    await organizer.press_data(review.message_id, str(confirm["callback_data"]))
    await organizer.wait_for_text("服务时长已确认")
    minutes = {
        row["volunteer_id"]: row["minutes"]
        for row in await bot.db.fetch_all(
            "SELECT volunteer_id, minutes FROM service_records WHERE activity_id = ?", (aid,)
        )
    }
    assert minutes[people[0][1].volunteer_id] == 120  # 08:45 → 11:05, clipped to 2 h
    assert minutes[people[9][1].volunteer_id] == 60  # 09:40 → 11:00 = 80 min → 1 h
    assert minutes[nophone_profile.volunteer_id] == 60  # walk-in at 09:40, out at 11:00
    assert minutes[target.volunteer_id] == 120  # marked late by hand; times 08:45 → 11:00
    assert len(minutes) == 11

    # Volunteers are told; /hours shows the record (English for the English speaker).
    english, english_profile = people[1]
    told = await english.wait_for_text("are recorded: 2 h")
    assert "Thank you for your service" in told.visible_text
    await english.send("/hours")
    hours = await english.wait_for_text("My volunteer hours")
    assert "in all: 2 h" in hours.visible_text
    found = await bot.db.fetch_one(
        "SELECT record_id FROM service_records WHERE volunteer_id = ?",
        (english_profile.volunteer_id,),
    )
    assert found is not None
    record_id: int = found["record_id"]

    # Another volunteer's record cannot be opened by a forged press.
    other = people[3][0]
    await other.send("/hours")
    mine = await other.next_reply()
    await other.press_data(mine.message_id, MyRecord(record_id).pack())
    assert "no longer valid" in ((await other.callback_answer()).text or "")

    # A correction: 2 h → 2.5 h with a reason; the organizer approves; the volunteer is told.
    await english.press_data(hours.message_id, MyRecord(record_id).pack())
    record = await english.wait_for_text("Service record")
    assert "Organizing unit" in record.visible_text and "李老师" in record.visible_text
    await english.press("✏️ Request a correction", message=record)
    await english.wait_for_text("How many hours did you serve")
    await english.send("lots")
    await english.wait_for_text("Please send a number of hours")
    await english.send("2.5")
    await english.wait_for_text("Why should it be 2.5 h")
    await english.send("I stayed to clean up")
    await english.wait_for_text("correction request was sent")
    request = await organizer.wait_for_text("更正申请")
    # A volunteer cannot approve it.
    pending = await bot.db.fetch_one("SELECT correction_id FROM record_corrections")
    assert pending is not None
    await english.press_data(hours.message_id, CorrectionApprove(pending["correction_id"]).pack())
    assert "not allowed" in ((await english.callback_answer()).text or "")
    await organizer.press("✅ 通过", message=request)
    await organizer.wait_for_text("已通过")
    decided = await english.wait_for_text("Correction approved")
    assert "2 h → 2.5 h" in decided.visible_text
    corrected = await bot.db.fetch_one(
        "SELECT minutes FROM service_records WHERE record_id = ?", (record_id,)
    )
    assert corrected is not None and corrected["minutes"] == 150

    # The data export contains every record and the correction.
    exported = await VolunteersRepository(bot.db).export(english.id)
    service = exported["service_record"]
    assert isinstance(service, dict)
    assert [r["minutes"] for r in service["records"]] == [150]
    assert [c["status"] for c in service["corrections"]] == ["approved"]
    assert service["attendance"][0]["in_method"] in ("code", "link")

    # After the confirmation nothing changes by hand any more.
    await organizer.press_data(
        review.message_id,
        AttendanceMarkWhy(aid, target.volunteer_id, AttendanceMark.ABSENT, "did_not_come").pack(),
    )
    assert "更正申请" in ((await organizer.callback_answer()).text or "")
    row = await bot.db.fetch_one(
        "SELECT mark FROM attendance WHERE activity_id = ? AND volunteer_id = ?",
        (aid, target.volunteer_id),
    )
    assert row is not None and row["mark"] == "late"
    # And confirming twice writes nothing twice.
    await organizer.press_data(review.message_id, HoursConfirm(aid, 1).pack())
    await organizer.callback_answer()
    assert await count_records(bot) == 11


async def test_an_english_organizer_edits_extends_and_a_training_grants_its_qualification(
    bot: BotProcess, make_user: MakeUser
) -> None:
    """Edit one person's hours with a reason, extend the end, a stale "Confirm" is refused and
    the list shown again, and confirming a training grants its qualification; an activity that
    is not volunteer service records nothing (Art. 19)."""
    clock = clock_of(bot)
    now = clock()
    organization = await add_organization(bot.db, now=now)
    boss = make_user("Ann", language_code="en")
    await add_user(bot.db, boss.id, first_name="Ann", now=now)
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, boss.id, MemberRole.MANAGER, now
    )
    qualification = await QualificationsRepository(bot.db).name(
        organization.organization_id, "急救证", now
    )
    training = await add_activity(
        bot.db,
        organization,
        starts_at=START,
        duration=timedelta(hours=2),
        now=now,
        title="急救培训",
        grants_qualification_id=qualification.qualification_id,
    )
    party = await add_activity(
        bot.db,
        organization,
        starts_at=START + timedelta(hours=2, minutes=30),
        duration=timedelta(minutes=30),
        now=now,
        title="年终联欢会",
        is_volunteering=False,
    )
    services = bot.runtime.application.services  # type: ignore[union-attr]
    trainees = []
    for number in range(3):
        user = make_user(f"T{number}", language_code="en")
        profile = await add_volunteer(bot.db, user.id, name=f"Trainee {number}", now=now)
        await services.signups.sign_up(user.id, training.activity_id)
        await services.signups.sign_up(user.id, party.activity_id)
        trainees.append((user, profile))

    # Everyone checks in by the code at 08:50.
    card = await open_card(boss, training.activity_id, "急救培训")
    await boss.press("📲 Check-in", message=card)
    photo = await boss.wait_for_text("Check-in code")
    for user, _profile in trainees:
        await user.send(shown_code(photo))
        await user.wait_for_text("Checked in")

    # At 11:30 the organizer extends the end to 11:30 (the training ran over) and edits one.
    clock.set(START + timedelta(hours=2, minutes=30))
    card = await open_card(boss, training.activity_id, "急救培训")
    await boss.press("🕒 Hours", message=card)
    review = await boss.wait_for_text("Rule:")
    assert "Total: 6 h for 3 volunteers" in review.visible_text
    await boss.press("⏱ Extend the end", message=review)
    await boss.wait_for_text("Until what time")
    await boss.send("10:00")
    await boss.wait_for_text("Please send a time after")
    await boss.send("11:30")
    review = await boss.wait_for_text("Hours now count until 11:30")
    assert "Total: 7.5 h for 3 volunteers" in review.visible_text
    stale = review

    first = trainees[0][1]
    await boss.press_data(review.message_id, f"hr.ed:{training.activity_id}:{first.volunteer_id}")
    await boss.wait_for_text("How many hours should")
    await boss.send("30")
    await boss.wait_for_text("Please send a number of hours from 0 to 12")
    await boss.send("2")
    await boss.wait_for_text("A short reason")
    await boss.send("x")
    await boss.wait_for_text("Please send a reason")
    await boss.send("Left at 11:00 for an emergency")
    review = await boss.wait_for_text("✏️ Saved.")
    assert "Total: 7 h for 3 volunteers" in review.visible_text
    assert "set by hand: Left at 11:00" in review.visible_text

    # "Confirm" on the list shown before the edit is refused; the current list is shown.
    old_confirm = next(b for b in stale.buttons() if str(b["callback_data"]).startswith("hr.ok:"))
    await boss.press_data(stale.message_id, str(old_confirm["callback_data"]))
    assert "The list changed" in ((await boss.callback_answer()).text or "")
    current = await boss.wait_for_text("Total: 7 h")
    assert await count_records(bot) == 0
    await boss.press("✅ Confirm 7 h for 3 volunteers", message=current)
    await boss.wait_for_text("completed the training and now hold its qualification")
    rows = await bot.db.fetch_all(
        "SELECT volunteer_id, kind, minutes FROM service_records WHERE activity_id = ? "
        "ORDER BY volunteer_id",
        (training.activity_id,),
    )
    assert [(r["kind"], r["minutes"]) for r in rows] == [
        ("training", 120),
        ("training", 150),
        ("training", 150),
    ]
    held = await QualificationsRepository(bot.db).holds(
        first.volunteer_id, qualification.qualification_id
    )
    assert held
    trainee = trainees[0][0]
    told = await trainee.wait_for_text("You completed this training")
    assert "are recorded: 2 h" in told.visible_text
    await trainee.send("/hours")
    hours = await trainee.wait_for_text("Trainings completed")
    assert "急救证" in hours.visible_text
    # The same from /profile.
    await trainee.send("/profile")
    profile_screen = await trainee.next_reply()
    await trainee.press("🕒 My volunteer hours", message=profile_screen)
    again = await trainee.wait_for_text("My volunteer hours")
    assert "in all: 2 h" in again.visible_text

    # The party is not volunteer service: confirming it records nothing and tells no one.
    clock.set(START + timedelta(hours=3, minutes=5))
    card = await open_card(boss, party.activity_id, "年终联欢会")
    await boss.press("🕒 Hours", message=card)
    review = await boss.wait_for_text("not recorded as volunteer service")
    confirm = next(b for b in review.buttons() if str(b["callback_data"]).startswith("hr.ok:"))
    await boss.press_data(review.message_id, str(confirm["callback_data"]))
    await boss.wait_for_text("Hours confirmed: 0 records")
    confirmed = await bot.db.fetch_one(
        "SELECT hours_confirmed_at FROM activities WHERE activity_id = ?", (party.activity_id,)
    )
    assert confirmed is not None and confirmed["hours_confirmed_at"] is not None
    assert await count_records(bot) == 3


async def test_after_three_no_shows_a_sign_up_needs_an_explicit_promise(
    bot: BotProcess, make_user: MakeUser
) -> None:
    """Signed up three times, never came, never cancelled: the next sign-up asks "Will you
    come?" (gentler than blocking) and the organizer sees the count on the attendance list."""
    clock = clock_of(bot)
    now = clock()
    organization = await add_organization(bot.db, now=now)
    boss = make_user("Ann", language_code="en")
    await add_user(bot.db, boss.id, first_name="Ann", now=now)
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, boss.id, MemberRole.MANAGER, now
    )
    flaky = make_user("Flaky", language_code="en")
    await add_volunteer(bot.db, flaky.id, name="Flaky Fan", now=now)
    services = bot.runtime.application.services  # type: ignore[union-attr]
    for day in range(3):
        missed = await add_activity(
            bot.db,
            organization,
            starts_at=START + timedelta(days=day),
            now=now,
            title=f"Missed {day}",
        )
        await services.signups.sign_up(flaky.id, missed.activity_id)
    clock.set(START + timedelta(days=5))
    # The organizers confirmed those activities' hours; the volunteer never checked in.
    async with bot.db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET hours_confirmed_at = ? WHERE title LIKE 'Missed %'",
            (to_db_time(clock()),),
        )
    upcoming = await add_activity(
        bot.db, organization, starts_at=START + timedelta(days=8), now=clock(), title="Next one"
    )
    await flaky.start(f"act_{upcoming.activity_id}")
    card = await flaky.wait_for_text("Next one")
    await flaky.press("✋ Sign up", message=card)
    ask = await flaky.wait_for_text("did not come to 3 activities")
    assert (
        await services.signups.no_shows(
            (await VolunteersRepository(bot.db).get_profile(flaky.id)).volunteer_id  # type: ignore[union-attr]
        )
        == 3
    )
    row = await bot.db.fetch_one(
        "SELECT COUNT(*) AS n FROM signups WHERE activity_id = ?", (upcoming.activity_id,)
    )
    assert row is not None and row["n"] == 0  # nothing stored before the promise
    await flaky.press("✅ Yes, I will come", message=ask)
    await flaky.wait_for_text("You are signed up")

    # The organizer sees the count on the attendance list from 30 minutes before the start.
    clock.set(upcoming.starts_at - timedelta(minutes=20))
    card = await open_card(boss, upcoming.activity_id, "Next one")
    await boss.press("🙋 Attendance", message=card)
    listing = await boss.wait_for_text("Attendance")
    assert "⚠️ 3 no-shows lately" in listing.visible_text
