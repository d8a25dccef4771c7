"""Awards: the typed fields' rules (bot.domain.awards) and who may enter an award for whom
(bot.services.awards): organizers for volunteers who served with their organization,
administrators for anyone found by @username or volunteer number; the volunteer is told.
"""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import MemberRole
from bot.domain.awards import clean_issuer, clean_title, parse_award_date
from bot.domain.dateparse import WhenError, parse_day
from bot.domain.users import Role, TelegramIdentity
from bot.domain.validation import InvalidInput
from bot.services.awards import AwardRefusal, AwardRefused, AwardService
from bot.services.staff import StaffRefused, StaffService
from storage.activities import ActivitiesRepository
from storage.awards import AwardsRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.users import UsersRepository
from tests.factories import NOW, add_activity, add_organization, add_user, add_volunteer
from tests.service_records import add_record

TODAY = date(2026, 11, 23)  # NOW in Shanghai
SHANGHAI_TZ = ZoneInfo("Asia/Shanghai")


# ------------------------------------------------------------------------ typed fields


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20", date(2026, 11, 20)),
        ("2026年3月5日", date(2026, 3, 5)),
        ("12月5日", date(2025, 12, 5)),  # the latest 5 December so far
        ("11月23日", TODAY),
        ("Dec 5", date(2025, 12, 5)),
        ("today", TODAY),
        ("今天", TODAY),
        ("２０２６－１１－０１", date(2026, 11, 1)),  # full-width digits
    ],
)
def test_award_dates_are_read_in_both_scripts(text: str, expected: date) -> None:
    assert parse_award_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-12-05", "in the future"),
        ("tomorrow", "in the future"),
        ("2月30日", "does not exist"),
        ("2026-13-01", "does not exist"),
        ("next week", "could not read"),
        ("1960-01-01", "too long ago"),
        ("x" * 200, "could not read"),
    ],
)
def test_bad_award_dates_say_why(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_award_date(text, TODAY)
    assert message in str(error.value)


def test_a_day_on_its_own_without_latest_is_the_next_occurrence() -> None:
    assert parse_day("12/5", TODAY) == date(2026, 12, 5)
    assert parse_day("2/29", TODAY, latest=True) == date(2024, 2, 29)
    assert parse_day("12/5 9:00", TODAY) is WhenError.UNPARSEABLE


def test_title_and_issuer_are_one_bounded_line() -> None:
    assert clean_title("  优秀   志愿者 ") == "优秀 志愿者"
    assert clean_issuer("芙蓉区青年志愿者协会") == "芙蓉区青年志愿者协会"
    for bad in ("x" * 61, "优", "第一行\n第二行"):
        with pytest.raises(InvalidInput):
            clean_title(bad)
    with pytest.raises(InvalidInput):
        clean_issuer("x" * 61)


# ------------------------------------------------------------------------ who may enter


@pytest.fixture
def service(db: Database) -> AwardService:
    staff = StaffService(
        UsersRepository(db), OrganizationsRepository(db), ActivitiesRepository(db), frozenset()
    )
    return AwardService(AwardsRepository(db), staff, ManualClock(NOW), SHANGHAI_TZ)


async def test_an_organizer_awards_a_volunteer_who_served_with_them(
    db: Database, service: AwardService
) -> None:
    organization = await add_organization(db)
    elsewhere = await add_organization(db, name="岳麓区助老服务队")
    organizer, outsider = await add_user(db), await add_user(db)
    members = OrganizationsRepository(db)
    await members.add_member(organization.organization_id, organizer, MemberRole.ORGANIZER, NOW)
    await members.add_member(elsewhere.organization_id, outsider, MemberRole.MANAGER, NOW)
    activity = await add_activity(db, organization, title="社区义诊")
    served = await add_volunteer(db, name="张三")
    stranger = await add_volunteer(db, name="李四")
    await add_record(db, activity, served.volunteer_id, NOW)
    oid = organization.organization_id

    page = await service.volunteers(organizer, oid, 0)
    assert [v.name for v in page.volunteers] == ["张三"]
    with pytest.raises(StaffRefused):  # another organization's manager
        await service.volunteers(outsider, oid, 0)
    with pytest.raises(AwardRefused) as refused:  # never served with this organization
        await service.enter(organizer, oid, stranger.volunteer_id, "优秀志愿者", "协会", TODAY)
    assert refused.value.reason is AwardRefusal.NOT_SERVED
    with pytest.raises(StaffRefused):
        await service.enter(outsider, oid, served.volunteer_id, "优秀志愿者", "协会", TODAY)
    with pytest.raises(StaffRefused):  # organizers cannot enter awards outside an organization
        await service.enter(organizer, None, served.volunteer_id, "优秀志愿者", "协会", TODAY)
    with pytest.raises(StaffRefused):  # nor look people up
        await service.find(organizer, f"{stranger.volunteer_id}")
    with pytest.raises(InvalidInput):  # every field is checked again on saving
        await service.enter(organizer, oid, served.volunteer_id, "x" * 61, "协会", TODAY)
    assert await service.awards_of(stranger.volunteer_id) == []
    assert await db.fetch_all("SELECT 1 FROM outbox") == []

    first = await service.enter(
        organizer, oid, served.volunteer_id, "优秀志愿者", "芙蓉区青年志愿者协会", date(2026, 3, 5)
    )
    second = await service.enter(organizer, oid, served.volunteer_id, "服务之星", "协会", TODAY)
    assert [a.award_id for a in await service.awards_of(served.volunteer_id)] == [
        second.award_id,
        first.award_id,
    ]
    assert first.organization_id == oid and first.entered_by == organizer
    rows = await db.fetch_all("SELECT kind, telegram_id, payload FROM outbox ORDER BY 1, 3")
    assert [(r["kind"], r["telegram_id"], json.loads(r["payload"])) for r in rows] == [
        ("award_granted", served.telegram_id, {"award_id": first.award_id}),
        ("award_granted", served.telegram_id, {"award_id": second.award_id}),
    ]
    assert await service.award_for(served.telegram_id, first.award_id) == first
    assert await service.award_for(stranger.telegram_id, first.award_id) is None


async def test_an_administrator_finds_anyone_by_username_or_number(
    db: Database, service: AwardService
) -> None:
    admin = await add_user(db)
    await UsersRepository(db).set_role(admin, Role.ADMIN)
    volunteer = await add_volunteer(db, name="王五")
    await UsersRepository(db).touch(
        TelegramIdentity(
            telegram_id=volunteer.telegram_id,
            first_name="Wang",
            last_name=None,
            username="Wang_Wu",
            language_code="zh",
        ),
        NOW,
    )
    for text in ("@wang_wu", "Wang_Wu", f"{volunteer.volunteer_id}", f" #{volunteer.volunteer_id}"):
        found = await service.find(admin, text)
        assert found is not None and found.volunteer_id == volunteer.volunteer_id, text
    for text in ("@nobody_here", "999999", "王五", ""):
        assert await service.find(admin, text) is None, text
    award = await service.enter(
        admin, None, volunteer.volunteer_id, "年度优秀志愿者", "市志愿服务联合会", TODAY
    )
    assert award.organization_id is None
    assert [a.title for a in await service.awards_of(volunteer.volunteer_id)] == ["年度优秀志愿者"]
