"""The registration wizard as a state machine over a stored draft (no Telegram here).

Every answer is validated, written to ``registration_drafts`` at once (so a restart resumes at
the same step with earlier answers intact) and moves the draft to its next step. Presses that do
not belong to the draft's current step (stale or forged buttons) raise :class:`WrongStep`; the
handler then simply shows the current step again.

Editing a profile uses the same steps: the draft is prefilled from the profile and every edited
field returns to the review screen, whose confirmation updates the profile instead of creating
one.

```mermaid
stateDiagram-v2
    [*] --> consent
    consent --> name
    name --> phone
    phone --> id_number: REQUIRE_ID_NUMBER
    phone --> gender
    id_number --> gender
    gender --> birth_date
    birth_date --> guardian: under 18
    birth_date --> area
    guardian --> area
    area --> skills
    skills --> categories
    categories --> availability: at least one category
    availability --> groups
    groups --> review
    review --> [*]: confirm
    review --> name: edit a field (then back to review)
```
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta, tzinfo
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.domain import validation
from bot.domain.areas import AreaMatch, resolve_area
from bot.domain.validation import InvalidInput
from bot.domain.volunteers import (
    DeletionReport,
    DraftData,
    Gender,
    NotificationSettings,
    RegistrationDraft,
    RegistrationStep,
    Slot,
    VolunteerGroup,
    VolunteerProfile,
)
from bot.i18n import N_

if TYPE_CHECKING:
    from storage.catalog import CatalogRepository
    from storage.volunteers import VolunteersRepository

# Bump when the privacy notice or the pledge text changes: the accepted version is stored.
CONSENT_VERSION = "2026-11-v1"

Step = RegistrationStep


AREA_AMBIGUOUS = N_("“{text}” fits more than one district. Please choose yours below.")
AREA_UNKNOWN = N_(
    "I could not find “{text}” among the districts of this city. Please choose yours below, "
    "or type the name of your district or street."
)


class WrongStep(Exception):
    """The press or message does not belong to the draft's current step (stale or forged)."""


class NoDraft(Exception):
    """There is no registration in progress for this user."""


class AlreadyRegistered(Exception):
    """Registration was asked for, but the user already has a profile."""


def _order(require_id_number: bool, minor: bool) -> list[Step]:
    steps = [Step.CONSENT, Step.NAME, Step.PHONE]
    if require_id_number:
        steps.append(Step.ID_NUMBER)
    steps += [Step.GENDER, Step.BIRTH_DATE]
    if minor:
        steps.append(Step.GUARDIAN)
    steps += [Step.AREA, Step.SKILLS, Step.CATEGORIES, Step.AVAILABILITY, Step.GROUPS, Step.REVIEW]
    return steps


# Steps whose value can be changed from the review screen, in display order.
EDITABLE_STEPS: tuple[Step, ...] = (
    Step.NAME,
    Step.PHONE,
    Step.ID_NUMBER,
    Step.GENDER,
    Step.BIRTH_DATE,
    Step.AREA,
    Step.SKILLS,
    Step.CATEGORIES,
    Step.AVAILABILITY,
    Step.GROUPS,
)

PAUSE_CHOICES_DAYS: tuple[int, ...] = (7, 14, 30, 90)


