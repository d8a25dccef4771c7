"""bot.services.reminders: planning reminders on confirmation, staleness at send time, and the
"Still coming?" answers (through SignupService).

A real migrated database and a manual clock (``NOW`` is Monday 2026-11-23 10:00 in Shanghai);
activities start 5 days after ``NOW`` unless told otherwise; offsets are the default 24 h, 2 h.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import Activity, EndReason, Organization, SignupStatus
from bot.domain.notifications import NotificationKind, OutboxItem
from bot.domain.volunteers import NotificationSettings, VolunteerProfile
from bot.services.reminders import ReminderService, StillComing, still_coming_state
from bot.services.signups import (
    Refusal,
    SignupPolicy,
    SignupRefused,
    SignupService,
    StillComingOutcome,
)
from storage.activities import ActivitiesRepository
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.reminders import RemindersRepository
from storage.signups import SignupsRepository
from storage.timeutil import to_db_time
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_volunteer

SHANGHAI = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
LEASE = timedelta(seconds=60)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def reminders(db: Database, clock: ManualClock) -> ReminderService:
    return ReminderService(RemindersRepository(db), OutboxRepository(db), clock, (2 * H, 24 * H))


@pytest.fixture
def service(db: Database, clock: ManualClock, reminders: ReminderService) -> SignupService:
    return SignupService(
        db,
        VolunteersRepository(db),
        ActivitiesRepository(db),
        SignupsRepository(db),
        OutboxRepository(db),
        clock,
        SHANGHAI,
        SignupPolicy(),
        reminders=reminders,
    )


@pytest.fixture
async def org(db: Database) -> Organization:
    return await add_organization(db)


async def reminder_rows(db: Database, telegram_id: int) -> list[dict[str, Any]]:
    rows = await db.fetch_all(
        "SELECT dedup_key, status, payload, due_at FROM outbox WHERE telegram_id = ? "
        "AND kind = 'reminder' ORDER BY due_at, notification_id",
        (telegram_id,),
    )
    return [
        {
            "key": row["dedup_key"],
            "status": row["status"],
            "payload": json.loads(row["payload"]),
            "due_at": row["due_at"],
        }
        for row in rows
    ]


async def due_reminders(
    db: Database, clock: ManualClock, telegram_id: int | None = None
) -> list[OutboxItem]:
    """Claim what is due now (as the delivery job does) and mark it done, so a later call
    sees only what came due since; reminders only (of one recipient when given)."""
    outbox = OutboxRepository(db)
    items = await outbox.claim_due(clock(), LEASE, 100)
    for item in items:
        await outbox.finish(item.notification_id, "sent", clock())
    return [
        item
        for item in items
        if item.kind is NotificationKind.REMINDER
        and (telegram_id is None or item.telegram_id == telegram_id)
    ]


async def move_activity(db: Database, activity: Activity, delta: timedelta) -> None:
    """The organizer moves the activity (publishing's editor; written straight here)."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET starts_at = ?, ends_at = ? WHERE activity_id = ?",
            (
                to_db_time(activity.starts_at + delta),
                to_db_time(activity.ends_at + delta),
                activity.activity_id,
            ),
        )


async def still_coming_columns(db: Database, signup_id: int) -> tuple[str | None, str | None]:
    row = await db.fetch_one(
        "SELECT still_coming, still_coming_asked_at FROM signups WHERE signup_id = ?",
        (signup_id,),
    )
    assert row is not None
    return row["still_coming"], row["still_coming_asked_at"]


# -- planning -------------------------------------------------------------------------------------


async def test_offsets_are_sorted_longest_first(reminders: ReminderService) -> None:
    assert reminders.offsets == (24 * H, 2 * H)


