"""bot.services.activity_management.ActivityManagementService: authorization, lists, rosters,
cancelling, closing sign-up early, duplicating and messaging participants.

A real migrated database, a manual clock at ``NOW`` (Monday 2026-11-23 10:00 in Shanghai);
activities start five days later unless told otherwise. After every test each activity's
counters must equal a recount of its sign-up rows.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import (
    Activity,
    ActivityStatus,
    ActivityTab,
    EndReason,
    ManageDraft,
    MemberRole,
    Organization,
    SignupStatus,
)
from bot.domain.dateparse import ParsedWhen, WhenError, parse_when
from bot.domain.exports import StillComing
from bot.domain.notifications import NotificationKind
from bot.domain.validation import InvalidInput
from bot.domain.volunteers import VolunteerProfile
from bot.services.activity_management import (
    Action,
    ActivityManagementService,
    Audience,
    ManageRefusal,
    ManageRefused,
    actions,
)
from bot.services.signups import SignupPolicy, SignupService
from bot.services.staff import StaffRefused, StaffService
from storage.activities import ActivitiesRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.rosters import RostersRepository
from storage.signups import SignupsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from tests.factories import (
    NOW,
    activity_model,
    add_activity,
    add_organization,
    add_user,
    add_volunteer,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADMIN = 9000


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def staff(db: Database) -> StaffService:
    return StaffService(
        UsersRepository(db), OrganizationsRepository(db), ActivitiesRepository(db), {ADMIN}
    )


@pytest.fixture
def service(db: Database, clock: ManualClock) -> ActivityManagementService:
    return ActivityManagementService(
        db,
        staff(db),
        RostersRepository(db),
        SignupsRepository(db),
        OutboxRepository(db),
        clock,
        SHANGHAI,
    )


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


@pytest.fixture(autouse=True)
async def counters_match_rows(db: Database) -> AsyncIterator[None]:
    yield
    for row in await db.fetch_all("SELECT activity_id FROM activities"):
        counted = await db.fetch_all(
            "SELECT status, COUNT(*) AS n FROM signups WHERE activity_id = ? GROUP BY status",
            (row["activity_id"],),
        )
        by_status = {r["status"]: r["n"] for r in counted}
        activity = await ActivitiesRepository(db).get(row["activity_id"])
        assert activity is not None
        assert (
            activity.confirmed_count,
            activity.offered_count,
            activity.waitlist_count,
        ) == (
            by_status.get("confirmed", 0),
            by_status.get("offered", 0),
            by_status.get("waitlisted", 0),
        )


@pytest.fixture
async def org(db: Database) -> Organization:
    return await add_organization(db)


@pytest.fixture
async def organizer(db: Database, org: Organization) -> int:
    telegram_id = await add_user(db, first_name="Organizer")
    await OrganizationsRepository(db).add_member(
        org.organization_id, telegram_id, MemberRole.MANAGER, NOW
    )
    return telegram_id


async def crowd(
    db: Database, signups: SignupService, activity: Activity, confirmed: int, waiting: int
) -> list[VolunteerProfile]:
    people = []
    for number in range(confirmed + waiting):
        profile = await add_volunteer(db, name=f"志愿者{number}", skills=("first_aid",))
        if number < confirmed:
            await signups.sign_up(profile.telegram_id, activity.activity_id)
        else:
            await signups.join_waitlist(profile.telegram_id, activity.activity_id)
        people.append(profile)
    return people


async def outbox_rows(db: Database, kind: NotificationKind) -> list[dict[str, Any]]:
    rows = await db.fetch_all(
        "SELECT telegram_id, payload, batch_key, status FROM outbox WHERE kind = ? "
        "ORDER BY notification_id",
        (kind.value,),
    )
    return [
        {
            "telegram_id": row["telegram_id"],
            "payload": json.loads(row["payload"]),
            "batch_key": row["batch_key"],
        }
        for row in rows
    ]


# -- actions by state ---------------------------------------------------------------------------


def test_actions_follow_the_state() -> None:
    start = NOW + timedelta(days=5)
    open_one = activity_model(start)
    assert actions(open_one, NOW) == [
        Action.EDIT,
        Action.RECRUIT,
        Action.ROSTER,
        Action.EXPORT,
        Action.DUPLICATE,
        Action.MESSAGE,
        Action.CLOSE,
        Action.CANCEL,
    ]
    closed = activity_model(start, signups_closed_at=NOW)
    assert Action.REOPEN in actions(closed, NOW) and Action.CLOSE not in actions(closed, NOW)
    past_deadline = activity_model(start, signup_deadline=NOW - timedelta(hours=1))
    assert Action.CLOSE not in actions(past_deadline, NOW)
    record_only = [Action.ROSTER, Action.EXPORT, Action.DUPLICATE]
    assert actions(activity_model(start, status=ActivityStatus.CANCELLED), NOW) == record_only
    assert actions(open_one, start + timedelta(hours=1)) == record_only  # under way
    assert actions(open_one, start + timedelta(days=1)) == record_only  # finished


# -- authorization ------------------------------------------------------------------------------


async def test_only_staff_of_the_owning_organization_or_admins(
    db: Database, service: ActivityManagementService, org: Organization, organizer: int
) -> None:
    activity = await add_activity(db, org)
    other_org = await add_organization(db, name="岳麓区社区志愿服务队")
    outsider = await add_user(db)
    await OrganizationsRepository(db).add_member(
        other_org.organization_id, outsider, MemberRole.MANAGER, NOW
    )
    volunteer = await add_volunteer(db)
    await add_user(db, ADMIN)

    assert (await service.activity(organizer, activity.activity_id)).activity_id == (
        activity.activity_id
    )
    assert (await service.activity(ADMIN, activity.activity_id)).activity_id == (
        activity.activity_id
    )
    for intruder in (outsider, volunteer.telegram_id):
        with pytest.raises(StaffRefused):
            await service.roster(intruder, activity.activity_id, 0)
        with pytest.raises(StaffRefused):
            await service.cancel(intruder, activity.activity_id, "Forged cancellation")
        with pytest.raises(StaffRefused):
            await service.activities_of(intruder, org.organization_id, ActivityTab.UPCOMING, 0)
    assert (await ActivitiesRepository(db).get(activity.activity_id)).status is (  # type: ignore[union-attr]
        ActivityStatus.PUBLISHED
    )


# -- lists --------------------------------------------------------------------------------------


async def test_tabs_split_upcoming_past_and_drafts(
    db: Database, service: ActivityManagementService, org: Organization, organizer: int
) -> None:
    soon = await add_activity(db, org, title="Soon", starts_in=timedelta(days=1))
    later = await add_activity(db, org, title="Later", starts_in=timedelta(days=9))
    done = await add_activity(
        db, org, title="Done", starts_at=NOW - timedelta(days=3), now=NOW - timedelta(days=10)
    )
    draft = await add_activity(db, org, title="Draft", status=ActivityStatus.DRAFT)
    called_off = await add_activity(db, org, title="Called off")
    await service.cancel(organizer, called_off.activity_id, "Bad weather")
    other = await add_organization(db, name="别的组织")
    await add_activity(db, other, title="Not ours")

    upcoming = await service.activities_of(organizer, org.organization_id, ActivityTab.UPCOMING, 0)
    assert [a.activity_id for a in upcoming.items] == [soon.activity_id, later.activity_id]
    past = await service.activities_of(organizer, org.organization_id, ActivityTab.PAST, 0)
    assert [a.activity_id for a in past.items] == [called_off.activity_id, done.activity_id]
    drafts = await service.activities_of(organizer, org.organization_id, ActivityTab.DRAFTS, 0)
    assert [a.activity_id for a in drafts.items] == [draft.activity_id]


async def test_lists_are_paged(
    db: Database, service: ActivityManagementService, org: Organization, organizer: int
) -> None:
    for day in range(11):
        await add_activity(db, org, title=f"Day {day}", starts_in=timedelta(days=day + 1))
    first = await service.activities_of(organizer, org.organization_id, ActivityTab.UPCOMING, 0)
    second = await service.activities_of(organizer, org.organization_id, ActivityTab.UPCOMING, 1)
    assert (first.total, len(first.items), len(second.items)) == (11, 8, 3)
    assert first.has_next and not second.has_next
    stale = await service.activities_of(organizer, org.organization_id, ActivityTab.UPCOMING, 50)
    assert stale.page == 1  # a stale "next" shows the last page


# -- roster -------------------------------------------------------------------------------------


async def test_roster_lists_spots_then_waitlist_with_contact_and_answers(
    db: Database,
    service: ActivityManagementService,
    signups: SignupService,
    org: Organization,
    organizer: int,
    clock: ManualClock,
) -> None:
    activity = await add_activity(db, org, capacity=2)
    people = []
    for number in range(4):
        profile = await add_volunteer(db, name=f"志愿者{number}", skills=("first_aid",))
        clock.advance(timedelta(minutes=1))
        if number < 2:
            await signups.sign_up(profile.telegram_id, activity.activity_id)
        else:
            await signups.join_waitlist(profile.telegram_id, activity.activity_id)
        people.append(profile)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE signups SET still_coming = 'yes', still_coming_asked_at = ? "
            "WHERE volunteer_id = ?",
            ("2026-11-23T02:00:00.000000+00:00", people[0].volunteer_id),
        )
        await tx.execute(
            "UPDATE signups SET still_coming_asked_at = ? WHERE volunteer_id = ?",
            ("2026-11-23T02:00:00.000000+00:00", people[1].volunteer_id),
        )

    _, roster = await service.roster(organizer, activity.activity_id, 0)
    assert (roster.confirmed, roster.offered, roster.waitlisted, roster.total) == (2, 0, 2, 4)
    assert [entry.name for entry in roster.entries] == [p.real_name for p in people]
    first, second, third, fourth = roster.entries
    assert first.phone == people[0].phone and first.skills == ("first_aid",)
    assert first.status is SignupStatus.CONFIRMED
    assert (first.answer, second.answer, third.answer) == (
        StillComing.YES,
        StillComing.NO_ANSWER,
        StillComing.NOT_ASKED,
    )
    assert (third.waitlist_position, fourth.waitlist_position) == (1, 2)
    assert first.signed_up_at == NOW + timedelta(minutes=1)


async def test_a_large_roster_is_paged_and_keeps_waitlist_positions(
    db: Database,
    service: ActivityManagementService,
    signups: SignupService,
    org: Organization,
    organizer: int,
) -> None:
    activity = await add_activity(db, org, capacity=15)
    await crowd(db, signups, activity, confirmed=15, waiting=10)
    _, first = await service.roster(organizer, activity.activity_id, 0)
    _, second = await service.roster(organizer, activity.activity_id, 1)
    assert (len(first.entries), len(second.entries), first.pages) == (20, 5, 2)
    assert [e.waitlist_position for e in first.entries[15:]] == [1, 2, 3, 4, 5]
    assert [e.waitlist_position for e in second.entries] == [6, 7, 8, 9, 10]
    _, everything = await service.roster_all(organizer, activity.activity_id)
    assert len(everything) == 25


# -- cancelling ---------------------------------------------------------------------------------


async def test_cancelling_ends_every_signup_and_tells_everyone(
    db: Database,
    service: ActivityManagementService,
    signups: SignupService,
    org: Organization,
    organizer: int,
    clock: ManualClock,
) -> None:
    activity = await add_activity(db, org, capacity=2)
    people = await crowd(db, signups, activity, confirmed=2, waiting=2)
    # The first one leaves: the head of the waitlist is offered the spot.
    await signups.cancel(people[0].telegram_id, activity.activity_id)
    before = await ActivitiesRepository(db).get(activity.activity_id)
    assert before is not None and (before.confirmed_count, before.offered_count) == (1, 1)

    report = await service.cancel(organizer, activity.activity_id, "  Heavy   rain forecast  ")
    assert (report.ended, report.notified) == (3, 3)
    assert report.activity.status is ActivityStatus.CANCELLED
    assert report.activity.cancel_reason == "Heavy rain forecast"
    assert (
        report.activity.confirmed_count,
        report.activity.offered_count,
        report.activity.waitlist_count,
    ) == (0, 0, 0)
    repo = SignupsRepository(db)
    for profile in people[1:]:
        signup = await repo.get(activity.activity_id, profile.volunteer_id)
        assert signup is not None and signup.status is SignupStatus.CANCELLED
        assert signup.end_reason is EndReason.ACTIVITY_CANCELLED
    left = await repo.get(activity.activity_id, people[0].volunteer_id)
    assert left is not None and left.end_reason is EndReason.VOLUNTEER  # untouched
    told = await outbox_rows(db, NotificationKind.ACTIVITY_CANCELLED)
    assert sorted(row["telegram_id"] for row in told) == sorted(p.telegram_id for p in people[1:])
    assert {row["batch_key"] for row in told} == {f"cancel:{activity.activity_id}"}

    # The roster of a cancelled activity still says who was coming.
    _, roster = await service.roster(organizer, activity.activity_id, 0)
    assert {e.volunteer_id for e in roster.entries} == {p.volunteer_id for p in people[1:]}

    # Twice is refused, and nothing is sent again.
    with pytest.raises(ManageRefused) as refused:
        await service.cancel(organizer, activity.activity_id, "Again please")
    assert refused.value.reason is ManageRefusal.NOT_NOW
    assert len(await outbox_rows(db, NotificationKind.ACTIVITY_CANCELLED)) == 3


async def test_cancel_reason_is_validated_and_started_activities_cannot_be_cancelled(
    db: Database,
    service: ActivityManagementService,
    org: Organization,
    organizer: int,
    clock: ManualClock,
) -> None:
    activity = await add_activity(db, org)
    with pytest.raises(InvalidInput):
        await service.cancel(organizer, activity.activity_id, "no")
    with pytest.raises(InvalidInput):
        await service.cancel(organizer, activity.activity_id, "x" * 301)
    clock.set(activity.starts_at + timedelta(minutes=5))
    with pytest.raises(ManageRefused):
        await service.cancel(organizer, activity.activity_id, "Too late now")


# -- closing early ------------------------------------------------------------------------------


async def test_close_and_reopen_signups(
    db: Database,
    service: ActivityManagementService,
    signups: SignupService,
    org: Organization,
    organizer: int,
    clock: ManualClock,
) -> None:
    activity = await add_activity(db, org)
    closed = await service.close_signups(organizer, activity.activity_id)
    assert closed.signups_closed_at == NOW and not closed.is_open_for_signup(NOW)
    volunteer = await add_volunteer(db)
    with pytest.raises(Exception, match="closed"):
        await signups.sign_up(volunteer.telegram_id, activity.activity_id)
    with pytest.raises(ManageRefused):
        await service.close_signups(organizer, activity.activity_id)
    reopened = await service.reopen_signups(organizer, activity.activity_id)
    assert reopened.signups_closed_at is None and reopened.is_open_for_signup(NOW)
    await signups.sign_up(volunteer.telegram_id, activity.activity_id)
    await service.close_signups(organizer, activity.activity_id)
    clock.set(activity.starts_at + timedelta(minutes=1))
    with pytest.raises(ManageRefused):
        await service.reopen_signups(organizer, activity.activity_id)


# -- duplicating --------------------------------------------------------------------------------


async def test_duplicate_copies_fields_keeps_the_duration_and_has_no_signups(
    db: Database,
    service: ActivityManagementService,
    signups: SignupService,
    org: Organization,
    organizer: int,
) -> None:
    source = await add_activity(
        db,
        org,
        capacity=3,
        required_skills=("first_aid",),
        adults_only=True,
        people_served=("elderly_children",),
        latitude=28.19,
        longitude=112.97,
        key_date="volunteer_day",
        signup_deadline=NOW + timedelta(days=4),
        duration=timedelta(hours=2, minutes=30),
    )
    await crowd(db, signups, source, confirmed=1, waiting=0)
    parsed = parse_when("12/12 9:00", NOW, SHANGHAI)
    assert isinstance(parsed, ParsedWhen)
    copy = await service.duplicate(organizer, source.activity_id, parsed)
    assert isinstance(copy, Activity)
    assert copy.activity_id != source.activity_id
    assert copy.status is ActivityStatus.PUBLISHED
    assert copy.starts_at.astimezone(SHANGHAI).isoformat() == "2026-12-12T09:00:00+08:00"
    assert copy.ends_at - copy.starts_at == timedelta(hours=2, minutes=30)
    same = ("title", "place", "capacity", "required_skills", "adults_only", "people_served")
    for name in (*same, "latitude", "longitude", "category_code", "description"):
        assert getattr(copy, name) == getattr(source, name), name
    assert copy.confirmed_count == copy.waitlist_count == 0
    assert copy.signup_deadline == copy.starts_at - (source.starts_at - source.signup_deadline)  # type: ignore[operator]
    assert copy.key_date is None  # 12·12 is not the key date of the source's day

    ranged = parse_when("12/19 14:00-17:00", NOW, SHANGHAI)
    assert isinstance(ranged, ParsedWhen)
    other = await service.duplicate(organizer, source.activity_id, ranged)
    assert isinstance(other, Activity) and other.ends_at - other.starts_at == timedelta(hours=3)

    past = ParsedWhen(NOW - timedelta(days=1), None)
    assert await service.duplicate(organizer, source.activity_id, past) is WhenError.IN_THE_PAST
    long = ParsedWhen(NOW + timedelta(days=1), NOW + timedelta(days=9))
    assert await service.duplicate(organizer, source.activity_id, long) is WhenError.TOO_LONG


# -- messages -----------------------------------------------------------------------------------


async def test_message_goes_to_the_chosen_audience_once(
    db: Database,
    service: ActivityManagementService,
    signups: SignupService,
    org: Organization,
    organizer: int,
) -> None:
    activity = await add_activity(db, org, capacity=2)
    people = await crowd(db, signups, activity, confirmed=2, waiting=1)
    sizes = await service.audience_sizes(organizer, activity.activity_id)
    assert sizes == {Audience.CONFIRMED: 2, Audience.EVERYONE: 3}

    with pytest.raises(ManageRefused) as missing:
        await service.send_message(organizer, activity.activity_id)
    assert missing.value.reason is ManageRefusal.NO_DRAFT

    await service.begin(organizer, "message", activity.activity_id)
    await service.save_draft(
        ManageDraft(organizer, "message", activity.activity_id, "Bring water", "confirmed")
    )
    report = await service.send_message(organizer, activity.activity_id)
    assert report.queued == 2
    assert report.batch_key == f"orgmsg:{activity.activity_id}:{report.message_id}"
    rows = await outbox_rows(db, NotificationKind.ORGANIZER_MESSAGE)
    assert sorted(r["telegram_id"] for r in rows) == sorted(p.telegram_id for p in people[:2])
    assert await OutboxRepository(db).batch_counts(report.batch_key) == {"pending": 2}
    # The draft is gone: a second press sends nothing.
    with pytest.raises(ManageRefused):
        await service.send_message(organizer, activity.activity_id)

    await service.save_draft(
        ManageDraft(organizer, "message", activity.activity_id, "Parking is full", "everyone")
    )
    everyone = await service.send_message(organizer, activity.activity_id)
    assert everyone.queued == 3
    found = await service.message_for(people[2].telegram_id, everyone.message_id)
    assert found is not None and found[1] == "Parking is full"
    await signups.cancel(people[2].telegram_id, activity.activity_id)
    assert await service.message_for(people[2].telegram_id, everyone.message_id) is None


async def test_nobody_to_message(
    db: Database, service: ActivityManagementService, org: Organization, organizer: int
) -> None:
    activity = await add_activity(db, org)
    await service.save_draft(
        ManageDraft(organizer, "message", activity.activity_id, "Hello all", "everyone")
    )
    with pytest.raises(ManageRefused) as refused:
        await service.send_message(organizer, activity.activity_id)
    assert refused.value.reason is ManageRefusal.NOBODY


def test_a_preset_cancel_reason_is_shown_in_the_readers_language() -> None:
    from zoneinfo import ZoneInfo

    from bot.domain.users import Language
    from bot.i18n import translator
    from bot.services.activity_management import CANCEL_PRESETS, shown_cancel_reason

    stored = CANCEL_PRESETS["weather"]  # what the cancellation stores
    zh = translator(Language.ZH, ZoneInfo("Asia/Shanghai"))
    en = translator(Language.EN, ZoneInfo("Asia/Shanghai"))
    assert shown_cancel_reason(stored, en.gettext) == "Bad weather"
    assert shown_cancel_reason(stored, zh.gettext) == zh.gettext("Bad weather") != "Bad weather"
    # A typed reason is shown as typed, whatever the reader's language.
    assert shown_cancel_reason("场地漏水", en.gettext) == "场地漏水"
