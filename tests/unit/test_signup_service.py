"""bot.services.signups.SignupService: the sign-up rules, the waitlist and its offers.

Runs against a real migrated database, a manual clock (``NOW`` is Monday 2026-11-23 10:00 in
Shanghai) and the default policy: cancel until 2 h before the start, offers held for 12 h.
Activities built by :func:`tests.factories.add_activity` start 5 days after ``NOW`` (Saturday
10:00) unless told otherwise, in category ``health`` and area ``furong``, which is what
:func:`tests.factories.add_volunteer` chooses by default.

After every test, each activity's counters must equal a recount of its sign-up rows (the
autouse fixture :func:`counters_match_rows`); several tests also check it mid-way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import (
    Activity,
    ActivityStatus,
    EndReason,
    Organization,
    Signup,
    SignupStatus,
)
from bot.domain.geo import Point
from bot.domain.matching import ReasonKind
from bot.domain.notifications import NotificationKind
from bot.domain.volunteers import Slot, VolunteerProfile
from bot.services.signups import (
    MAX_CANCEL_NOTE_LENGTH,
    Outcome,
    Refusal,
    SignupPolicy,
    SignupRefused,
    SignupResult,
    SignupService,
    offer_deadline,
)
from storage.activities import ActivitiesRepository
from storage.backends import open_database
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.signups import SignupsRepository
from storage.timeutil import to_db_time
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_user, add_volunteer

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 23)  # NOW's date in Shanghai


# -- fixtures and helpers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    confirmed: int
    offered: int
    waitlisted: int


async def recount(db: Database, activity_id: int) -> Counts:
    """The activity's sign-ups counted from the rows themselves."""
    rows = await db.fetch_all(
        "SELECT status, COUNT(*) AS n FROM signups WHERE activity_id = ? GROUP BY status",
        (activity_id,),
    )
    by_status = {row["status"]: row["n"] for row in rows}
    return Counts(
        by_status.get("confirmed", 0), by_status.get("offered", 0), by_status.get("waitlisted", 0)
    )


async def stored_counters(db: Database, activity_id: int) -> Counts:
    activity = await ActivitiesRepository(db).get(activity_id)
    assert activity is not None
    return Counts(activity.confirmed_count, activity.offered_count, activity.waitlist_count)


async def assert_counters_right(db: Database, activity_id: int) -> Counts:
    """The counters on ``activities`` equal the recount, and never exceed the capacity."""
    counted = await recount(db, activity_id)
    assert await stored_counters(db, activity_id) == counted, f"activity {activity_id}"
    activity = await ActivitiesRepository(db).get(activity_id)
    assert activity is not None
    assert counted.confirmed + counted.offered <= activity.capacity
    return counted


@pytest.fixture(autouse=True)
async def counters_match_rows(db: Database) -> AsyncIterator[None]:
    yield
    for row in await db.fetch_all("SELECT activity_id FROM activities"):
        await assert_counters_right(db, row["activity_id"])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def _service_on(db: Database, clock: ManualClock) -> SignupService:
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
def service(db: Database, clock: ManualClock) -> SignupService:
    return _service_on(db, clock)


@pytest.fixture(params=["one connection", "two processes"])
async def racers(
    request: pytest.FixtureRequest, db: Database, db_path: Path, clock: ManualClock
) -> AsyncIterator[list[SignupService]]:
    """The services concurrent presses go through: one, or two on independent ``Database``
    objects on the same file (as two bot processes would be), so correctness never rests on
    one process's write lock but on the guarded statements."""
    if request.param == "one connection":
        yield [_service_on(db, clock)]
        return
    other = await open_database(db_path)
    try:
        yield [_service_on(db, clock), _service_on(other, clock)]
    finally:
        await other.close()


@pytest.fixture
async def org(db: Database) -> Organization:
    return await add_organization(db)


async def refusal_of(action: Awaitable[object]) -> SignupRefused:
    """The refusal an action raises (fails the test if it does not raise one)."""
    with pytest.raises(SignupRefused) as info:
        await action
    return info.value


