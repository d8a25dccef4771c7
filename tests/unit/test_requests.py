"""Resident requests (issue #19): the pure rules (form checks, who sees the contact, the dispatch
suggestion, the timeout and escalation rule, the numbers) and the service (re-authorized
presses, one winner of two processes, an idempotent job, records written on completion)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import MemberRole, Organization
from bot.domain.requests import (
    Beneficiary,
    OrderStep,
    OrgCandidate,
    RequestDraft,
    RequestStatus,
    RequestTimes,
    ServiceRequest,
    SuggestReason,
    TimeoutAction,
    Viewer,
    acceptance_share,
    check_minutes,
    clean_need,
    escalation_due,
    mask_due,
    request_stats,
    shows_contact,
    suggest_organizations,
    timeout_action,
)
from bot.domain.validation import InvalidInput
from bot.services.requests import RequestPolicy, RequestRefusal, RequestRefused, RequestService
from bot.services.staff import StaffService
from storage.activities import ActivitiesRepository
from storage.backends import open_database
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.requests import RequestsRepository
from storage.users import UsersRepository
from tests.factories import NOW, add_organization, add_user, add_volunteer

RESIDENT = 700
DISPATCHER = 701
ORGANIZER = 702
OTHER_ORGANIZER = 703
ADMIN = 704


# ------------------------------------------------------------------------- the pure rules


def test_the_need_refuses_phone_numbers_but_not_other_numbers() -> None:
    assert clean_need("帮奶奶买菜，3号楼") == "帮奶奶买菜，3号楼"
    assert clean_need("Repair 2 chairs at 10 am") == "Repair 2 chairs at 10 am"
    for text in ("call 13812345678", "电话 138-1234-5678", "+86 138 1234 5678 please"):
        with pytest.raises(InvalidInput):
            clean_need(text)
    with pytest.raises(InvalidInput):
        clean_need("帮")  # too short


def test_hours_are_half_hours_between_half_an_hour_and_twelve() -> None:
    assert check_minutes(90) == 90
    for minutes in (0, 15, 45, 750):
        with pytest.raises(InvalidInput):
            check_minutes(minutes)


def test_a_draft_names_its_first_missing_answer() -> None:
    draft = RequestDraft(category_code="health", need="买药")
    assert draft.first_missing() is OrderStep.WHEN
    full = draft.model_copy(
        update={
            "starts_at": NOW, "area_code": "furong", "address": "x 路 1 号",
            "beneficiary": Beneficiary.SELF, "phone": "+8613800000000", "urgent": False,
        }
    )  # fmt: skip
    assert full.first_missing() is None
    assert OrderStep.URGENT.next is OrderStep.PREVIEW


def test_only_the_dispatcher_and_the_accepting_team_see_the_contact() -> None:
    for status in RequestStatus:
        assert shows_contact(Viewer.RESIDENT, status)
        assert shows_contact(Viewer.DISPATCHER, status)
        assert not shows_contact(Viewer.HELPER, status)
    assert not shows_contact(Viewer.TEAM, RequestStatus.DISPATCHED)
    assert shows_contact(Viewer.TEAM, RequestStatus.ACCEPTED)
    assert shows_contact(Viewer.TEAM, RequestStatus.IN_SERVICE)
    assert not mask_due(None, NOW)
    assert not mask_due(NOW, NOW + timedelta(days=29))
    assert mask_due(NOW, NOW + timedelta(days=30))


def candidate(org_id: int, **fields: object) -> OrgCandidate:
    values: dict[str, object] = {
        "organization_id": org_id, "name": f"org {org_id}", "area_code": "yuelu",
        "category_activities": 0, "open_requests": 0, "offered": 0, "accepted": 0,
    }  # fmt: skip
    values.update(fields)
    return OrgCandidate(**values)  # type: ignore[arg-type]


def test_the_suggestion_weighs_category_district_load_and_acceptance() -> None:
    plain = candidate(1)
    category = candidate(2, category_activities=3)
    district = candidate(3, area_code="furong")
    both = candidate(4, category_activities=1, area_code="furong")
    busy = candidate(5, category_activities=1, area_code="furong", open_requests=4)
    reliable = candidate(6, area_code="furong", offered=10, accepted=10)
    unreliable = candidate(7, area_code="furong", offered=10, accepted=0)
    ranked = suggest_organizations(
        [plain, category, district, both, busy, reliable, unreliable], "furong", limit=10
    )
    order = [s.candidate.organization_id for s in ranked]
    assert order[0] == 4  # category and district
    assert order.index(4) < order.index(5)  # the same, but busy
    assert order.index(6) < order.index(3) < order.index(7)  # past acceptance decides
    assert order.index(2) < order.index(3)  # category weighs more than district
    assert order[-1] == 1 or order.index(1) > order.index(2)
    first = ranked[0]
    assert SuggestReason.CATEGORY in first.reasons and SuggestReason.DISTRICT in first.reasons
    busy_suggestion = next(s for s in ranked if s.candidate.organization_id == 5)
    assert SuggestReason.LOAD in busy_suggestion.reasons
    # Excluded: those that declined or timed out; ties go to the lower id; the limit holds.
    assert [s.candidate.organization_id for s in suggest_organizations(
        [both, candidate(8, category_activities=1, area_code="furong")], "furong",
        exclude=frozenset({4}),
    )] == [8]  # fmt: skip
    twins = suggest_organizations([candidate(9), candidate(8)], "furong", limit=1)
    assert [s.candidate.organization_id for s in twins] == [8]
    assert acceptance_share(0, 0) == 0.5 and acceptance_share(8, 8) == 0.9


async def _request(db: Database, service: RequestService, *, urgent: bool = False) -> int:
    await service.start_order(RESIDENT)
    await service.choose(RESIDENT, OrderStep.CATEGORY, "elderly_children")
    await service.type_need(RESIDENT, "帮独居的奶奶买菜")
    await service.type_when(RESIDENT, "12月3日 9:00-11:00")
    await service.choose(RESIDENT, OrderStep.AREA, "furong")
    await service.type_address(RESIDENT, "解放西路 88 号")
    await service.choose(RESIDENT, OrderStep.BENEFICIARY, "elderly")
    await service.type_phone(RESIDENT, "13912345678", "王阿姨")
    await service.choose(RESIDENT, OrderStep.URGENT, "yes" if urgent else "no")
    return (await service.submit(RESIDENT)).request_id


def test_timeouts_remind_once_then_redispatch_and_urgent_ones_escalate() -> None:
    base = {
        "request_id": 1, "resident_id": 1, "category_code": "health", "need": "x",
        "starts_at": NOW, "ends_at": None, "area_code": "furong", "address": "a",
        "latitude": None, "longitude": None, "beneficiary": Beneficiary.SELF,
        "contact_name": "n", "phone": "p", "urgent": True, "status": RequestStatus.DISPATCHED,
        "version": 2, "organization_id": 1, "organization_name": "o", "dispatched_at": NOW,
        "first_dispatched_at": NOW, "dispatch_round": 1, "reminded_at": None,
        "escalated_at": None, "accepted_by": None, "accepted_at": None, "service_mode": None,
        "activity_id": None, "in_service_at": None, "completed_at": None, "minutes": None,
        "report": None, "status_reason": None, "closed_at": None, "rating": None,
        "rating_comment": None, "rated_at": None, "masked_at": None, "created_at": NOW,
        "updated_at": NOW,
    }  # fmt: skip
    request = ServiceRequest(**base)
    hour = timedelta(hours=1)
    assert timeout_action(request, NOW + hour, 2 * hour) is TimeoutAction.NONE
    assert timeout_action(request, NOW + 2 * hour, 2 * hour) is TimeoutAction.REMIND
    reminded = request.model_copy(update={"reminded_at": NOW + 2 * hour})
    assert timeout_action(reminded, NOW + 3 * hour, 2 * hour) is TimeoutAction.NONE
    assert timeout_action(reminded, NOW + 4 * hour, 2 * hour) is TimeoutAction.REDISPATCH
    accepted = request.model_copy(update={"status": RequestStatus.ACCEPTED})
    assert timeout_action(accepted, NOW + 9 * hour, 2 * hour) is TimeoutAction.NONE
    half = timedelta(minutes=30)
    assert not escalation_due(request, NOW + timedelta(minutes=29), half)
    assert escalation_due(request, NOW + half, half)
    assert not escalation_due(request.model_copy(update={"urgent": False}), NOW + hour, half)
    assert not escalation_due(request.model_copy(update={"escalated_at": NOW}), NOW + hour, half)
    assert not escalation_due(accepted, NOW + hour, half)


def test_numbers_per_centre_and_team() -> None:
    minute = timedelta(minutes=1)
    rows = [
        RequestTimes("furong", 1, "A", RequestStatus.COMPLETED, NOW, NOW + 10 * minute,
                     NOW + 40 * minute, NOW + 10 * minute, NOW + 100 * minute, 5),
        RequestTimes("furong", 1, "A", RequestStatus.COMPLETED, NOW, NOW + 30 * minute,
                     NOW + 50 * minute, NOW + 30 * minute, NOW + 170 * minute, 2),
        RequestTimes("yuelu", None, None, RequestStatus.QUEUED, NOW, None, None, None, None,
                     None),
    ]  # fmt: skip
    stats = request_stats(rows)
    assert [c.key for c in stats.centres] == ["furong", "yuelu"]
    furong = stats.centres[0]
    assert furong.to_dispatch == 20 * minute and furong.to_accept == 25 * minute
    assert furong.to_complete == 90 * minute and furong.rating == 3.5 and furong.ratings == 2
    assert stats.teams[0].name == "A" and stats.teams[0].completed == 2
    assert stats.overall.total == 3 and stats.overall.open == 1
    assert stats.centres[1].to_dispatch is None and stats.centres[1].rating is None


# ------------------------------------------------------------------------- the service


def build(db: Database, clock: ManualClock) -> RequestService:
    users = UsersRepository(db)
    staff = StaffService(
        users, OrganizationsRepository(db), ActivitiesRepository(db), frozenset({ADMIN})
    )
    return RequestService(
        db, RequestsRepository(db), CatalogRepository(db), staff, users, clock,
        ZoneInfo("Asia/Shanghai"), frozenset({ADMIN}), RequestPolicy(),
    )  # fmt: skip


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
async def teams(db: Database) -> tuple[Organization, Organization]:
    for person in (RESIDENT, DISPATCHER, ORGANIZER, OTHER_ORGANIZER, ADMIN):
        await add_user(db, person)
    first = await add_organization(db, name="A 队")
    second = await add_organization(db, name="B 队")
    organizations = OrganizationsRepository(db)
    await organizations.add_member(first.organization_id, ORGANIZER, MemberRole.MANAGER, NOW)
    await organizations.add_member(second.organization_id, OTHER_ORGANIZER, MemberRole.MANAGER, NOW)
    await RequestsRepository(db).appoint("furong", DISPATCHER, ADMIN, NOW)
    return first, second


async def test_presses_are_reauthorized(
    db: Database, clock: ManualClock, teams: tuple[Organization, Organization]
) -> None:
    first, _second = teams
    service = build(db, clock)
    number = await _request(db, service)
    # Not a dispatcher, or of another area.
    with pytest.raises(RequestRefused) as refused:
        await service.dispatch(RESIDENT, number, 1, first.organization_id)
    assert refused.value.reason is RequestRefusal.NOT_DISPATCHER
    await RequestsRepository(db).appoint("yuelu", OTHER_ORGANIZER, ADMIN, NOW)
    with pytest.raises(RequestRefused):
        await service.dispatch_card(OTHER_ORGANIZER, number)
    # A stale version changes nothing; the right one dispatches.
    with pytest.raises(RequestRefused) as refused:
        await service.dispatch(DISPATCHER, number, 7, first.organization_id)
    assert refused.value.reason is RequestRefusal.STALE
    request = await service.dispatch(DISPATCHER, number, 1, first.organization_id)
    # Another team cannot accept, the resident cannot accept, a stranger cannot cancel.
    for person in (OTHER_ORGANIZER, RESIDENT):
        with pytest.raises(RequestRefused) as refused:
            await service.accept(person, number, request.version)
        assert refused.value.reason is RequestRefusal.NOT_TEAM
    with pytest.raises(RequestRefused) as refused:
        await service.cancel(OTHER_ORGANIZER, number, request.version)
    assert refused.value.reason is RequestRefusal.NOT_YOURS
    # The team's view hides the contact until it accepts.
    view, _ = await service.team_card(ORGANIZER, number)
    assert view.request.phone == "" and view.request.address == ""
    accepted = await service.accept(ORGANIZER, number, request.version)
    assert accepted.contact_shown and accepted.request.phone == "+8613912345678"
    # Rating before completion is refused.
    with pytest.raises(RequestRefused) as refused:
        await service.rate(RESIDENT, number, 5)
    assert refused.value.reason is RequestRefusal.NOT_COMPLETED


async def test_two_processes_dispatching_at_once_send_it_once(
    db: Database,
    other: Database,
    clock: ManualClock,
    teams: tuple[Organization, Organization],
) -> None:
    first, second = teams
    one, two = build(db, clock), build(other, clock)
    number = await _request(db, one)
    results = await asyncio.gather(
        one.dispatch(DISPATCHER, number, 1, first.organization_id),
        two.dispatch(DISPATCHER, number, 1, second.organization_id),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, RequestRefused)]
    assert len(won) == 1 and len(lost) == 1 and lost[0].reason is RequestRefusal.STALE
    rows = await db.fetch_all(
        "SELECT organization_id FROM request_events WHERE request_id = ? AND action = 'offered'",
        (number,),
    )
    assert len(rows) == 1
    outbox = await db.fetch_all("SELECT kind FROM outbox WHERE kind = 'request_assigned'")
    assert len(outbox) == 1


async def test_the_job_is_idempotent_and_completion_writes_the_records(
    db: Database,
    other: Database,
    clock: ManualClock,
    teams: tuple[Organization, Organization],
) -> None:
    first, _second = teams
    service, twin = build(db, clock), build(other, clock)
    number = await _request(db, service, urgent=True)
    request = await service.dispatch(DISPATCHER, number, 1, first.organization_id)
    clock.advance(timedelta(hours=2, minutes=1))
    reports = await asyncio.gather(service.tick(), twin.tick())
    assert sum(r.reminded for r in reports) == 1 and sum(r.escalated for r in reports) == 1
    fresh = await RequestsRepository(db).get(number)
    assert fresh is not None and fresh.version == request.version  # marks, not changes
    # Accepted, a volunteer asked says yes, completed: one record, kind service, no activity.
    view = await service.accept(ORGANIZER, number, request.version)
    volunteer = await add_volunteer(db, 800, categories=("elderly_children",))
    await service.ask_helper(ORGANIZER, number, volunteer.volunteer_id)
    with pytest.raises(RequestRefused) as refused:
        await service.helper_answer(801, number, True)
    assert refused.value.reason is RequestRefusal.NOT_ASKED
    await service.helper_answer(800, number, True)
    with pytest.raises(RequestRefused):
        await service.helper_answer(800, number, False)  # answered already
    with pytest.raises(InvalidInput):
        await service.complete(ORGANIZER, number, view.request.version, 45, "done", "李")
    done, written = await service.complete(
        ORGANIZER, number, view.request.version, 120, "买了菜", "李老师"
    )
    assert done.status is RequestStatus.COMPLETED and written == 1
    row = await db.fetch_one("SELECT * FROM service_records WHERE volunteer_id = ?",
                             (volunteer.volunteer_id,))  # fmt: skip
    assert row is not None and row["kind"] == "service" and row["activity_id"] is None
    assert row["minutes"] == 120 and row["leader_name"] == "李老师"
    assert row["organization_name"] == "A 队" and "买了菜" in row["content"]
    # A second completion (a stale press) writes nothing more.
    with pytest.raises(RequestRefused):
        await service.complete(ORGANIZER, number, view.request.version, 120, "again", "李")
    assert len(await db.fetch_all("SELECT record_id FROM service_records")) == 1
    # 30 days after completion the contact is masked, once, whichever process runs the job.
    clock.advance(timedelta(days=30))
    reports = await asyncio.gather(service.tick(), twin.tick())
    assert sum(r.masked for r in reports) == 1
    masked = await RequestsRepository(db).get(number)
    assert masked is not None and masked.phone == "***" and masked.address == "***"


async def test_a_low_rating_tells_the_dispatchers_once(
    db: Database, clock: ManualClock, teams: tuple[Organization, Organization]
) -> None:
    first, _second = teams
    service = build(db, clock)
    number = await _request(db, service)
    request = await service.dispatch(DISPATCHER, number, 1, first.organization_id)
    view = await service.accept(ORGANIZER, number, request.version)
    await service.complete(ORGANIZER, number, view.request.version, 60, "done", "李")
    with pytest.raises(RequestRefused):
        await service.rate(RESIDENT, number, 6)
    await service.rate(RESIDENT, number, 2)
    await service.rate(RESIDENT, number, 1)  # still low: no second notice
    await service.comment(RESIDENT, number, "太晚了")
    rows = await db.fetch_all("SELECT telegram_id FROM outbox WHERE kind = 'request_low_rating'")
    assert [row["telegram_id"] for row in rows] == [DISPATCHER]
    stats = await service.stats()
    assert stats.overall.completed == 1 and stats.overall.rating == 1
