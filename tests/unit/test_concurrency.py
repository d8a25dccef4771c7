"""Two processes on one database: the decisions hold without the in-process write lock.

Each test opens the same migrated file twice (``Database.open(path)`` twice, as two bot
processes would), builds one service per :class:`Database` and races the same operations through
both with :func:`asyncio.gather`. Nothing sleeps to line the racers up: the point is that
whichever order SQLite (or, later, PostgreSQL) lets them in, exactly one wins each decision and
the counters still equal the rows (:func:`tests.unit.test_signup_service.assert_counters_right`,
the invariant the sign-up tests check after every test).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.clock import ManualClock
from bot.domain.activities import MemberRole, Organization, SignupStatus
from bot.domain.notifications import NotificationKind
from bot.domain.users import TelegramIdentity
from bot.domain.volunteers import VolunteerProfile
from bot.services.organizations import OrganizationAdminService, OrgRefused
from bot.services.signups import (
    Outcome,
    Refusal,
    SignupPolicy,
    SignupRefused,
    SignupResult,
    SignupService,
)
from bot.services.staff import StaffRefused, StaffService
from storage.activities import ActivitiesRepository
from storage.backends import open_database
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.signups import SignupsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_volunteer, queue_broadcasts
from tests.unit.test_signup_service import SHANGHAI, assert_counters_right

_T = TypeVar("_T")


@pytest.fixture
async def other(db: Database, db_path: Path) -> AsyncIterator[Database]:
    """A second, independent :class:`Database` on the same (already migrated) file."""
    second = await open_database(db_path)
    try:
        yield second
    finally:
        await second.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def signup_service(db: Database, clock: ManualClock) -> SignupService:
    return SignupService(
        db,
        VolunteersRepository(db),
        ActivitiesRepository(db),
        SignupsRepository(db),
        OutboxRepository(db),
        clock,
        SHANGHAI,
        SignupPolicy(),
    )


@pytest.fixture
def services(db: Database, other: Database, clock: ManualClock) -> tuple[SignupService, ...]:
    """One sign-up service per process."""
    return signup_service(db, clock), signup_service(other, clock)


@pytest.fixture
async def org(db: Database) -> Organization:
    return await add_organization(db)


async def outcomes(actions: list[Awaitable[_T]]) -> list[_T | BaseException]:
    """Run the actions at once; each result or the exception it raised."""
    return list(await asyncio.gather(*actions, return_exceptions=True))


def unexpected(results: list[Any], *allowed: type[BaseException]) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException) and not isinstance(r, allowed)]


async def test_volunteers_racing_for_the_last_spots_through_two_processes(
    db: Database, services: tuple[SignupService, ...], org: Organization
) -> None:
    capacity, per_process = 3, 8
    activity = await add_activity(db, org, capacity=capacity)
    people = [await add_volunteer(db) for _ in range(2 * per_process)]
    results = await outcomes(
        [
            services[i % 2].sign_up(person.telegram_id, activity.activity_id)
            for i, person in enumerate(people)
        ]
    )
    assert unexpected(results, SignupRefused) == []
    confirmed = [r for r in results if isinstance(r, SignupResult)]
    refused = [r for r in results if isinstance(r, SignupRefused)]
    assert len(confirmed) == capacity
    assert {r.outcome for r in confirmed} == {Outcome.CONFIRMED}
    assert {r.reason for r in refused} == {Refusal.FULL}
    counted = await assert_counters_right(db, activity.activity_id)
    assert (counted.confirmed, counted.offered, counted.waitlisted) == (capacity, 0, 0)


async def test_waitlist_joins_from_two_processes_get_distinct_places_in_order(
    db: Database, services: tuple[SignupService, ...], org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=1)
    holder = await add_volunteer(db)
    await services[0].sign_up(holder.telegram_id, activity.activity_id)
    people = [await add_volunteer(db) for _ in range(10)]
    results = await outcomes(
        [
            services[i % 2].join_waitlist(person.telegram_id, activity.activity_id)
            for i, person in enumerate(people)
        ]
    )
    assert unexpected(results) == []
    joined = [r for r in results if isinstance(r, SignupResult)]
    assert {r.outcome for r in joined} == {Outcome.WAITLISTED}
    # Every place once, and the place each was told is their place in the stored line.
    assert sorted(r.position or 0 for r in joined) == list(range(1, len(people) + 1))
    rows = await db.fetch_all(
        "SELECT signup_id FROM signups WHERE activity_id = ? AND status = 'waitlisted' "
        "ORDER BY queued_at, signup_id",
        (activity.activity_id,),
    )
    line = [row["signup_id"] for row in rows]
    told = {r.signup.signup_id: r.position for r in joined}
    assert [told[signup_id] for signup_id in line] == list(range(1, len(people) + 1))
    queued = await db.fetch_all(
        "SELECT COUNT(DISTINCT queued_at) AS n FROM signups WHERE activity_id = ? "
        "AND status = 'waitlisted'",
        (activity.activity_id,),
    )
    assert queued[0]["n"] == len(people)  # strictly ordered, no ties
    await assert_counters_right(db, activity.activity_id)


async def test_a_freed_spot_is_offered_once_to_the_head_of_the_line(
    db: Database, services: tuple[SignupService, ...], org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=1)
    holder = await add_volunteer(db)
    await services[0].sign_up(holder.telegram_id, activity.activity_id)
    line: list[VolunteerProfile] = []
    for _ in range(3):
        person = await add_volunteer(db)
        await services[1].join_waitlist(person.telegram_id, activity.activity_id)
        line.append(person)
    # The holder cancels in one process while both processes run the waitlist sweep.
    results = await outcomes(
        [
            services[0].cancel(holder.telegram_id, activity.activity_id),
            services[0].sweep(),
            services[1].sweep(),
        ]
    )
    assert unexpected(results) == []
    offered = await db.fetch_all(
        "SELECT volunteer_id FROM signups WHERE activity_id = ? AND status = 'offered'",
        (activity.activity_id,),
    )
    assert [row["volunteer_id"] for row in offered] == [line[0].volunteer_id]
    notices = await db.fetch_all(
        "SELECT telegram_id FROM outbox WHERE kind = ?", (NotificationKind.WAITLIST_OFFER.value,)
    )
    assert [row["telegram_id"] for row in notices] == [line[0].telegram_id]
    counted = await assert_counters_right(db, activity.activity_id)
    assert (counted.confirmed, counted.offered, counted.waitlisted) == (0, 1, 2)


async def test_offers_made_one_after_another_follow_the_line(
    db: Database, services: tuple[SignupService, ...], org: Organization
) -> None:
    """Two spots free up at once in two processes: the first two in line get them."""
    activity = await add_activity(db, org, capacity=2)
    holders = [await add_volunteer(db) for _ in range(2)]
    for holder in holders:
        await services[0].sign_up(holder.telegram_id, activity.activity_id)
    line = [await add_volunteer(db) for _ in range(4)]
    for person in line:
        await services[1].join_waitlist(person.telegram_id, activity.activity_id)
    results = await outcomes(
        [
            services[0].cancel(holders[0].telegram_id, activity.activity_id),
            services[1].cancel(holders[1].telegram_id, activity.activity_id),
        ]
    )
    assert unexpected(results) == []
    offered = await db.fetch_all(
        "SELECT volunteer_id FROM signups WHERE activity_id = ? AND status = 'offered'",
        (activity.activity_id,),
    )
    assert sorted(row["volunteer_id"] for row in offered) == sorted(
        p.volunteer_id for p in line[:2]
    )
    await assert_counters_right(db, activity.activity_id)


async def test_accepting_and_declining_the_same_offer_from_two_processes(
    db: Database, services: tuple[SignupService, ...], org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=1)
    holder = await add_volunteer(db)
    await services[0].sign_up(holder.telegram_id, activity.activity_id)
    first, second = await add_volunteer(db), await add_volunteer(db)
    for person in (first, second):
        await services[0].join_waitlist(person.telegram_id, activity.activity_id)
    await services[0].cancel(holder.telegram_id, activity.activity_id)
    offer = await SignupsRepository(db).get(activity.activity_id, first.volunteer_id)
    assert offer is not None and offer.status is SignupStatus.OFFERED
    results = await outcomes(
        [
            services[0].accept_offer(first.telegram_id, offer.signup_id),
            services[1].decline_offer(first.telegram_id, offer.signup_id),
        ]
    )
    assert unexpected(results, SignupRefused) == []
    refused = [r for r in results if isinstance(r, SignupRefused)]
    assert len(refused) == 1 and refused[0].reason is Refusal.OFFER_GONE
    final = await SignupsRepository(db).get_by_id(offer.signup_id)
    assert final is not None
    if isinstance(results[0], SignupResult):  # accepted: the line stays as it was
        assert final.status is SignupStatus.CONFIRMED
    else:  # declined: the spot went on to the next in line
        assert final.status is SignupStatus.CANCELLED
        nxt = await SignupsRepository(db).get(activity.activity_id, second.volunteer_id)
        assert nxt is not None and nxt.status is SignupStatus.OFFERED
    await assert_counters_right(db, activity.activity_id)


async def test_two_deliverers_never_claim_a_row_twice_within_a_lease(
    db: Database, other: Database
) -> None:
    await queue_broadcasts(db, range(1000, 1060), "race")
    repos = (OutboxRepository(db), OutboxRepository(other))
    lease = timedelta(minutes=5)
    batches = await asyncio.gather(
        *(repos[i % 2].claim_due(NOW, lease, 7) for i in range(12)),
    )
    claimed = [item.notification_id for batch in batches for item in batch]
    assert len(claimed) == len(set(claimed)) == 60
    rows = await db.fetch_all("SELECT attempts FROM outbox")
    assert {row["attempts"] for row in rows} == {1}  # each counted once
    # Within the lease nothing is due again; after it, everything is, once more.
    assert await repos[1].claim_due(NOW + lease / 2, lease, 100) == []
    again = await asyncio.gather(
        repos[0].claim_due(NOW + lease, lease, 100), repos[1].claim_due(NOW + lease, lease, 100)
    )
    ids = [item.notification_id for batch in again for item in batch]
    assert len(ids) == len(set(ids)) == 60


START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def org_service(db: Database) -> OrganizationAdminService:
    users = UsersRepository(db)
    organizations = OrganizationsRepository(db)
    staff = StaffService(users, organizations, ActivitiesRepository(db), {1})
    return OrganizationAdminService(
        db,
        organizations,
        users,
        CatalogRepository(db),
        staff,
        ManualClock(START),
        {1},
        timedelta(hours=72),
    )


@pytest.fixture
async def org_services(db: Database, other: Database) -> tuple[OrganizationAdminService, ...]:
    users = UsersRepository(db)
    for uid in (1, 2, 3, 4, 5):
        await users.touch(TelegramIdentity(telegram_id=uid, first_name=f"U{uid}"), START)
    return await org_service(db), await org_service(other)


async def test_two_managers_removing_each_other_leave_one(
    db: Database, org_services: tuple[OrganizationAdminService, ...]
) -> None:
    organization = await add_organization(db, now=START)
    oid = organization.organization_id
    repo = OrganizationsRepository(db)
    await repo.add_member(oid, 2, MemberRole.MANAGER, START)
    await repo.add_member(oid, 3, MemberRole.MANAGER, START)
    results = await outcomes(
        [org_services[0].remove_member(2, oid, 3), org_services[1].remove_member(3, oid, 2)]
    )
    assert unexpected(results, OrgRefused, StaffRefused) == []
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    managers = await db.fetch_all(
        "SELECT telegram_id FROM organization_members WHERE organization_id = ? "
        "AND member_role = 'manager'",
        (oid,),
    )
    assert len(managers) == 1


async def test_each_manager_removing_themselves_at_once_leaves_one(
    db: Database, org_services: tuple[OrganizationAdminService, ...]
) -> None:
    organization = await add_organization(db, now=START)
    oid = organization.organization_id
    repo = OrganizationsRepository(db)
    await repo.add_member(oid, 2, MemberRole.MANAGER, START)
    await repo.add_member(oid, 3, MemberRole.MANAGER, START)
    results = await outcomes(
        [org_services[0].remove_member(2, oid, 2), org_services[1].remove_member(3, oid, 3)]
    )
    assert unexpected(results, OrgRefused) == []
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert len(await repo.members(oid)) == 1


async def test_an_invitation_taken_twice_at_once_admits_one(
    db: Database, org_services: tuple[OrganizationAdminService, ...]
) -> None:
    organization = await add_organization(db, now=START)
    oid = organization.organization_id
    await OrganizationsRepository(db).add_member(oid, 2, MemberRole.MANAGER, START)
    code, _ = await org_services[0].create_invite(2, oid)
    results = await outcomes(
        [
            org_services[0].accept_invite(3, code),
            org_services[1].accept_invite(4, code),
            org_services[1].accept_invite(5, code),
        ]
    )
    assert unexpected(results, OrgRefused) == []
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    organizers = await db.fetch_all(
        "SELECT telegram_id FROM organization_members WHERE organization_id = ? "
        "AND member_role = 'organizer'",
        (oid,),
    )
    invite = await db.fetch_one("SELECT used_by FROM organization_invites")
    assert invite is not None
    assert [row["telegram_id"] for row in organizers] == [invite["used_by"]]


async def test_an_application_submitted_twice_at_once_is_filed_once(
    db: Database, org_services: tuple[OrganizationAdminService, ...]
) -> None:
    """The pending-application check is a read before the write; the draft, deleted in the
    same transaction as the organization is created, is what lets only one press through."""
    svc = org_services[0]
    await svc.begin(2)
    await svc.set_name(2, "Test Team")
    await svc.set_type(2, "school")
    await svc.set_area(2, "furong")
    await svc.set_contact(2, "王芳")
    await svc.set_phone(2, "13812345678")
    await svc.set_description(2, "Tutoring children after school.")
    results = await outcomes([org_services[0].submit(2), org_services[1].submit(2)])
    assert unexpected(results, OrgRefused) == []
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    rows = await db.fetch_all("SELECT organization_id FROM organizations WHERE applied_by = 2")
    assert len(rows) == 1
