"""bot.services.registration.RegistrationService: the registration wizard's state machine.

Runs against a real migrated database (drafts and profiles really stored and read back), the
seeded reference lists, a manual clock and the Asia/Shanghai time zone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain import validation
from bot.domain.users import TelegramIdentity
from bot.domain.validation import InvalidInput
from bot.domain.volunteers import (
    CatalogKind,
    Gender,
    RegistrationDraft,
    RegistrationStep,
    Slot,
    VolunteerGroup,
    VolunteerProfile,
)
from bot.services.registration import (
    CONSENT_VERSION,
    AlreadyRegistered,
    NoDraft,
    RegistrationService,
    WrongStep,
)
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository

Step = RegistrationStep

# 10:00 on 23 November 2026 in Shanghai.
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
USER = 4242
OTHER_USER = 4343

ADULT_BIRTH = "1990-05-04"
MINOR_BIRTH = "2010-05-04"  # 16 on T0
# A valid GB 11643 number (check character X); born 1949-12-31.
VALID_ID = "11010519491231002X"
WRONG_CHECK_DIGIT_ID = "110105194912310021"

ADULT_STEPS = [
    Step.CONSENT,
    Step.NAME,
    Step.PHONE,
    Step.GENDER,
    Step.BIRTH_DATE,
    Step.AREA,
    Step.SKILLS,
    Step.CATEGORIES,
    Step.AVAILABILITY,
    Step.GROUPS,
    Step.REVIEW,
]


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def volunteers(db: Database) -> VolunteersRepository:
    users = UsersRepository(db)
    for telegram_id, name in ((USER, "Lei"), (OTHER_USER, "Mei")):
        await users.touch(TelegramIdentity(telegram_id=telegram_id, first_name=name), T0)
    return VolunteersRepository(db)


@pytest.fixture
def catalog(db: Database) -> CatalogRepository:
    return CatalogRepository(db)


def make_service(
    volunteers: VolunteersRepository,
    catalog: CatalogRepository,
    clock: ManualClock,
    *,
    require_id_number: bool = False,
) -> RegistrationService:
    return RegistrationService(
        volunteers, catalog, clock, SHANGHAI, require_id_number=require_id_number
    )


@pytest.fixture
def svc(
    volunteers: VolunteersRepository, catalog: CatalogRepository, clock: ManualClock
) -> RegistrationService:
    return make_service(volunteers, catalog, clock)


@pytest.fixture
def svc_id(
    volunteers: VolunteersRepository, catalog: CatalogRepository, clock: ManualClock
) -> RegistrationService:
    return make_service(volunteers, catalog, clock, require_id_number=True)


# ---------------------------------------------------------------------------------- helpers


async def answer_step(
    svc: RegistrationService, *, birth: str = ADULT_BIRTH, user: int = USER
) -> RegistrationDraft:
    """Give a valid answer to the draft's current step (multi-selects: one choice, then Done)."""
    draft = await svc.current(user)
    match draft.step:
        case Step.CONSENT:
            return await svc.accept_consent(user)
        case Step.NAME:
            return await svc.set_name(user, "李雷")
        case Step.PHONE:
            return await svc.set_phone(user, "138 1234 5678")
        case Step.ID_NUMBER:
            return await svc.set_id_number(user, VALID_ID)
        case Step.GENDER:
            return await svc.set_gender(user, Gender.MALE)
        case Step.BIRTH_DATE:
            return await svc.set_birth_date(user, birth)
        case Step.GUARDIAN:
            return await svc.confirm_guardian(user)
        case Step.AREA:
            return await svc.set_area_code(user, "yuelu")
        case Step.SKILLS:
            await svc.toggle_skill(user, "first_aid")
        case Step.CATEGORIES:
            await svc.toggle_category(user, "health")
        case Step.AVAILABILITY:
            await svc.toggle_slot(user, Slot.WEEKEND_MORNING)
        case Step.GROUPS:
            await svc.toggle_group(user, VolunteerGroup.STUDENT.value)
        case _:
            raise AssertionError(f"nothing to answer at {draft.step}")
    return await svc.done(user)


