"""bot.services.evaluations: the volunteer's rating of an activity (requests queued with the
records, re-authorized presses, the 7-day window, low ratings to the managers) and the
organizer's private rating of a volunteer's service (only members of the activity's
organization or administrators, only volunteers with a record).

A real migrated database and a manual clock (``NOW`` is Monday 2026-11-23 10:00 in Shanghai).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.activities import Activity, MemberRole, Organization
from bot.domain.notifications import NotificationKind
from bot.domain.users import Role
from bot.domain.validation import InvalidInput
from bot.services.evaluations import EvaluationRefusal, EvaluationRefused, EvaluationService
from bot.services.staff import StaffRefused, StaffService
from storage.activities import ActivitiesRepository
from storage.db import Database
from storage.evaluations import EvaluationsRepository
from storage.organizations import OrganizationsRepository
from storage.users import UsersRepository
from tests.factories import NOW, add_activity, add_organization, add_user, add_volunteer
from tests.service_records import add_record

DAY = timedelta(days=1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def service(db: Database, clock: ManualClock) -> EvaluationService:
    staff = StaffService(
        UsersRepository(db), OrganizationsRepository(db), ActivitiesRepository(db), frozenset()
    )
    return EvaluationService(db, EvaluationsRepository(db), staff, clock)


@dataclass
class World:
    organization: Organization
    activity: Activity
    other: Activity  # of another organization
    manager: int
    organizer: int
    outsider: int  # organizer of the other organization
    served: list[tuple[int, int]]  # (telegram id, volunteer id) with a record
    bystander: int  # a volunteer without a record


async def _world(db: Database) -> World:
    organization = await add_organization(db)
    elsewhere = await add_organization(db, name="岳麓区助老服务队")
    activity = await add_activity(db, organization, starts_in=-2 * DAY, title="社区义诊")
    other = await add_activity(db, elsewhere, starts_in=-2 * DAY, title="敬老院探访")
    members = OrganizationsRepository(db)
    manager, organizer, outsider = [await add_user(db) for _ in range(3)]
    await members.add_member(organization.organization_id, manager, MemberRole.MANAGER, NOW)
    await members.add_member(organization.organization_id, organizer, MemberRole.ORGANIZER, NOW)
    await members.add_member(elsewhere.organization_id, outsider, MemberRole.MANAGER, NOW)
    served = []
    for name in ("张三", "李四"):
        profile = await add_volunteer(db, name=name)
        await add_record(db, activity, profile.volunteer_id, NOW)
        served.append((profile.telegram_id, profile.volunteer_id))
    bystander = await add_volunteer(db, name="王五")
    await add_record(db, other, bystander.volunteer_id, NOW)
    return World(
        organization, activity, other, manager, organizer, outsider, served, bystander.telegram_id
    )


async def _outbox(db: Database, kind: NotificationKind) -> list[tuple[int, dict[str, int]]]:
    rows = await db.fetch_all(
        "SELECT telegram_id, payload FROM outbox WHERE kind = ? ORDER BY notification_id",
        (kind.value,),
    )
    return [(row["telegram_id"], json.loads(row["payload"])) for row in rows]


# ------------------------------------------------------------------------ rating requests


async def test_rating_requests_go_once_to_each_volunteer_with_a_record(db: Database) -> None:
    world = await _world(db)
    aid = world.activity.activity_id
    async with db.transaction() as tx:
        assert await EvaluationsRepository.queue_rating_requests_in(tx, aid, NOW) == 2
    async with db.transaction() as tx:  # confirming again queues nothing twice
        assert await EvaluationsRepository.queue_rating_requests_in(tx, aid, NOW) == 0
    sent = await _outbox(db, NotificationKind.RATING_REQUEST)
    assert sorted(t for t, _ in sent) == sorted(t for t, _ in world.served)
    assert all(payload == {"activity_id": aid} for _, payload in sent)


# ------------------------------------------------------------------------ the volunteer rates


async def test_a_volunteer_with_a_record_rates_changes_and_comments(
    db: Database, service: EvaluationService, clock: ManualClock
) -> None:
    world = await _world(db)
    aid = world.activity.activity_id
    (telegram_id, volunteer_id), _ = world.served
    ask = await service.rate_activity(telegram_id, aid, 4)
    assert ask.rating is not None and ask.rating.rating == 4
    clock.advance(3 * DAY)
    await service.rate_activity(telegram_id, aid, 5)
    ask = await service.comment_activity(telegram_id, aid, "  组织得很好，\n下次还来！ ")
    assert ask.rating is not None and ask.rating.rating == 5
    assert ask.rating.comment == "组织得很好，\n下次还来！"
    assert (await service.average_rating(aid)).average == 5.0
    # Changing the stars keeps the comment.
    await service.rate_activity(telegram_id, aid, 3)
    stored = await EvaluationsRepository(db).activity_rating(aid, volunteer_id)
    assert (
        stored is not None and stored.rating == 3 and stored.comment == "组织得很好，\n下次还来！"
    )
    assert await _outbox(db, NotificationKind.LOW_ACTIVITY_RATING) == []


async def test_presses_of_volunteers_without_that_record_change_nothing(
    db: Database, service: EvaluationService
) -> None:
    world = await _world(db)
    aid = world.activity.activity_id
    for telegram_id, activity_id in (
        (world.bystander, aid),  # served elsewhere, not here
        (world.served[0][0], world.other.activity_id),  # another activity
        (world.manager, aid),  # no volunteer profile at all
    ):
        with pytest.raises(EvaluationRefused) as refused:
            await service.rate_activity(telegram_id, activity_id, 5)
        assert refused.value.reason is EvaluationRefusal.NOT_SERVED
    for stars in (0, 6):
        with pytest.raises(EvaluationRefused) as refused:
            await service.rate_activity(world.served[0][0], aid, stars)
        assert refused.value.reason is EvaluationRefusal.BAD_RATING
    with pytest.raises(EvaluationRefused) as refused:  # a comment before any rating
        await service.comment_activity(world.served[0][0], aid, "hello")
    assert refused.value.reason is EvaluationRefusal.NOT_RATED
    assert (await service.average_rating(aid)).count == 0


async def test_rating_closes_seven_days_after_the_hours_were_confirmed(
    db: Database, service: EvaluationService, clock: ManualClock
) -> None:
    world = await _world(db)
    aid = world.activity.activity_id
    telegram_id = world.served[0][0]
    await service.rate_activity(telegram_id, aid, 4)
    clock.advance(7 * DAY + timedelta(seconds=1))
    with pytest.raises(EvaluationRefused) as refused:
        await service.rate_activity(telegram_id, aid, 1)
    assert refused.value.reason is EvaluationRefusal.CLOSED
    assert await service.rating_request(telegram_id, aid) is None  # the request goes stale
    assert (await service.average_rating(aid)).average == 4.0


async def test_a_comment_is_bounded(db: Database, service: EvaluationService) -> None:
    world = await _world(db)
    aid = world.activity.activity_id
    telegram_id, volunteer_id = world.served[0]
    await service.rate_activity(telegram_id, aid, 4)
    for text in ("x" * 301, "   "):
        with pytest.raises(InvalidInput):
            await service.comment_activity(telegram_id, aid, text)
    await service.comment_activity(telegram_id, aid, "好" * 300)
    stored = await EvaluationsRepository(db).activity_rating(aid, volunteer_id)
    assert stored is not None and stored.comment == "好" * 300


async def test_a_low_rating_tells_the_managers_once(
    db: Database, service: EvaluationService
) -> None:
    world = await _world(db)
    aid = world.activity.activity_id
    (first, first_vid), (second, _) = world.served
    await service.rate_activity(first, aid, 2)
    await service.rate_activity(first, aid, 1)  # lower still: no second notice
    await service.rate_activity(second, aid, 3)  # not low
    sent = await _outbox(db, NotificationKind.LOW_ACTIVITY_RATING)
    # Managers only (not the organizer-role member, not another organization's manager).
    assert sent == [(world.manager, {"activity_id": aid, "volunteer_id": first_vid})]
    low = await service.low_rating(world.manager, aid, first_vid)
    assert low is not None and low.rating.rating == 1
    assert await service.low_rating(world.outsider, aid, first_vid) is None
    await service.rate_activity(first, aid, 4)  # rated up again: the notice goes stale
    assert await service.low_rating(world.manager, aid, first_vid) is None


async def test_averages_per_activity_and_organization(
    db: Database, service: EvaluationService
) -> None:
    world = await _world(db)
    aid = world.activity.activity_id
    (first, _), (second, _) = world.served
    await service.rate_activity(first, aid, 5)
    await service.rate_activity(second, aid, 2)
    await service.rate_activity(world.bystander, world.other.activity_id, 1)
    summary = await service.average_rating(aid)
    assert summary.count == 2 and summary.average == 3.5
    org = await service.organization_average(world.organization.organization_id)
    assert org.count == 2 and org.average == 3.5
    empty = await service.average_rating(world.other.activity_id + 100)
    assert empty.count == 0 and empty.average is None


# ------------------------------------------------------------------------ the organizer rates


async def test_members_rate_service_privately_and_outsiders_cannot(
    db: Database, service: EvaluationService
) -> None:
    world = await _world(db)
    aid = world.activity.activity_id
    (_, first_vid), (_, second_vid) = world.served
    page = await service.served(world.organizer, aid, 0)
    assert [v.name for v in page.volunteers] == ["张三", "李四"]
    assert all(v.rating is None for v in page.volunteers) and page.pages == 1
    _activity, rated = await service.evaluate(world.organizer, aid, first_vid, 5)
    assert rated.rating == 5
    _activity, rated = await service.comment_evaluation(world.manager, aid, first_vid, "认真负责")
    assert rated.rating == 5 and rated.comment == "认真负责"

    # Another organization's manager, and a volunteer, are refused; nothing changes.
    for presser in (world.outsider, world.served[1][0]):
        with pytest.raises(StaffRefused):
            await service.evaluate(presser, aid, first_vid, 1)
    # A volunteer without a record of this activity.
    bystander_vid = await EvaluationsRepository(db).volunteer_id_of(world.bystander)
    assert bystander_vid is not None
    with pytest.raises(EvaluationRefused) as refused:
        await service.evaluate(world.organizer, aid, bystander_vid, 4)
    assert refused.value.reason is EvaluationRefusal.NOT_SERVED
    assert await EvaluationsRepository(db).evaluation(aid, bystander_vid) is None
    stored = await EvaluationsRepository(db).evaluation(aid, first_vid)
    assert stored is not None and stored.rating == 5 and stored.comment == "认真负责"
    assert await EvaluationsRepository(db).evaluation(aid, second_vid) is None

    # Administrators may; the volunteer is never told.
    admin = await add_user(db)
    await UsersRepository(db).set_role(admin, Role.ADMIN)
    await service.evaluate(admin, aid, second_vid, 3)
    assert await db.fetch_all("SELECT kind FROM outbox") == []


async def test_the_list_pages_and_clamps(db: Database, service: EvaluationService) -> None:
    world = await _world(db)
    aid = world.activity.activity_id
    for number in range(9):
        profile = await add_volunteer(db, name=f"赵{'一二三四五六七八九'[number]}")
        await add_record(db, world.activity, profile.volunteer_id, NOW)
    first = await service.served(world.organizer, aid, 0)
    assert first.total == 11 and first.pages == 2 and len(first.volunteers) == 8
    last = await service.served(world.organizer, aid, 7)  # beyond the end: the last page
    assert last.page == 1 and len(last.volunteers) == 3