class RegistrationService:
    def __init__(
        self,
        volunteers: VolunteersRepository,
        catalog: CatalogRepository,
        clock: Clock,
        timezone: tzinfo,
        *,
        require_id_number: bool = False,
    ) -> None:
        self._volunteers = volunteers
        self._catalog = catalog
        self._clock = clock
        self._timezone = timezone
        self.require_id_number = require_id_number

    # -- helpers ---------------------------------------------------------------------------

    def today(self) -> date:
        """Ages and pauses are judged by the local calendar date, not UTC."""
        return self._clock().astimezone(self._timezone).date()

    def _is_minor(self, data: DraftData) -> bool:
        return data.birth_date is not None and validation.is_minor(data.birth_date, self.today())

    def steps(self, draft: RegistrationDraft) -> list[Step]:
        return _order(self.require_id_number, self._is_minor(draft.data))

    def position(self, draft: RegistrationDraft) -> tuple[int, int]:
        """(step number, number of steps) for "step 3 of 9". Consent, review and the guardian's
        consent are not counted: the guardian step appears only for minors, once the birth date
        is known, and counting it made "step 4 of 9" become "step 6 of 10" mid-form."""
        uncounted = (Step.CONSENT, Step.REVIEW, Step.GUARDIAN)
        steps = [s for s in self.steps(draft) if s not in uncounted]
        if draft.step in steps:
            return steps.index(draft.step) + 1, len(steps)
        return (len(steps) if draft.step is Step.REVIEW else 0), len(steps)

    async def _save(self, draft: RegistrationDraft, step: Step | None = None) -> RegistrationDraft:
        update: dict[str, object] = {"updated_at": self._clock()}
        if step is not None:
            update["step"] = step
        saved = draft.model_copy(update=update)
        await self._volunteers.save_draft(saved)
        return saved

    async def _advance(self, draft: RegistrationDraft) -> RegistrationDraft:
        """Go to the next step — or back to the review after an edit (guardian first if the
        edited birth date makes the volunteer a minor without a guardian's consent)."""
        steps = self.steps(draft)
        needs_guardian = self._is_minor(draft.data) and draft.data.guardian_consent_at is None
        if draft.return_to_review:
            return await self._save(draft, Step.GUARDIAN if needs_guardian else Step.REVIEW)
        return await self._save(draft, steps[min(steps.index(draft.step) + 1, len(steps) - 1)])

    async def current(self, telegram_id: int) -> RegistrationDraft:
        draft = await self._volunteers.get_draft(telegram_id)
        if draft is None:
            raise NoDraft
        return draft

    async def _at(self, telegram_id: int, *expected: Step) -> RegistrationDraft:
        draft = await self.current(telegram_id)
        if draft.step not in expected:
            raise WrongStep
        return draft

    # -- starting, leaving, moving ---------------------------------------------------------

    async def begin(self, telegram_id: int) -> RegistrationDraft:
        """Resume the draft in progress, or start one (refused if already registered)."""
        draft = await self._volunteers.get_draft(telegram_id)
        if draft is not None:
            return draft
        if await self._volunteers.get_profile(telegram_id) is not None:
            raise AlreadyRegistered
        draft = RegistrationDraft(
            telegram_id=telegram_id, step=Step.CONSENT, data=DraftData(), updated_at=self._clock()
        )
        return await self._save(draft)

    async def begin_edit(self, telegram_id: int, step: Step) -> RegistrationDraft:
        """Edit one field of an existing profile through the same validated step."""
        if step not in EDITABLE_STEPS or (step is Step.ID_NUMBER and not self.require_id_number):
            raise WrongStep
        profile = await self._volunteers.get_profile(telegram_id)
        if profile is None:
            raise NoDraft
        draft = await self._volunteers.get_draft(telegram_id)
        if draft is None:
            draft = RegistrationDraft(
                telegram_id=telegram_id,
                step=step,
                return_to_review=True,
                data=draft_from_profile(profile),
                updated_at=self._clock(),
            )
        return await self._save(draft.model_copy(update={"return_to_review": True}), step)

    async def edit_from_review(self, telegram_id: int, step: Step) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.REVIEW)
        if step not in EDITABLE_STEPS or step not in self.steps(draft):
            raise WrongStep
        return await self._save(draft.model_copy(update={"return_to_review": True}), step)

    async def back(self, telegram_id: int) -> RegistrationDraft:
        draft = await self.current(telegram_id)
        if draft.return_to_review and draft.step is not Step.REVIEW:
            return await self._save(draft, Step.REVIEW)
        steps = self.steps(draft)
        index = steps.index(draft.step) if draft.step in steps else 0
        return await self._save(draft, steps[max(index - 1, 0)])

    async def discard(self, telegram_id: int) -> None:
        await self._volunteers.delete_draft(telegram_id)

    async def is_editing_profile(self, telegram_id: int) -> bool:
        return await self._volunteers.get_profile(telegram_id) is not None

    # -- answers ---------------------------------------------------------------------------

    async def accept_consent(self, telegram_id: int) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.CONSENT)
        data = draft.data.model_copy(
            update={"consent_version": CONSENT_VERSION, "consent_at": self._clock()}
        )
        return await self._advance(draft.model_copy(update={"data": data}))

    async def set_name(self, telegram_id: int, text: str) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.NAME)
        name = validation.normalize_real_name(text)
        return await self._advance(_with(draft, real_name=name))

    async def set_phone(self, telegram_id: int, text: str) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.PHONE)
        return await self._advance(_with(draft, phone=validation.normalize_phone(text)))

    async def set_phone_from_contact(
        self, telegram_id: int, phone_number: str, contact_user_id: int | None
    ) -> RegistrationDraft:
        """A shared contact counts only if it is the sender's own (Telegram fills user_id)."""
        draft = await self._at(telegram_id, Step.PHONE)
        if contact_user_id != telegram_id:
            raise InvalidInput(
                N_("That is someone else's contact. Please share your own number or type it.")
            )
        # Telegram sends a shared contact's number in international form, often without "+".
        international = phone_number.strip()
        if international.isdigit():
            international = "+" + international
        return await self._advance(_with(draft, phone=validation.normalize_phone(international)))

    async def set_id_number(self, telegram_id: int, text: str) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.ID_NUMBER)
        number = validation.normalize_cn_id_number(text, self.today())
        return await self._advance(_with(draft, id_number=number))

    async def set_gender(self, telegram_id: int, gender: Gender | None) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.GENDER)
        return await self._advance(_with(draft, gender=gender, gender_answered=True))

    async def set_birth_date(self, telegram_id: int, text: str) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.BIRTH_DATE)
        born = validation.parse_birth_date(text, self.today())
        return await self._birth_date_chosen(draft, born)

    async def pick_birth_year(self, telegram_id: int, year: int) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.BIRTH_DATE)
        today = self.today()
        if not today.year - validation.MAX_AGE <= year <= today.year - validation.MIN_AGE:
            raise WrongStep
        return await self._save(_with(draft, birth_year=year, birth_month=None))

    async def pick_birth_month(self, telegram_id: int, month: int) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.BIRTH_DATE)
        if draft.data.birth_year is None or not 1 <= month <= 12:
            raise WrongStep
        return await self._save(_with(draft, birth_month=month))

    async def pick_birth_day(self, telegram_id: int, day: int) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.BIRTH_DATE)
        year, month = draft.data.birth_year, draft.data.birth_month
        if year is None or month is None:
            raise WrongStep
        born = validation.build_birth_date(year, month, day, self.today())
        return await self._birth_date_chosen(draft, born)

    async def _birth_date_chosen(self, draft: RegistrationDraft, born: date) -> RegistrationDraft:
        changes: dict[str, object] = {"birth_date": born, "birth_year": None, "birth_month": None}
        if not validation.is_minor(born, self.today()):
            changes["guardian_consent_at"] = None
        return await self._advance(_with(draft, **changes))

    async def confirm_guardian(self, telegram_id: int) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.GUARDIAN)
        return await self._advance(_with(draft, guardian_consent_at=self._clock()))

    async def set_area_code(self, telegram_id: int, code: str) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.AREA)
        area = await self._catalog.area(code)
        if area is None or not area.is_active:
            raise WrongStep
        return await self._advance(_with(draft, area_code=code, area_text=None))

    async def set_area_text(self, telegram_id: int, text: str) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.AREA)
        typed = validation.normalize_area_text(text)
        # Matching works on district codes, so a typed place must name one (bot.domain.areas).
        districts = await self._catalog.areas()
        found = resolve_area(typed, districts, await self._catalog.area_places())
        if found.match is AreaMatch.AMBIGUOUS:
            raise InvalidInput(AREA_AMBIGUOUS, {"text": typed})
        if found.match is AreaMatch.UNKNOWN or found.code is None:
            raise InvalidInput(AREA_UNKNOWN, {"text": typed})
        # Keep what was typed when it says more than the district's name (a street, a place).
        district = next(d for d in districts if d.code == found.code)
        detail = (
            None if typed.casefold() in (district.name_zh, district.name_en.casefold()) else typed
        )
        return await self._advance(_with(draft, area_code=found.code, area_text=detail))

    async def toggle_skill(self, telegram_id: int, code: str) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.SKILLS)
        skill = await self._catalog.skill(code)
        if skill is None or not skill.is_active:
            raise WrongStep
        return await self._save(_with(draft, skills=_toggled(draft.data.skills, code)))

    async def toggle_category(self, telegram_id: int, code: str) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.CATEGORIES)
        category = await self._catalog.category(code)
        if category is None or not category.is_active:
            raise WrongStep
        return await self._save(_with(draft, categories=_toggled(draft.data.categories, code)))

    async def toggle_slot(self, telegram_id: int, slot: int) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.AVAILABILITY)
        if slot not in {member.value for member in Slot}:
            raise WrongStep
        return await self._save(_with(draft, availability=draft.data.availability ^ slot))

    async def toggle_group(self, telegram_id: int, code: str) -> RegistrationDraft:
        draft = await self._at(telegram_id, Step.GROUPS)
        if code not in {group.value for group in VolunteerGroup}:
            raise WrongStep
        return await self._save(_with(draft, groups=_toggled(draft.data.groups, code)))

    async def done(self, telegram_id: int) -> RegistrationDraft:
        """ "Done" on a multi-select step (skills, categories, availability, groups)."""
        draft = await self._at(
            telegram_id, Step.SKILLS, Step.CATEGORIES, Step.AVAILABILITY, Step.GROUPS
        )
        if draft.step is Step.CATEGORIES and not draft.data.categories:
            raise InvalidInput(N_("Please choose at least one kind of service."))
        if draft.step is Step.AVAILABILITY and not draft.data.availability:
            raise InvalidInput(N_("Please choose at least one time when you could help."))
        return await self._advance(draft)

    async def confirm(self, telegram_id: int) -> VolunteerProfile:
        """The review is confirmed: create the profile, or update it when editing."""
        draft = await self._at(telegram_id, Step.REVIEW)
        data = draft.data
        missing = next((step for step in self.steps(draft) if not _answered(step, data)), None)
        if missing is not None:
            # Only reachable with a forged press or an old draft: send them to the gap.
            await self._save(draft.model_copy(update={"return_to_review": True}), missing)
            raise InvalidInput(N_("One answer is still missing; please fill it in."))
        minor = self._is_minor(data)
        if await self._volunteers.get_profile(telegram_id) is not None:
            profile = await self._volunteers.update_profile(
                telegram_id, data, is_minor=minor, now=self._clock()
            )
            await self._volunteers.delete_draft(telegram_id)
            return profile
        return await self._volunteers.create_profile(
            telegram_id, data, is_minor=minor, now=self._clock()
        )

    # -- profile actions -------------------------------------------------------------------

    async def profile(self, telegram_id: int) -> VolunteerProfile | None:
        return await self._volunteers.get_profile(telegram_id)

    async def set_notifications(
        self, telegram_id: int, settings: NotificationSettings
    ) -> VolunteerProfile:
        return await self._volunteers.set_notifications(telegram_id, settings, self._clock())

    async def pause(self, telegram_id: int, days: int) -> date:
        if days not in PAUSE_CHOICES_DAYS:
            raise WrongStep
        until = self.today() + timedelta(days=days)
        await self._volunteers.pause(telegram_id, until, self._clock())
        return until

    async def resume(self, telegram_id: int) -> None:
        await self._volunteers.resume(telegram_id, self._clock())

    async def export(self, telegram_id: int) -> dict[str, object]:
        return await self._volunteers.export(telegram_id)

    async def delete_account(self, telegram_id: int) -> DeletionReport:
        return await self._volunteers.delete_account(telegram_id, self._clock())