async def walk_to(
    svc: RegistrationService, step: Step, *, birth: str = ADULT_BIRTH, user: int = USER
) -> RegistrationDraft:
    """Begin (or resume) and answer every step until the draft is at ``step``."""
    draft = await svc.begin(user)
    for _ in range(len(Step) + 1):
        if draft.step is step:
            return draft
        draft = await answer_step(svc, birth=birth, user=user)
    raise AssertionError(f"never reached {step}; stuck at {draft.step}")


async def visited_steps(svc: RegistrationService, *, birth: str = ADULT_BIRTH) -> list[Step]:
    draft = await svc.begin(USER)
    steps = [draft.step]
    while draft.step is not Step.REVIEW:
        draft = await answer_step(svc, birth=birth)
        steps.append(draft.step)
        assert len(steps) <= len(Step), steps
    return steps


async def register(svc: RegistrationService, *, birth: str = ADULT_BIRTH) -> VolunteerProfile:
    await walk_to(svc, Step.REVIEW, birth=birth)
    return await svc.confirm(USER)


# ---------------------------------------------------------------------------------- step order


async def test_an_adult_answers_consent_name_phone_gender_birth_date_area_then_the_lists(
    svc: RegistrationService,
) -> None:
    assert await visited_steps(svc) == ADULT_STEPS


async def test_require_id_number_puts_the_id_number_step_right_after_the_phone(
    svc_id: RegistrationService,
) -> None:
    expected = [*ADULT_STEPS[:3], Step.ID_NUMBER, *ADULT_STEPS[3:]]
    assert await visited_steps(svc_id) == expected


async def test_position_counts_steps_without_consent_and_review_one_of_nine_for_an_adult(
    svc: RegistrationService,
) -> None:
    draft = await svc.begin(USER)
    assert svc.position(draft) == (0, 9)  # the consent screen is not a numbered step
    draft = await svc.accept_consent(USER)
    assert svc.position(draft) == (1, 9)
    draft = await svc.set_name(USER, "李雷")
    assert svc.position(draft) == (2, 9)
    draft = await walk_to(svc, Step.GROUPS)
    assert svc.position(draft) == (9, 9)
    draft = await walk_to(svc, Step.REVIEW)
    assert svc.position(draft) == (9, 9)


async def test_position_with_require_id_number_is_one_of_ten_and_the_id_step_is_three(
    svc_id: RegistrationService,
) -> None:
    draft = await walk_to(svc_id, Step.NAME)
    assert svc_id.position(draft) == (1, 10)
    draft = await walk_to(svc_id, Step.ID_NUMBER)
    assert svc_id.position(draft) == (3, 10)
    draft = await walk_to(svc_id, Step.GENDER)
    assert svc_id.position(draft) == (4, 10)


async def test_position_of_a_minor_keeps_the_total_the_guardian_step_is_not_numbered(
    svc: RegistrationService,
) -> None:
    """Issue #13 item 16: "step 4 of 9" used to become "step 6 of 10" after the guardian step
    appeared; the guardian's consent is a screen of its own, not a numbered step."""
    draft = await walk_to(svc, Step.BIRTH_DATE, birth=MINOR_BIRTH)
    assert svc.position(draft) == (4, 9)
    draft = await walk_to(svc, Step.GUARDIAN, birth=MINOR_BIRTH)
    assert svc.position(draft)[1] == 9
    draft = await svc.confirm_guardian(USER)
    assert svc.position(draft) == (5, 9)  # the area step, as for an adult


# ---------------------------------------------------------------------------------- guardian


async def test_a_minor_gets_the_guardian_step_right_after_the_birth_date(
    svc: RegistrationService,
) -> None:
    steps = await visited_steps(svc, birth=MINOR_BIRTH)
    assert steps == [*ADULT_STEPS[:5], Step.GUARDIAN, *ADULT_STEPS[5:]]
    draft = await svc.current(USER)
    assert draft.data.guardian_consent_at == T0


async def test_an_adult_never_sees_the_guardian_step_and_cannot_confirm_one(
    svc: RegistrationService,
) -> None:
    assert Step.GUARDIAN not in await visited_steps(svc)
    with pytest.raises(WrongStep):
        await svc.confirm_guardian(USER)