async def outbox_of(db: Database, telegram_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, status, payload) of every outbox row for one recipient, oldest first."""
    rows = await OutboxRepository(db).for_recipient(telegram_id)
    return [(row["kind"], row["status"], json.loads(row["payload"])) for row in rows]


async def volunteers(db: Database, count: int, **fields: Any) -> list[VolunteerProfile]:
    return [await add_volunteer(db, **fields) for _ in range(count)]


async def full_with_waitlist(
    db: Database, service: SignupService, org: Organization, *, waiting: int, **fields: Any
) -> tuple[Activity, VolunteerProfile, list[VolunteerProfile]]:
    """An activity of capacity 1 taken by one volunteer, with ``waiting`` others in line
    (joined in this order)."""
    activity = await add_activity(db, org, capacity=1, **fields)
    holder = await add_volunteer(db)
    assert (await service.sign_up(holder.telegram_id, activity.activity_id)).outcome is (
        Outcome.CONFIRMED
    )
    line = await volunteers(db, waiting)
    for person in line:
        result = await service.join_waitlist(person.telegram_id, activity.activity_id)
        assert result.outcome is Outcome.WAITLISTED
    return activity, holder, line


async def signup_of(db: Database, activity_id: int, volunteer: VolunteerProfile) -> Signup:
    signup = await SignupsRepository(db).get(activity_id, volunteer.volunteer_id)
    assert signup is not None
    return signup


def expiry(signup: Signup) -> datetime:
    assert signup.offer_expires_at is not None, signup
    return signup.offer_expires_at


# -- rule 1: a profile, not paused ----------------------------------------------------------------


async def test_a_user_without_a_volunteer_profile_is_refused(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity = await add_activity(db, org)
    stranger = await add_user(db)
    for action in (
        service.sign_up(stranger, activity.activity_id),
        service.join_waitlist(stranger, activity.activity_id),
        service.cancel(stranger, activity.activity_id),
        service.my_signups(stranger, upcoming=True, limit=10),
        service.for_you(stranger),
    ):
        assert (await refusal_of(action)).reason is Refusal.NO_PROFILE
    viewer = await service.viewer(stranger, activity)
    assert viewer.profile is None
    assert viewer.active_signup is None


async def test_a_paused_volunteer_is_refused_but_may_still_cancel(
    db: Database, service: SignupService, org: Organization
) -> None:
    first = await add_activity(db, org)
    second = await add_activity(db, org, starts_in=timedelta(days=6))
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, first.activity_id)
    await VolunteersRepository(db).pause(volunteer.telegram_id, TODAY + timedelta(days=7), NOW)

    for action in (
        service.sign_up(volunteer.telegram_id, second.activity_id),
        service.join_waitlist(volunteer.telegram_id, second.activity_id),
        service.sign_up(volunteer.telegram_id, 999_999),  # paused is checked first
    ):
        assert (await refusal_of(action)).reason is Refusal.PAUSED
    assert (await service.viewer(volunteer.telegram_id, second)).paused

    cancelled = await service.cancel(volunteer.telegram_id, first.activity_id)
    assert cancelled.previous is SignupStatus.CONFIRMED
    assert cancelled.signup.status is SignupStatus.CANCELLED
    assert await recount(db, first.activity_id) == Counts(0, 0, 0)


async def test_a_pause_ends_on_its_last_day(
    db: Database, service: SignupService, org: Organization
) -> None:
    """``paused_until`` is the day the volunteer is active again (local date)."""
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    await VolunteersRepository(db).pause(volunteer.telegram_id, TODAY, NOW)

    result = await service.sign_up(volunteer.telegram_id, activity.activity_id)
    assert result.outcome is Outcome.CONFIRMED


# -- rule 2: the activity's state -----------------------------------------------------------------


async def test_an_unknown_activity_or_a_draft_is_not_found(
    db: Database, service: SignupService, org: Organization
) -> None:
    draft = await add_activity(db, org, status=ActivityStatus.DRAFT)
    volunteer = await add_volunteer(db)
    for activity_id in (999_999, draft.activity_id):
        refusal = await refusal_of(service.sign_up(volunteer.telegram_id, activity_id))
        assert refusal.reason is Refusal.NOT_FOUND
        assert refusal.activity is None  # a draft is not shown to volunteers
    assert await recount(db, draft.activity_id) == Counts(0, 0, 0)


async def test_a_cancelled_activity_is_refused(
    db: Database, service: SignupService, org: Organization
) -> None:
    cancelled = await add_activity(db, org, status=ActivityStatus.CANCELLED)
    volunteer = await add_volunteer(db)
    for action in (
        service.sign_up(volunteer.telegram_id, cancelled.activity_id),
        service.join_waitlist(volunteer.telegram_id, cancelled.activity_id),
    ):
        refusal = await refusal_of(action)
        assert refusal.reason is Refusal.CANCELLED
        assert refusal.activity is not None
        assert refusal.activity.activity_id == cancelled.activity_id


async def test_an_activity_that_has_started_is_refused(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity = await add_activity(db, org, starts_in=timedelta(hours=1))
    volunteer = await add_volunteer(db)
    clock.advance(timedelta(hours=1))  # exactly the start
    refusal = await refusal_of(service.sign_up(volunteer.telegram_id, activity.activity_id))
    assert refusal.reason is Refusal.STARTED


async def test_sign_up_closes_at_the_organizers_deadline(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    deadline = NOW + timedelta(days=1)
    activity = await add_activity(db, org, signup_deadline=deadline)
    early, late = await volunteers(db, 2)

    clock.set(deadline - timedelta(microseconds=1))
    assert (await service.sign_up(early.telegram_id, activity.activity_id)).outcome is (
        Outcome.CONFIRMED
    )
    clock.set(deadline)
    for action in (
        service.sign_up(late.telegram_id, activity.activity_id),
        service.join_waitlist(late.telegram_id, activity.activity_id),
    ):
        assert (await refusal_of(action)).reason is Refusal.CLOSED


async def test_sign_up_closed_early_by_the_organizer_is_refused(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    # Closing early is not a NewActivity field: set it as the organizer's action would.
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET signups_closed_at = ? WHERE activity_id = ?",
            (to_db_time(NOW - timedelta(minutes=5)), activity.activity_id),
        )
    refusal = await refusal_of(service.sign_up(volunteer.telegram_id, activity.activity_id))
    assert refusal.reason is Refusal.CLOSED


# -- rule 3: skills and age -----------------------------------------------------------------------


async def test_missing_skills_are_named(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity = await add_activity(
        db, org, required_skills=("first_aid", "medical"), training_required=True
    )
    nurse = await add_volunteer(db, skills=("medical",))
    paramedic = await add_volunteer(db, skills=("medical", "first_aid"))

    refusal = await refusal_of(service.sign_up(nurse.telegram_id, activity.activity_id))
    assert refusal.reason is Refusal.MISSING_SKILLS
    assert refusal.missing == ("first_aid",)
    assert (await service.viewer(nurse.telegram_id, activity)).missing_skills == ("first_aid",)

    assert (await service.sign_up(paramedic.telegram_id, activity.activity_id)).outcome is (
        Outcome.CONFIRMED
    )


async def test_adults_only_refuses_a_minor(
    db: Database, service: SignupService, org: Organization
) -> None:
    adults_only = await add_activity(db, org, adults_only=True)
    for_everyone = await add_activity(db, org, starts_in=timedelta(days=6))
    minor = await add_volunteer(db, is_minor=True, birth_date=date(2010, 5, 4))
    adult = await add_volunteer(db)

    refusal = await refusal_of(service.sign_up(minor.telegram_id, adults_only.activity_id))
    assert refusal.reason is Refusal.ADULTS_ONLY
    assert (await service.viewer(minor.telegram_id, adults_only)).too_young
    assert (await service.sign_up(minor.telegram_id, for_everyone.activity_id)).outcome is (
        Outcome.CONFIRMED
    )
    assert (await service.sign_up(adult.telegram_id, adults_only.activity_id)).outcome is (
        Outcome.CONFIRMED
    )


async def test_rules_are_checked_in_the_documented_order(
    db: Database, service: SignupService, org: Organization
) -> None:
    """State (2) before skills (3); skills before age (3); age before a clash (4)."""
    minor = await add_volunteer(db, is_minor=True, birth_date=date(2010, 5, 4))
    taken = await add_activity(db, org)
    await service.sign_up(minor.telegram_id, taken.activity_id)
    at_the_same_time = taken.starts_at  # every activity below also clashes with ``taken``

    closed_and_gated = await add_activity(
        db, org, required_skills=("first_aid",), signup_deadline=NOW, starts_at=at_the_same_time
    )
    gated_and_adult = await add_activity(
        db, org, required_skills=("first_aid",), adults_only=True, starts_at=at_the_same_time
    )
    adult_and_clashing = await add_activity(db, org, adults_only=True, starts_at=at_the_same_time)
    for activity, reason in (
        (closed_and_gated, Refusal.CLOSED),
        (gated_and_adult, Refusal.MISSING_SKILLS),
        (adult_and_clashing, Refusal.ADULTS_ONLY),
    ):
        refusal = await refusal_of(service.sign_up(minor.telegram_id, activity.activity_id))
        assert refusal.reason is reason


# -- rule 4: time clash ---------------------------------------------------------------------------


async def test_a_time_clash_names_the_other_activity(
    db: Database, service: SignupService, org: Organization
) -> None:
    """A runs 10:00-13:00; B 12:00-14:00 overlaps it; C 13:00-15:00 only touches it."""
    a = await add_activity(db, org, title="上午义诊")
    b = await add_activity(db, org, starts_at=a.starts_at + timedelta(hours=2))
    c = await add_activity(db, org, starts_at=a.ends_at)
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, a.activity_id)

    for action in (
        service.sign_up(volunteer.telegram_id, b.activity_id),
        service.join_waitlist(volunteer.telegram_id, b.activity_id),
    ):
        refusal = await refusal_of(action)
        assert refusal.reason is Refusal.CLASH
        assert refusal.other is not None
        assert refusal.other.activity_id == a.activity_id
        assert refusal.other.title == "上午义诊"

    assert (await service.sign_up(volunteer.telegram_id, c.activity_id)).outcome is (
        Outcome.CONFIRMED
    )


async def test_only_confirmed_sign_ups_clash(
    db: Database, service: SignupService, org: Organization
) -> None:
    """Waiting for A does not stop the volunteer from taking B at the same time, nor does a
    cancelled sign-up."""
    a, _, (waiting,) = await full_with_waitlist(db, service, org, waiting=1)
    b = await add_activity(db, org, starts_at=a.starts_at)
    c = await add_activity(db, org, starts_at=a.starts_at + timedelta(days=1))
    d = await add_activity(db, org, starts_at=c.starts_at)
    assert (await service.sign_up(waiting.telegram_id, b.activity_id)).outcome is (
        Outcome.CONFIRMED
    )
    await service.sign_up(waiting.telegram_id, c.activity_id)
    await service.cancel(waiting.telegram_id, c.activity_id)
    assert (await service.sign_up(waiting.telegram_id, d.activity_id)).outcome is (
        Outcome.CONFIRMED
    )


# -- rule 5: spots, repeated presses, the waitlist ------------------------------------------------


async def test_signing_up_takes_a_spot(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=3)
    volunteer = await add_volunteer(db)

    result = await service.sign_up(volunteer.telegram_id, activity.activity_id)

    assert result.outcome is Outcome.CONFIRMED
    assert result.position is None
    assert result.signup.status is SignupStatus.CONFIRMED
    assert result.signup.volunteer_id == volunteer.volunteer_id
    assert result.signup.created_at == NOW
    assert result.activity.confirmed_count == 1
    assert result.activity.spots_left == 2
    assert await assert_counters_right(db, activity.activity_id) == Counts(1, 0, 0)


async def test_a_repeated_press_is_answered_from_the_stored_state(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    first = await service.sign_up(volunteer.telegram_id, activity.activity_id)

    for again in (
        await service.sign_up(volunteer.telegram_id, activity.activity_id),
        await service.join_waitlist(volunteer.telegram_id, activity.activity_id),
    ):
        assert again.outcome is Outcome.ALREADY_CONFIRMED
        assert again.signup.signup_id == first.signup.signup_id
    assert await assert_counters_right(db, activity.activity_id) == Counts(1, 0, 0)


async def test_a_repeated_press_after_sign_up_closed_still_says_already_confirmed(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity = await add_activity(db, org, signup_deadline=NOW + timedelta(hours=1))
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    clock.advance(timedelta(hours=2))
    again = await service.sign_up(volunteer.telegram_id, activity.activity_id)
    assert again.outcome is Outcome.ALREADY_CONFIRMED


async def test_signing_up_when_full_is_refused_without_storing_anything(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=1)
    first, second = await volunteers(db, 2)
    await service.sign_up(first.telegram_id, activity.activity_id)

    refusal = await refusal_of(service.sign_up(second.telegram_id, activity.activity_id))

    assert refusal.reason is Refusal.FULL
    assert refusal.activity is not None
    assert refusal.activity.is_full
    assert await SignupsRepository(db).get(activity.activity_id, second.volunteer_id) is None
    assert await assert_counters_right(db, activity.activity_id) == Counts(1, 0, 0)


async def test_joining_the_waitlist_takes_a_free_spot_if_there_is_one(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=1)
    volunteer = await add_volunteer(db)
    result = await service.join_waitlist(volunteer.telegram_id, activity.activity_id)
    assert result.outcome is Outcome.CONFIRMED


async def test_waitlist_positions_are_first_come_first_served(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=1)
    holder, *line = await volunteers(db, 4)
    await service.sign_up(holder.telegram_id, activity.activity_id)

    positions = []
    for person in line:
        clock.advance(timedelta(minutes=1))
        result = await service.join_waitlist(person.telegram_id, activity.activity_id)
        assert result.outcome is Outcome.WAITLISTED
        assert result.signup.queued_at == clock()
        positions.append(result.position)
    assert positions == [1, 2, 3]
    assert await assert_counters_right(db, activity.activity_id) == Counts(1, 0, 3)

    # Pressing again repeats the position; "sign up" says the same.
    again = await service.join_waitlist(line[1].telegram_id, activity.activity_id)
    assert (again.outcome, again.position) == (Outcome.ALREADY_WAITLISTED, 2)
    again = await service.sign_up(line[1].telegram_id, activity.activity_id)
    assert (again.outcome, again.position) == (Outcome.ALREADY_WAITLISTED, 2)

    # When the second in line leaves, the third moves up.
    await service.cancel(line[1].telegram_id, activity.activity_id)
    viewer = await service.viewer(line[2].telegram_id, activity)
    assert viewer.position == 2
    assert viewer.active_signup is not None
    assert await assert_counters_right(db, activity.activity_id) == Counts(1, 0, 2)


async def test_leaving_and_rejoining_the_waitlist_goes_to_the_back(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity, _, (first, second) = await full_with_waitlist(db, service, org, waiting=2)
    await service.cancel(first.telegram_id, activity.activity_id)

    result = await service.join_waitlist(first.telegram_id, activity.activity_id)

    assert result.position == 2
    assert (await service.viewer(first.telegram_id, activity)).position == 2
    assert (await service.viewer(second.telegram_id, activity)).position == 1


async def test_newcomers_do_not_jump_a_waiting_line_even_if_a_spot_is_free(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    """A deleted account frees a spot without offering it (the sweep does that). Until then
    the spot belongs to those already waiting, not to someone pressing "sign up" now."""
    activity, holder, _ = await full_with_waitlist(db, service, org, waiting=1)
    await VolunteersRepository(db).delete_account(holder.telegram_id, clock())
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 0, 1)
    newcomer = await add_volunteer(db)

    refusal = await refusal_of(service.sign_up(newcomer.telegram_id, activity.activity_id))
    assert refusal.reason is Refusal.FULL
    result = await service.join_waitlist(newcomer.telegram_id, activity.activity_id)
    assert (result.outcome, result.position) == (Outcome.WAITLISTED, 2)
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 0, 2)


# -- concurrency ----------------------------------------------------------------------------------


async def test_twenty_presses_for_five_spots_confirm_exactly_five(
    db: Database, racers: list[SignupService], org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=5)
    crowd = await volunteers(db, 20)

    results = await asyncio.gather(
        *(
            racers[i % len(racers)].sign_up(person.telegram_id, activity.activity_id)
            for i, person in enumerate(crowd)
        ),
        return_exceptions=True,
    )

    confirmed = [r for r in results if isinstance(r, SignupResult)]
    refused = [r for r in results if isinstance(r, SignupRefused)]
    assert len(confirmed) == 5
    assert {r.outcome for r in confirmed} == {Outcome.CONFIRMED}
    assert len(refused) == 15
    assert {r.reason for r in refused} == {Refusal.FULL}
    stored = await ActivitiesRepository(db).get(activity.activity_id)
    assert stored is not None
    assert stored.confirmed_count == 5 == (await recount(db, activity.activity_id)).confirmed
    assert await assert_counters_right(db, activity.activity_id) == Counts(5, 0, 0)


async def test_twenty_concurrent_waitlist_presses_fill_then_queue_in_order(
    db: Database, racers: list[SignupService], org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=5)
    crowd = await volunteers(db, 20)

    results = await asyncio.gather(
        *(
            racers[i % len(racers)].join_waitlist(person.telegram_id, activity.activity_id)
            for i, person in enumerate(crowd)
        )
    )

    outcomes = [result.outcome for result in results]
    assert outcomes.count(Outcome.CONFIRMED) == 5
    assert outcomes.count(Outcome.WAITLISTED) == 15
    assert sorted(r.position for r in results if r.position is not None) == list(range(1, 16))
    assert await assert_counters_right(db, activity.activity_id) == Counts(5, 0, 15)


async def test_the_same_volunteer_pressing_five_times_at_once_signs_up_once(
    db: Database, racers: list[SignupService], org: Organization
) -> None:
    activity = await add_activity(db, org, capacity=5)
    volunteer = await add_volunteer(db)

    results = await asyncio.gather(
        *(
            racers[i % len(racers)].sign_up(volunteer.telegram_id, activity.activity_id)
            for i in range(5)
        )
    )

    outcomes = sorted(result.outcome.value for result in results)
    assert outcomes == ["already_confirmed"] * 4 + ["confirmed"]
    assert len({result.signup.signup_id for result in results}) == 1
    assert await assert_counters_right(db, activity.activity_id) == Counts(1, 0, 0)


async def test_two_processes_sweeping_at_once_offer_a_freed_spot_once_to_the_head(
    db: Database, racers: list[SignupService], org: Organization
) -> None:
    first, *others = racers
    activity, holder, line = await full_with_waitlist(db, first, org, waiting=3)
    # The cancellation frees the spot; then sweeps of both processes race to offer it.
    await first.cancel(holder.telegram_id, activity.activity_id)
    await asyncio.gather(*(racer.sweep() for racer in [first, *others] * 3))

    offered = [
        person
        for person in line
        if (await signup_of(db, activity.activity_id, person)).status is SignupStatus.OFFERED
    ]
    assert offered == [line[0]]
    offers = [row for row in await outbox_of(db, line[0].telegram_id) if row[0] == "waitlist_offer"]
    assert len(offers) == 1
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 1, 2)


# -- cancelling -----------------------------------------------------------------------------------


async def test_cancelling_without_a_sign_up_is_refused(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    refusal = await refusal_of(service.cancel(volunteer.telegram_id, activity.activity_id))
    assert refusal.reason is Refusal.NOT_SIGNED_UP

    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    await service.cancel(volunteer.telegram_id, activity.activity_id)
    refusal = await refusal_of(service.cancel(volunteer.telegram_id, activity.activity_id))
    assert refusal.reason is Refusal.NOT_SIGNED_UP


async def test_cancel_cut_off_refuses_confirmed_but_lets_people_leave_the_waitlist(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity, holder, (waiting,) = await full_with_waitlist(
        db, service, org, waiting=1, starts_in=timedelta(hours=5)
    )
    clock.set(activity.starts_at - timedelta(hours=2) + timedelta(seconds=1))

    refusal = await refusal_of(service.cancel(holder.telegram_id, activity.activity_id))
    assert refusal.reason is Refusal.CANCEL_CUTOFF
    left = await service.cancel(waiting.telegram_id, activity.activity_id)
    assert left.previous is SignupStatus.WAITLISTED
    assert (left.signup.status, left.signup.end_reason) == (
        SignupStatus.CANCELLED,
        EndReason.VOLUNTEER,
    )
    assert await assert_counters_right(db, activity.activity_id) == Counts(1, 0, 0)


async def test_cancelling_exactly_at_the_cut_off_is_allowed(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity = await add_activity(db, org, starts_in=timedelta(hours=5))
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    clock.set(activity.starts_at - SignupPolicy().cancel_cutoff)
    cancelled = await service.cancel(volunteer.telegram_id, activity.activity_id)
    assert cancelled.signup.status is SignupStatus.CANCELLED


async def test_cancelling_after_the_start_is_refused_as_started(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity, holder, (waiting,) = await full_with_waitlist(
        db, service, org, waiting=1, starts_in=timedelta(hours=5)
    )
    clock.advance(timedelta(hours=5))
    for person in (holder, waiting):
        refusal = await refusal_of(service.cancel(person.telegram_id, activity.activity_id))
        assert refusal.reason is Refusal.STARTED


@pytest.mark.parametrize(
    ("note", "stored"),
    [
        ("  家里有事  ", "家里有事"),
        ("x" * 300, "x" * MAX_CANCEL_NOTE_LENGTH),
        ("   ", None),
        (None, None),
    ],
)
async def test_cancel_note_is_stored_trimmed_and_clipped_to_200_characters(
    db: Database,
    service: SignupService,
    clock: ManualClock,
    org: Organization,
    note: str | None,
    stored: str | None,
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    await service.sign_up(volunteer.telegram_id, activity.activity_id)
    clock.advance(timedelta(minutes=3))

    ended = (await service.cancel(volunteer.telegram_id, activity.activity_id, note)).signup

    assert ended.cancel_note == stored
    assert ended.end_reason is EndReason.VOLUNTEER
    assert ended.ended_at == clock()
    row = await signup_of(db, activity.activity_id, volunteer)
    assert row.cancel_note == stored
    assert MAX_CANCEL_NOTE_LENGTH == 200


async def test_signing_up_again_after_cancelling_reuses_the_row(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity = await add_activity(db, org)
    volunteer = await add_volunteer(db)
    first = await service.sign_up(volunteer.telegram_id, activity.activity_id)
    await service.cancel(volunteer.telegram_id, activity.activity_id, "临时有事")
    clock.advance(timedelta(hours=1))

    again = await service.sign_up(volunteer.telegram_id, activity.activity_id)

    assert again.outcome is Outcome.CONFIRMED
    assert again.signup.signup_id == first.signup.signup_id
    assert again.signup.status_at == clock()
    assert (again.signup.ended_at, again.signup.end_reason, again.signup.cancel_note) == (
        None,
        None,
        None,
    )
    assert await assert_counters_right(db, activity.activity_id) == Counts(1, 0, 0)


# -- waitlist offers ------------------------------------------------------------------------------


async def test_cancelling_offers_the_spot_to_the_head_of_the_waitlist(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity, holder, (first, second) = await full_with_waitlist(db, service, org, waiting=2)

    await service.cancel(holder.telegram_id, activity.activity_id)

    offer = await signup_of(db, activity.activity_id, first)
    assert offer.status is SignupStatus.OFFERED
    assert expiry(offer) == NOW + timedelta(hours=12)
    assert await outbox_of(db, first.telegram_id) == [
        (NotificationKind.WAITLIST_OFFER.value, "pending", {"signup_id": offer.signup_id})
    ]
    assert await outbox_of(db, second.telegram_id) == []
    assert (await service.viewer(second.telegram_id, activity)).position == 1
    # The held spot keeps newcomers out.
    newcomer = await add_volunteer(db)
    refusal = await refusal_of(service.sign_up(newcomer.telegram_id, activity.activity_id))
    assert refusal.reason is Refusal.FULL
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 1, 1)

    already = await service.sign_up(first.telegram_id, activity.activity_id)
    assert already.outcome is Outcome.ALREADY_OFFERED


async def test_offer_deadline_is_twelve_hours_when_there_is_time(
    db: Database, service: SignupService, org: Organization
) -> None:
    """Sign-up closes in 5 days: half of that is far more than 12 h, so 12 h it is."""
    activity, holder, (first,) = await full_with_waitlist(db, service, org, waiting=1)
    await service.cancel(holder.telegram_id, activity.activity_id)
    assert (await signup_of(db, activity.activity_id, first)).offer_expires_at == (
        NOW + timedelta(hours=12)
    )


async def test_offer_deadline_is_half_the_time_left_when_the_start_is_near(
    db: Database, service: SignupService, org: Organization
) -> None:
    """The activity starts in 10 h: the offer lasts 5 h, leaving the next in line time too."""
    activity, holder, (first,) = await full_with_waitlist(
        db, service, org, waiting=1, starts_in=timedelta(hours=10)
    )
    await service.cancel(holder.telegram_id, activity.activity_id)
    assert (await signup_of(db, activity.activity_id, first)).offer_expires_at == (
        NOW + timedelta(hours=5)
    )


async def test_offer_deadline_counts_from_the_sign_up_deadline_not_the_start(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity, holder, (first,) = await full_with_waitlist(
        db, service, org, waiting=1, signup_deadline=NOW + timedelta(hours=6)
    )
    await service.cancel(holder.telegram_id, activity.activity_id)
    assert (await signup_of(db, activity.activity_id, first)).offer_expires_at == (
        NOW + timedelta(hours=3)
    )


def test_offer_deadline_function() -> None:
    window = timedelta(hours=12)
    assert offer_deadline(NOW, NOW + timedelta(days=5), window) == NOW + window
    assert offer_deadline(NOW, NOW + timedelta(hours=24), window) == NOW + window  # equal
    assert offer_deadline(NOW, NOW + timedelta(hours=10), window) == NOW + timedelta(hours=5)


async def test_accepting_before_the_deadline_confirms(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity, holder, (first,) = await full_with_waitlist(db, service, org, waiting=1)
    await service.cancel(holder.telegram_id, activity.activity_id)
    offer = await signup_of(db, activity.activity_id, first)
    clock.set(expiry(offer) - timedelta(seconds=1))

    result = await service.accept_offer(first.telegram_id, offer.signup_id)

    assert result.outcome is Outcome.CONFIRMED
    assert result.signup.status is SignupStatus.CONFIRMED
    assert result.signup.offer_expires_at is None
    assert result.signup.status_at == clock()
    assert (result.activity.confirmed_count, result.activity.offered_count) == (1, 0)
    assert await assert_counters_right(db, activity.activity_id) == Counts(1, 0, 0)

    again = await service.accept_offer(first.telegram_id, offer.signup_id)
    assert again.outcome is Outcome.ALREADY_CONFIRMED


async def test_an_offer_made_before_sign_up_closed_early_is_still_honoured(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity, holder, (first, _) = await full_with_waitlist(db, service, org, waiting=2)
    await service.cancel(holder.telegram_id, activity.activity_id)
    offer = await signup_of(db, activity.activity_id, first)
    async with db.transaction() as tx:  # the organizer closes sign-up early
        await tx.execute(
            "UPDATE activities SET signups_closed_at = ? WHERE activity_id = ?",
            (to_db_time(clock()), activity.activity_id),
        )
    clock.advance(timedelta(minutes=5))

    result = await service.accept_offer(first.telegram_id, offer.signup_id)

    assert result.outcome is Outcome.CONFIRMED
    # New sign-ups stay closed.
    newcomer = await add_volunteer(db)
    refusal = await refusal_of(service.sign_up(newcomer.telegram_id, activity.activity_id))
    assert refusal.reason is Refusal.CLOSED
    assert await assert_counters_right(db, activity.activity_id) == Counts(1, 0, 1)


@pytest.mark.parametrize("late", [timedelta(0), timedelta(minutes=1)])
async def test_accepting_at_or_after_the_deadline_is_too_late(
    db: Database, service: SignupService, clock: ManualClock, org: Organization, late: timedelta
) -> None:
    activity, holder, (first,) = await full_with_waitlist(db, service, org, waiting=1)
    await service.cancel(holder.telegram_id, activity.activity_id)
    offer = await signup_of(db, activity.activity_id, first)
    clock.set(expiry(offer) + late)

    refusal = await refusal_of(service.accept_offer(first.telegram_id, offer.signup_id))

    assert refusal.reason is Refusal.OFFER_GONE
    # The spot stays held until the sweep hands it on.
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 1, 0)


async def test_accepting_without_an_offer_is_refused(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity, _, (first,) = await full_with_waitlist(db, service, org, waiting=1)
    waiting = await signup_of(db, activity.activity_id, first)
    for action in (
        service.accept_offer(first.telegram_id, waiting.signup_id),
        service.decline_offer(first.telegram_id, waiting.signup_id),
    ):
        assert (await refusal_of(action)).reason is Refusal.OFFER_GONE


async def test_declining_offers_the_spot_to_the_next_in_line(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity, holder, (first, second) = await full_with_waitlist(db, service, org, waiting=2)
    await service.cancel(holder.telegram_id, activity.activity_id)
    offer = await signup_of(db, activity.activity_id, first)
    clock.advance(timedelta(hours=1))

    declined = await service.decline_offer(first.telegram_id, offer.signup_id)

    assert (declined.status, declined.end_reason) == (
        SignupStatus.CANCELLED,
        EndReason.DECLINED_OFFER,
    )
    second_offer = await signup_of(db, activity.activity_id, second)
    assert second_offer.status is SignupStatus.OFFERED
    assert expiry(second_offer) == clock() + timedelta(hours=12)
    assert [kind for kind, _, _ in await outbox_of(db, second.telegram_id)] == [
        NotificationKind.WAITLIST_OFFER.value
    ]
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 1, 0)

    again = await refusal_of(service.decline_offer(first.telegram_id, offer.signup_id))
    assert again.reason is Refusal.OFFER_GONE


async def test_cancel_on_an_offer_declines_it(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity, holder, (first, second) = await full_with_waitlist(db, service, org, waiting=2)
    await service.cancel(holder.telegram_id, activity.activity_id)

    cancelled = await service.cancel(first.telegram_id, activity.activity_id, "不去了")

    assert cancelled.previous is SignupStatus.OFFERED
    assert cancelled.signup.end_reason is EndReason.DECLINED_OFFER
    assert cancelled.signup.cancel_note == "不去了"
    assert (await signup_of(db, activity.activity_id, second)).status is SignupStatus.OFFERED
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 1, 0)


async def test_the_last_one_declining_leaves_the_spot_free(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity, holder, (only,) = await full_with_waitlist(db, service, org, waiting=1)
    await service.cancel(holder.telegram_id, activity.activity_id)
    offer = await signup_of(db, activity.activity_id, only)
    await service.decline_offer(only.telegram_id, offer.signup_id)
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 0, 0)
    newcomer = await add_volunteer(db)
    assert (await service.sign_up(newcomer.telegram_id, activity.activity_id)).outcome is (
        Outcome.CONFIRMED
    )


async def test_accepting_an_offer_that_clashes_is_refused_and_the_offer_kept(
    db: Database, service: SignupService, org: Organization
) -> None:
    """Waiting for A did not stop the volunteer from taking B at the same time; accepting A's
    offer would now double-book them."""
    a, holder, (volunteer,) = await full_with_waitlist(db, service, org, waiting=1)
    b = await add_activity(db, org, starts_at=a.starts_at + timedelta(hours=1))
    await service.sign_up(volunteer.telegram_id, b.activity_id)
    await service.cancel(holder.telegram_id, a.activity_id)
    offer = await signup_of(db, a.activity_id, volunteer)

    refusal = await refusal_of(service.accept_offer(volunteer.telegram_id, offer.signup_id))

    assert refusal.reason is Refusal.CLASH
    assert refusal.other is not None
    assert refusal.other.activity_id == b.activity_id
    assert (await signup_of(db, a.activity_id, volunteer)).status is SignupStatus.OFFERED


async def test_someone_elses_sign_up_is_not_yours(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity, holder, (first, second) = await full_with_waitlist(db, service, org, waiting=2)
    await service.cancel(holder.telegram_id, activity.activity_id)
    offer = await signup_of(db, activity.activity_id, first)

    for signup_id in (offer.signup_id, 999_999):
        for action in (
            service.accept_offer(second.telegram_id, signup_id),
            service.decline_offer(second.telegram_id, signup_id),
            service.signup_by_id(second.telegram_id, signup_id),
        ):
            assert (await refusal_of(action)).reason is Refusal.NOT_YOURS
    assert (await signup_of(db, activity.activity_id, first)).status is SignupStatus.OFFERED
    assert (await service.signup_by_id(first.telegram_id, offer.signup_id)) == offer


# -- the sweep ------------------------------------------------------------------------------------


async def test_sweep_before_any_deadline_does_nothing(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity, holder, _ = await full_with_waitlist(db, service, org, waiting=2)
    await service.cancel(holder.telegram_id, activity.activity_id)
    clock.advance(timedelta(hours=11, minutes=59))
    report = await service.sweep()
    assert (report.expired, report.offered) == (0, 0)


async def test_sweep_expires_a_late_offer_and_offers_the_spot_to_the_next(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity, holder, (first, second) = await full_with_waitlist(db, service, org, waiting=2)
    await service.cancel(holder.telegram_id, activity.activity_id)
    offer = await signup_of(db, activity.activity_id, first)
    clock.set(expiry(offer))

    report = await service.sweep()

    assert (report.expired, report.offered) == (1, 1)
    expired = await signup_of(db, activity.activity_id, first)
    assert (expired.status, expired.end_reason) == (
        SignupStatus.CANCELLED,
        EndReason.OFFER_EXPIRED,
    )
    assert await outbox_of(db, first.telegram_id) == [
        (NotificationKind.WAITLIST_OFFER.value, "pending", {"signup_id": offer.signup_id}),
        (NotificationKind.OFFER_EXPIRED.value, "pending", {"signup_id": offer.signup_id}),
    ]
    next_offer = await signup_of(db, activity.activity_id, second)
    assert next_offer.status is SignupStatus.OFFERED
    assert expiry(next_offer) == clock() + timedelta(hours=12)
    assert [kind for kind, _, _ in await outbox_of(db, second.telegram_id)] == [
        NotificationKind.WAITLIST_OFFER.value
    ]
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 1, 0)

    # Running it again changes nothing and sends nothing twice.
    again = await service.sweep()
    assert (again.expired, again.offered) == (0, 0)
    assert len(await outbox_of(db, first.telegram_id)) == 2
    assert len(await outbox_of(db, second.telegram_id)) == 1


async def test_sweep_with_nobody_left_frees_the_spot(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity, holder, _ = await full_with_waitlist(db, service, org, waiting=1)
    await service.cancel(holder.telegram_id, activity.activity_id)
    clock.advance(timedelta(hours=12))
    report = await service.sweep()
    assert (report.expired, report.offered) == (1, 0)
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 0, 0)


async def test_sweep_makes_no_offer_once_sign_up_has_closed(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity, holder, (_, second) = await full_with_waitlist(db, service, org, waiting=2)
    await service.cancel(holder.telegram_id, activity.activity_id)
    async with db.transaction() as tx:  # the organizer closes sign-up early
        await tx.execute(
            "UPDATE activities SET signups_closed_at = ? WHERE activity_id = ?",
            (to_db_time(NOW + timedelta(hours=1)), activity.activity_id),
        )
    clock.advance(timedelta(hours=12))
    report = await service.sweep()
    assert (report.expired, report.offered) == (1, 0)
    assert (await signup_of(db, activity.activity_id, second)).status is SignupStatus.WAITLISTED
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 0, 1)


async def test_activities_closed_for_sign_up_do_not_starve_the_sweep(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    # ``closed``: starts first; its deadline passes, then a confirmed volunteer cancels: a spot
    # is free and someone waits, but sign-up has closed, so nobody can be offered it.
    closed, closed_holder, _ = await full_with_waitlist(
        db,
        service,
        org,
        waiting=1,
        starts_in=timedelta(days=2),
        signup_deadline=NOW + timedelta(hours=1),
    )
    # ``open_one``: starts later; a deleted account frees a spot while someone waits.
    open_one, open_holder, (waiting,) = await full_with_waitlist(db, service, org, waiting=1)
    clock.advance(timedelta(hours=1))
    await service.cancel(closed_holder.telegram_id, closed.activity_id)
    await VolunteersRepository(db).delete_account(open_holder.telegram_id, clock())

    for _ in range(3):  # however often it runs
        await service.sweep(limit=1)

    assert (await signup_of(db, open_one.activity_id, waiting)).status is SignupStatus.OFFERED


# -- account deletion -----------------------------------------------------------------------------


async def test_deleting_an_account_frees_the_spot_and_the_sweep_offers_it(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    activity, holder, (first, second) = await full_with_waitlist(db, service, org, waiting=2)
    clock.advance(timedelta(minutes=10))

    await VolunteersRepository(db).delete_account(holder.telegram_id, clock())

    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 0, 2)
    report = await service.sweep()
    assert (report.expired, report.offered) == (0, 1)
    assert (await signup_of(db, activity.activity_id, first)).status is SignupStatus.OFFERED
    assert (await signup_of(db, activity.activity_id, second)).status is SignupStatus.WAITLISTED
    assert [kind for kind, _, _ in await outbox_of(db, first.telegram_id)] == [
        NotificationKind.WAITLIST_OFFER.value
    ]
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 1, 1)


async def test_deleting_an_account_holding_an_offer_hands_it_on_at_the_next_sweep(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity, holder, (first, second) = await full_with_waitlist(db, service, org, waiting=2)
    await service.cancel(holder.telegram_id, activity.activity_id)
    offer = await signup_of(db, activity.activity_id, first)

    await VolunteersRepository(db).delete_account(first.telegram_id, NOW)

    # The offer's message will not be sent to a deleted account.
    assert await outbox_of(db, first.telegram_id) == [
        (NotificationKind.WAITLIST_OFFER.value, "dropped", {"signup_id": offer.signup_id})
    ]
    assert await assert_counters_right(db, activity.activity_id) == Counts(0, 0, 1)
    assert (await service.sweep()).offered == 1
    assert (await signup_of(db, activity.activity_id, second)).status is SignupStatus.OFFERED


# -- reading --------------------------------------------------------------------------------------


async def test_viewer_describes_the_person_looking_at_the_card(
    db: Database, service: SignupService, org: Organization
) -> None:
    activity, holder, (first,) = await full_with_waitlist(db, service, org, waiting=1)

    holder_view = await service.viewer(holder.telegram_id, activity)
    assert holder_view.profile is not None
    assert holder_view.active_signup is not None
    assert holder_view.active_signup.status is SignupStatus.CONFIRMED
    assert holder_view.position is None
    assert (holder_view.missing_skills, holder_view.too_young, holder_view.paused) == (
        (),
        False,
        False,
    )
    assert (await service.viewer(first.telegram_id, activity)).position == 1

    await service.cancel(first.telegram_id, activity.activity_id)
    left = await service.viewer(first.telegram_id, activity)
    assert left.signup is not None
    assert left.signup.status is SignupStatus.CANCELLED
    assert left.active_signup is None
    assert left.position is None


async def test_my_signups_lists_upcoming_soonest_first_and_past_latest_first(
    db: Database, service: SignupService, clock: ManualClock, org: Organization
) -> None:
    volunteer = await add_volunteer(db)
    soon = await add_activity(db, org, starts_in=timedelta(hours=4), duration=timedelta(hours=1))
    later = await add_activity(db, org, starts_in=timedelta(days=3))
    full, _, _ = await full_with_waitlist(db, service, org, waiting=1, starts_in=timedelta(days=2))
    dropped = await add_activity(db, org, starts_in=timedelta(days=4))
    for activity in (later, soon, dropped):
        await service.sign_up(volunteer.telegram_id, activity.activity_id)
    await service.join_waitlist(volunteer.telegram_id, full.activity_id)
    await service.cancel(volunteer.telegram_id, dropped.activity_id)

    upcoming = await service.my_signups(volunteer.telegram_id, upcoming=True, limit=10)
    assert [(m.activity.activity_id, m.signup.status, m.waitlist_position) for m in upcoming] == [
        (soon.activity_id, SignupStatus.CONFIRMED, None),
        (full.activity_id, SignupStatus.WAITLISTED, 2),
        (later.activity_id, SignupStatus.CONFIRMED, None),
    ]
    assert await service.my_signups(volunteer.telegram_id, upcoming=False, limit=10) == []
    limited = await service.my_signups(volunteer.telegram_id, upcoming=True, limit=1)
    assert [m.activity.activity_id for m in limited] == [soon.activity_id]

    clock.set(soon.ends_at)  # the first one is over
    past = await service.my_signups(volunteer.telegram_id, upcoming=False, limit=10)
    assert [m.activity.activity_id for m in past] == [soon.activity_id]
    upcoming = await service.my_signups(volunteer.telegram_id, upcoming=True, limit=10)
    assert soon.activity_id not in [m.activity.activity_id for m in upcoming]


async def test_for_you_suggests_matches_with_reasons(
    db: Database, service: SignupService, org: Organization
) -> None:
    """The volunteer likes ``health``, is free on weekend mornings and lives in ``furong``.

    * ``best`` (health, furong, Saturday 10:00, in 5 days and empty): 40 + 20 + 15 + 5 = 80;
    * ``elsewhere`` (health, yuelu, a weekday afternoon in 15 days): interest only, 40;
    * ``unrelated`` (sports, yuelu, weekday afternoon): nothing in common, not suggested;
    * ``gated`` (health, needs first aid): cannot join, not suggested.
    """
    volunteer = await add_volunteer(
        db, categories=("health",), availability=int(Slot.WEEKEND_MORNING), area_code="furong"
    )
    weekday_afternoon = NOW + timedelta(days=15, hours=5)  # Tuesday 8 December, 15:00
    assert weekday_afternoon.astimezone(SHANGHAI).weekday() == 1
    best = await add_activity(db, org)
    elsewhere = await add_activity(db, org, area_code="yuelu", starts_at=weekday_afternoon)
    await add_activity(
        db, org, category_code="sports", area_code="yuelu", starts_at=weekday_afternoon
    )
    await add_activity(db, org, required_skills=("first_aid",))

    matches = await service.for_you(volunteer.telegram_id)

    assert [m.activity.activity_id for m in matches] == [best.activity_id, elsewhere.activity_id]
    assert [m.score for m in matches] == [80, 40]
    assert [r.kind for r in matches[0].reasons] == [
        ReasonKind.INTEREST,
        ReasonKind.AVAILABILITY,
        ReasonKind.AREA,
        ReasonKind.SOON,
    ]
    assert [r.kind for r in matches[1].reasons] == [ReasonKind.INTEREST]


async def test_for_you_leaves_out_what_the_volunteer_already_signed_up_for(
    db: Database, service: SignupService, org: Organization
) -> None:
    volunteer = await add_volunteer(db)
    joined = await add_activity(db, org)
    other = await add_activity(db, org, starts_in=timedelta(days=6))
    await service.sign_up(volunteer.telegram_id, joined.activity_id)

    ids = [m.activity.activity_id for m in await service.for_you(volunteer.telegram_id)]
    assert ids == [other.activity_id]

    await service.cancel(volunteer.telegram_id, joined.activity_id)
    ids = [m.activity.activity_id for m in await service.for_you(volunteer.telegram_id)]
    assert ids == [joined.activity_id, other.activity_id]


async def test_for_you_with_a_location_finds_nearby_activities_of_other_kinds(
    db: Database, service: SignupService, org: Organization
) -> None:
    """Nothing but distance links the volunteer to ``nearby`` (1 km): it comes in through the
    bounding box and scores 20; ``far`` (50 km) is not a candidate at all."""
    volunteer = await add_volunteer(db, categories=("health",), availability=0, area_code="furong")
    home = Point(28.2, 112.98)
    nearby = await add_activity(
        db,
        org,
        category_code="sports",
        area_code="yuelu",
        latitude=home.latitude + 0.009,
        longitude=home.longitude,
        starts_in=timedelta(days=12),
    )
    await add_activity(
        db,
        org,
        category_code="sports",
        area_code="yuelu",
        latitude=home.latitude + 0.45,
        longitude=home.longitude,
        starts_in=timedelta(days=12),
    )

    assert await service.for_you(volunteer.telegram_id) == []
    matches = await service.for_you(volunteer.telegram_id, location=home)
    assert [m.activity.activity_id for m in matches] == [nearby.activity_id]
    assert [r.kind for r in matches[0].reasons] == [ReasonKind.DISTANCE]
    assert matches[0].score == 20
    assert matches[0].distance_km == pytest.approx(1.0, abs=0.01)
