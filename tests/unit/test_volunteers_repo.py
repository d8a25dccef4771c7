"""storage.volunteers.VolunteersRepository: drafts, profiles, export and account deletion."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from bot.domain.geo import Point
from bot.domain.users import TelegramIdentity
from bot.domain.volunteers import (
    DraftData,
    Gender,
    NotificationSettings,
    RegistrationDraft,
    RegistrationStep,
    Slot,
)
from storage.browsing import BrowseSessionsRepository
from storage.db import Database, IntegrityError, Row
from storage.flows import FlowsRepository
from storage.users import UsersRepository
from storage.volunteers import (
    ERASED_FIELDS,
    KEPT_FIELDS,
    ProfileExists,
    ProfileNotFound,
    VolunteersRepository,
)

T0 = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=10)
ALICE = 1001
BOB = 2002


async def add_user(db: Database, telegram_id: int = ALICE) -> None:
    await UsersRepository(db).touch(
        TelegramIdentity(telegram_id=telegram_id, first_name="Lei", username="lilei"), T0
    )


def complete_data(**changes: Any) -> DraftData:
    data = DraftData(
        consent_version="2026-03",
        consent_at=T0 - timedelta(minutes=10),
        real_name="李雷",
        phone="+8613800138000",
        id_number="430104199005170017",
        gender=Gender.MALE,
        gender_answered=True,
        birth_date=date(1990, 5, 17),
        area_code="yuelu",
        area_text="麓山南路 1 号",
        # Deliberately out of catalog order, with a duplicate.
        skills=["it", "first_aid", "it"],
        categories=["health", "elderly_children"],
        availability=Slot.WEEKDAY_EVENING | Slot.WEEKEND_MORNING,
        groups=["youth", "party_member"],
    )
    return data.model_copy(update=changes)


async def registered(
    db: Database, telegram_id: int = ALICE, **changes: Any
) -> VolunteersRepository:
    await add_user(db, telegram_id)
    repo = VolunteersRepository(db)
    await repo.create_profile(telegram_id, complete_data(**changes), is_minor=False, now=T0)
    return repo


async def raw_volunteer(db: Database, volunteer_id: int) -> Row:
    row = await db.fetch_one("SELECT * FROM volunteers WHERE volunteer_id = ?", (volunteer_id,))
    assert row is not None
    return row


async def codes(db: Database, table: str, column: str, volunteer_id: int) -> list[str]:
    rows = await db.fetch_all(
        f"SELECT {column} FROM {table} WHERE volunteer_id = ? ORDER BY {column}", (volunteer_id,)
    )
    return [row[column] for row in rows]


# -- drafts ---------------------------------------------------------------------------------------


async def test_draft_round_trip(db: Database) -> None:
    await add_user(db)
    repo = VolunteersRepository(db)
    assert await repo.get_draft(ALICE) is None

    draft = RegistrationDraft(
        telegram_id=ALICE,
        step=RegistrationStep.BIRTH_DATE,
        data=DraftData(
            consent_version="2026-03",
            consent_at=T0,
            real_name="韩梅梅",
            gender=Gender.FEMALE,
            gender_answered=True,
            birth_year=2009,
            birth_month=2,
            skills=["teaching", "arts"],
            categories=["education"],
            availability=Slot.WEEKEND_AFTERNOON,
        ),
        updated_at=T0,
    )
    await repo.save_draft(draft)
    loaded = await repo.get_draft(ALICE)
    assert loaded == draft
    assert loaded is not None and loaded.data.gender is Gender.FEMALE
    assert loaded.data.consent_at is not None and loaded.data.consent_at.tzinfo is not None

    # Saving again replaces it (one draft per user).
    later = draft.model_copy(
        update={
            "step": RegistrationStep.REVIEW,
            "return_to_review": True,
            "data": draft.data.model_copy(
                update={"birth_date": date(2009, 2, 28), "guardian_consent_at": T1}
            ),
            "updated_at": T1,
        }
    )
    await repo.save_draft(later)
    loaded = await repo.get_draft(ALICE)
    assert loaded == later
    assert loaded is not None and loaded.data.birth_date == date(2009, 2, 28)
    rows = await db.fetch_all("SELECT telegram_id FROM registration_drafts")
    assert len(rows) == 1

    assert await repo.delete_draft(ALICE)
    assert not await repo.delete_draft(ALICE)
    assert await repo.get_draft(ALICE) is None


async def test_unreadable_draft_is_treated_as_absent(db: Database) -> None:
    await add_user(db)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO registration_drafts (telegram_id, step, data, updated_at) "
            "VALUES (?, 'a_step_that_was_renamed', '{}', ?)",
            (ALICE, T0.isoformat()),
        )
    repo = VolunteersRepository(db)
    assert await repo.get_draft(ALICE) is None
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE registration_drafts SET step = 'name', data = '{\"skills\": 5}'",
        )
    assert await repo.get_draft(ALICE) is None


async def test_draft_needs_an_existing_user(db: Database) -> None:
    draft = RegistrationDraft(
        telegram_id=ALICE, step=RegistrationStep.CONSENT, data=DraftData(), updated_at=T0
    )
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        await VolunteersRepository(db).save_draft(draft)


# -- creating and reading profiles -----------------------------------------------------------


async def test_create_profile_writes_everything_and_drops_the_draft(db: Database) -> None:
    await add_user(db)
    repo = VolunteersRepository(db)
    data = complete_data()
    await repo.save_draft(
        RegistrationDraft(telegram_id=ALICE, step=RegistrationStep.REVIEW, data=data, updated_at=T0)
    )

    profile = await repo.create_profile(ALICE, data, is_minor=False, now=T0)

    assert profile.telegram_id == ALICE
    assert (profile.real_name, profile.phone, profile.id_number) == (
        "李雷",
        "+8613800138000",
        "430104199005170017",
    )
    assert profile.gender is Gender.MALE
    assert profile.birth_date == date(1990, 5, 17)
    assert not profile.is_minor and profile.guardian_consent_at is None
    assert (profile.area_code, profile.area_text) == ("yuelu", "麓山南路 1 号")
    # Skills and categories in catalog order, groups in VolunteerGroup order, no duplicates.
    assert profile.skills == ("first_aid", "it")
    assert profile.categories == ("elderly_children", "health")
    assert profile.groups == ("party_member", "youth")
    assert profile.availability == Slot.WEEKDAY_EVENING | Slot.WEEKEND_MORNING
    assert (profile.consent_version, profile.consent_at) == ("2026-03", data.consent_at)
    assert profile.registered_at == profile.updated_at == T0
    assert profile.paused_until is None
    assert profile.notifications == NotificationSettings()

    assert await repo.get_draft(ALICE) is None
    assert await repo.get_profile(ALICE) == profile
    assert await repo.get_profile_by_id(profile.volunteer_id) == profile
    assert await repo.get_profile(BOB) is None
    assert await repo.get_profile_by_id(profile.volunteer_id + 1) is None
    assert await repo.count_active() == 1
    stored = await raw_volunteer(db, profile.volunteer_id)
    assert stored["birth_date"] == "1990-05-17"
    assert stored["registered_at"] == "2026-03-05T09:00:00.000000+00:00"
    assert stored["quiet_start"] == "22:00"


async def test_profile_with_no_optional_answers(db: Database) -> None:
    await add_user(db)
    repo = VolunteersRepository(db)
    profile = await repo.create_profile(
        ALICE,
        complete_data(
            id_number=None,
            gender=None,
            area_code=None,
            area_text=None,
            skills=[],
            groups=[],
            availability=0,
        ),
        is_minor=False,
        now=T0,
    )
    assert profile.id_number is None and profile.gender is None and profile.area_code is None
    assert profile.skills == () and profile.groups == ()
    assert profile.categories == ("elderly_children", "health")
    assert await repo.get_profile(ALICE) == profile


async def test_minor_needs_guardian_consent(db: Database) -> None:
    await add_user(db)
    repo = VolunteersRepository(db)
    data = complete_data(birth_date=date(2011, 1, 1))
    with pytest.raises(ValueError, match="guardian_consent_at"):
        await repo.create_profile(ALICE, data, is_minor=True, now=T0)
    consented = data.model_copy(update={"guardian_consent_at": T0})
    profile = await repo.create_profile(ALICE, consented, is_minor=True, now=T0)
    assert profile.is_minor and profile.guardian_consent_at == T0


async def test_second_profile_for_the_same_user_is_refused(db: Database) -> None:
    repo = await registered(db)
    first = await repo.get_profile(ALICE)
    assert first is not None
    draft = RegistrationDraft(
        telegram_id=ALICE, step=RegistrationStep.REVIEW, data=complete_data(), updated_at=T1
    )
    await repo.save_draft(draft)

    with pytest.raises(ProfileExists) as caught:
        await repo.create_profile(ALICE, complete_data(real_name="王五"), is_minor=False, now=T1)
    assert caught.value.telegram_id == ALICE
    assert caught.value.volunteer_id == first.volunteer_id
    # Nothing changed: the old profile, the draft, a single row.
    assert await repo.get_profile(ALICE) == first
    assert await repo.get_draft(ALICE) == draft
    assert await repo.count_active() == 1


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"real_name": None}, "real_name"),
        ({"real_name": "  "}, "real_name"),
        ({"phone": None}, "phone"),
        ({"birth_date": None}, "birth_date"),
        ({"consent_version": None}, "consent_version"),
        ({"consent_at": None}, "consent_at"),
        ({"categories": []}, "categories"),
    ],
)
async def test_missing_required_field_is_refused(
    db: Database, changes: dict[str, object], missing: str
) -> None:
    await add_user(db)
    repo = VolunteersRepository(db)
    with pytest.raises(ValueError, match=f"missing: {missing}"):
        await repo.create_profile(ALICE, complete_data(**changes), is_minor=False, now=T0)
    assert await repo.get_profile(ALICE) is None
    assert await repo.count_active() == 0


async def test_malformed_groups_and_availability_are_refused(db: Database) -> None:
    await add_user(db)
    repo = VolunteersRepository(db)
    with pytest.raises(ValueError, match="unknown volunteer groups: astronauts"):
        await repo.create_profile(
            ALICE, complete_data(groups=["youth", "astronauts"]), is_minor=False, now=T0
        )
    with pytest.raises(ValueError, match="availability"):
        await repo.create_profile(ALICE, complete_data(availability=64), is_minor=False, now=T0)


async def test_unknown_codes_are_refused_by_foreign_keys(db: Database) -> None:
    await add_user(db)
    repo = VolunteersRepository(db)
    draft = RegistrationDraft(
        telegram_id=ALICE, step=RegistrationStep.REVIEW, data=complete_data(), updated_at=T0
    )
    await repo.save_draft(draft)
    for changes in (
        {"area_code": "atlantis"},
        {"skills": ["first_aid", "juggling"]},
        {"categories": ["health", "space_travel"]},
    ):
        with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
            await repo.create_profile(ALICE, complete_data(**changes), is_minor=False, now=T0)
    # Rolled back entirely: no half-written profile, the draft is still there.
    assert await db.fetch_all("SELECT volunteer_id FROM volunteers") == []
    assert await db.fetch_all("SELECT volunteer_id FROM volunteer_categories") == []
    assert await repo.get_draft(ALICE) == draft


async def test_profile_needs_an_existing_user(db: Database) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        await VolunteersRepository(db).create_profile(
            ALICE, complete_data(), is_minor=False, now=T0
        )


async def test_a_retired_area_keeps_working_for_existing_profiles(db: Database) -> None:
    repo = await registered(db)
    async with db.transaction() as tx:
        await tx.execute("UPDATE areas SET is_active = 0 WHERE code = 'yuelu'")
    profile = await repo.get_profile(ALICE)
    assert profile is not None and profile.area_code == "yuelu"


# -- editing -------------------------------------------------------------------------------------


async def test_update_profile_replaces_fields_and_join_rows(db: Database) -> None:
    repo = await registered(db)
    before = await repo.get_profile(ALICE)
    assert before is not None
    edit = complete_data(
        real_name="李磊",
        phone="+8613900139000",
        id_number=None,
        gender=Gender.UNDISCLOSED,
        area_code="kaifu",
        area_text=None,
        skills=["driving"],
        categories=["traffic", "disaster", "community"],
        groups=[],
        availability=int(Slot.WEEKEND_EVENING),
    )
    await repo.save_draft(
        RegistrationDraft(
            telegram_id=ALICE,
            step=RegistrationStep.REVIEW,
            return_to_review=True,
            data=edit,
            updated_at=T1,
        )
    )

    after = await repo.update_profile(ALICE, edit, is_minor=False, now=T1)

    assert after.volunteer_id == before.volunteer_id
    assert (after.real_name, after.phone, after.id_number) == ("李磊", "+8613900139000", None)
    assert after.gender is Gender.UNDISCLOSED
    assert (after.area_code, after.area_text) == ("kaifu", None)
    assert after.skills == ("driving",)
    assert after.categories == ("disaster", "traffic", "community")  # catalog order
    assert after.groups == ()
    assert after.availability == Slot.WEEKEND_EVENING
    assert after.registered_at == T0 and after.updated_at == T1
    assert await repo.get_profile(ALICE) == after
    assert await repo.get_draft(ALICE) is None
    assert await codes(db, "volunteer_skills", "skill_code", after.volunteer_id) == ["driving"]
    assert await codes(db, "volunteer_groups", "group_code", after.volunteer_id) == []

    with pytest.raises(ProfileNotFound):
        await repo.update_profile(BOB, edit, is_minor=False, now=T1)
    with pytest.raises(ValueError, match="missing: phone"):
        await repo.update_profile(ALICE, complete_data(phone=None), is_minor=False, now=T1)
    assert await repo.get_profile(ALICE) == after


async def test_notifications_pause_and_resume(db: Database) -> None:
    repo = await registered(db)
    settings = NotificationSettings(
        reminders=True,
        campaigns=False,
        digest=False,
        invitations=True,
        quiet_start=time(23, 30),
        quiet_end=time(7, 0),
    )
    profile = await repo.set_notifications(ALICE, settings, T1)
    assert profile.notifications == settings
    assert profile.updated_at == T1
    stored = await repo.get_profile(ALICE)
    assert stored is not None and stored.notifications == settings
    with pytest.raises(ValueError, match="whole minutes"):
        await repo.set_notifications(ALICE, NotificationSettings(quiet_start=time(22, 0, 30)), T1)

    paused = await repo.pause(ALICE, date(2026, 4, 1), T1)
    assert paused.paused_until == date(2026, 4, 1)
    assert paused.notifications == settings  # untouched
    assert await repo.count_active() == 1
    assert await repo.count_active(today=date(2026, 3, 31)) == 0
    assert await repo.count_active(today=date(2026, 4, 1)) == 1

    resumed = await repo.resume(ALICE, T1 + timedelta(hours=1))
    assert resumed.paused_until is None
    assert resumed.updated_at == T1 + timedelta(hours=1)
    assert await repo.count_active(today=date(2026, 3, 31)) == 1

    with pytest.raises(ProfileNotFound):
        await repo.set_notifications(BOB, settings, T1)
    with pytest.raises(ProfileNotFound):
        await repo.pause(BOB, date(2026, 4, 1), T1)
    with pytest.raises(ProfileNotFound):
        await repo.resume(BOB, T1)


# -- the user's rights ---------------------------------------------------------------------------


async def add_bot_state(db: Database) -> None:
    flows = FlowsRepository(db)
    await flows.take(ALICE, "cancel_reason", "reason", {"activity": 7}, T1)
    browsing = BrowseSessionsRepository(db)
    await browsing.save_search(ALICE, ["义诊", "岳麓"])
    await browsing.save_location(ALICE, Point(28.2, 112.9), T1)
    # Other people's state.
    await flows.take(BOB, "registration", "name", {}, T1)
    await browsing.save_search(BOB, ["choir"])


async def test_export_contains_everything_stored(db: Database) -> None:
    repo = await registered(db)
    await add_user(db, BOB)
    edit = complete_data(real_name="李磊")
    await repo.save_draft(
        RegistrationDraft(telegram_id=ALICE, step=RegistrationStep.NAME, data=edit, updated_at=T1)
    )
    await repo.pause(ALICE, date(2026, 4, 1), T1)
    await add_bot_state(db)

    exported = await repo.export(ALICE)
    json.dumps(exported, ensure_ascii=False)  # plain JSON-ready data

    assert exported["telegram_id"] == ALICE
    user = exported["user"]
    assert isinstance(user, dict)
    assert user["first_name"] == "Lei" and user["username"] == "lilei"
    assert user["created_at"] == "2026-03-05T09:00:00.000000+00:00"
    assert user["is_reachable"] is True

    volunteer = exported["volunteer"]
    assert isinstance(volunteer, dict)
    assert volunteer["real_name"] == "李雷"
    assert volunteer["phone"] == "+8613800138000"
    assert volunteer["id_number"] == "430104199005170017"
    assert volunteer["birth_date"] == "1990-05-17"
    assert volunteer["gender"] == "male"
    assert volunteer["skills"] == [
        {"code": "first_aid", "name_zh": "急救", "name_en": "First aid"},
        {"code": "it", "name_zh": "信息技术", "name_en": "IT"},
    ]
    assert volunteer["categories"] == [
        {"code": "elderly_children", "name_zh": "扶老爱幼", "name_en": "Elderly and children"},
        {"code": "health", "name_zh": "卫生健康", "name_en": "Health"},
    ]
    assert volunteer["area"] == {"code": "yuelu", "name_zh": "岳麓区", "name_en": "Yuelu District"}
    assert volunteer["area_text"] == "麓山南路 1 号"
    assert volunteer["groups"] == ["party_member", "youth"]
    assert volunteer["paused_until"] == "2026-04-01"
    assert volunteer["registered_at"] == "2026-03-05T09:00:00Z"
    notifications = volunteer["notifications"]
    assert isinstance(notifications, dict) and notifications["reminders"] is True

    draft = exported["registration_draft"]
    assert isinstance(draft, dict)
    assert draft["step"] == "name"
    assert draft["data"]["real_name"] == "李磊"

    bot_state = exported["bot_state"]
    assert isinstance(bot_state, dict)
    assert bot_state["flow"] == {
        "flow": "cancel_reason",
        "waiting_for": "reason",
        "state": {"activity": 7},
        "version": 1,
        "updated_at": "2026-03-15T09:00:00.000000+00:00",
    }
    assert bot_state["browsing"] == {
        "search_words": ["义诊", "岳麓"],
        "latitude": 28.2,
        "longitude": 112.9,
        "located_at": "2026-03-15T09:00:00.000000+00:00",
    }


async def test_export_of_someone_unknown_or_unregistered(db: Database) -> None:
    repo = VolunteersRepository(db)
    assert await repo.export(ALICE) == {
        "telegram_id": ALICE,
        "user": None,
        "volunteer": None,
        "service_record": None,
        "registration_draft": None,
        "bot_state": {"flow": None, "browsing": None},
        "contact_reveals": None,
    }
    await add_user(db)
    exported = await repo.export(ALICE)
    assert isinstance(exported["user"], dict) and exported["volunteer"] is None


async def test_delete_account_anonymizes_the_profile(db: Database) -> None:
    repo = await registered(db)
    await add_user(db, BOB)
    await repo.save_draft(
        RegistrationDraft(
            telegram_id=ALICE, step=RegistrationStep.NAME, data=complete_data(), updated_at=T1
        )
    )
    await add_bot_state(db)
    profile = await repo.get_profile(ALICE)
    assert profile is not None
    volunteer_id = profile.volunteer_id

    report = await repo.delete_account(ALICE, T1)

    assert report.telegram_id == ALICE
    assert report.user_deleted and report.draft_deleted
    assert report.kept_anonymized_record and report.volunteer_id == volunteer_id
    assert report.state_rows_deleted == 2
    assert report.erased_fields == ERASED_FIELDS and report.kept_fields == KEPT_FIELDS

    # The anonymized record: no personal data, statistics kept.
    row = await raw_volunteer(db, volunteer_id)
    for column in (
        "telegram_id",
        "real_name",
        "phone",
        "id_number",
        "gender",
        "birth_date",
        "guardian_consent_at",
        "area_text",
        "paused_until",
    ):
        assert row[column] is None, column
    assert row["area_code"] == "yuelu"
    assert row["is_minor"] == 0
    assert row["deleted_at"] == "2026-03-15T09:00:00.000000+00:00"
    assert row["registered_at"] == "2026-03-05T09:00:00.000000+00:00"
    assert await codes(db, "volunteer_categories", "category_code", volunteer_id) == [
        "elderly_children",
        "health",
    ]
    assert await codes(db, "volunteer_groups", "group_code", volunteer_id) == []
    assert await codes(db, "volunteer_skills", "skill_code", volunteer_id) == []

    # Everything else about Alice is gone.
    assert await UsersRepository(db).get(ALICE) is None
    assert await repo.get_draft(ALICE) is None
    assert await repo.get_profile(ALICE) is None
    assert await repo.get_profile_by_id(volunteer_id) is None
    assert await repo.count_active() == 0
    owners = await db.fetch_all("SELECT telegram_id FROM flow_owners")
    assert [r["telegram_id"] for r in owners] == [BOB]
    sessions = await db.fetch_all("SELECT telegram_id FROM browse_sessions")
    assert [r["telegram_id"] for r in sessions] == [BOB]
    assert await UsersRepository(db).get(BOB) is not None
    exported = await repo.export(ALICE)
    assert exported["user"] is None and exported["volunteer"] is None

    # Deleting again finds nothing.
    again = await repo.delete_account(ALICE, T1)
    assert not (again.user_deleted or again.draft_deleted or again.kept_anonymized_record)
    assert again.volunteer_id is None and again.state_rows_deleted == 0
    assert again.erased_fields == () and again.kept_fields == ()

    # The same Telegram account can register afresh: a new volunteer, the old one untouched.
    await add_user(db)
    fresh = await repo.create_profile(ALICE, complete_data(), is_minor=False, now=T1)
    assert fresh.volunteer_id != volunteer_id
    assert await repo.get_profile(ALICE) == fresh
    assert (await raw_volunteer(db, volunteer_id))["telegram_id"] is None
    assert await repo.count_active() == 1


async def test_delete_account_without_a_profile(db: Database) -> None:
    await add_user(db)
    repo = VolunteersRepository(db)
    await repo.save_draft(
        RegistrationDraft(
            telegram_id=ALICE, step=RegistrationStep.PHONE, data=DraftData(), updated_at=T0
        )
    )
    report = await repo.delete_account(ALICE, T1)
    assert report.user_deleted and report.draft_deleted
    assert not report.kept_anonymized_record and report.volunteer_id is None
    assert await db.fetch_all("SELECT volunteer_id FROM volunteers") == []
    assert await UsersRepository(db).get(ALICE) is None


async def test_live_profile_needs_its_personal_columns(db: Database) -> None:
    repo = await registered(db)
    profile = await repo.get_profile(ALICE)
    assert profile is not None
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE volunteers SET real_name = NULL WHERE volunteer_id = ?",
                (profile.volunteer_id,),
            )