async def test_sign_up_plans_one_reminder_per_offset(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    result = await service.sign_up(volunteer.telegram_id, activity.activity_id)

    rows = await reminder_rows(db, volunteer.telegram_id)
    assert [row["due_at"] for row in rows] == [
        to_db_time(activity.starts_at - 24 * H),
        to_db_time(activity.starts_at - 2 * H),
    ]
    assert [row["payload"]["ask"] for row in rows] == [1, 0]  # the 24 h one asks
    assert {row["payload"]["signup_id"] for row in rows} == {result.signup.signup_id}
    assert all(row["status"] == "pending" for row in rows)


async def test_replanning_is_idempotent(
    db: Database, service: SignupService, reminders: ReminderService, org: Organization
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    before = await reminder_rows(db, volunteer.telegram_id)

    async with db.transaction() as tx:
        assert await reminders.replan_activity(tx, activity.activity_id, NOW) == 0
        assert await reminders.replan_activity(tx, activity.activity_id, NOW) == 0
    # Pressing Sign up again (already confirmed) plans nothing either.
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    assert await reminder_rows(db, volunteer.telegram_id) == before


async def test_late_sign_up_gets_only_the_reminders_ahead(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity = await add_activity(db, org, starts_in=10 * H)  # the 24 h mark has passed
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)

    rows = await reminder_rows(db, volunteer.telegram_id)
    assert [(row["due_at"], row["payload"]["ask"]) for row in rows] == [
        (to_db_time(activity.starts_at - 2 * H), 0)
    ]


async def test_sign_up_inside_the_last_offset_gets_no_reminder(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity = await add_activity(db, org, starts_in=H)
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    assert await reminder_rows(db, volunteer.telegram_id) == []


async def test_waitlisted_volunteer_gets_reminders_only_once_confirmed(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=1)
    first, second = await add_volunteer(db), await add_volunteer(db)
    await service.sign_up(first.telegram_id, activity.activity_id)
    waiting = await service.join_waitlist(second.telegram_id, activity.activity_id)
    assert await reminder_rows(db, second.telegram_id) == []

    clock.advance(3 * 24 * H)  # 48 h before the start: both reminders still ahead
    await service.cancel(first.telegram_id, activity.activity_id)
    await service.accept_offer(second.telegram_id, waiting.signup.signup_id)
    rows = await reminder_rows(db, second.telegram_id)
    assert [row["payload"]["ask"] for row in rows] == [1, 0]


async def test_replan_after_a_time_change_plans_new_rows_and_old_ones_go_stale(
    db: Database,
    service: SignupService,
    reminders: ReminderService,
    clock: ManualClock,
    org: Organization,
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    result = await service.sign_up(volunteer.telegram_id, activity.activity_id)
    signup_id = result.signup.signup_id
    async with db.transaction() as tx:
        await RemindersRepository.set_answer(tx, signup_id, "yes")

    await move_activity(db, activity, 24 * H)  # a day later
    async with db.transaction() as tx:
        assert await reminders.replan_activity(tx, activity.activity_id, clock()) == 2
    assert await still_coming_columns(db, signup_id) == (None, None)  # about the old time
    rows = await reminder_rows(db, volunteer.telegram_id)
    assert len(rows) == 4
    moved = activity.starts_at + 24 * H

    # At the old 24 h mark, the old row is due and dropped as stale.
    clock.set(activity.starts_at - 24 * H)
    items = await due_reminders(db, clock)
    assert len(items) == 1
    assert await reminders.due(items[0]) is None
    # At the new 24 h mark, the new row is sent.
    clock.set(moved - 24 * H)  # also the old 2 h mark: that row is dropped, the new one sent
    old, new = await due_reminders(db, clock)
    assert old.payload["starts_at"] == activity.starts_at.isoformat(timespec="microseconds")
    assert new.payload["starts_at"] == moved.isoformat(timespec="microseconds")
    assert await reminders.due(old) is None
    due = await reminders.due(new)
    assert due is not None and due.asks and due.offset == 24 * H


async def test_a_late_time_change_resets_the_answer_even_with_no_reminder_ahead(
    db: Database,
    service: SignupService,
    reminders: ReminderService,
    clock: ManualClock,
    org: Organization,
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    signup_id = (
        await service.sign_up(volunteer.telegram_id, activity.activity_id)
    ).signup.signup_id
    async with db.transaction() as tx:
        await RemindersRepository.set_answer(tx, signup_id, "yes")
    # An hour before the start it is moved half an hour later: no offset is ahead any more,
    # yet the "yes" was about the old time.
    clock.set(activity.starts_at - 1 * H)
    await move_activity(db, activity, H / 2)
    async with db.transaction() as tx:
        assert await reminders.replan_activity(tx, activity.activity_id, clock()) == 0
    assert await still_coming_columns(db, signup_id) == (None, None)


# -- staleness and opt-out at send time ----------------------------------------------------------


async def test_due_reminder_is_sent_once_at_each_offset(
    db: Database, service: SignupService, reminders: ReminderService, clock: ManualClock,
    org: Organization,
) -> None:  # fmt: skip
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)

    clock.set(activity.starts_at - 24 * H - timedelta(minutes=1))
    assert await due_reminders(db, clock) == []
    clock.set(activity.starts_at - 24 * H)
    first = await due_reminders(db, clock)
    assert len(first) == 1
    assert (await reminders.due(first[0])) is not None
    assert await due_reminders(db, clock) == []
    clock.set(activity.starts_at - 2 * H)
    second = await due_reminders(db, clock)
    assert len(second) == 1
    due = await reminders.due(second[0])
    assert due is not None and not due.asks


async def test_cancelled_sign_up_reminder_is_stale(
    db: Database, service: SignupService, reminders: ReminderService, clock: ManualClock,
    org: Organization,
) -> None:  # fmt: skip
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    await service.cancel(volunteer.telegram_id, activity.activity_id)
    clock.set(activity.starts_at - 24 * H)
    items = await due_reminders(db, clock)
    assert len(items) == 1
    assert await reminders.due(items[0]) is None


async def test_cancelled_activity_reminder_is_stale(
    db: Database, service: SignupService, reminders: ReminderService, clock: ManualClock,
    org: Organization,
) -> None:  # fmt: skip
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET status = 'cancelled', cancelled_at = ? WHERE activity_id = ?",
            (to_db_time(NOW), activity.activity_id),
        )
    clock.set(activity.starts_at - 24 * H)
    items = await due_reminders(db, clock)
    assert await reminders.due(items[0]) is None


async def test_reminder_delivered_after_the_start_is_stale(
    db: Database, service: SignupService, reminders: ReminderService, clock: ManualClock,
    org: Organization,
) -> None:  # fmt: skip
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    clock.set(activity.starts_at + timedelta(minutes=5))  # the bot was down
    items = await due_reminders(db, clock)
    assert len(items) == 2
    assert [await reminders.due(item) for item in items] == [None, None]


async def test_opted_out_volunteer_gets_no_reminder_and_opting_in_again_works(
    db: Database, service: SignupService, reminders: ReminderService, clock: ManualClock,
    org: Organization,
) -> None:  # fmt: skip
    """The opt-out is decided at send time: planned rows exist, but are dropped while off."""
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    volunteers = VolunteersRepository(db)
    await volunteers.set_notifications(
        volunteer.telegram_id, NotificationSettings(reminders=False), NOW
    )
    clock.set(activity.starts_at - 24 * H)
    [ask] = await due_reminders(db, clock)
    assert await reminders.due(ask) is None
    # Switched back on before the 2 h reminder: that one goes out.
    await volunteers.set_notifications(
        volunteer.telegram_id, NotificationSettings(reminders=True), NOW
    )
    clock.set(activity.starts_at - 2 * H)
    [plain] = await due_reminders(db, clock)
    assert await reminders.due(plain) is not None


async def test_forged_payload_for_another_recipient_is_stale(
    db: Database, service: SignupService, reminders: ReminderService, clock: ManualClock,
    org: Organization,
) -> None:  # fmt: skip
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    clock.set(activity.starts_at - 24 * H)
    [item] = await due_reminders(db, clock)
    other = item.model_copy(update={"telegram_id": volunteer.telegram_id + 1})
    assert await reminders.due(other) is None
    broken = item.model_copy(update={"payload": {"signup_id": "x"}})
    assert await reminders.due(broken) is None


# -- "Still coming?" ------------------------------------------------------------------------------


async def _asked(
    db: Database,
    service: SignupService,
    reminders: ReminderService,
    clock: ManualClock,
    volunteer: VolunteerProfile,
    activity: Activity,
) -> int:
    """Sign up, and let the "Still coming?" reminder go out."""
    result = await service.sign_up(volunteer.telegram_id, activity.activity_id)
    clock.set(activity.starts_at - 24 * H)
    [item] = await due_reminders(db, clock, volunteer.telegram_id)
    due = await reminders.due(item)
    assert due is not None and due.asks
    await reminders.mark_asked(due.signup_id)
    return result.signup.signup_id


async def test_roster_states_not_asked_no_answer_yes(
    db: Database, service: SignupService, reminders: ReminderService, clock: ManualClock,
    org: Organization,
) -> None:  # fmt: skip
    activity = await add_activity(db, org)
    a, b = await add_volunteer(db), await add_volunteer(db)
    signup_a = (await service.sign_up(a.telegram_id, activity.activity_id)).signup.signup_id
    assert await reminders.roster_answers(activity.activity_id) == {signup_a: StillComing.NOT_ASKED}
    signup_b = await _asked(db, service, reminders, clock, b, activity)
    await reminders.mark_asked(signup_a)
    await service.answer_still_coming(b.telegram_id, signup_b, coming=True)
    assert await reminders.roster_answers(activity.activity_id) == {
        signup_a: StillComing.NO_ANSWER,
        signup_b: StillComing.YES,
    }
    assert still_coming_state("no", None) is StillComing.NO


async def test_yes_is_recorded(
    db: Database, service: SignupService, reminders: ReminderService, clock: ManualClock,
    org: Organization,
) -> None:  # fmt: skip
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    signup_id = await _asked(db, service, reminders, clock, volunteer, activity)
    result = await service.answer_still_coming(volunteer.telegram_id, signup_id, coming=True)
    assert result.outcome is StillComingOutcome.COMING
    answer, asked = await still_coming_columns(db, signup_id)
    assert answer == "yes" and asked == to_db_time(activity.starts_at - 24 * H)


async def test_no_cancels_and_offers_the_spot_to_the_waitlist(
    db: Database, service: SignupService, reminders: ReminderService, clock: ManualClock,
    org: Organization,
) -> None:  # fmt: skip
    activity = await add_activity(db, org, capacity=1)
    volunteer, waiting = await add_volunteer(db), await add_volunteer(db)
    signup = (await service.sign_up(volunteer.telegram_id, activity.activity_id)).signup
    await service.join_waitlist(waiting.telegram_id, activity.activity_id)
    clock.set(activity.starts_at - 24 * H)

    result = await service.answer_still_coming(
        volunteer.telegram_id, signup.signup_id, coming=False
    )
    assert result.outcome is StillComingOutcome.CANCELLED
    assert result.signup.status is SignupStatus.CANCELLED
    assert result.signup.end_reason is EndReason.VOLUNTEER
    assert (await still_coming_columns(db, signup.signup_id))[0] == "no"
    offered = await SignupsRepository(db).get(activity.activity_id, waiting.volunteer_id)
    assert offered is not None and offered.status is SignupStatus.OFFERED
    offers = await db.fetch_all(
        "SELECT kind FROM outbox WHERE telegram_id = ? AND kind = 'waitlist_offer'",
        (waiting.telegram_id,),
    )
    assert len(offers) == 1
    # The freed volunteer's 2 h reminder is dropped at send time.
    clock.set(activity.starts_at - 2 * H)
    items = await due_reminders(db, clock)
    mine = [item for item in items if item.telegram_id == volunteer.telegram_id]
    assert len(mine) == 2  # the 24 h one (never claimed here) and the 2 h one
    assert [await reminders.due(item) for item in mine] == [None, None]


async def test_no_after_the_cut_off_is_recorded_but_keeps_the_sign_up(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    signup = (await service.sign_up(volunteer.telegram_id, activity.activity_id)).signup
    clock.set(activity.starts_at - H)
    result = await service.answer_still_coming(
        volunteer.telegram_id, signup.signup_id, coming=False
    )
    assert result.outcome is StillComingOutcome.TOO_LATE
    stored = await SignupsRepository(db).get_by_id(signup.signup_id)
    assert stored is not None and stored.status is SignupStatus.CONFIRMED
    assert (await still_coming_columns(db, signup.signup_id))[0] == "no"


async def test_answers_on_someone_elses_or_a_stale_sign_up_change_nothing(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity = await add_activity(db, org)
    owner, other = await add_volunteer(db), await add_volunteer(db)
    signup = (await service.sign_up(owner.telegram_id, activity.activity_id)).signup
    clock.set(activity.starts_at - 24 * H)

    for coming in (True, False):
        with pytest.raises(SignupRefused) as info:
            await service.answer_still_coming(other.telegram_id, signup.signup_id, coming=coming)
        assert info.value.reason is Refusal.NOT_YOURS
    assert await still_coming_columns(db, signup.signup_id) == (None, None)
    stored = await SignupsRepository(db).get_by_id(signup.signup_id)
    assert stored is not None and stored.status is SignupStatus.CONFIRMED

    await service.cancel(owner.telegram_id, activity.activity_id)
    with pytest.raises(SignupRefused) as info:
        await service.answer_still_coming(owner.telegram_id, signup.signup_id, coming=True)
    assert info.value.reason is Refusal.NOT_SIGNED_UP

    clock.set(activity.starts_at + H)
    with pytest.raises(SignupRefused) as info:
        await service.answer_still_coming(owner.telegram_id, signup.signup_id, coming=True)
    assert info.value.reason is Refusal.NOT_SIGNED_UP


async def test_signing_up_again_forgets_the_earlier_answer(
    db: Database, service: SignupService, reminders: ReminderService, clock: ManualClock,
    org: Organization,
) -> None:  # fmt: skip
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    signup_id = await _asked(db, service, reminders, clock, volunteer, activity)
    await service.answer_still_coming(volunteer.telegram_id, signup_id, coming=False)
    assert (await still_coming_columns(db, signup_id))[0] == "no"
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    assert await still_coming_columns(db, signup_id) == (None, None)