def _with(draft: RegistrationDraft, **changes: object) -> RegistrationDraft:
    return draft.model_copy(update={"data": draft.data.model_copy(update=changes)})


def _toggled(values: Sequence[str], code: str) -> list[str]:
    return [v for v in values if v != code] if code in values else [*values, code]


def _answered(step: Step, data: DraftData) -> bool:
    checks: dict[Step, bool] = {
        Step.CONSENT: data.consent_at is not None,
        Step.NAME: bool(data.real_name),
        Step.PHONE: bool(data.phone),
        Step.ID_NUMBER: bool(data.id_number),
        Step.GENDER: data.gender_answered,
        Step.BIRTH_DATE: data.birth_date is not None,
        Step.GUARDIAN: data.guardian_consent_at is not None,
        Step.AREA: bool(data.area_code or data.area_text),
        Step.CATEGORIES: bool(data.categories),
        Step.AVAILABILITY: bool(data.availability),
    }
    return checks.get(step, True)


def draft_from_profile(profile: VolunteerProfile) -> DraftData:
    return DraftData(
        consent_version=profile.consent_version,
        consent_at=profile.consent_at,
        real_name=profile.real_name,
        phone=profile.phone,
        id_number=profile.id_number,
        gender=profile.gender,
        gender_answered=True,
        birth_date=profile.birth_date,
        guardian_consent_at=profile.guardian_consent_at,
        area_code=profile.area_code,
        area_text=profile.area_text,
        skills=list(profile.skills),
        categories=list(profile.categories),
        availability=profile.availability,
        groups=list(profile.groups),
    )


__all__ = [
    "CONSENT_VERSION",
    "EDITABLE_STEPS",
    "AlreadyRegistered",
    "InvalidInput",
    "NoDraft",
    "RegistrationService",
    "WrongStep",
]
