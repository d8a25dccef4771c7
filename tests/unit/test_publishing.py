"""bot.domain.publishing: drafts, publishing, and the consequences of editing a published
activity (notifications, capacity drops, counters). Real migrated database, manual clock
(``NOW`` is Monday 2026-11-23 10:00 in Shanghai)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import Activity, Organization, SignupStatus
from bot.domain.notifications import NotificationKind
from bot.domain.publishing import (
    CapacityChanged,
    EditField,
    NoDraft,
    PublishingService,
    PublishStep,
    WrongStep,
)
from bot.domain.signups import SignupPolicy, SignupService
from bot.domain.staff import StaffRefused, StaffService
from bot.domain.validation import InvalidInput
from storage.activities import ActivitiesRepository
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.organizations import MemberRole, OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.publishing import PublishingRepository
from storage.signups import SignupsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_user, add_volunteer

SHANGHAI = ZoneInfo("Asia/Shanghai")


class FakeReminders:
    def __init__(self) -> None:
        self.calls: list[int] = []

    async def replan_activity(self, tx: object, activity_id: int, now: datetime) -> int:
        self.calls.append(activity_id)
        return 0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def signups(db: Database, clock: ManualClock) -> SignupService:
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
def reminders() -> FakeReminders:
    return FakeReminders()


@pytest.fixture
def service(
    db: Database, clock: ManualClock, signups: SignupService, reminders: FakeReminders
) -> PublishingService:
    users = UsersRepository(db)
    organizations = OrganizationsRepository(db)
    activities = ActivitiesRepository(db)
    return PublishingService(
        db,
        PublishingRepository(db),
        activities,
        CatalogRepository(db),
        StaffService(users, organizations, activities, frozenset()),
        OutboxRepository(db),
        users,
        VolunteersRepository(db),
        clock,
        SHANGHAI,
        reminders=reminders,
        sweep=signups.sweep,
    )


@pytest.fixture
async def org(db: Database) -> Organization:
    return await add_organization(db)


@pytest.fixture
async def boss(db: Database, org: Organization) -> int:
    telegram_id = await add_user(db, first_name="Fang")
    await OrganizationsRepository(db).add_member(
        org.organization_id, telegram_id, MemberRole.ORGANIZER, NOW
    )
    return telegram_id


async def outbox(db: Database, kind: NotificationKind) -> list[tuple[int, dict[str, Any]]]:
    rows = await db.fetch_all(
        "SELECT telegram_id, payload FROM outbox WHERE kind = ? ORDER BY notification_id",
        (kind.value,),
    )
    return [(row["telegram_id"], json.loads(row["payload"])) for row in rows]


async def recount(db: Database, activity_id: int) -> tuple[int, int, int]:
    rows = await db.fetch_all(
        "SELECT status, COUNT(*) AS n FROM signups WHERE activity_id = ? GROUP BY status",
        (activity_id,),
    )
    by = {row["status"]: row["n"] for row in rows}
    return by.get("confirmed", 0), by.get("offered", 0), by.get("waitlisted", 0)


async def counters(db: Database, activity_id: int) -> tuple[int, int, int]:
    activity = await ActivitiesRepository(db).get(activity_id)
    assert activity is not None
    assert activity.confirmed_count + activity.offered_count <= activity.capacity
    return activity.confirmed_count, activity.offered_count, activity.waitlist_count


async def people(
    db: Database, signups: SignupService, clock: ManualClock, activity: Activity, n: int
) -> list[int]:
    """``n`` volunteers signing up (or joining the waitlist) one minute apart."""
    ids = []
    for index in range(n):
        profile = await add_volunteer(db, name=f"志愿者{index}", now=clock())
        await signups.join_waitlist(profile.telegram_id or 0, activity.activity_id)
        ids.append(profile.telegram_id or 0)
        clock.advance(timedelta(minutes=1))
    return ids


# ---------------------------------------------------------------------------------- drafts


async def test_a_full_draft_publishes_and_is_gone(
    service: PublishingService, boss: int, org: Organization
) -> None:
    draft = await service.start(boss, org.organization_id)
    assert draft.step is PublishStep.TITLE
    await service.set_title(boss, "  敬老院探访  ")
    await service.set_category(boss, "health")
    await service.set_description(boss, None)
    draft = await service.set_start_text(boss, "12月5日 下午2点半-4点", "zh")
    assert draft.step is PublishStep.PLACE  # a range answers the end too
    await service.set_place(boss, "芙蓉区敬老院")
    await service.set_location(boss, None, None)
    await service.set_area(boss, "furong")
    with pytest.raises(InvalidInput):
        await service.set_capacity(boss, "0")
    await service.set_capacity(boss, "8人")
    await service.done(boss)
    await service.set_flag(boss, True)
    await service.set_flag(boss, False)
    await service.toggle_people(boss, "elderly_children")
    await service.done(boss)
    with pytest.raises(InvalidInput):
        await service.set_deadline(boss, "12月6日 9:00", "zh")  # after the start
    await service.set_deadline(boss, "12月4日 18:00", "zh")
    draft = await service.set_leader(boss, None)
    assert draft.data.leader_name == "Fang"
    assert draft.step in (PublishStep.KEY_DATE, PublishStep.PREVIEW)
    if draft.step is PublishStep.KEY_DATE:  # 12·5 is a key date
        draft = await service.set_key_date(boss, None)
    assert draft.step is PublishStep.PREVIEW
    activity = await service.publish(boss)
    assert activity.title == "敬老院探访" and activity.capacity == 8
    assert activity.starts_at == datetime(2026, 12, 5, 14, 30, tzinfo=SHANGHAI)
    assert activity.training_required and not activity.adults_only
    assert activity.signup_deadline == datetime(2026, 12, 4, 18, tzinfo=SHANGHAI)
    with pytest.raises(NoDraft):
        await service.current(boss)


async def test_answers_for_another_step_are_refused(
    service: PublishingService, boss: int, org: Organization
) -> None:
    await service.start(boss, org.organization_id)
    with pytest.raises(WrongStep):
        await service.set_capacity(boss, "5")
    with pytest.raises(InvalidInput):
        await service.set_title(boss, "x" * 61)


async def test_calendar_picker_checks_like_typed_times(
    service: PublishingService, boss: int, org: Organization
) -> None:
    await service.start(boss, org.organization_id)
    await service.set_title(boss, "Picked")
    await service.set_category(boss, "health")
    await service.set_description(boss, None)
    await service.pick_day(boss, datetime(2026, 11, 23).date())
    await service.pick_hour(boss, 9)  # 09:00 today has passed (it is 10:00)
    with pytest.raises(InvalidInput):
        await service.pick_minute(boss, 0)
    await service.pick_day(boss, datetime(2026, 11, 30).date())
    await service.pick_hour(boss, 23)
    draft = await service.pick_minute(boss, 30)
    assert draft.step is PublishStep.END
    assert draft.data.starts_at == datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    await service.pick_day(boss, datetime(2026, 12, 1).date())  # past midnight
    await service.pick_hour(boss, 1)
    draft = await service.pick_minute(boss, 0)
    assert draft.step is PublishStep.PLACE
    assert draft.data.ends_at == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


async def test_drafts_of_an_organization_and_resuming_needs_membership(
    db: Database, service: PublishingService, clock: ManualClock, boss: int, org: Organization
) -> None:
    first = await service.start(boss, org.organization_id)
    await service.set_title(boss, "First")
    clock.advance(timedelta(minutes=1))
    await service.start(boss, org.organization_id)
    clock.advance(timedelta(minutes=1))
    listed = await service.drafts_of(org.organization_id)
    assert [d.draft_id for d in listed][-1] == first.draft_id
    resumed = await service.resume(boss, first.draft_id)
    assert (await service.current(boss)).draft_id == resumed.draft_id == first.draft_id
    stranger = await add_user(db)
    with pytest.raises(StaffRefused):
        await service.resume(stranger, first.draft_id)
    with pytest.raises(StaffRefused):
        await service.start(stranger, org.organization_id)


# ---------------------------------------------------------------------------------- edits


async def test_time_change_notifies_everyone_concerned_once_per_new_value(
    db: Database,
    service: PublishingService,
    signups: SignupService,
    clock: ManualClock,
    reminders: FakeReminders,
    boss: int,
    org: Organization,
) -> None:
    activity = await add_activity(db, org, capacity=2)
    ids = await people(db, signups, clock, activity, 3)  # two confirmed, one waiting
    value = service.parse_edit(activity, EditField.WHEN, "12/5 9:00-11:00", "en")
    result = await service.apply_edit(boss, activity.activity_id, EditField.WHEN, value)
    assert result.notified == 3
    assert reminders.calls == [activity.activity_id]
    assert sorted(t for t, _ in await outbox(db, NotificationKind.ACTIVITY_CHANGED)) == sorted(ids)
    # The same value again queues nothing new (dedup key includes the value) ...
    await service.apply_edit(boss, activity.activity_id, EditField.WHEN, value)
    assert len(await outbox(db, NotificationKind.ACTIVITY_CHANGED)) == 3
    # ... a new place does.
    await service.apply_edit(boss, activity.activity_id, EditField.PLACE, "新地点")
    assert len(await outbox(db, NotificationKind.ACTIVITY_CHANGED)) == 6
    # A title change tells nobody.
    await service.apply_edit(boss, activity.activity_id, EditField.TITLE, "New title")
    assert len(await outbox(db, NotificationKind.ACTIVITY_CHANGED)) == 6


async def test_capacity_drop_moves_the_last_signed_up_to_the_head_of_the_waitlist(
    db: Database, service: PublishingService, signups: SignupService, clock: ManualClock,
    boss: int, org: Organization,
) -> None:  # fmt: skip
    activity = await add_activity(db, org, capacity=3)
    a, b, c, waiting = await people(db, signups, clock, activity, 4)
    fresh = await ActivitiesRepository(db).get(activity.activity_id)
    assert fresh is not None
    plan = await service.capacity_plan(fresh, 1)
    assert plan is not None and plan.needed == 2
    names = {p.signup_id: p.name for p in plan.candidates}
    assert [names[i] for i in plan.default] == ["志愿者2", "志愿者1"]  # last signed up first
    result = await service.apply_edit(
        boss, activity.activity_id, EditField.CAPACITY, "1", move=plan.default
    )
    assert len(result.moved) == 2
    assert await counters(db, activity.activity_id) == (1, 0, 3)
    assert await recount(db, activity.activity_id) == (1, 0, 3)
    # They lead the waitlist in their sign-up order, ahead of who was waiting before.
    repo = SignupsRepository(db)
    order = []
    for telegram_id in (b, c, waiting):
        profile = await VolunteersRepository(db).get_profile(telegram_id)
        assert profile is not None
        signup = await repo.get(activity.activity_id, profile.volunteer_id)
        assert signup is not None and signup.status is SignupStatus.WAITLISTED
        order.append(await repo.waitlist_position(signup))
    assert order == [1, 2, 3]
    moved = await outbox(db, NotificationKind.MOVED_TO_WAITLIST)
    assert sorted(t for t, _ in moved) == sorted([b, c])
    assert a not in [t for t, _ in moved]

    # Raising the capacity offers the new spots to the head of the waitlist.
    result = await service.apply_edit(boss, activity.activity_id, EditField.CAPACITY, "2")
    assert result.offered == 1
    assert await counters(db, activity.activity_id) == (1, 1, 2)
    assert await recount(db, activity.activity_id) == (1, 1, 2)


async def test_capacity_drop_with_a_stale_choice_asks_again(
    db: Database, service: PublishingService, signups: SignupService, clock: ManualClock,
    boss: int, org: Organization,
) -> None:  # fmt: skip
    activity = await add_activity(db, org, capacity=3)
    await people(db, signups, clock, activity, 3)
    with pytest.raises(CapacityChanged):
        await service.apply_edit(boss, activity.activity_id, EditField.CAPACITY, "1", move=[])
    assert await counters(db, activity.activity_id) == (3, 0, 0)


async def test_edits_are_reauthorized(
    db: Database, service: PublishingService, org: Organization
) -> None:
    activity = await add_activity(db, org)
    other_org = await add_organization(db, name="另一个组织")
    outsider = await add_user(db)
    await OrganizationsRepository(db).add_member(
        other_org.organization_id, outsider, MemberRole.MANAGER, NOW
    )
    with pytest.raises(StaffRefused):
        await service.apply_edit(outsider, activity.activity_id, EditField.TITLE, "Hacked")
    unchanged = await ActivitiesRepository(db).get(activity.activity_id)
    assert unchanged is not None and unchanged.title == activity.title
