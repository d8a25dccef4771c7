"""bot.services.publishing: drafts, publishing, and the consequences of editing a published
activity (notifications, capacity drops, counters). Real migrated database, manual clock
(``NOW`` is Monday 2026-11-23 10:00 in Shanghai)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import (
    Activity,
    MemberRole,
    Organization,
    OrganizationStatus,
    SignupStatus,
)
from bot.domain.keydates import KeyDate
from bot.domain.notifications import NotificationKind
from bot.domain.users import Role
from bot.domain.validation import InvalidInput
from bot.services.publishing import (
    CapacityChanged,
    EditField,
    NoDraft,
    NotEditable,
    NotEditableReason,
    PublishingService,
    PublishStep,
    WrongStep,
    format_pin,
    toggled,
)
from bot.services.signups import SignupPolicy, SignupService
from bot.services.staff import StaffRefused, StaffService
from storage.activities import ActivitiesRepository
from storage.catalog import CatalogKind, CatalogRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
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
    await service.choose_training(boss, "r")  # requires a training: the list opens
    await service.name_training(boss, "  急救证 ")
    await service.set_flag(boss, False)  # not volunteer service
    await service.set_flag(boss, False)  # not adults only
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
    assert not activity.training_required and not activity.adults_only
    assert activity.requires_qualification is not None
    assert activity.requires_qualification.name == "急救证" and not activity.is_volunteering
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


# ------------------------------------------------------------------ every field is editable


class FakeKeyDates:
    def __init__(self, *key_dates: KeyDate) -> None:
        self.key_dates = list(key_dates)

    async def enabled(self) -> list[KeyDate]:
        return self.key_dates

    async def get(self, code: str) -> KeyDate | None:
        return next((k for k in self.key_dates if k.code == code), None)


VOLUNTEER_DAY = KeyDate(
    code="volunteer_day", name_zh="国际志愿者日", name_en="IVD", month=12, day=5
)


async def crowded(
    db: Database, signups: SignupService, clock: ManualClock, org: Organization, **fields: Any
) -> Activity:
    """An activity with two confirmed volunteers and one waiting, 5 December at 9:00."""
    activity = await add_activity(
        db, org, capacity=2, starts_at=datetime(2026, 12, 5, 1, tzinfo=UTC), **fields
    )
    await people(db, signups, clock, activity, 3)
    return activity


async def changed_notifications(db: Database) -> list[dict[str, Any]]:
    return [payload for _, payload in await outbox(db, NotificationKind.ACTIVITY_CHANGED)]


async def test_required_skills_change_without_removing_anyone_or_telling_anyone(
    db: Database, service: PublishingService, signups: SignupService, clock: ManualClock,
    boss: int, org: Organization,
) -> None:  # fmt: skip
    activity = await crowded(db, signups, clock, org)
    aid = activity.activity_id
    before = await counters(db, aid)
    result = await service.apply_edit(boss, aid, EditField.SKILLS, "first_aid,driving")
    assert result.activity.required_skills == ("first_aid", "driving")
    # Nobody signed up loses the place, and nobody is told.
    assert await counters(db, aid) == before == (2, 0, 1)
    assert await recount(db, aid) == before
    assert await changed_notifications(db) == []
    result = await service.apply_edit(boss, aid, EditField.SKILLS, "driving")
    assert result.activity.required_skills == ("driving",)
    result = await service.apply_edit(boss, aid, EditField.SKILLS, "")
    assert result.activity.required_skills == ()
    with pytest.raises(InvalidInput):
        await service.apply_edit(boss, aid, EditField.SKILLS, "first_aid,no_such_skill")
    unchanged = await ActivitiesRepository(db).get(aid)
    assert unchanged is not None and unchanged.required_skills == ()


async def test_a_retired_skill_stays_on_an_activity_that_has_it(
    db: Database, service: PublishingService, boss: int, org: Organization
) -> None:
    activity = await add_activity(db, org, required_skills=("first_aid",))
    await CatalogRepository(db).set_active(CatalogKind.SKILL, "first_aid", False)
    result = await service.apply_edit(
        boss, activity.activity_id, EditField.SKILLS, "first_aid,driving"
    )
    assert result.activity.required_skills == ("first_aid", "driving")
    other = await add_activity(db, org)
    with pytest.raises(InvalidInput):  # but cannot be added anew
        await service.apply_edit(boss, other.activity_id, EditField.SKILLS, "first_aid")


async def test_people_served_change_silently(
    db: Database, service: PublishingService, signups: SignupService, clock: ManualClock,
    boss: int, org: Organization,
) -> None:  # fmt: skip
    activity = await crowded(db, signups, clock, org, people_served=("disabled",))
    aid = activity.activity_id
    result = await service.apply_edit(boss, aid, EditField.PEOPLE, "elderly_children,low_income")
    assert [g.value for g in result.activity.people_served] == ["elderly_children", "low_income"]
    assert await counters(db, aid) == (2, 0, 1)
    assert await changed_notifications(db) == []
    with pytest.raises(InvalidInput):
        await service.apply_edit(boss, aid, EditField.PEOPLE, "martians")
    result = await service.apply_edit(boss, aid, EditField.PEOPLE, "")
    assert result.activity.people_served == ()


async def test_area_change_silently_and_only_to_an_active_area(
    db: Database, service: PublishingService, signups: SignupService, clock: ManualClock,
    boss: int, org: Organization,
) -> None:  # fmt: skip
    activity = await crowded(db, signups, clock, org)
    aid = activity.activity_id
    area = (await CatalogRepository(db).areas())[-1].code
    result = await service.apply_edit(boss, aid, EditField.AREA, area)
    assert result.activity.area_code == area and result.notified == 0
    result = await service.apply_edit(boss, aid, EditField.AREA, "")
    assert result.activity.area_code is None
    with pytest.raises(InvalidInput):
        await service.apply_edit(boss, aid, EditField.AREA, "atlantis")
    assert await counters(db, aid) == (2, 0, 1)
    assert await changed_notifications(db) == []


async def test_map_pin_change_and_removal_tell_everyone_concerned(
    db: Database, service: PublishingService, signups: SignupService, clock: ManualClock,
    boss: int, org: Organization,
) -> None:  # fmt: skip
    activity = await crowded(db, signups, clock, org)
    aid = activity.activity_id
    pin = format_pin(28.196, 112.972)
    result = await service.apply_edit(boss, aid, EditField.PIN, pin)
    assert (result.activity.latitude, result.activity.longitude) == (28.196, 112.972)
    assert result.notified == 3
    sent = await changed_notifications(db)
    assert [p["field"] for p in sent] == ["pin"] * 3 and sent[0]["value"] == pin
    # The same pin again is no news.
    result = await service.apply_edit(boss, aid, EditField.PIN, pin)
    assert result.notified == 0
    # Removing it is, and so is setting the same pin again afterwards.
    clock.advance(timedelta(minutes=1))
    result = await service.apply_edit(boss, aid, EditField.PIN, "")
    assert not result.activity.has_location and result.notified == 3
    clock.advance(timedelta(minutes=1))
    result = await service.apply_edit(boss, aid, EditField.PIN, pin)
    assert result.notified == 3
    assert len(await changed_notifications(db)) == 9
    for bad in ("91,0", "north,east", "1"):
        with pytest.raises(InvalidInput):
            await service.apply_edit(boss, aid, EditField.PIN, bad)
    assert await counters(db, aid) == (2, 0, 1)


async def test_a_new_place_drops_the_old_pin_and_tells_everyone(
    db: Database, service: PublishingService, signups: SignupService, clock: ManualClock,
    boss: int, org: Organization,
) -> None:  # fmt: skip
    activity = await crowded(db, signups, clock, org, latitude=28.1, longitude=112.9)
    result = await service.apply_edit(boss, activity.activity_id, EditField.PLACE, "新地点")
    assert result.activity.place == "新地点" and not result.activity.has_location
    assert result.notified == 3
    assert {p["field"] for p in await changed_notifications(db)} == {"place"}


async def test_key_date_tag_only_the_suggested_one_or_none(
    db: Database, service: PublishingService, signups: SignupService, clock: ManualClock,
    boss: int, org: Organization,
) -> None:  # fmt: skip
    service._key_dates = FakeKeyDates(VOLUNTEER_DAY)  # 12·5 is the activity's day
    activity = await crowded(db, signups, clock, org)
    aid = activity.activity_id
    assert [k.code for k in await service.key_dates_near(activity.starts_at)] == ["volunteer_day"]
    result = await service.apply_edit(boss, aid, EditField.KEY_DATE, "volunteer_day")
    assert result.activity.key_date == "volunteer_day" and result.notified == 0
    with pytest.raises(InvalidInput):
        await service.apply_edit(boss, aid, EditField.KEY_DATE, "spring_festival")
    result = await service.apply_edit(boss, aid, EditField.KEY_DATE, "")
    assert result.activity.key_date is None
    far = await add_activity(db, org, starts_at=datetime(2027, 3, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidInput):
        await service.apply_edit(boss, far.activity_id, EditField.KEY_DATE, "volunteer_day")
    assert await counters(db, aid) == (2, 0, 1)
    assert await changed_notifications(db) == []


async def test_a_key_date_tag_is_named_and_offered_even_when_no_longer_near(
    db: Database, service: PublishingService, org: Organization
) -> None:
    service._key_dates = FakeKeyDates(VOLUNTEER_DAY)
    assert await service.key_date_name("volunteer_day", "zh") == "国际志愿者日"
    assert await service.key_date_name("volunteer_day", "en") == "IVD"
    # Tagged, then moved away from 12·5: the edit screen still names the tag it carries.
    moved = await add_activity(
        db, org, starts_at=datetime(2027, 3, 1, 1, tzinfo=UTC), key_date="volunteer_day"
    )
    assert [k.code for k in await service.key_dates_near(moved.starts_at)] == []
    assert [k.code for k in await service.key_dates_for(moved)] == ["volunteer_day"]


async def test_cancelled_or_started_activities_cannot_be_edited(
    db: Database, service: PublishingService, clock: ManualClock, boss: int, org: Organization
) -> None:
    cancelled = await add_activity(db, org)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET status = 'cancelled', cancelled_at = updated_at "
            "WHERE activity_id = ?",
            (cancelled.activity_id,),
        )
    with pytest.raises(NotEditable) as refused:
        await service.apply_edit(boss, cancelled.activity_id, EditField.SKILLS, "driving")
    assert refused.value.reason is NotEditableReason.CANCELLED
    soon = await add_activity(db, org, starts_in=timedelta(hours=1))
    clock.advance(timedelta(hours=1, minutes=1))
    with pytest.raises(NotEditable) as refused:
        await service.apply_edit(boss, soon.activity_id, EditField.PIN, "28.1,112.9")
    assert refused.value.reason is NotEditableReason.STARTED
    with pytest.raises(NotEditable):
        await service.editable(boss, soon.activity_id)
    started = await ActivitiesRepository(db).get(soon.activity_id)
    assert started is not None and not started.has_location


async def test_new_fields_are_reauthorized(
    db: Database, service: PublishingService, org: Organization
) -> None:
    activity = await add_activity(db, org)
    outsider = await add_user(db)
    for edit, value in (
        (EditField.SKILLS, "driving"),
        (EditField.PEOPLE, "disabled"),
        (EditField.AREA, ""),
        (EditField.PIN, "1,1"),
        (EditField.KEY_DATE, ""),
    ):
        with pytest.raises(StaffRefused):
            await service.apply_edit(outsider, activity.activity_id, edit, value)
    unchanged = await ActivitiesRepository(db).get(activity.activity_id)
    assert unchanged is not None and unchanged.area_code == "furong"


def test_toggled_adds_and_removes_codes() -> None:
    assert toggled("", "a") == "a"
    assert toggled("a", "b") == "a,b"
    assert toggled("a,b", "a") == "b"
    assert format_pin(None, 1.0) == "" and format_pin(1.5, -2.25) == "1.5,-2.25"


# ------------------------------------------------------------ administrators publishing


async def test_an_admin_without_membership_picks_any_approved_organization(
    db: Database, service: PublishingService, org: Organization
) -> None:
    admin = await add_user(db, first_name="Admin")
    await UsersRepository(db).set_role(admin, Role.ADMIN)
    suspended = await add_organization(db, name="暂停的组织", status=OrganizationStatus.SUSPENDED)
    for index in range(9):
        await add_organization(db, name=f"组织{index}")
    first, total = await service.organizations_to_pick(admin)
    assert total == 10 and len(first) == 8
    second, _ = await service.organizations_to_pick(admin, 8)
    listed = [o.organization_id for o in first + second]
    assert org.organization_id in listed and suspended.organization_id not in listed
    draft = await service.start(admin, org.organization_id)
    assert draft.organization_id == org.organization_id
    with pytest.raises(StaffRefused):  # not for a suspended one, even as an admin
        await service.start(admin, suspended.organization_id)
    volunteer = await add_user(db)
    with pytest.raises(StaffRefused):
        await service.organizations_to_pick(volunteer)


async def test_an_edit_racing_a_cancellation_changes_nothing(
    db: Database, service: PublishingService, signups: SignupService, clock: ManualClock,
    boss: int, org: Organization, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    activity = await add_activity(db, org, capacity=3)
    await people(db, signups, clock, activity, 3)
    before = await ActivitiesRepository(db).get(activity.activity_id)
    assert before is not None
    plan = await service.capacity_plan(before, 1)
    assert plan is not None

    async def checked_before_the_cancel(telegram_id: int, activity_id: int) -> Activity:
        return before  # the screen's check passed; a co-organizer cancels right after

    monkeypatch.setattr(service, "editable", checked_before_the_cancel)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET status = 'cancelled', cancelled_at = updated_at "
            "WHERE activity_id = ?",
            (activity.activity_id,),
        )
    with pytest.raises(NotEditable):
        await service.apply_edit(
            boss, activity.activity_id, EditField.CAPACITY, "1", move=plan.default
        )
    with pytest.raises(NotEditable):
        await service.apply_edit(boss, activity.activity_id, EditField.TITLE, "A new title")
    after = await ActivitiesRepository(db).get(activity.activity_id)
    assert after is not None and (after.capacity, after.title) == (3, before.title)
    assert await counters(db, activity.activity_id) == (3, 0, 0)


async def test_back_goes_to_the_step_asked_before_or_to_the_preview(
    service: PublishingService, boss: int, org: Organization
) -> None:
    await service.start(boss, org.organization_id)
    with pytest.raises(WrongStep):
        await service.back(boss, PublishStep.TITLE)  # nothing before the first step
    await service.set_title(boss, "Back and forth")
    await service.set_category(boss, "health")
    with pytest.raises(WrongStep):
        await service.back(boss, PublishStep.CATEGORY)  # a stale Back: drawn for another step
    assert (await service.back(boss, PublishStep.DESCRIPTION)).step is PublishStep.CATEGORY
    await service.set_category(boss, "health")
    await service.set_description(boss, None)
    await service.set_start_text(boss, "12月5日 14:00", "zh")
    draft = await service.set_end_text(boss, "16:00", "zh")
    assert draft.step is PublishStep.PLACE
    back = await service.back(boss, PublishStep.PLACE)
    assert back.step is PublishStep.START and back.data.ends_at is not None  # answers kept