async def test_an_eighteen_year_old_by_the_shanghai_date_is_an_adult_even_if_utc_says_seventeen(
    svc: RegistrationService, clock: ManualClock
) -> None:
    # 18:00 UTC on 22 November is already 02:00 on 23 November in Shanghai: the 18th birthday.
    clock.set(datetime(2026, 11, 22, 18, 0, tzinfo=UTC))
    await walk_to(svc, Step.BIRTH_DATE)
    draft = await svc.set_birth_date(USER, "2008-11-23")
    assert draft.step is Step.AREA
    draft = await svc.back(USER)
    draft = await svc.set_birth_date(USER, "2008-11-24")  # 17 for one more day
    assert draft.step is Step.GUARDIAN


async def test_a_minor_cannot_skip_the_guardian_step_with_other_answers(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.GUARDIAN, birth=MINOR_BIRTH)
    with pytest.raises(WrongStep):
        await svc.set_area_code(USER, "yuelu")
    with pytest.raises(WrongStep):
        await svc.done(USER)
    with pytest.raises(WrongStep):
        await svc.confirm(USER)
    assert (await svc.current(USER)).step is Step.GUARDIAN


async def test_a_minor_cannot_confirm_the_review_without_guardian_consent_and_is_sent_there(
    svc: RegistrationService, volunteers: VolunteersRepository
) -> None:
    # An adult at the review edits the birth date to a minor's and backs out of the guardian
    # step to the review: confirming is refused and leads to the guardian step.
    await walk_to(svc, Step.REVIEW)
    await svc.edit_from_review(USER, Step.BIRTH_DATE)
    draft = await svc.set_birth_date(USER, MINOR_BIRTH)
    assert draft.step is Step.GUARDIAN
    draft = await svc.back(USER)
    assert draft.step is Step.REVIEW
    with pytest.raises(InvalidInput) as caught:
        await svc.confirm(USER)
    assert caught.value.message == "One answer is still missing; please fill it in."
    assert (await svc.current(USER)).step is Step.GUARDIAN
    assert await volunteers.get_profile(USER) is None


async def test_changing_the_birth_date_from_a_minors_to_an_adults_clears_guardian_consent(
    svc: RegistrationService,
) -> None:
    draft = await walk_to(svc, Step.AREA, birth=MINOR_BIRTH)
    assert draft.data.guardian_consent_at == T0
    assert (await svc.back(USER)).step is Step.GUARDIAN
    assert (await svc.back(USER)).step is Step.BIRTH_DATE
    draft = await svc.set_birth_date(USER, ADULT_BIRTH)
    assert draft.step is Step.AREA
    assert draft.data.guardian_consent_at is None
    assert (await svc.current(USER)).data.guardian_consent_at is None  # stored too


async def test_changing_a_minors_birth_date_to_another_minors_keeps_guardian_consent(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.REVIEW, birth=MINOR_BIRTH)
    await svc.edit_from_review(USER, Step.BIRTH_DATE)
    draft = await svc.set_birth_date(USER, "2011-01-01")
    assert draft.step is Step.REVIEW
    assert draft.data.guardian_consent_at == T0


# ---------------------------------------------------------------------------------- back


async def test_back_walks_back_one_step_at_a_time_keeping_the_answers(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.BIRTH_DATE)
    walked = []
    for _ in range(4):
        walked.append((await svc.back(USER)).step)
    assert walked == [Step.GENDER, Step.PHONE, Step.NAME, Step.CONSENT]
    draft = await svc.back(USER)  # the first step has nothing before it
    assert draft.step is Step.CONSENT
    assert draft.data.real_name == "李雷" and draft.data.phone == "+8613812345678"


async def test_back_from_the_gender_step_goes_to_the_id_number_when_it_is_required(
    svc_id: RegistrationService,
) -> None:
    await walk_to(svc_id, Step.GENDER)
    assert (await svc_id.back(USER)).step is Step.ID_NUMBER
    assert (await svc_id.back(USER)).step is Step.PHONE


