"""Service records through the services: authorization, the rules of check-in, confirming once
across two processes, and corrections (issue #16)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import MemberRole, Organization
from bot.domain.checkin import CheckMode, code_for, step_at
from bot.domain.hours import AttendanceMark
from bot.domain.service_records import RecordsRefusal, RecordsRefused, review_stamp
from bot.services.attendance import AttendanceService
from bot.services.points import PointsService
from bot.services.service_records import RecordsService
from bot.services.staff import StaffRefused, StaffService
from bot.services.stars import StarService
from storage.activities import ActivitiesRepository
from storage.attendance import AttendanceRepository
from storage.backends import open_database
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.points import PointsRepository
from storage.service_records import ServiceRecordsRepository
from storage.stars import StarsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_user, add_volunteer

ORGANIZER = 500
STRANGER = 501


def build(db: Database, clock: ManualClock) -> tuple[AttendanceService, RecordsService]:
    settings = Settings(bot_token=None)
    staff = StaffService(
        UsersRepository(db), OrganizationsRepository(db), ActivitiesRepository(db), frozenset()
    )
    attendance = AttendanceRepository(db)
    return (
        AttendanceService(attendance, staff, clock, settings),
        RecordsService(ServiceRecordsRepository(db), attendance, staff, clock, settings),
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
    for person in (ORGANIZER, STRANGER):
        await add_user(db, person)
    await OrganizationsRepository(db).add_member(
        organization.organization_id, ORGANIZER, MemberRole.MANAGER, NOW
    )
    return organization


async def test_check_in_by_code_once_and_out_only_after_in(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    attendance, _records = build(db, clock)
    activity = await add_activity(db, org, starts_in=timedelta(minutes=10))
    volunteer = await add_volunteer(db)
    # The window opens 30 minutes before the start: the display can be opened now.
    _activity, display = await attendance.open_display(
        ORGANIZER, activity.activity_id, CheckMode.IN
    )
    code = code_for(display.secret, CheckMode.IN, step_at(clock()))
    first = await attendance.check_by_code(volunteer.telegram_id, code)
    again = await attendance.check_by_code(volunteer.telegram_id, code)
    assert first.first_time and not again.first_time and again.at == first.at
    assert first.walk_in  # not signed up: a walk-in the organizer sees
    # A check-in code never checks out; the out code does, once checked in.
    await attendance.open_display(ORGANIZER, activity.activity_id, CheckMode.OUT)
    with pytest.raises(RecordsRefused) as refused:
        await attendance.check_by_code(volunteer.telegram_id, code)
    assert refused.value.reason is RecordsRefusal.WRONG_CODE
    out = code_for(display.secret, CheckMode.OUT, step_at(clock()))
    stranger = await add_volunteer(db)
    with pytest.raises(RecordsRefused) as refused:
        await attendance.check_by_code(stranger.telegram_id, out)
    assert refused.value.reason is RecordsRefusal.NOT_CHECKED_IN
    done = await attendance.check_by_code(volunteer.telegram_id, out)
    assert done.first_time and done.mode is CheckMode.OUT


async def test_the_window_and_who_may_open_a_display(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    attendance, _records = build(db, clock)
    activity = await add_activity(db, org, starts_in=timedelta(hours=2))
    with pytest.raises(RecordsRefused) as refused:
        await attendance.open_display(ORGANIZER, activity.activity_id, CheckMode.IN)
    assert refused.value.reason is RecordsRefusal.WINDOW_NOT_OPEN
    assert refused.value.when == activity.starts_at - timedelta(minutes=30)
    clock.advance(timedelta(hours=2))
    with pytest.raises(StaffRefused):
        await attendance.open_display(STRANGER, activity.activity_id, CheckMode.IN)
    clock.advance(timedelta(hours=5))  # 3 h activity + 1 h after: closed
    with pytest.raises(RecordsRefused) as refused:
        await attendance.open_display(ORGANIZER, activity.activity_id, CheckMode.IN)
    assert refused.value.reason is RecordsRefusal.WINDOW_CLOSED


async def test_two_processes_confirming_at_once_write_the_records_once(
    db: Database, other: Database, clock: ManualClock, org: Organization
) -> None:
    first, first_records = build(db, clock)
    _second, second_records = build(other, clock)
    activity = await add_activity(db, org, starts_in=timedelta(minutes=10))
    people = [await add_volunteer(db) for _ in range(6)]
    # Walk-ins marked by hand (not signed up), then the activity ends.
    clock.advance(timedelta(minutes=15))
    for person in people:
        await first.add_walk_in(
            ORGANIZER, activity.activity_id, f"#{person.volunteer_id}", "walk_in"
        )
    clock.advance(timedelta(hours=3))
    _activity, lines = await first_records.review(ORGANIZER, activity.activity_id)
    stamp = review_stamp(lines)
    results = await asyncio.gather(
        first_records.confirm(ORGANIZER, activity.activity_id, stamp),
        second_records.confirm(ORGANIZER, activity.activity_id, stamp),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, RecordsRefused)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].reason is RecordsRefusal.ALREADY_CONFIRMED
    rows = await db.fetch_all("SELECT minutes FROM service_records")
    # Walk-ins added at the start + 5 min and credited to the end: 2 h 55 → 2.5 h.
    assert [row["minutes"] for row in rows] == [150] * len(people)
    # Confirmed: no more hand changes, from either process.
    with pytest.raises(RecordsRefused):
        await first.mark(
            ORGANIZER,
            activity.activity_id,
            people[0].volunteer_id,
            AttendanceMark.ABSENT,
            "did_not_come",
        )


async def test_corrections_belong_to_their_volunteer_and_are_decided_once(
    db: Database, other: Database, clock: ManualClock, org: Organization
) -> None:
    attendance, records = build(db, clock)
    _other_attendance, other_records = build(other, clock)
    activity = await add_activity(db, org, starts_in=timedelta(minutes=10))
    volunteer = await add_volunteer(db)
    someone = await add_volunteer(db)
    clock.advance(timedelta(minutes=10))
    await attendance.add_walk_in(
        ORGANIZER, activity.activity_id, f"#{volunteer.volunteer_id}", "walk_in"
    )
    clock.advance(timedelta(hours=3))
    _activity, lines = await records.review(ORGANIZER, activity.activity_id)
    await records.confirm(ORGANIZER, activity.activity_id, review_stamp(lines))
    summary, shown, _page = await records.my_hours(volunteer.telegram_id, 0)
    assert summary.total_minutes == 180 and len(shown) == 1
    record = shown[0]
    with pytest.raises(RecordsRefused) as refused:
        await records.my_record(someone.telegram_id, record.record_id)
    assert refused.value.reason is RecordsRefusal.NOT_YOURS
    with pytest.raises(RecordsRefused) as refused:
        await records.request_correction(volunteer.telegram_id, record.record_id, 180, "same")
    assert refused.value.reason is RecordsRefusal.SAME_HOURS
    correction_id = await records.request_correction(
        volunteer.telegram_id, record.record_id, 210, "I stayed longer"
    )
    with pytest.raises(RecordsRefused) as refused:
        await records.request_correction(volunteer.telegram_id, record.record_id, 240, "again")
    assert refused.value.reason is RecordsRefusal.PENDING
    with pytest.raises(StaffRefused):
        await records.decide(STRANGER, correction_id, approve=True, reason=None)
    results = await asyncio.gather(
        records.decide(ORGANIZER, correction_id, approve=True, reason=None),
        other_records.decide(ORGANIZER, correction_id, approve=False, reason="no"),
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, BaseException)) == 1
    row = await db.fetch_one(
        "SELECT status FROM record_corrections WHERE correction_id = ?", (correction_id,)
    )
    assert row is not None and row["status"] in ("approved", "rejected")
    minutes = (await records.my_record(volunteer.telegram_id, record.record_id)).minutes
    assert minutes == (210 if row["status"] == "approved" else 180)


async def test_confirming_settles_points_and_star_levels_at_once(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    """Points and star congratulations come with the confirmation, not a sweep later; a
    failing recognition never undoes or refuses the committed confirmation."""
    settings = Settings(bot_token=None)
    admin = 502
    staff = StaffService(
        UsersRepository(db),
        OrganizationsRepository(db),
        ActivitiesRepository(db),
        frozenset({admin}),
    )
    volunteers, users = VolunteersRepository(db), UsersRepository(db)
    points = PointsService(PointsRepository(db), volunteers, users, staff, clock, settings)
    stars = StarService(StarsRepository(db), volunteers, users, staff, clock, settings)
    await add_user(db, admin)
    await stars.set_preset(admin, (1, 2, 3, 4, 5))  # 3 h reach the first level
    recognised: list[list[int]] = []

    async def recognise(volunteer_ids: Collection[int]) -> None:
        recognised.append(sorted(volunteer_ids))
        await points.settle()
        await stars.after_hours_changed(volunteer_ids)

    attendance = AttendanceRepository(db)
    marking = AttendanceService(attendance, staff, clock, settings)
    records = RecordsService(
        ServiceRecordsRepository(db), attendance, staff, clock, settings, recognise=recognise
    )
    activity = await add_activity(db, org, starts_in=timedelta(minutes=10))
    other = await add_activity(db, org, starts_in=timedelta(minutes=10))
    volunteer, someone = await add_volunteer(db), await add_volunteer(db)
    clock.advance(timedelta(minutes=10))
    await marking.add_walk_in(
        ORGANIZER, activity.activity_id, f"#{volunteer.volunteer_id}", "walk_in"
    )
    await marking.add_walk_in(ORGANIZER, other.activity_id, f"#{someone.volunteer_id}", "walk_in")
    clock.advance(timedelta(hours=3))
    _activity, lines = await records.review(ORGANIZER, activity.activity_id)
    await records.confirm(ORGANIZER, activity.activity_id, review_stamp(lines))

    assert recognised == [[volunteer.volunteer_id]]
    assert await points.balance_of(volunteer.volunteer_id) > 0
    assert (await stars.standing_of(volunteer.volunteer_id)).level >= 1
    congratulated = await db.fetch_all(
        "SELECT kind FROM outbox WHERE telegram_id = ? AND kind LIKE 'star%'",
        (volunteer.telegram_id,),
    )
    assert congratulated

    async def broken(volunteer_ids: Collection[int]) -> None:
        raise RuntimeError("recognition down")

    failing = RecordsService(
        ServiceRecordsRepository(db), attendance, staff, clock, settings, recognise=broken
    )
    _activity, lines = await failing.review(ORGANIZER, other.activity_id)
    report = await failing.confirm(ORGANIZER, other.activity_id, review_stamp(lines))
    assert report.records == 1
