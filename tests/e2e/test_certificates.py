"""Certificates end to end (issue #17): a volunteer with confirmed records asks from /hours, the
PDF arrives and reads back with the fields (Chinese, and English for an English user), its QR
is the verification link; anyone verifies through the deep link and sees only the masked data;
an administrator revokes with a reason and the holder is told; a revoked certificate shows
revoked; a forged code shows nothing; with approval on, the unit's manager approves or rejects.

The bot runs as ``zhiyuan run`` starts it, against the local Bot API server, on a ManualClock.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from bot.certificate_pdf import qr_png
from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import MemberRole, Organization
from bot.domain.certificates import verification_link
from bot.domain.validation import mask_id_number
from bot.localapi import StoredMessage, VirtualUser
from bot.localapi.models import BotInfo
from handlers.certificate_buttons import CertGet
from storage.organizations import OrganizationsRepository
from tests.e2e.conftest import ADMIN_ID, BotProcess
from tests.factories import add_activity, add_organization, add_user, add_volunteer
from tests.service_records import add_record

MakeUser = Callable[..., VirtualUser]
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)
ID_NUMBER = "43010219900501123X"
DAYS = (datetime(2025, 10, 18, 9), datetime(2026, 3, 7, 9), datetime(2026, 6, 13, 9))
MINUTES = (240, 150, 180)  # 4 h in 2025; 2.5 h + 3 h in 2026


def settings_with(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update=changes)


@pytest.fixture
async def bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    process = BotProcess(settings, ManualClock(NOW))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture
async def approving_bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    process = BotProcess(settings_with(settings, certificate_approval=True), ManualClock(NOW))
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


async def volunteer_with_records(
    bot: BotProcess, make_user: MakeUser, *, language: str, name: str
) -> tuple[VirtualUser, Organization]:
    organization = await add_organization(bot.db, now=NOW)
    user = make_user(name, language_code=language)
    profile = await add_volunteer(bot.db, user.id, name=name, now=NOW)
    async with bot.db.transaction() as tx:
        await tx.execute(
            "UPDATE volunteers SET id_number = ? WHERE volunteer_id = ?",
            (ID_NUMBER, profile.volunteer_id),
        )
    for day, minutes in zip(DAYS, MINUTES, strict=True):
        activity = await add_activity(
            bot.db,
            organization,
            starts_at=day.replace(tzinfo=SHANGHAI),
            duration=timedelta(hours=4),
            now=NOW - timedelta(days=400),
        )
        await add_record(bot.db, activity, profile.volunteer_id, NOW, minutes=minutes)
    return user, organization


def pdf_of(message: StoredMessage) -> bytes:
    assert message.document is not None, message
    assert message.document.file_name.endswith(".pdf")
    return message.document.data


def text_of(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


async def code_of(bot: BotProcess) -> str:
    row = await bot.db.fetch_one(
        "SELECT code FROM certificates ORDER BY certificate_id DESC LIMIT 1"
    )
    assert row is not None
    return str(row["code"])


async def test_request_from_hours_verify_revoke_and_forged(
    bot: BotProcess, make_user: MakeUser
) -> None:
    volunteer, _org = await volunteer_with_records(bot, make_user, language="zh", name="王小明")
    await volunteer.send("/hours")
    hours = await volunteer.wait_for_text("志愿服务时长")
    await volunteer.press("📜 开具证明", message=hours)
    menu = await volunteer.wait_for_text("新证明包含哪些记录")
    await volunteer.press("全部记录", message=menu)
    sent = await volunteer.wait_for_text("📜 证明 ZY-2026-")
    pdf = pdf_of(sent)
    text = text_of(pdf).replace(" ", "")
    code = await code_of(bot)
    for expected in (
        "志愿服务证明",
        "王小明",
        mask_id_number(ID_NUMBER),
        "9.5小时",
        "为社区老人测量血压",  # the records have no category: the activity's description
        "芙蓉区青年志愿者协会",
        "ZY-2026-",
        "2026年11月30日",
        "志愿者联合会",
        "免费",
        code,
    ):
        assert expected in text, expected
    assert ID_NUMBER not in text
    # The QR in the PDF is the verification link.
    image = PdfReader(io.BytesIO(pdf)).pages[0].images[0].image
    assert image is not None
    link = verification_link("zhiyuan_test_bot", code)
    expected_qr = Image.open(io.BytesIO(qr_png(link))).convert("L")
    assert ImageChops.difference(image.convert("L"), expected_qr).getbbox() is None

    # Anyone verifies through the deep link, without registering: masked data only.
    stranger = make_user("Visitor", language_code="en")
    await stranger.start(f"cv_{code}")
    answer = await stranger.wait_for_text("Valid certificate")
    shown = answer.visible_text
    for expected in ("王**", "9.5 h", "志愿者联合会", "November 30, 2026", "valid"):
        assert expected in shown, expected
    for secret in ("王小明", ID_NUMBER, mask_id_number(ID_NUMBER), "芙蓉区", "ZY-2026"):
        assert secret not in shown, secret
    assert not answer.buttons()

    # A forged code: "not found" and nothing else.
    await stranger.start("cv_" + "A" * 24)
    forged = await stranger.wait_for_text("No certificate was found")
    assert forged.visible_text == "❓ No certificate was found for this code."
    assert not forged.buttons()

    # An administrator sees a revoke button on the answer and revokes with a reason.
    admin = make_user("Boss", language_code="en", user_id=ADMIN_ID)
    await admin.send(f"/verify {code}")
    admin_answer = await admin.wait_for_text("Valid certificate")
    assert "ZY-2026-" in admin_answer.visible_text
    await admin.press("⛔ Revoke", message=admin_answer)
    await admin.wait_for_text("Send the reason")
    await admin.send("x")
    await admin.wait_for_text("2 to 200 characters")
    await admin.send("Records entered twice")
    await admin.wait_for_text("is revoked; the holder is told")
    told = await volunteer.wait_for_text("被管理员撤销")
    assert "Records entered twice" in told.visible_text

    await stranger.send(f"/verify {code}")
    revoked = await stranger.wait_for_text("Revoked certificate")
    assert "revoked on November 30, 2026" in revoked.visible_text
    assert "王**" in revoked.visible_text
    # The holder's old button no longer sends the revoked PDF.
    await volunteer.press_data(menu.message_id, CertGet(1).pack())
    assert "无效" in ((await volunteer.callback_answer()).text or "")


async def test_english_user_gets_english_pdf_for_typed_dates(
    bot: BotProcess, make_user: MakeUser
) -> None:
    volunteer, _org = await volunteer_with_records(bot, make_user, language="en", name="Alice Chen")
    await volunteer.send("/certificate")
    menu = await volunteer.wait_for_text("Which records")
    await volunteer.press("📅 Choose dates", message=menu)
    await volunteer.wait_for_text("first and the last day")
    await volunteer.send("someday")
    await volunteer.wait_for_text("Please send two dates")
    await volunteer.send("2026-01-01 2026-12-31")
    pdf = pdf_of(await volunteer.wait_for_text("📜 Certificate ZY-2026-"))
    text = text_of(pdf)
    for expected in (
        "Certificate of Volunteer Service",
        "Alice Chen",
        "5.5 h",  # 2026 only: 2.5 h + 3 h
        "January 1, 2026",
        "November 30, 2026",  # the end is today at most
        "Volunteer Federation",
        "free of charge",
    ):
        assert expected in text, expected
    assert "志愿服务证明" not in text
    # Asking again for the same period sends the same certificate, not a new number.
    await volunteer.send("/certificate")
    menu = await volunteer.wait_for_text("Which records")
    await volunteer.press("📅 Choose dates", message=menu)
    await volunteer.wait_for_text("first and the last day")
    await volunteer.send("2026-01-01 ~ 2026-12-31")
    await volunteer.wait_for_text("📜 Certificate ZY-2026-")
    row = await bot.db.fetch_one("SELECT COUNT(*) AS n FROM certificates")
    assert row is not None and row["n"] == 1


async def test_approval_by_the_recording_unit(
    approving_bot: BotProcess, make_user: MakeUser
) -> None:
    bot = approving_bot
    volunteer, organization = await volunteer_with_records(
        bot, make_user, language="zh", name="李华"
    )
    manager = make_user("张老师", language_code="zh")
    await add_user(bot.db, manager.id, first_name="张老师", now=NOW)
    await OrganizationsRepository(bot.db).add_member(
        organization.organization_id, manager.id, MemberRole.MANAGER, NOW
    )
    await manager.send("/start")
    await manager.wait_for_text("志愿")
    await volunteer.send("/certificate")
    menu = await volunteer.wait_for_text("新证明包含哪些记录")
    assert "审核" in menu.visible_text
    await volunteer.press("全部记录", message=menu)
    await volunteer.wait_for_text("已提交记录组织审核")
    code = await code_of(bot)
    # Not verifiable while it waits.
    stranger = make_user("Visitor", language_code="en")
    await stranger.start(f"cv_{code}")
    await stranger.wait_for_text("No certificate was found")

    request = await manager.wait_for_text("证明申请")
    assert "李华" in request.visible_text and "9.5 小时" in request.visible_text
    await manager.press("✅ 通过", message=request)
    await manager.wait_for_text("已出具")
    told = await volunteer.wait_for_text("已获批准并出具")
    await volunteer.press("📄 获取 PDF", message=told)
    pdf = pdf_of(await volunteer.wait_for_text("📜 证明 ZY-2026-"))
    assert "李华" in text_of(pdf)
    await stranger.start(f"cv_{code}")
    await stranger.wait_for_text("Valid certificate")

    # A second request (this year only) is rejected with a reason.
    await volunteer.send("/certificate")
    menu = await volunteer.wait_for_text("新证明包含哪些记录")
    await volunteer.press("今年（2026）", message=menu)
    await volunteer.wait_for_text("已提交记录组织审核")
    request = await manager.wait_for_text("证明申请")
    assert "5.5 小时" in request.visible_text
    await manager.press("❌ 驳回", message=request)
    await manager.wait_for_text("为什么不通过这项申请")
    await manager.send("请先更正三月的时长")
    await manager.wait_for_text("未批准")
    rejected = await volunteer.wait_for_text("未获批准")
    assert "请先更正三月的时长" in rejected.visible_text