async def test_back_from_a_step_edited_from_the_review_returns_to_the_review_unchanged(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.REVIEW)
    draft = await svc.edit_from_review(USER, Step.AREA)
    assert draft.step is Step.AREA and draft.return_to_review
    draft = await svc.back(USER)
    assert draft.step is Step.REVIEW
    assert draft.data.area_code == "yuelu"


# ---------------------------------------------------------------------------------- review edits


async def test_edit_from_review_returns_to_the_review_after_the_edited_step(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.REVIEW)
    draft = await svc.edit_from_review(USER, Step.NAME)
    assert draft.step is Step.NAME
    draft = await svc.set_name(USER, "韩梅梅")
    assert draft.step is Step.REVIEW and draft.data.real_name == "韩梅梅"

    await svc.edit_from_review(USER, Step.SKILLS)
    await svc.toggle_skill(USER, "driving")
    draft = await svc.done(USER)
    assert draft.step is Step.REVIEW
    assert draft.data.skills == ["first_aid", "driving"]


async def test_edit_from_review_to_a_minors_birth_date_goes_through_the_guardian_step_first(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.REVIEW)
    await svc.edit_from_review(USER, Step.BIRTH_DATE)
    draft = await svc.set_birth_date(USER, MINOR_BIRTH)
    assert draft.step is Step.GUARDIAN


async def test_after_the_guardian_step_reached_from_a_review_edit_the_volunteer_is_back_at_review(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.REVIEW)
    await svc.edit_from_review(USER, Step.BIRTH_DATE)
    await svc.set_birth_date(USER, MINOR_BIRTH)
    draft = await svc.confirm_guardian(USER)
    assert draft.data.guardian_consent_at == T0
    assert draft.step is Step.REVIEW  # actual: Step.AREA


async def test_edit_from_review_refuses_steps_that_are_not_editable_or_not_in_this_wizard(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.REVIEW)
    for step in (Step.CONSENT, Step.GUARDIAN, Step.REVIEW, Step.ID_NUMBER):
        with pytest.raises(WrongStep):
            await svc.edit_from_review(USER, step)
    assert (await svc.current(USER)).step is Step.REVIEW


async def test_edit_from_review_is_refused_before_the_review(svc: RegistrationService) -> None:
    await walk_to(svc, Step.AREA)
    with pytest.raises(WrongStep):
        await svc.edit_from_review(USER, Step.NAME)


# ---------------------------------------------------------------------------------- wrong steps


async def test_answers_for_another_step_raise_wrong_step_and_change_nothing(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.NAME)
    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: svc.accept_consent(USER),
        lambda: svc.set_phone(USER, "13812345678"),
        lambda: svc.set_phone_from_contact(USER, "8613812345678", USER),
        lambda: svc.set_gender(USER, Gender.FEMALE),
        lambda: svc.set_birth_date(USER, ADULT_BIRTH),
        lambda: svc.pick_birth_year(USER, 1990),
        lambda: svc.set_area_code(USER, "yuelu"),
        lambda: svc.set_area_text(USER, "岳麓区"),
        lambda: svc.toggle_skill(USER, "first_aid"),
        lambda: svc.toggle_category(USER, "health"),
        lambda: svc.toggle_slot(USER, Slot.WEEKDAY_MORNING),
        lambda: svc.toggle_group(USER, "student"),
        lambda: svc.done(USER),
        lambda: svc.confirm(USER),
        lambda: svc.confirm_guardian(USER),
    ]
    for attempt in attempts:
        with pytest.raises(WrongStep):
            await attempt()
    draft = await svc.current(USER)
    assert draft.step is Step.NAME and draft.data.phone is None


async def test_the_id_number_step_is_wrong_when_id_numbers_are_not_required(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.PHONE)
    with pytest.raises(WrongStep):
        await svc.set_id_number(USER, VALID_ID)


async def test_answers_without_a_draft_raise_no_draft(svc: RegistrationService) -> None:
    with pytest.raises(NoDraft):
        await svc.current(USER)
    with pytest.raises(NoDraft):
        await svc.set_name(USER, "李雷")
    with pytest.raises(NoDraft):
        await svc.back(USER)


