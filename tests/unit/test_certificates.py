"""Certificates (issue #17): codes, numbers, masking, periods and the snapshot (pure); the PDF
(text read back in Chinese and English, the embedded QR equal to segno's drawing of the link,
a font subset embedded, the same bytes twice); the service and repository (issue once, revoke
once across two processes, approval, guessing counted and blocked, deletion erases the name)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from bot.certificate_pdf import qr_png, render
from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import MemberRole, Organization
from bot.domain.certificates import (
    Certificate,
    CertificateDocument,
    CertificateLine,
    CertificateRefusal,
    CertificateRefused,
    CertificateSnapshot,
    CertificateStatus,
    Period,
    build_snapshot,
    certificate_number,
    clean_code,
    is_certificate_number,
    mask_name,
    new_code,
    split_period,
    verification_link,
)
from bot.domain.deeplinks import CertificateLink, parse_start_payload
from bot.domain.service_records import RecordKind, ServiceRecord
from bot.domain.users import Language
from bot.i18n import translator
from bot.services.certificates import CertificateService
from bot.services.staff import StaffRefused, StaffService
from storage.activities import ActivitiesRepository
from storage.backends import open_database
from storage.catalog import CatalogRepository
from storage.certificates import CertificatesRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_user, add_volunteer
from tests.service_records import add_record

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SHANGHAI = ZoneInfo("Asia/Shanghai")
LINK = "https://t.me/zhiyuan_test_bot?start=cv_AbCdEfGhIjKlMnOpQrStUvWx"
ADMIN = 9000
MANAGER = 700
STRANGER = 701

needs_font = pytest.mark.skipif(not FONT.exists(), reason="fonts-wqy-microhei is not installed")


# -- pure rules ------------------------------------------------------------------------------------


def test_codes_are_random_url_safe_and_fit_a_deep_link() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        assert 16 <= len(code) <= 40
        assert clean_code(code) == code
        link = parse_start_payload(f"cv_{code}")
        assert link == CertificateLink(code)
        assert len(f"cv_{code}") <= 64


def test_typed_codes_are_cleaned_and_garbage_is_not_a_code() -> None:
    code = "AbCdEfGhIjKlMnOpQrStUvWx"
    assert clean_code(f"  {code} ") == code
    assert clean_code(f"cv_{code}") == code
    assert clean_code(verification_link("zhiyuan_bot", code)) == code
    for bad in ("", "short", "has spaces in it here ok", "x" * 41, "'; DROP TABLE--xxxxxxxx"):
        assert clean_code(bad) is None
    assert isinstance(parse_start_payload("cv_short"), type(parse_start_payload("zz")))


def test_numbers() -> None:
    assert certificate_number(2026, 123) == "ZY-2026-000123"
    assert certificate_number(2027, 1_234_567) == "ZY-2027-1234567"
    assert is_certificate_number("ZY-2026-000123")
    assert not is_certificate_number("ZY-26-123")
    with pytest.raises(ValueError):
        certificate_number(2026, 0)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王小明", "王**"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("王", "王*"),
        ("Alice Chen", "A*** C***"),
        ("  Bob  ", "B***"),
        ("", "*"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("2026-01-01 2026-06-30", ("2026-01-01", "2026-06-30")),
        ("2026-01-01 - 2026-06-30", ("2026-01-01", "2026-06-30")),
        ("2026-01-01至2026-06-30", ("2026-01-01", "2026-06-30")),
        ("1月1日 到 6月30日", ("1月1日", "6月30日")),
        ("2026-01-01 ~ 2026-06-30", ("2026-01-01", "2026-06-30")),
        ("2026-01-01", None),
        ("a b c", None),
    ],
)
def test_split_period(text: str, parts: tuple[str, str] | None) -> None:
    assert split_period(text) == parts


def record(day: date, minutes: int, unit: str, org: int, category: str | None) -> ServiceRecord:
    return ServiceRecord(
        record_id=day.toordinal() + minutes,
        volunteer_id=1,
        activity_id=None,
        organization_id=org,
        kind=RecordKind.SERVICE,
        activity_title=f"活动{day.isoformat()}",
        service_date=day,
        place="芙蓉区",
        category_code=category,
        content="为社区老人测量血压、讲解健康知识",
        organization_name=unit,
        leader_name=None,
        minutes=minutes,
        recorded_at=NOW,
    )


def test_snapshot_takes_the_period_names_content_and_ranks_units() -> None:
    records = [
        record(date(2025, 12, 20), 600, "乙队", 2, None),
        record(date(2026, 1, 5), 120, "甲会", 1, "health"),
        record(date(2026, 3, 5), 180, "乙队", 2, "elderly"),
        record(date(2026, 4, 5), 240, "甲会", 1, "health"),
        record(date(2026, 5, 5), 0, "丙站", 3, "health"),  # no minutes: not certified
    ]
    snapshot = build_snapshot(records, Period.year(2026), {"health": "卫生健康", "elderly": "扶老"})
    assert snapshot.total_minutes == 540
    assert snapshot.record_count == 3
    assert snapshot.recording_units == ("甲会", "乙队")
    assert snapshot.content_summary == "卫生健康、扶老"
    assert (snapshot.first_day, snapshot.last_day) == (date(2026, 1, 5), date(2026, 4, 5))
    everything = build_snapshot(records, Period(), {})
    assert everything.recording_units == ("乙队", "甲会")
    assert everything.lines[0].content == "为社区老人测量血压、讲解健康知识"
    # Stored and read back as issued; the fingerprint tells a changed snapshot apart.
    again = CertificateSnapshot.lines_from_json(snapshot.lines_json())
    assert again == snapshot.lines
    same = build_snapshot(list(reversed(records)), Period.year(2026), {"health": "卫生健康"})
    assert snapshot.fingerprint("王**", Language.ZH) == snapshot.fingerprint("王**", Language.ZH)
    assert snapshot.fingerprint("王**", Language.ZH) != snapshot.fingerprint("王**", Language.EN)
    assert snapshot.fingerprint("王**", Language.ZH) != same.fingerprint("王**", Language.ZH)


# -- the PDF ---------------------------------------------------------------------------------------


def document(language: Language, lines: int = 5) -> CertificateDocument:
    units = ("芙蓉区青年志愿者协会", "长沙市图书馆志愿服务队")
    snapshot = CertificateSnapshot(
        lines=tuple(
            CertificateLine(
                day=date(2026, 1 + i % 12, 1 + i % 28),
                activity=f"社区健康义诊{i}",
                unit=units[i % 2] + ("" if lines < 20 else f"第{i % 15}分队"),
                minutes=150,
                content="卫生健康",
            )
            for i in range(lines)
        ),
        content_summary="卫生健康",
        recording_units=units,
    )
    issued = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    certificate = Certificate(
        certificate_id=123,
        code="AbCdEfGhIjKlMnOpQrStUvWx",
        number="ZY-2026-000123",
        volunteer_id=1,
        requested_by=1,
        period=Period(),
        language=language,
        status=CertificateStatus.ISSUED,
        approver_organization_id=None,
        snapshot=snapshot,
        masked_name="王**",
        masked_id_number="430***********123X",
        issuer_name="长沙市志愿者联合会" if language is Language.ZH else "Changsha Federation",
        requested_at=issued,
        issued_at=issued,
        approved_by=None,
        rejected_at=None,
        reject_reason=None,
        revoked_at=None,
        revoke_reason=None,
    )
    name = "王小明" if language is Language.ZH else "Alice Chen"
    assert certificate.issuer_name is not None
    return CertificateDocument(
        certificate, snapshot, name, "ZY-2026-000123", issued, certificate.issuer_name
    )


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


@needs_font
def test_chinese_pdf_has_the_fields_and_reads_back() -> None:
    t = translator(Language.ZH, SHANGHAI)
    pdf = render(document(Language.ZH), t, LINK, FONT)
    text = pdf_text(pdf).replace(" ", "")
    for expected in (
        "志愿服务证明",
        "王小明",
        "430***********123X",
        "12.5小时",  # 5 × 2.5 h
        "卫生健康",
        "芙蓉区青年志愿者协会",
        "长沙市图书馆志愿服务队",
        "ZY-2026-000123",
        "2026年12月1日",
        "长沙市志愿者联合会",
        "免费",
        "/verify",
        "AbCdEfGhIjKlMnOpQrStUvWx",
        "社区健康义诊0",
    ):
        assert expected in text, expected
    # The masked name is the verifier's; the holder's copy has the full name only.
    assert "王**" not in text


@needs_font
def test_english_pdf_for_english_users() -> None:
    t = translator(Language.EN, SHANGHAI)
    text = pdf_text(render(document(Language.EN), t, LINK, FONT))
    for expected in (
        "Certificate of Volunteer Service",
        "Alice Chen",
        "12.5 h",
        "Service content",
        "Recording unit",
        "ZY-2026-000123",
        "December 1, 2026",
        "Changsha Federation",
        "free of charge",
        "AbCdEfGhIjKlMnOpQrStUvWx",
    ):
        assert expected in text, expected
    assert "志愿服务证明" not in text


@needs_font
def test_many_records_make_a_summary_per_unit_on_one_page() -> None:
    t = translator(Language.ZH, SHANGHAI)
    text = pdf_text(render(document(Language.ZH, lines=60), t, LINK, FONT)).replace(" ", "")
    assert "记录数" in text  # the units table's column
    assert "社区健康义诊0" not in text  # records are not listed one by one
    assert "150小时" in text  # 60 × 2.5 h


@needs_font
def test_the_embedded_qr_is_the_verification_link_and_the_font_is_a_subset() -> None:
    t = translator(Language.ZH, SHANGHAI)
    pdf = render(document(Language.ZH), t, LINK, FONT)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    images = list(page.images)
    assert len(images) == 1
    embedded = images[0].image
    assert embedded is not None
    expected = Image.open(io.BytesIO(qr_png(LINK)))
    assert embedded.size == expected.size
    difference = ImageChops.difference(embedded.convert("L"), expected.convert("L"))
    assert difference.getbbox() is None, "the QR in the PDF is not the link's"
    other = Image.open(io.BytesIO(qr_png(LINK + "x"))).convert("L")
    assert (
        other.size != expected.size or ImageChops.difference(embedded.convert("L"), other).getbbox()
    )
    resources = page["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    fonts = resources["/Font"].get_object()
    assert isinstance(fonts, DictionaryObject)
    for ref in fonts.values():
        font = ref.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor  # embedded …
        assert "+" in str(font["/BaseFont"])  # … as a subset (ABCDEF+Name)
    assert len(pdf) < 200_000


@needs_font
def test_the_same_certificate_draws_the_same_bytes() -> None:
    t = translator(Language.ZH, SHANGHAI)
    assert render(document(Language.ZH), t, LINK, FONT) == render(
        document(Language.ZH), t, LINK, FONT
    )


# -- the service and the repository ----------------------------------------------------------------


def build(db: Database, clock: ManualClock, **settings: object) -> CertificateService:
    config = Settings(bot_token=None, admin_ids=frozenset({ADMIN}), **settings)  # type: ignore[arg-type]
    staff = StaffService(
        UsersRepository(db), OrganizationsRepository(db), ActivitiesRepository(db), config.admin_ids
    )
    return CertificateService(
        CertificatesRepository(db),
        VolunteersRepository(db),
        CatalogRepository(db),
        staff,
        clock,
        config,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def other(db: Database, db_path: Path) -> AsyncIterator[Database]:
    second = await open_database(db_path)
    try:
        yield second
    finally:
        await second.close()


@pytest.fixture
async def org(db: Database) -> Organization:
    organization = await add_organization(db)
    for person in (ADMIN, MANAGER, STRANGER):
        await add_user(db, person)
    await OrganizationsRepository(db).add_member(
        organization.organization_id, MANAGER, MemberRole.MANAGER, NOW
    )
    return organization


async def volunteer_with_records(db: Database, org: Organization, minutes: list[int]) -> int:
    person = await add_volunteer(db, name="王小明")
    for number, amount in enumerate(minutes):
        activity = await add_activity(db, org, starts_in=timedelta(days=-30 + number))
        await add_record(db, activity, person.volunteer_id, NOW, minutes=amount)
    return person.telegram_id


async def count(db: Database, sql: str, *params: object) -> int:
    row = await db.fetch_one(sql, params)
    assert row is not None
    return int(row[0])


async def test_issue_at_once_verify_and_ask_again_gives_the_same(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    service = build(db, clock)
    holder = await volunteer_with_records(db, org, [120, 150])
    certificate, fresh = await service.request(holder, Period(), Language.ZH)
    assert fresh and certificate is not None
    assert certificate.status is CertificateStatus.ISSUED
    assert certificate.number == f"ZY-2026-{certificate.certificate_id:06d}"
    assert certificate.masked_name == "王**"
    found, certificate_id = await service.verify(STRANGER, certificate.code)
    assert found is not None and found.valid and certificate_id == certificate.certificate_id
    assert (found.masked_name, found.total_minutes) == ("王**", 270)
    # Asked again with nothing changed: the same certificate, not a new number.
    again, fresh = await service.request(holder, Period(), Language.ZH)
    assert again is not None and not fresh
    assert again.certificate_id == certificate.certificate_id
    # The holder's own copy has the full name; someone else's id is refused.
    assert (await service.document(holder, certificate.certificate_id)).full_name == "王小明"
    with pytest.raises(CertificateRefused) as refused:
        await service.document(STRANGER, certificate.certificate_id)
    assert refused.value.reason is CertificateRefusal.NOT_VOLUNTEER
    with pytest.raises(CertificateRefused) as refused:
        await service.request(holder, Period.year(2020), Language.ZH)
    assert refused.value.reason is CertificateRefusal.NO_RECORDS


async def test_two_processes_revoking_at_once_revoke_once_and_tell_once(
    db: Database, other: Database, clock: ManualClock, org: Organization
) -> None:
    first, second = build(db, clock), build(other, clock)
    holder = await volunteer_with_records(db, org, [180])
    certificate, _ = await first.request(holder, Period(), Language.ZH)
    assert certificate is not None
    with pytest.raises(StaffRefused):
        await first.revoke(MANAGER, certificate.certificate_id, "伪造记录")
    results = await asyncio.gather(
        first.revoke(ADMIN, certificate.certificate_id, "记录有误"),
        second.revoke(ADMIN, certificate.certificate_id, "重复出具"),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, Certificate)]
    lost = [r for r in results if isinstance(r, CertificateRefused)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].reason is CertificateRefusal.NOT_ISSUED
    told = await count(
        db,
        "SELECT COUNT(*) FROM outbox WHERE kind = 'certificate_revoked' AND telegram_id = ?",
        holder,
    )
    assert told == 1
    found, _ = await first.verify(STRANGER, certificate.code)
    assert found is not None and not found.valid and found.revoked_at == NOW
    # A revoked certificate is not sent again, and a new request numbers a new one.
    with pytest.raises(CertificateRefused):
        await first.document(holder, certificate.certificate_id)
    renewed, fresh = await first.request(holder, Period(), Language.ZH)
    assert fresh and renewed is not None and renewed.certificate_id != certificate.certificate_id


async def test_approval_goes_to_the_unit_and_is_decided_once(
    db: Database, other: Database, clock: ManualClock, org: Organization
) -> None:
    first = build(db, clock, certificate_approval=True)
    second = build(other, clock, certificate_approval=True)
    holder = await volunteer_with_records(db, org, [120])
    waiting, fresh = await first.request(holder, Period(), Language.EN)
    assert waiting is None and not fresh
    with pytest.raises(CertificateRefused) as refused:
        await first.request(holder, Period(), Language.EN)
    assert refused.value.reason is CertificateRefusal.PENDING
    row = await db.fetch_one("SELECT certificate_id FROM certificates WHERE status = 'requested'")
    assert row is not None
    certificate_id = int(row["certificate_id"])
    asked = await count(
        db,
        "SELECT COUNT(*) FROM outbox WHERE kind = 'certificate_requested' AND telegram_id = ?",
        MANAGER,
    )
    assert asked == 1
    # Not verifiable while it waits: a requested code is "not found".
    requested = await first.get(certificate_id)
    assert requested is not None
    assert (await first.verify(STRANGER, requested.code)) == (None, None)
    with pytest.raises(StaffRefused):
        await first.approve(STRANGER, certificate_id)
    results = await asyncio.gather(
        first.approve(MANAGER, certificate_id),
        second.reject(MANAGER, certificate_id, "时长有误"),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, Certificate)]
    assert len(won) == 1, results
    decided = await first.get(certificate_id)
    assert decided is not None and decided.status in (
        CertificateStatus.ISSUED,
        CertificateStatus.REJECTED,
    )
    told = await count(
        db,
        "SELECT COUNT(*) FROM outbox WHERE kind = 'certificate_decided' AND telegram_id = ?",
        holder,
    )
    assert told == 1


async def test_guessing_is_counted_and_blocked(
    db: Database, other: Database, clock: ManualClock, org: Organization
) -> None:
    first = build(db, clock, verify_max_failures=5)
    second = build(other, clock, verify_max_failures=5)
    holder = await volunteer_with_records(db, org, [60])
    certificate, _ = await first.request(holder, Period(), Language.ZH)
    assert certificate is not None
    # Four wrong codes, two processes at once: all counted.
    results = await asyncio.gather(
        *(service.verify(STRANGER, new_code()) for service in (first, second, first, second))
    )
    assert results == [(None, None)] * 4
    assert (
        await count(
            db, "SELECT failures FROM verification_attempts WHERE telegram_id = ?", STRANGER
        )
        == 4
    )
    # A minute later the window starts again.
    clock.advance(timedelta(seconds=61))
    for _ in range(4):
        assert await first.verify(STRANGER, "not-a-code") == (None, None)
    with pytest.raises(CertificateRefused) as refused:
        await first.verify(STRANGER, new_code())
    assert refused.value.reason is CertificateRefusal.TOO_MANY_TRIES
    assert refused.value.when == clock() + timedelta(minutes=15)
    # Blocked: even the right code is refused, so guessing cannot go on.
    with pytest.raises(CertificateRefused):
        await first.verify(STRANGER, certificate.code)
    # Others are not affected; after the block it works again.
    assert (await first.verify(MANAGER, certificate.code))[0] is not None
    clock.advance(timedelta(minutes=15, seconds=1))
    assert (await first.verify(STRANGER, certificate.code))[0] is not None


async def test_deleting_the_account_erases_the_name_but_the_certificate_verifies(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    service = build(db, clock)
    holder = await volunteer_with_records(db, org, [90])
    certificate, _ = await service.request(holder, Period(), Language.ZH)
    assert certificate is not None
    await VolunteersRepository(db).delete_account(holder, NOW)
    assert await count(db, "SELECT COUNT(*) FROM certificate_holders") == 0
    assert await count(db, "SELECT COUNT(*) FROM certificates WHERE code = ?", certificate.code)
    found, _ = await service.verify(STRANGER, certificate.code)
    assert found is not None and found.valid and found.masked_name == "王**"
