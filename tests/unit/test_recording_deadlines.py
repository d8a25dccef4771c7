"""The working-day calendar's table (seeding, administrators' rows), the missing-year warning
and the recording reminders, with a manual clock across 春节 2026 and its make-up Saturdays.

A real migrated database seeded from the package; activities end in the afternoon (Shanghai);
each organization has a manager and an organizer, who both get each reminder.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import Activity, MemberRole, Organization
from bot.domain.notifications import NotificationKind
from bot.domain.users import Role
from bot.domain.validation import InvalidInput
from bot.domain.workdays import CalendarDay, DayKind, DaySource
from bot.services.recording_deadlines import DeadlinePolicy, RecordingDeadlineService
from bot.services.staff import StaffRefused, StaffService
from bot.services.workdays import WorkdayService, package_days
from storage.activities import ActivitiesRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.recording_deadlines import RecordingDeadlinesRepository
from storage.timeutil import to_db_time
from storage.users import UsersRepository
from storage.workdays import CalendarDaysRepository
from tests.factories import add_activity, add_organization, add_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADMIN = 77
D = date


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(local(D(2026, 2, 1)))


@pytest.fixture
async def workdays(db: Database, clock: ManualClock) -> WorkdayService:
    users = UsersRepository(db)
    staff = StaffService(
        users, OrganizationsRepository(db), ActivitiesRepository(db), frozenset({ADMIN})
    )
    service = WorkdayService(
        db,
        CalendarDaysRepository(db),
        users,
        staff,
        OutboxRepository(db),
        clock,
        SHANGHAI,
        frozenset({ADMIN}),
    )
    await add_user(db, ADMIN)
    await service.seed()
    return service


@pytest.fixture
def deadlines(
    db: Database, clock: ManualClock, workdays: WorkdayService
) -> RecordingDeadlineService:
    users = UsersRepository(db)
    staff = StaffService(
        users, OrganizationsRepository(db), ActivitiesRepository(db), frozenset({ADMIN})
    )
    return RecordingDeadlineService(
        db,
        RecordingDeadlinesRepository(db),
        workdays,
        staff,
        OutboxRepository(db),
        clock,
        SHANGHAI,
        DeadlinePolicy(),
    )


async def organization_with_staff(
    db: Database, name: str = "芙蓉区志愿者协会"
) -> tuple[Organization, list[int]]:
    organization = await add_organization(db, name=name)
    repo = OrganizationsRepository(db)
    staff = [await add_user(db), await add_user(db)]
    await repo.add_member(
        organization.organization_id, staff[0], MemberRole.MANAGER, local(D(2026, 1, 5))
    )
    await repo.add_member(
        organization.organization_id, staff[1], MemberRole.ORGANIZER, local(D(2026, 1, 5))
    )
    return organization, staff


async def ended_on(
    db: Database, organization: Organization, day: date, title: str = "义诊"
) -> Activity:
    return await add_activity(
        db,
        organization,
        starts_at=local(day, 14),
        duration=timedelta(hours=2),
        now=local(D(2026, 1, 5)),
        title=title,
    )


async def reminders(db: Database) -> list[tuple[str, int, str]]:
    rows = await db.fetch_all(
        "SELECT dedup_key, telegram_id, due_at FROM outbox WHERE kind = ? ORDER BY notification_id",
        (NotificationKind.RECORDING_DUE.value,),
    )
    return [(row["dedup_key"], row["telegram_id"], row["due_at"]) for row in rows]


async def plan_each_day(
    clock: ManualClock, deadlines: RecordingDeadlineService, first: date, last: date
) -> dict[date, int]:
    """Run the planning job every morning and evening from ``first`` to ``last``."""
    planned: dict[date, int] = {}
    day = first
    while day <= last:
        for hour in (8, 20):
            clock.set(local(day, hour))
            stored = await deadlines.plan()
            if stored:
                planned[day] = planned.get(day, 0) + stored
        day += timedelta(days=1)
    return planned


# ------------------------------------------------------------------------------ the table


async def test_seeding_is_idempotent_and_administrators_rows_win(
    db: Database, workdays: WorkdayService, clock: ManualClock
) -> None:
    repo = CalendarDaysRepository(db)
    count = await db.fetch_one("SELECT COUNT(*) AS n FROM calendar_days")
    assert count is not None and count["n"] == len(package_days())
    assert await workdays.seed() == 0  # again: nothing written

    # An administrator makes the make-up Saturday a day off, and adds a 2027 day.
    await workdays.set_day(ADMIN, "2026-02-14 休 春节")
    await workdays.set_day(ADMIN, "2027-02-06 上班 春节调休")
    assert await workdays.seed() == 0
    row = await repo.get(D(2026, 2, 14))
    assert row is not None and (row.kind, row.source, row.updated_by) == (
        DayKind.HOLIDAY,
        DaySource.ADMIN,
        ADMIN,
    )
    calendar = await workdays.calendar()
    assert not calendar.is_workday(D(2026, 2, 14)) and calendar.covers(2027)
    years = {year: rest for year, *rest in await repo.years()}
    assert years[2026] == [34, 5, 1] and years[2027] == [0, 1, 1]

    # Removing the administrator's row brings the package's day back; a package row stays.
    assert await workdays.remove(ADMIN, D(2026, 2, 14))
    row = await repo.get(D(2026, 2, 14))
    assert row is not None and (row.kind, row.source) == (DayKind.WORKDAY, DaySource.PACKAGE)
    assert not await workdays.remove(ADMIN, D(2026, 2, 15))
    assert await repo.get(D(2026, 2, 15)) is not None
    assert await workdays.remove(ADMIN, D(2027, 2, 6))
    assert not (await workdays.calendar()).covers(2027)


async def test_a_corrected_package_day_is_updated_but_never_an_administrators(
    db: Database, workdays: WorkdayService, clock: ManualClock
) -> None:
    repo = CalendarDaysRepository(db)
    await workdays.set_day(ADMIN, "2026-10-10 休 国庆节")
    corrected = [
        CalendarDay(D(2026, 10, 9), DayKind.HOLIDAY, "国庆节"),  # new
        CalendarDay(D(2026, 10, 10), DayKind.WORKDAY, "国庆节"),  # the admin's: untouched
        CalendarDay(D(2026, 9, 20), DayKind.HOLIDAY, "国庆节"),  # corrected package day
    ]
    assert await repo.seed(corrected, clock()) == 2
    assert await repo.seed(corrected, clock()) == 0
    calendar = await repo.calendar()
    assert not calendar.is_workday(D(2026, 10, 9))
    assert not calendar.is_workday(D(2026, 10, 10))
    assert not calendar.is_workday(D(2026, 9, 20))


async def test_only_administrators_edit_and_bad_days_are_refused(
    db: Database, workdays: WorkdayService
) -> None:
    someone = await add_user(db)
    with pytest.raises(StaffRefused):
        await workdays.set_day(someone, "2027-02-06 上班 春节调休")
    with pytest.raises(StaffRefused):
        await workdays.overview(someone)
    with pytest.raises(InvalidInput):
        await workdays.set_day(ADMIN, "2027-02-30 上班")
    assert await CalendarDaysRepository(db).get(D(2027, 2, 6)) is None


async def test_administrators_are_warned_once_from_december_when_next_year_is_missing(
    db: Database, workdays: WorkdayService, clock: ManualClock
) -> None:
    appointed = await add_user(db)
    await UsersRepository(db).set_role(appointed, Role.ADMIN)
    clock.set(local(D(2026, 11, 30), 23))
    assert await workdays.warn_missing_year() == 0  # not yet December
    overview = await workdays.overview(ADMIN)
    assert overview.next_year == 2027 and overview.next_year_missing
    clock.set(local(D(2026, 12, 1), 9))
    assert await workdays.warn_missing_year() == 2
    assert await workdays.warn_missing_year() == 0  # told once
    await workdays.overview(ADMIN)  # opening the screen does not tell them again
    rows = await db.fetch_all(
        "SELECT dedup_key FROM outbox WHERE kind = ? ORDER BY dedup_key",
        (NotificationKind.WORKDAYS_MISSING.value,),
    )
    assert [row["dedup_key"] for row in rows] == sorted(
        f"workdays_missing:{admin}:year:2027" for admin in (ADMIN, appointed)
    )
    assert await workdays.still_missing(2027, ADMIN)
    await workdays.set_day(ADMIN, "2027-01-01 休 元旦")
    assert not await workdays.still_missing(2027, ADMIN)  # stale at send time: dropped
    assert not (await workdays.overview(ADMIN)).next_year_missing


# ------------------------------------------------------------------------------ reminders


async def test_reminders_on_working_days_3_7_9_across_the_spring_festival(
    db: Database, clock: ManualClock, deadlines: RecordingDeadlineService
) -> None:
    organization, staff = await organization_with_staff(db)
    # Ends Wednesday Feb 11: Thu 12 is day 1, Fri 13 day 2, the make-up Saturday Feb 14 day 3;
    # Feb 15–23 is the holiday; Feb 24 is day 4 … Fri 27 day 7, make-up Sat 28 day 8, Mon
    # Mar 2 day 9, Tue Mar 3 day 10 (the deadline).
    activity = await ended_on(db, organization, D(2026, 2, 11))
    planned = await plan_each_day(clock, deadlines, D(2026, 2, 11), D(2026, 3, 20))
    assert planned == {D(2026, 2, 14): 2, D(2026, 2, 27): 2, D(2026, 3, 2): 2}
    keys = [key for key, _, _ in await reminders(db)]
    aid = activity.activity_id
    assert keys == [f"recording_due:{tid}:{aid}:{day}" for day in (3, 7, 9) for tid in staff]
    # Planned at 08:00, each is due at the reminder time, 09:00 local.
    dues = {due for _, _, due in await reminders(db)}
    assert dues == {to_db_time(local(day, 9)) for day in planned}


async def test_at_send_time_a_reminder_says_the_days_left_and_goes_stale(
    db: Database, clock: ManualClock, deadlines: RecordingDeadlineService
) -> None:
    organization, staff = await organization_with_staff(db)
    activity = await ended_on(db, organization, D(2026, 2, 13), title="春节慰问")
    aid = activity.activity_id
    clock.set(local(D(2026, 2, 25)))  # day 3
    assert await deadlines.plan() == 2
    due = await deadlines.still_due(aid, 3, staff[0])
    assert due is not None
    assert (due.title, due.working_day, due.days_left, due.deadline) == (
        "春节慰问",
        3,
        7,
        D(2026, 3, 5),
    )
    stranger = await add_user(db)
    assert await deadlines.still_due(aid, 3, stranger) is None  # not staff
    # Not delivered before day 7 came (the bot was down): the day-3 row is stale by then.
    clock.set(local(D(2026, 3, 2)))
    assert await deadlines.still_due(aid, 3, staff[0]) is None
    due = await deadlines.still_due(aid, 7, staff[0])
    assert due is not None and due.days_left == 3


async def test_a_missed_reminder_is_sent_once_late_not_all_at_once(
    db: Database, clock: ManualClock, deadlines: RecordingDeadlineService
) -> None:
    organization, staff = await organization_with_staff(db)
    activity = await ended_on(db, organization, D(2026, 2, 13))
    # The bot is down from before day 3 (Feb 25) until day 8 (Mar 3).
    clock.set(local(D(2026, 3, 3)))
    assert await deadlines.plan() == 2
    assert await deadlines.plan() == 0  # a restart or a second process: nothing new
    keys = [key for key, _, _ in await reminders(db)]
    assert keys == [f"recording_due:{tid}:{activity.activity_id}:7" for tid in staff]
    # On a day off nothing is planned, even a missed one: it waits for the working day.
    other = await ended_on(db, organization, D(2026, 2, 10), title="另一场")
    clock.set(local(D(2026, 2, 21)))  # 春节; "other" reached day 3 on Feb 13
    assert await deadlines.plan() == 0
    clock.set(local(D(2026, 2, 24)))
    assert await deadlines.plan() == 2
    assert [key for key, _, _ in await reminders(db)][-2:] == [
        f"recording_due:{tid}:{other.activity_id}:3" for tid in staff
    ]


async def test_no_reminder_once_the_hours_are_confirmed_or_for_non_volunteering(
    db: Database, clock: ManualClock, deadlines: RecordingDeadlineService
) -> None:
    organization, staff = await organization_with_staff(db)
    activity = await ended_on(db, organization, D(2026, 2, 13))
    clock.set(local(D(2026, 2, 25)))
    assert await deadlines.plan() == 2
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET hours_confirmed_at = ? WHERE activity_id = ?",
            (to_db_time(clock()), activity.activity_id),
        )
    assert await deadlines.still_due(activity.activity_id, 3, staff[0]) is None
    clock.set(local(D(2026, 3, 2)))
    assert await deadlines.plan() == 0
    not_service = await ended_on(db, organization, D(2026, 2, 13), title="联欢")
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET is_volunteering = 0 WHERE activity_id = ?",
            (not_service.activity_id,),
        )
    assert await deadlines.plan() == 0


async def test_administrators_see_who_is_late(
    db: Database, clock: ManualClock, deadlines: RecordingDeadlineService
) -> None:
    organization, _ = await organization_with_staff(db)
    other, _ = await organization_with_staff(db, name="雨花区志愿服务队")
    early = await ended_on(db, organization, D(2026, 2, 11), title="早")  # deadline Mar 3
    later = await ended_on(db, other, D(2026, 2, 13), title="晚")  # deadline Mar 5
    recent = await ended_on(db, other, D(2026, 3, 5), title="近")  # within its deadline
    confirmed = await ended_on(db, other, D(2026, 2, 2), title="已确认")
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET hours_confirmed_at = ? WHERE activity_id = ?",
            (to_db_time(clock()), confirmed.activity_id),
        )
    clock.set(local(D(2026, 3, 9)))
    page = await deadlines.late(ADMIN)
    assert page.total == 2 and page.pages == 1
    assert [(item.activity.activity_id, item.days_overdue) for item in page.items] == [
        (early.activity_id, 4),
        (later.activity_id, 2),
    ]
    assert page.items[0].activity.organization_name == "芙蓉区志愿者协会"
    assert page.items[0].deadline == D(2026, 3, 3)
    assert recent.activity_id not in {item.activity.activity_id for item in page.items}
    with pytest.raises(StaffRefused):
        await deadlines.late(await add_user(db))


async def test_late_list_pages(
    db: Database, clock: ManualClock, deadlines: RecordingDeadlineService
) -> None:
    organization, _ = await organization_with_staff(db)
    for number in range(12):
        await ended_on(
            db, organization, D(2026, 1, 5) + timedelta(days=number), title=f"活动{number}"
        )
    clock.set(local(D(2026, 4, 1)))
    first = await deadlines.late(ADMIN, 0)
    second = await deadlines.late(ADMIN, 1)
    assert (first.total, first.pages, len(first.items), len(second.items)) == (12, 2, 10, 2)
    assert second.items[-1].activity.title == "活动11"
    assert (await deadlines.late(ADMIN, 99)).page == 1  # past the end: the last page
