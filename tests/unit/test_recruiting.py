"""bot.services.recruiting: finding volunteers for an activity, invitations and the under-staffed
alert, against a real migrated database and a manual clock.

``NOW`` is Monday 2026-11-23 10:00 in Shanghai; :func:`tests.factories.add_activity` starts
activities 5 days later (Saturday 10:00, a weekend morning) in category ``health`` and area
``furong``, which is what :func:`tests.factories.add_volunteer` picks by default (and the
default availability includes weekend mornings).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import Activity, MemberRole, Organization
from bot.domain.matching import ReasonKind
from bot.domain.notifications import NotificationKind
from bot.domain.volunteers import NotificationSettings, VolunteerProfile
from bot.services.recruiting import (
    DeclineOutcome,
    InviteOutcome,
    RecruitingPolicy,
    RecruitingService,
    is_understaffed,
    local_day_start,
)
from bot.services.signups import SignupService
from storage.activities import ActivitiesRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.recruiting import RecruitingRepository
from storage.signups import SignupsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, activity_model, add_activity, add_organization, add_user
from tests.factories import add_volunteer as _add_volunteer

SHANGHAI = ZoneInfo("Asia/Shanghai")
ORGANIZER = 7001


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def service(db: Database, clock: ManualClock, **policy: object) -> RecruitingService:
    return RecruitingService(
        db,
        RecruitingRepository(db),
        clock,
        SHANGHAI,
        RecruitingPolicy(**policy),  # type: ignore[arg-type]
    )


@pytest.fixture
async def org(db: Database) -> Organization:
    await add_user(db, ORGANIZER)  # who presses "Invite"
    return await add_organization(db)


async def add_volunteer(db: Database, name: str, **fields: object) -> VolunteerProfile:
    return await _add_volunteer(db, name=name, **fields)  # type: ignore[arg-type]


def names(found: object) -> list[str]:
    return [m.name for m in found.matches]  # type: ignore[attr-defined]


async def invitation_rows(db: Database) -> list[dict[str, object]]:
    rows = await db.fetch_all(
        "SELECT kind, telegram_id, payload, batch_key, status FROM outbox "
        "WHERE kind = 'invitation' ORDER BY notification_id"
    )
    return [dict(zip(row.keys(), tuple(row), strict=True)) for row in rows]


# -- ranking --------------------------------------------------------------------------------------


async def test_ranking_uses_the_matching_scores_and_reasons(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    await add_volunteer(db, "Best")  # health, Furong, free weekend mornings
    await add_volunteer(db, "Interest and time", area_code="yuelu")
    await add_volunteer(db, "Neighbour", categories=("culture",), availability=0)
    await add_volunteer(db, "Only free then", categories=("culture",), area_code="yuelu")
    activity = await add_activity(db, org)

    found = await service(db, clock).find(activity)

    assert found.open
    assert names(found) == ["Best", "Interest and time", "Neighbour"]
    best = found.matches[0]
    kinds = [reason.kind for reason in best.reasons]
    assert kinds == [ReasonKind.INTEREST, ReasonKind.AVAILABILITY, ReasonKind.AREA]
    assert best.score == 40 + 20 + 15
    assert [m.score for m in found.matches] == [75, 60, 15]
    # What an organizer may see: no phone number anywhere in the match.
    assert not hasattr(best, "phone")


async def test_required_skills_are_the_search_start_and_a_reason(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    await add_volunteer(db, "Medic", skills=("first_aid", "medical"), categories=("culture",))
    await add_volunteer(db, "Half", skills=("first_aid",))
    await add_volunteer(db, "None")
    activity = await add_activity(db, org, required_skills=("first_aid", "medical"))

    found = await service(db, clock).find(activity)

    assert names(found) == ["Medic"]
    skill = next(r for r in found.matches[0].reasons if r.kind is ReasonKind.SKILL)
    assert skill.codes == ("first_aid", "medical")


async def test_every_exclusion(db: Database, clock: ManualClock, org: Organization) -> None:
    volunteers = VolunteersRepository(db)
    activity = await add_activity(db, org, adults_only=True)
    other = await add_activity(db, org, title="Other")
    same_time = await add_activity(db, org, title="Same time", category_code="culture")
    keep = await add_volunteer(db, "Kept")
    signed = await add_volunteer(db, "Signed up")
    paused = await add_volunteer(db, "Paused")
    deleted = await add_volunteer(db, "Deleted")
    opted_out = await add_volunteer(db, "Opted out")
    recently = await add_volunteer(db, "Recently invited")
    await add_volunteer(db, "Minor", is_minor=True, birth_date=date(2012, 1, 1))
    unreachable = await add_volunteer(db, "Unreachable")
    busy = await add_volunteer(db, "Busy")

    signups = SignupService(
        db,
        volunteers,
        ActivitiesRepository(db),
        SignupsRepository(db),
        OutboxRepository(db),
        clock,
        SHANGHAI,
    )
    await signups.sign_up(signed.telegram_id, activity.activity_id)
    await signups.sign_up(busy.telegram_id, same_time.activity_id)
    await volunteers.pause(paused.telegram_id, date(2026, 12, 31), NOW)
    await volunteers.delete_account(deleted.telegram_id, NOW)
    await volunteers.set_notifications(
        opted_out.telegram_id, NotificationSettings(invitations=False), NOW
    )
    await UsersRepository(db).mark_unreachable(unreachable.telegram_id, NOW)
    recruiting = service(db, clock, batch_size=1)
    # Invited to another activity a moment ago: inside the cool-down.
    async with db.transaction() as tx:
        await RecruitingRepository.invite(
            tx, other.activity_id, [recently.volunteer_id], ORGANIZER, NOW
        )

    found = await recruiting.find(activity)

    assert names(found) == [keep.real_name]

    # Paused until a date in the past: listed again.
    await volunteers.pause(paused.telegram_id, date(2026, 11, 23), NOW)
    assert "Paused" in names(await recruiting.find(activity))


async def test_closed_activity_lists_nobody(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    await add_volunteer(db, "Ready")
    activity = await add_activity(db, org, starts_in=timedelta(hours=1))
    clock.advance(timedelta(hours=2))
    found = await service(db, clock).find(activity)
    assert not found.open and found.matches == ()
    result = await service(db, clock).invite(activity, ORGANIZER, expected_total=0)
    assert result.outcome is InviteOutcome.CLOSED


# -- inviting -------------------------------------------------------------------------------------


async def test_invite_top_n_queues_one_card_each_in_one_batch(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    people = [await add_volunteer(db, f"V{i}") for i in range(5)]
    activity = await add_activity(db, org)
    recruiting = service(db, clock, batch_size=3)

    result = await recruiting.invite(activity, ORGANIZER, expected_total=0)

    assert result.outcome is InviteOutcome.SENT and result.invited == 3
    rows = await invitation_rows(db)
    assert [row["telegram_id"] for row in rows] == [p.telegram_id for p in people[:3]]
    assert {row["batch_key"] for row in rows} == {result.batch_key}
    assert all(row["payload"] == f'{{"activity_id": {activity.activity_id}}}' for row in rows)
    counts = await recruiting.counts(activity.activity_id)
    assert (counts.total, counts.today) == (3, 3)
    # The invited are no longer listed; the rest are.
    assert names(await recruiting.find(activity)) == ["V3", "V4"]


async def test_a_second_press_of_the_same_confirm_button_sends_nothing(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    for i in range(4):
        await add_volunteer(db, f"V{i}")
    activity = await add_activity(db, org)
    recruiting = service(db, clock, batch_size=2)
    assert (await recruiting.invite(activity, ORGANIZER, expected_total=0)).invited == 2
    again = await recruiting.invite(activity, ORGANIZER, expected_total=0)
    assert again.outcome is InviteOutcome.STALE
    assert len(await invitation_rows(db)) == 2


async def test_daily_cap_per_activity_and_local_day(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    for i in range(8):
        await add_volunteer(db, f"V{i}")
    activity = await add_activity(db, org, starts_in=timedelta(days=6))
    recruiting = service(db, clock, batch_size=2, daily_cap=3)

    first = await recruiting.invite(activity, ORGANIZER, expected_total=0)
    second = await recruiting.invite(activity, ORGANIZER, expected_total=2)
    third = await recruiting.invite(activity, ORGANIZER, expected_total=3)

    assert (first.invited, second.invited) == (2, 1)
    assert third.outcome is InviteOutcome.DAILY_CAP and third.today == 3
    # Local midnight in Shanghai (16:00 UTC) starts a new day.
    assert local_day_start(NOW, SHANGHAI) == datetime(2026, 11, 23, tzinfo=SHANGHAI)
    clock.set(datetime(2026, 11, 24, 0, 1, tzinfo=SHANGHAI))
    fourth = await recruiting.invite(activity, ORGANIZER, expected_total=3)
    assert fourth.outcome is InviteOutcome.SENT and fourth.invited == 2


async def test_cooldown_then_a_non_responder_is_invited_again(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    quiet = await add_volunteer(db, "Quiet")
    activity = await add_activity(db, org, starts_in=timedelta(days=20))
    other = await add_activity(db, org, title="Other", starts_in=timedelta(days=21))
    recruiting = service(db, clock)
    assert (await recruiting.invite(activity, ORGANIZER, expected_total=0)).invited == 1

    clock.advance(timedelta(days=6, hours=23))
    assert names(await recruiting.find(activity)) == []
    assert names(await recruiting.find(other)) == []  # the cool-down covers every activity

    clock.advance(timedelta(hours=2))
    assert names(await recruiting.find(activity)) == ["Quiet"]
    again = await recruiting.invite(activity, ORGANIZER, expected_total=1)
    assert again.invited == 1
    rows = await invitation_rows(db)
    assert [row["telegram_id"] for row in rows] == [quiet.telegram_id] * 2  # a new message
    assert (await recruiting.counts(activity.activity_id)).total == 1  # one invitation row


async def test_decline_is_remembered_and_checked(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    no = await add_volunteer(db, "No thanks")
    stranger = await add_volunteer(db, "Never invited", categories=("culture",), area_code=None)
    activity = await add_activity(db, org, starts_in=timedelta(days=20))
    recruiting = service(db, clock)
    await recruiting.invite(activity, ORGANIZER, expected_total=0)

    assert await recruiting.decline(no.telegram_id, activity.activity_id) is (
        DeclineOutcome.DECLINED
    )
    assert await recruiting.decline(no.telegram_id, activity.activity_id) is (
        DeclineOutcome.ALREADY_DECLINED
    )
    # Someone who was not invited cannot decline (a forged press): nothing is written.
    assert await recruiting.decline(stranger.telegram_id, activity.activity_id) is (
        DeclineOutcome.NOT_INVITED
    )
    assert await recruiting.invitation_of(stranger.telegram_id, activity.activity_id) is None
    counts = await recruiting.counts(activity.activity_id)
    assert (counts.total, counts.declined) == (1, 1)

    clock.advance(timedelta(days=8))  # past the cool-down: still not listed for this one
    assert names(await recruiting.find(activity)) == []
    other = await add_activity(db, org, title="Other", starts_in=timedelta(days=15), now=clock())
    assert names(await recruiting.find(other)) == ["No thanks"]


async def test_signing_up_answers_the_invitation(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    yes = await add_volunteer(db, "Yes")
    activity = await add_activity(db, org)
    recruiting = service(db, clock)
    await recruiting.invite(activity, ORGANIZER, expected_total=0)
    signups = SignupService(
        db,
        VolunteersRepository(db),
        ActivitiesRepository(db),
        SignupsRepository(db),
        OutboxRepository(db),
        clock,
        SHANGHAI,
    )
    await signups.sign_up(yes.telegram_id, activity.activity_id)
    assert await recruiting.note_signed_up(activity.activity_id) == 1
    invitation = await recruiting.invitation_of(yes.telegram_id, activity.activity_id)
    assert invitation is not None and invitation.response == "signed_up"
    # Declining afterwards does not undo it.
    assert await recruiting.decline(yes.telegram_id, activity.activity_id) is (
        DeclineOutcome.SIGNED_UP
    )
    counts = await recruiting.counts(activity.activity_id)
    assert counts.signed_up == 1 and counts.declined == 0


# -- under-staffed --------------------------------------------------------------------------------


def test_is_understaffed_counts_confirmed_only() -> None:
    start = NOW + timedelta(days=1)
    assert is_understaffed(activity_model(start, capacity=10, confirmed_count=4), 0.5)
    assert not is_understaffed(activity_model(start, capacity=10, confirmed_count=5), 0.5)
    assert is_understaffed(
        activity_model(start, capacity=10, confirmed_count=4, offered_count=3), 0.5
    )


async def understaffed_rows(db: Database) -> list[tuple[int, str]]:
    rows = await db.fetch_all(
        "SELECT telegram_id, payload FROM outbox WHERE kind = ? ORDER BY notification_id",
        (NotificationKind.UNDERSTAFFED.value,),
    )
    return [(row["telegram_id"], row["payload"]) for row in rows]


async def test_understaffed_alert_once_per_activity_and_organizer(
    db: Database, clock: ManualClock, org: Organization
) -> None:
    organizations = OrganizationsRepository(db)
    members = [await add_user(db), await add_user(db)]
    for member in members:
        await organizations.add_member(org.organization_id, member, MemberRole.ORGANIZER, NOW)
    outsider_org = await add_organization(db, name="Other org")
    outsider = await add_user(db)
    await organizations.add_member(outsider_org.organization_id, outsider, MemberRole.MANAGER, NOW)
    short: Activity = await add_activity(db, org, starts_in=timedelta(hours=40), capacity=4)
    later = await add_activity(db, org, starts_in=timedelta(hours=60), capacity=4)
    await add_activity(db, org, starts_in=timedelta(hours=30), capacity=1)  # filled below
    full = await add_activity(db, org, starts_in=timedelta(hours=30), capacity=1)
    keen = await add_volunteer(db, "Keen")
    signups = SignupService(
        db,
        VolunteersRepository(db),
        ActivitiesRepository(db),
        SignupsRepository(db),
        OutboxRepository(db),
        clock,
        SHANGHAI,
    )
    await signups.sign_up(keen.telegram_id, full.activity_id)
    recruiting = service(db, clock)

    assert await recruiting.alert_understaffed() == 2  # "short" and the unfilled one
    first = await understaffed_rows(db)
    assert {telegram_id for telegram_id, _ in first} == set(members)
    assert f'{{"activity_id": {short.activity_id}}}' in {payload for _, payload in first}
    assert await recruiting.alert_understaffed() == 0  # once
    assert await understaffed_rows(db) == first

    clock.advance(timedelta(hours=13))  # "later" is now 47 h away
    assert await recruiting.alert_understaffed() == 1
    payloads = [payload for _, payload in await understaffed_rows(db)]
    assert payloads[-1] == f'{{"activity_id": {later.activity_id}}}'
    assert len(payloads) == len(first) + 2