async def test_unknown_or_inactive_area_skill_and_category_codes_are_wrong_step(
    svc: RegistrationService, catalog: CatalogRepository
) -> None:
    await walk_to(svc, Step.AREA)
    with pytest.raises(WrongStep):
        await svc.set_area_code(USER, "atlantis")
    await catalog.set_active(CatalogKind.AREA, "kaifu", False)
    with pytest.raises(WrongStep):
        await svc.set_area_code(USER, "kaifu")
    await svc.set_area_code(USER, "yuelu")

    with pytest.raises(WrongStep):
        await svc.toggle_skill(USER, "juggling")
    await catalog.set_active(CatalogKind.SKILL, "driving", False)
    with pytest.raises(WrongStep):
        await svc.toggle_skill(USER, "driving")
    await svc.done(USER)

    with pytest.raises(WrongStep):
        await svc.toggle_category(USER, "space_travel")
    with pytest.raises(WrongStep):
        await svc.toggle_category(USER, "first_aid")  # a skill's code, not a category's
    draft = await svc.current(USER)
    assert draft.step is Step.CATEGORIES
    assert draft.data.skills == [] and draft.data.categories == []


async def test_out_of_range_slots_and_unknown_groups_are_wrong_step(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.AVAILABILITY)
    for slot in (0, 3, 64, 999, -1):
        with pytest.raises(WrongStep):
            await svc.toggle_slot(USER, slot)
    draft = await svc.toggle_slot(USER, Slot.WEEKDAY_EVENING)
    draft = await svc.toggle_slot(USER, Slot.WEEKEND_EVENING)
    assert draft.data.availability == Slot.WEEKDAY_EVENING | Slot.WEEKEND_EVENING
    draft = await svc.toggle_slot(USER, Slot.WEEKDAY_EVENING)  # pressed again: unselected
    assert draft.data.availability == Slot.WEEKEND_EVENING
    await svc.done(USER)
    with pytest.raises(WrongStep):
        await svc.toggle_group(USER, "astronaut")


async def test_birth_year_picker_accepts_ages_six_to_a_hundred_only(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.BIRTH_DATE)
    for year in (1925, 2021, 0, 2026):
        with pytest.raises(WrongStep):
            await svc.pick_birth_year(USER, year)
    with pytest.raises(WrongStep):
        await svc.pick_birth_month(USER, 5)  # no year yet
    draft = await svc.pick_birth_year(USER, 1926)
    assert draft.data.birth_year == 1926 and draft.step is Step.BIRTH_DATE
    draft = await svc.pick_birth_year(USER, 2020)
    assert draft.data.birth_year == 2020
    with pytest.raises(WrongStep):
        await svc.pick_birth_day(USER, 1)  # no month yet
    for month in (0, 13):
        with pytest.raises(WrongStep):
            await svc.pick_birth_month(USER, month)


async def test_birth_date_picker_builds_the_date_and_refuses_impossible_days(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.BIRTH_DATE)
    await svc.pick_birth_year(USER, 1990)
    draft = await svc.pick_birth_month(USER, 2)
    assert (draft.data.birth_year, draft.data.birth_month) == (1990, 2)
    with pytest.raises(InvalidInput):
        await svc.pick_birth_day(USER, 30)
    draft = await svc.pick_birth_day(USER, 28)
    assert draft.step is Step.AREA
    assert draft.data.birth_date == date(1990, 2, 28)
    assert (draft.data.birth_year, draft.data.birth_month) == (None, None)


# ---------------------------------------------------------------------------------- done


async def test_done_refuses_zero_categories_with_invalid_input(svc: RegistrationService) -> None:
    await walk_to(svc, Step.CATEGORIES)
    with pytest.raises(InvalidInput) as caught:
        await svc.done(USER)
    assert caught.value.message == "Please choose at least one kind of service."
    await svc.toggle_category(USER, "health")
    await svc.toggle_category(USER, "health")  # unselected again
    with pytest.raises(InvalidInput):
        await svc.done(USER)
    assert (await svc.current(USER)).step is Step.CATEGORIES


