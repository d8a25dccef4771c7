"""Trainings and qualifications (民政部令第67号 Art. 8) and the "not volunteer service" mark
(Art. 19): the form's rules, the edits, and the gating of sign-ups, waitlist offers, recruiting
and "For you". Real migrated database, manual clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import Activity, MemberRole, Organization, SignupStatus
from bot.domain.dateparse import ParsedWhen, parse_when
from bot.domain.qualifications import (
    TrainingChoice,
    parse_qualification_name,
    parse_training_value,
    training_value,
)
from bot.domain.validation import InvalidInput
from bot.domain.volunteers import VolunteerProfile
from bot.services.activity_management import ActivityManagementService
from bot.services.publishing import (
    EditField,
    PublishingService,
    PublishStep,
    WrongStep,
)
from bot.services.signups import Refusal, SignupPolicy, SignupRefused, SignupService
from bot.services.staff import StaffService
from storage.activities import ActivitiesRepository
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.publishing import PublishingRepository
from storage.qualifications import QualificationsRepository
from storage.recruiting import PreRank, RecruitingRepository
from storage.rosters import RostersRepository
from storage.signups import SignupsRepository
from storage.timeutil import to_db_time
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_user, add_volunteer

SHANGHAI = ZoneInfo("Asia/Shanghai")


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


def staff(db: Database) -> StaffService:
    return StaffService(
        UsersRepository(db), OrganizationsRepository(db), ActivitiesRepository(db), frozenset()
    )


@pytest.fixture
def service(db: Database, clock: ManualClock, signups: SignupService) -> PublishingService:
    return PublishingService(
        db,
        PublishingRepository(db),
        ActivitiesRepository(db),
        CatalogRepository(db),
        staff(db),
        OutboxRepository(db),
        UsersRepository(db),
        VolunteersRepository(db),
        clock,
        SHANGHAI,
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


# ------------------------------------------------------------------------------------- domain


def test_a_qualification_name_is_trimmed_and_1_to_40_characters() -> None:
    assert parse_qualification_name("  急救证  ") == "急救证"
    assert parse_qualification_name("a") == "a"
    for bad in ("", "   ", "x" * 41, "两行\n名称"):
        with pytest.raises(InvalidInput):
            parse_qualification_name(bad)
    assert parse_qualification_name("x" * 40) == "x" * 40


def test_training_values_round_trip_and_forged_ones_are_none() -> None:
    for choice, qid in ((TrainingChoice.REQUIRES, 7), (TrainingChoice.GRANTS, 12)):
        assert parse_training_value(training_value(choice, qid)) == (choice, qid)
    assert parse_training_value("none") == (TrainingChoice.NONE, None)
    assert training_value(TrainingChoice.REQUIRES, None) == "none"
    for forged in ("", "r", "g", "x5", "r-1", "r0", "r05", "r１", "g" + "9" * 13, "nonee"):
        assert parse_training_value(forged) is None


# --------------------------------------------------------------------------------- the form


async def to_training(service: PublishingService, boss: int, org: Organization) -> None:
    await service.start(boss, org.organization_id)
    await service.set_title(boss, "急救培训")
    await service.set_category(boss, "health")
    await service.set_description(boss, None)
    await service.set_start_text(boss, "12月5日 下午2点-4点", "zh")
    await service.set_place(boss, "芙蓉区社区服务中心")
    await service.set_location(boss, None, None)
    await service.set_area(boss, None)
    await service.set_capacity(boss, "8")
    draft = await service.done(boss)
    assert draft.step is PublishStep.TRAINING


async def test_a_training_names_its_qualification_and_the_name_is_reused(
    db: Database,
    service: PublishingService,
    boss: int,
    org: Organization,
) -> None:
    await to_training(service, boss, org)
    with pytest.raises(InvalidInput):  # typing before "is a training …" was pressed
        await service.name_training(boss, "急救证")
    draft = await service.choose_training(boss, "g")
    assert draft.step is PublishStep.TRAINING and draft.data.training_mode is TrainingChoice.GRANTS
    with pytest.raises(InvalidInput):
        await service.name_training(boss, "x" * 41)
    draft = await service.name_training(boss, " 急救证 ")
    assert draft.step is PublishStep.VOLUNTEERING
    granted = draft.data.grants_qualification_id
    assert granted is not None and draft.data.requires_qualification_id is None
    # The same name again (another draft) is the same qualification.
    again = await QualificationsRepository(db).name(org.organization_id, "急救证", NOW)
    assert again.qualification_id == granted
    assert [q.name for q in await service.qualifications_of(org.organization_id)] == ["急救证"]


async def test_a_press_for_another_organizations_qualification_changes_nothing(
    db: Database, service: PublishingService, boss: int, org: Organization
) -> None:
    other = await add_organization(db, name="别的协会")
    theirs = await QualificationsRepository(db).name(other.organization_id, "急救证", NOW)
    await to_training(service, boss, org)
    await service.choose_training(boss, "r")
    for forged in (f"r{theirs.qualification_id}", f"g{theirs.qualification_id}", "r999", "zz"):
        with pytest.raises(WrongStep):
            await service.choose_training(boss, forged)
    draft = await service.current(boss)
    assert draft.step is PublishStep.TRAINING and draft.data.requires_qualification_id is None


async def test_back_from_the_list_shows_the_three_answers_and_no_training_clears_it(
    service: PublishingService, boss: int, org: Organization
) -> None:
    await to_training(service, boss, org)
    await service.choose_training(boss, "r")
    draft = await service.back(boss, PublishStep.TRAINING)
    assert draft.step is PublishStep.TRAINING and draft.data.training_mode is None
    draft = await service.back(boss, PublishStep.TRAINING)
    assert draft.step is PublishStep.SKILLS
    await service.done(boss)
    await service.choose_training(boss, "r")
    await service.name_training(boss, "急救证")
    draft = await service.back(boss, PublishStep.VOLUNTEERING)
    assert draft.data.requires_qualification_id is not None
    draft = await service.choose_training(boss, "none")
    assert draft.step is PublishStep.VOLUNTEERING
    assert draft.data.requires_qualification_id is None and not draft.data.training_required


async def test_an_old_draft_with_training_required_still_previews(
    db: Database, service: PublishingService, boss: int, org: Organization
) -> None:
    draft = await service.start(boss, org.organization_id)
    old = (
        '{"title": "旧草稿", "category_code": "health", "place": "社区", "capacity": 3, '
        '"starts_at": "2026-12-05T06:00:00+00:00", "ends_at": "2026-12-05T08:00:00+00:00", '
        '"training_required": true}'
    )
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activity_drafts SET data = ?, step = 'preview' WHERE draft_id = ?",
            (old, draft.draft_id),
        )
    draft = await service.current(boss)
    preview = await service.preview(draft)
    assert preview.training_required and preview.is_volunteering
    assert preview.requires_qualification is None
    activity = await service.publish(boss)
    assert activity.training_required and activity.is_volunteering


async def test_editing_the_training_and_the_volunteer_service_mark(
    db: Database, service: PublishingService, boss: int, org: Organization
) -> None:
    activity = await add_activity(db, org, training_required=True)
    mine = await QualificationsRepository(db).name(org.organization_id, "急救证", NOW)
    other = await add_organization(db, name="别的协会")
    theirs = await QualificationsRepository(db).name(other.organization_id, "心理疏导证", NOW)
    aid = activity.activity_id
    with pytest.raises(InvalidInput):
        await service.apply_edit(boss, aid, EditField.TRAINING, f"r{theirs.qualification_id}")
    with pytest.raises(InvalidInput):
        await service.apply_edit(boss, aid, EditField.TRAINING, "bogus")
    unchanged = await ActivitiesRepository(db).get(aid)
    assert unchanged is not None and unchanged.training_required
    assert unchanged.requires_qualification is None
    result = await service.apply_edit(boss, aid, EditField.TRAINING, f"r{mine.qualification_id}")
    assert result.activity.requires_qualification is not None
    assert result.activity.requires_qualification.name == "急救证"
    assert not result.activity.training_required and result.notified == 0
    result = await service.apply_edit(boss, aid, EditField.TRAINING, f"g{mine.qualification_id}")
    assert result.activity.requires_qualification is None
    assert result.activity.grants_qualification is not None
    result = await service.apply_edit(boss, aid, EditField.VOLUNTEERING, "0")
    assert not result.activity.is_volunteering
    named = await service.name_qualification(boss, aid, "  心理疏导证 ")
    assert named.organization_id == org.organization_id and named.name == "心理疏导证"


# ------------------------------------------------------------------------------------ gating


async def gated(db: Database, org: Organization, **fields: Any) -> tuple[Activity, Activity, int]:
    """A training granting 急救证 (in 3 days), and an activity requiring it (in 10)."""
    qualification = await QualificationsRepository(db).name(org.organization_id, "急救证", NOW)
    qid = qualification.qualification_id
    training = await add_activity(
        db, org, title="急救培训", starts_in=timedelta(days=3), grants_qualification_id=qid
    )
    serving = await add_activity(
        db, org, starts_in=timedelta(days=10), requires_qualification_id=qid, **fields
    )
    return training, serving, qid


async def grant(db: Database, volunteer_id: int, qualification_id: int) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO volunteer_qualifications (volunteer_id, qualification_id, granted_at) "
            "VALUES (?, ?, ?)",
            (volunteer_id, qualification_id, to_db_time(NOW)),
        )


async def test_only_holders_sign_up_and_the_refusal_names_the_next_session(
    db: Database, signups: SignupService, org: Organization
) -> None:
    training, serving, qid = await gated(db, org)
    volunteer = await add_volunteer(db, name="李雷")
    with pytest.raises(SignupRefused) as refused:
        await signups.sign_up(volunteer.telegram_id or 0, serving.activity_id)
    error = refused.value
    assert error.reason is Refusal.NO_QUALIFICATION
    assert error.qualification is not None and error.qualification.name == "急救证"
    assert error.next_session is not None
    assert error.next_session.activity_id == training.activity_id
    with pytest.raises(SignupRefused):
        await signups.join_waitlist(volunteer.telegram_id or 0, serving.activity_id)
    viewer = await signups.viewer(volunteer.telegram_id or 0, serving)
    assert viewer.missing_qualification is not None and viewer.next_training is not None
    # The training itself is open to everyone.
    joined = await signups.sign_up(volunteer.telegram_id or 0, training.activity_id)
    assert joined.signup.status is SignupStatus.CONFIRMED

    await grant(db, volunteer.volunteer_id, qid)
    viewer = await signups.viewer(volunteer.telegram_id or 0, serving)
    assert viewer.missing_qualification is None and viewer.next_training is None
    result = await signups.sign_up(volunteer.telegram_id or 0, serving.activity_id)
    assert result.signup.status is SignupStatus.CONFIRMED
    held = await QualificationsRepository(db).held_by(volunteer.volunteer_id)
    assert [(q.name, q.granted_at) for q in held] == [("急救证", NOW)]


async def test_no_next_session_when_none_is_planned_or_it_started(
    db: Database, signups: SignupService, org: Organization
) -> None:
    qualification = await QualificationsRepository(db).name(org.organization_id, "急救证", NOW)
    qid = qualification.qualification_id
    # A past session, and a session of another organization's namesake, do not count.
    await add_activity(db, org, starts_in=timedelta(days=-3), grants_qualification_id=qid)
    serving = await add_activity(db, org, requires_qualification_id=qid)
    volunteer = await add_volunteer(db, name="韩梅梅")
    with pytest.raises(SignupRefused) as refused:
        await signups.sign_up(volunteer.telegram_id or 0, serving.activity_id)
    assert refused.value.reason is Refusal.NO_QUALIFICATION
    assert refused.value.next_session is None


async def test_waitlist_offers_and_invitations_skip_non_holders(
    db: Database, signups: SignupService, org: Organization
) -> None:
    _training, serving, qid = await gated(db, org, capacity=1)
    first, waiting, holder = [await add_volunteer(db, name=name) for name in ("甲", "乙", "丙")]
    await grant(db, first.volunteer_id, qid)
    await grant(db, holder.volunteer_id, qid)
    await signups.sign_up(first.telegram_id or 0, serving.activity_id)
    # 乙 joins the waitlist before the requirement: simulate by granting, joining, revoking.
    await grant(db, waiting.volunteer_id, qid)
    await signups.join_waitlist(waiting.telegram_id or 0, serving.activity_id)
    async with db.transaction() as tx:
        await tx.execute(
            "DELETE FROM volunteer_qualifications WHERE volunteer_id = ?",
            (waiting.volunteer_id,),
        )
    await signups.join_waitlist(holder.telegram_id or 0, serving.activity_id)
    await signups.cancel(first.telegram_id or 0, serving.activity_id)
    rows = {
        row["volunteer_id"]: row["status"]
        for row in await db.fetch_all(
            "SELECT volunteer_id, status FROM signups WHERE activity_id = ?",
            (serving.activity_id,),
        )
    }
    assert rows[waiting.volunteer_id] == "waitlisted"  # first in line, but not a holder
    assert rows[holder.volunteer_id] == "offered"

    # Nobody eligible waits: a holder takes a free spot even though a non-holder waits.
    await signups.decline_offer(holder.telegram_id or 0, (await signup_id(db, serving, holder)))
    late = await add_volunteer(db, name="丁")
    await grant(db, late.volunteer_id, qid)
    result = await signups.sign_up(late.telegram_id or 0, serving.activity_id)
    assert result.signup.status is SignupStatus.CONFIRMED

    refreshed = await ActivitiesRepository(db).get(serving.activity_id)
    assert refreshed is not None
    nobody = await add_volunteer(db, name="戊", categories=("health",))
    ids = await RecruitingRepository.candidates(
        db.fetch_all,
        refreshed,
        today=NOW.date(),
        cooldown_since=NOW - timedelta(days=7),
        weights=_weights(),
        limit=50,
    )
    assert nobody.volunteer_id not in ids and first.volunteer_id in ids


async def signup_id(db: Database, activity: Activity, volunteer: VolunteerProfile) -> int:
    row = await db.fetch_one(
        "SELECT signup_id FROM signups WHERE activity_id = ? AND volunteer_id = ?",
        (activity.activity_id, volunteer.volunteer_id),
    )
    assert row is not None
    return int(row["signup_id"])


def _weights() -> PreRank:
    return PreRank(interest=1, slot=1, availability=1, area=1)


async def test_for_you_leaves_out_activities_requiring_a_training_not_done(
    db: Database, signups: SignupService, org: Organization
) -> None:
    training, serving, qid = await gated(db, org)
    volunteer = await add_volunteer(db, name="李雷", categories=("health",))
    offered = {m.activity.activity_id for m in await signups.for_you(volunteer.telegram_id or 0)}
    assert training.activity_id in offered and serving.activity_id not in offered
    await grant(db, volunteer.volunteer_id, qid)
    offered = {m.activity.activity_id for m in await signups.for_you(volunteer.telegram_id or 0)}
    assert serving.activity_id in offered


async def test_a_copy_keeps_the_training_and_the_volunteer_service_mark(
    db: Database, org: Organization, boss: int, clock: ManualClock
) -> None:
    training, serving, _qid = await gated(db, org, is_volunteering=False)
    assert serving.requires_qualification is not None and not serving.is_volunteering
    assert training.grants_qualification is not None and training.is_volunteering
    management = ActivityManagementService(
        db,
        staff(db),
        RostersRepository(db),
        SignupsRepository(db),
        OutboxRepository(db),
        clock,
        SHANGHAI,
    )
    for source in (training, serving):
        parsed = parse_when("12/12 9:00", NOW, SHANGHAI)
        assert isinstance(parsed, ParsedWhen)
        copy = await management.duplicate(boss, source.activity_id, parsed)
        assert isinstance(copy, Activity)
        assert copy.activity_id != source.activity_id
        assert copy.is_volunteering == source.is_volunteering
        assert copy.grants_qualification == source.grants_qualification
        assert copy.requires_qualification == source.requires_qualification