async def test_done_refuses_zero_availability_with_invalid_input(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.AVAILABILITY)
    with pytest.raises(InvalidInput) as caught:
        await svc.done(USER)
    assert caught.value.message == "Please choose at least one time when you could help."
    assert (await svc.current(USER)).step is Step.AVAILABILITY


async def test_skills_and_groups_are_optional(svc: RegistrationService) -> None:
    await walk_to(svc, Step.SKILLS)
    assert (await svc.done(USER)).step is Step.CATEGORIES
    await walk_to(svc, Step.GROUPS)
    draft = await svc.done(USER)
    assert draft.step is Step.REVIEW
    assert draft.data.skills == [] and draft.data.groups == []


# ---------------------------------------------------------------------------------- phone


async def test_set_phone_from_contact_refuses_someone_elses_contact(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.PHONE)
    for contact_user_id in (OTHER_USER, None):
        with pytest.raises(InvalidInput) as caught:
            await svc.set_phone_from_contact(USER, "+8613900000000", contact_user_id)
        assert "someone else's contact" in caught.value.message
    draft = await svc.current(USER)
    assert draft.step is Step.PHONE and draft.data.phone is None


async def test_set_phone_from_contact_accepts_a_number_without_plus_as_telegram_sends_it(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.PHONE)
    draft = await svc.set_phone_from_contact(USER, "8613812345678", USER)
    assert draft.step is Step.GENDER
    assert draft.data.phone == "+8613812345678"


async def test_typed_phone_numbers_are_normalized_and_invalid_ones_refused(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.PHONE)
    with pytest.raises(InvalidInput):
        await svc.set_phone(USER, "12345")
    draft = await svc.set_phone(USER, "+86 138-1234-5678")
    assert draft.data.phone == "+8613812345678"


# ---------------------------------------------------------------------------------- area


@pytest.mark.parametrize(
    "typed", ["岳麓区", "Yuelu District", "yuelu district", " YUELU  DISTRICT "]
)
async def test_set_area_text_matches_a_typed_listed_district_name_to_its_code(
    svc: RegistrationService, typed: str
) -> None:
    await walk_to(svc, Step.AREA)
    draft = await svc.set_area_text(USER, typed)
    assert draft.step is Step.SKILLS
    assert (draft.data.area_code, draft.data.area_text) == ("yuelu", None)


async def test_a_typed_street_resolves_to_its_district_and_is_kept(
    svc: RegistrationService,
) -> None:
    """Issue #13 item 5: free text with no district never matched any activity."""
    await walk_to(svc, Step.AREA)
    draft = await svc.set_area_text(USER, " 岳麓区  望月湖街道 ")
    assert (draft.data.area_code, draft.data.area_text) == ("yuelu", "岳麓区 望月湖街道")


@pytest.mark.parametrize(
    ("typed", "code"),
    [("岳麓", "yuelu"), ("橘子洲街道", "yuelu"), ("梅溪湖", "yuelu"), ("五一广场", "furong"),
     ("yuhua district", "yuhua"), ("长沙县星沙街道", "changsha_county")],
)  # fmt: skip
async def test_typed_places_resolve_to_districts(
    svc: RegistrationService, typed: str, code: str
) -> None:
    await walk_to(svc, Step.AREA)
    draft = await svc.set_area_text(USER, typed)
    assert draft.data.area_code == code


async def test_an_unknown_place_is_said_so_and_changes_nothing(svc: RegistrationService) -> None:
    await walk_to(svc, Step.AREA)
    with pytest.raises(InvalidInput) as refused:
        await svc.set_area_text(USER, "Some Community 3")
    assert "could not find" in str(refused.value)
    draft = await svc.current(USER)
    assert draft.step is Step.AREA and draft.data.area_code is None


async def test_choosing_a_listed_area_after_typing_one_clears_the_typed_text(
    svc: RegistrationService,
) -> None:
    await walk_to(svc, Step.AREA)
    await svc.set_area_text(USER, "望月湖街道")
    await svc.back(USER)
    draft = await svc.set_area_code(USER, "furong")
    assert (draft.data.area_code, draft.data.area_text) == ("furong", None)


# ---------------------------------------------------------------------------------- begin/confirm


async def test_begin_resumes_an_existing_draft_at_its_step_with_its_answers(
    svc: RegistrationService, volunteers: VolunteersRepository, catalog: CatalogRepository
) -> None:
    await walk_to(svc, Step.BIRTH_DATE)
    # A new service object, like after a restart: the draft comes from the database.
    restarted = make_service(volunteers, catalog, ManualClock(T0 + timedelta(days=2)))
    draft = await restarted.begin(USER)
    assert draft.step is Step.BIRTH_DATE
    assert draft.data.real_name == "李雷" and draft.data.gender is Gender.MALE
    assert draft.data.consent_version == CONSENT_VERSION and draft.data.consent_at == T0


async def test_begin_after_confirm_raises_already_registered(svc: RegistrationService) -> None:
    await register(svc)
    with pytest.raises(AlreadyRegistered):
        await svc.begin(USER)


async def test_confirm_creates_the_profile_and_drops_the_draft(
    svc: RegistrationService, volunteers: VolunteersRepository, clock: ManualClock
) -> None:
    await walk_to(svc, Step.REVIEW)
    clock.advance(timedelta(minutes=5))
    profile = await svc.confirm(USER)
    assert profile == await volunteers.get_profile(USER)
    assert profile.telegram_id == USER
    assert profile.real_name == "李雷" and profile.phone == "+8613812345678"
    assert profile.gender is Gender.MALE and profile.birth_date == date(1990, 5, 4)
    assert not profile.is_minor and profile.guardian_consent_at is None
    assert (profile.area_code, profile.area_text) == ("yuelu", None)
    assert profile.skills == ("first_aid",) and profile.categories == ("health",)
    assert profile.availability == Slot.WEEKEND_MORNING and profile.groups == ("student",)
    assert profile.consent_version == CONSENT_VERSION and profile.consent_at == T0
    assert profile.registered_at == T0 + timedelta(minutes=5)
    assert profile.id_number is None
    assert await volunteers.get_draft(USER) is None
    assert await svc.profile(USER) == profile


async def test_confirm_of_a_minor_stores_is_minor_and_the_guardian_consent(
    svc: RegistrationService,
) -> None:
    profile = await register(svc, birth=MINOR_BIRTH)
    assert profile.is_minor and profile.guardian_consent_at == T0


async def test_confirm_is_refused_before_the_review(svc: RegistrationService) -> None:
    await walk_to(svc, Step.GROUPS)
    with pytest.raises(WrongStep):
        await svc.confirm(USER)


async def test_begin_edit_and_confirm_update_the_existing_profile(
    svc: RegistrationService, volunteers: VolunteersRepository, clock: ManualClock
) -> None:
    created = await register(svc)
    assert await svc.is_editing_profile(USER)
    clock.advance(timedelta(days=1))
    draft = await svc.begin_edit(USER, Step.PHONE)
    assert draft.step is Step.PHONE and draft.return_to_review
    assert draft.data.real_name == "李雷"  # prefilled from the profile
    assert (await svc.begin(USER)).step is Step.PHONE  # /register resumes the edit
    draft = await svc.set_phone(USER, "13900001111")
    assert draft.step is Step.REVIEW
    updated = await svc.confirm(USER)
    assert updated.volunteer_id == created.volunteer_id
    assert updated.phone == "+8613900001111"
    assert updated.real_name == created.real_name and updated.categories == created.categories
    assert updated.registered_at == created.registered_at
    assert updated.updated_at == T0 + timedelta(days=1)
    assert await volunteers.get_draft(USER) is None
    assert await volunteers.count_active() == 1
    with pytest.raises(AlreadyRegistered):
        await svc.begin(USER)


async def test_begin_edit_to_an_adults_birth_date_clears_the_guardian_consent_of_a_former_minor(
    svc: RegistrationService,
) -> None:
    await register(svc, birth=MINOR_BIRTH)
    await svc.begin_edit(USER, Step.BIRTH_DATE)
    draft = await svc.set_birth_date(USER, ADULT_BIRTH)
    assert draft.step is Step.REVIEW and draft.data.guardian_consent_at is None
    profile = await svc.confirm(USER)
    assert not profile.is_minor and profile.guardian_consent_at is None


async def test_begin_edit_refuses_uneditable_steps_the_id_number_when_off_and_no_profile(
    svc: RegistrationService,
) -> None:
    with pytest.raises(NoDraft):
        await svc.begin_edit(USER, Step.NAME)  # not registered
    await register(svc)
    for step in (Step.CONSENT, Step.GUARDIAN, Step.REVIEW, Step.ID_NUMBER):
        with pytest.raises(WrongStep):
            await svc.begin_edit(USER, step)


# ---------------------------------------------------------------------------------- pause


async def test_pause_only_accepts_the_offered_choices(svc: RegistrationService) -> None:
    await register(svc)
    for days in (0, 1, 8, 365, -7):
        with pytest.raises(WrongStep):
            await svc.pause(USER, days)
    profile = await svc.profile(USER)
    assert profile is not None and profile.paused_until is None
    for days in (7, 14, 30, 90):
        assert await svc.pause(USER, days) == date(2026, 11, 23) + timedelta(days=days)


async def test_pause_counts_from_the_shanghai_date_which_is_a_day_ahead_of_utc_in_the_evening(
    svc: RegistrationService, clock: ManualClock
) -> None:
    await register(svc)
    clock.set(datetime(2026, 11, 23, 18, 0, tzinfo=UTC))  # 02:00 on 24 November in Shanghai
    assert svc.today() == date(2026, 11, 24)
    until = await svc.pause(USER, 7)
    assert until == date(2026, 12, 1)
    profile = await svc.profile(USER)
    assert profile is not None and profile.paused_until == date(2026, 12, 1)
    await svc.resume(USER)
    profile = await svc.profile(USER)
    assert profile is not None and profile.paused_until is None


# ---------------------------------------------------------------------------------- ID number


async def test_the_id_number_step_normalizes_spaces_and_a_lower_case_x(
    svc_id: RegistrationService,
) -> None:
    await walk_to(svc_id, Step.ID_NUMBER)
    draft = await svc_id.set_id_number(USER, " 110105 19491231 002x ")
    assert draft.step is Step.GENDER
    assert draft.data.id_number == VALID_ID


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (WRONG_CHECK_DIGIT_ID, validation.ID_CHECK_DIGIT),
        ("11010519491231002", validation.ID_LENGTH),
        ("11010519491231A02X", validation.ID_CHARACTERS),
        ("", validation.ID_EMPTY),
    ],
)
async def test_the_id_number_step_refuses_invalid_numbers_without_echoing_them(
    svc_id: RegistrationService, typed: str, message: str
) -> None:
    await walk_to(svc_id, Step.ID_NUMBER)
    with pytest.raises(InvalidInput) as caught:
        await svc_id.set_id_number(USER, typed)
    assert caught.value.message == message
    if typed:
        assert typed not in str(caught.value) and typed not in repr(caught.value)
    draft = await svc_id.current(USER)
    assert draft.step is Step.ID_NUMBER and draft.data.id_number is None


async def test_the_id_number_is_stored_in_the_profile_and_can_be_edited(
    svc_id: RegistrationService,
) -> None:
    profile = await register(svc_id)
    assert profile.id_number == VALID_ID
    await svc_id.begin_edit(USER, Step.ID_NUMBER)
    draft = await svc_id.set_id_number(USER, "430104198001010014")
    assert draft.step is Step.REVIEW
    profile = await svc_id.confirm(USER)
    assert profile.id_number == "430104198001010014"


async def test_the_id_numbers_birth_date_need_not_match_the_typed_one(
    svc_id: RegistrationService,
) -> None:
    await walk_to(svc_id, Step.ID_NUMBER)
    await svc_id.set_id_number(USER, "430104201503010035")  # born 2015: a child's number
    profile = await register(svc_id, birth=ADULT_BIRTH)
    assert profile.birth_date == date(1990, 5, 4) and not profile.is_minor
    assert profile.id_number == "430104201503010035"
