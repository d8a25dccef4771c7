"""Publishing an activity (the ``/new`` form with its drafts) and editing a published one.

The form is a draft in the database (:class:`ActivityDraft`): every answer is validated here and
stored at once with the step the form stands at, so a restart resumes at the same step. A
person fills one draft at a time (the one they touched last); an organization may have several,
and any of its organizers can resume one from the drafts list.

```mermaid
stateDiagram-v2
    [*] --> title
    title --> category --> description --> start
    start --> place: a typed range (start and end)
    start --> end: a start only (typed or picked)
    end --> place
    place --> location --> area --> capacity --> skills --> training
    training --> training: "requires …" / "is a training …" opens the list (pick, or type a name)
    training --> volunteering --> adults
    adults --> people --> deadline --> leader
    leader --> key_date: a key date is near
    leader --> preview
    key_date --> preview
    preview --> preview: edit a field (returns to the preview)
    preview --> [*]: publish / discard
```

Editing a published activity (:meth:`PublishingService.apply_edit`) is one transaction: the new
value, any sign-ups moved back to the waitlist, and the notifications to the people concerned.
Every field of the form can be edited until the activity starts (not once it has started or was
cancelled). Only a change of time, place or map pin is news for the volunteers
(``ACTIVITY_CHANGED``); the other fields change the card silently.

The training step (民政部令第67号 Art. 8) is a choice: no training, requires a qualification of
the organization, or is a training that grants one. A qualification is picked from the
organization's list or named (typed; the same name reuses the organization's one), and every
press naming one is checked against the draft's (or activity's) organization: a forged press
for another organization's qualification changes nothing. The old yes/no "training required"
flag of older drafts and activities stays readable and is cleared by any answer. "Volunteer
service" (default yes) marks activities that are not recorded (Art. 19).

Adding a required skill (or "adults only", a required training) does **not** remove volunteers
already signed up: they joined under the old requirements, and nobody leaves an activity without
their own tap (the same voluntariness rule as recruiting). The new requirement applies to new
sign-ups; the organizer sees how many are already signed up before confirming and can message
them from the roster.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.clock import Clock
from bot.domain.activities import (
    Activity,
    ActivityStatus,
    NewActivity,
    Organization,
    OrganizationStatus,
    PeopleServed,
    QualificationRef,
    SignupStatus,
)
from bot.domain.activity_form import (
    CAPACITY_FORMAT,
    EDITABLE_STEPS,
    FIELD,
    LEADER_MAX,
    MAX_CAPACITY,
    MULTI_EDITS,
    NEWS_EDITS,
    ORDER,
    EditField,
    PublishStep,
    parse_capacity,
    parse_description,
    parse_leader,
    parse_place,
    parse_title,
    toggled,
)
from bot.domain.dateparse import (
    WhenError,
    check_range,
    parse_end,
    parse_when,
    wall_time,
    when_invalid,
)
from bot.domain.keydates import KeyDate, suggest
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.qualifications import (
    Qualification,
    TrainingChoice,
    parse_qualification_name,
    parse_training_value,
)
from bot.domain.validation import InvalidInput
from bot.i18n import N_
from bot.services.staff import StaffRefusal, StaffRefused, StaffService
from storage.activities import ActivitiesRepository, load_activities
from storage.catalog import CatalogRepository
from storage.db import Database, Transaction
from storage.outbox import OutboxRepository
from storage.publishing import Participant, PublishingRepository, StoredDraft
from storage.qualifications import QualificationsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository

__all__ = [
    "EDITABLE_STEPS",
    "MULTI_EDITS",
    "NEWS_EDITS",
    "ORGANIZATIONS_PAGE",
    "ActivityDraft",
    "CapacityPlan",
    "DraftData",
    "EditField",
    "EditResult",
    "NoDraft",
    "NotEditable",
    "NotEditableReason",
    "PublishStep",
    "PublishingService",
    "WrongStep",
    "format_pin",
    "parse_capacity",
    "toggled",
]

log = logging.getLogger(__name__)

DRAFTS_LISTED = 20

DEADLINE_AFTER_START = N_("The sign-up deadline must be before the activity starts.")
NOT_IN_FUTURE = N_("That time has already passed. Please choose a time in the future.")
CHOOSE_CATEGORY = N_("Please choose a kind of service.")
NO_LONGER_OFFERED = N_("That choice is no longer available. Please choose again.")
BAD_PIN = N_("That map pin is not a valid location.")
USE_BUTTONS = N_("Please use the buttons below.")
ORGANIZATIONS_PAGE = 8


# The steps, the fields and their parsers are one table: bot.domain.activity_form.


class DraftData(BaseModel):
    """The answers so far. Unknown keys from an older version are ignored, not fatal."""

    model_config = ConfigDict(extra="ignore")

    title: str | None = None
    category_code: str | None = None
    description: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: str | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    area_code: str | None = None
    capacity: int | None = Field(default=None, ge=1, le=MAX_CAPACITY)
    required_skills: list[str] = Field(default_factory=list)
    training_required: bool = False
    adults_only: bool = False
    people_served: list[PeopleServed] = Field(default_factory=list)
    signup_deadline: datetime | None = None
    leader_name: str | None = None
    key_date: str | None = None
    # Art. 8: at most one of the two is set (the training step is one choice); checked against
    # the organization when picked and again when published.
    requires_qualification_id: int | None = None
    grants_qualification_id: int | None = None
    # Art. 19: False for an activity that is not volunteer service (not recorded).
    is_volunteering: bool = True
    # The training step's list is open ("requires …" or "is a training …" pressed): a typed
    # name answers it.
    training_mode: TrainingChoice | None = None
    # The calendar picker: a day chosen, waiting for the hour, then the minutes.
    picked_day: date | None = None
    picked_hour: int | None = Field(default=None, ge=0, le=23)
    # Set when a field is edited from the preview: answering it returns to the preview.
    return_to_preview: bool = False


@dataclass(frozen=True)
class ActivityDraft:
    draft_id: int
    organization_id: int
    telegram_id: int
    step: PublishStep
    data: DraftData
    updated_at: datetime


class NoDraft(Exception):
    """This person has no draft being filled (published, discarded, or never started)."""


class WrongStep(Exception):
    """A press or answer for another step than the current one (stale or forged)."""


class NotEditableReason(StrEnum):
    CANCELLED = "cancelled"
    STARTED = "started"
    NOT_PUBLISHED = "not_published"


class NotEditable(WrongStep):
    """The published activity can no longer change: cancelled, or already started."""

    def __init__(self, reason: NotEditableReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


def _draft(stored: StoredDraft) -> ActivityDraft:
    try:
        step = PublishStep(stored.step)
        data = DraftData.model_validate_json(stored.data)
    except (ValueError, ValidationError) as error:
        # A draft this version cannot read (a renamed step): start the form over, keep nothing
        # that might be wrong.
        log.warning("unreadable activity draft %s: %s", stored.draft_id, error)
        step, data = PublishStep.TITLE, DraftData()
    return ActivityDraft(
        draft_id=stored.draft_id,
        organization_id=stored.organization_id,
        telegram_id=stored.telegram_id,
        step=step,
        data=data,
        updated_at=stored.updated_at,
    )


# ------------------------------------------------------------------------------------ editing


def format_pin(latitude: float | None, longitude: float | None) -> str:
    """A map pin as an edit value and notification payload: ``"lat,lon"``, ``""`` for none."""
    if latitude is None or longitude is None:
        return ""
    return f"{latitude!r},{longitude!r}"


def _parse_pin(value: str) -> tuple[float, float] | None:
    if not value:
        return None
    latitude_text, _, longitude_text = value.partition(",")
    try:
        latitude, longitude = float(latitude_text), float(longitude_text)
    except ValueError:
        raise InvalidInput(BAD_PIN) from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput(BAD_PIN)
    return latitude, longitude


@dataclass(frozen=True)
class CapacityPlan:
    """Lowering capacity below the spots taken: who would go back to the waitlist."""

    needed: int  # how many must move
    candidates: tuple[Participant, ...]  # confirmed and offered, in the default order to move
    default: tuple[int, ...]  # signup ids moved by default: the last signed up first


@dataclass(frozen=True)
class EditResult:
    activity: Activity
    notified: int = 0
    moved: tuple[int, ...] = ()
    offered: int = 0  # spots offered to the waitlist after a capacity increase


class ReminderReplanning(Protocol):
    """What publishing needs of the reminders (``bot.services.reminders.ReminderService``)."""

    async def replan_activity(self, tx: Transaction, activity_id: int, now: datetime) -> int: ...


class EnabledKeyDates(Protocol):
    """What publishing needs of the key dates (``storage.keydates.KeyDatesRepository``)."""

    async def enabled(self) -> list[KeyDate]: ...

    async def get(self, code: str) -> KeyDate | None: ...


class PublishingService:
    def __init__(
        self,
        db: Database,
        repository: PublishingRepository,
        activities: ActivitiesRepository,
        catalog: CatalogRepository,
        staff: StaffService,
        outbox: OutboxRepository,
        users: UsersRepository,
        volunteers: VolunteersRepository,
        clock: Clock,
        tz: tzinfo,
        *,
        reminders: ReminderReplanning | None = None,
        key_dates: EnabledKeyDates | None = None,
        sweep: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._db = db
        self._repo = repository
        self._activities = activities
        self._catalog = catalog
        self._staff = staff
        self._outbox = outbox
        self._users = users
        self._volunteers = volunteers
        self._clock = clock
        self.tz = tz
        self._reminders = reminders
        self._key_dates = key_dates
        self._sweep = sweep
        self._qualifications = QualificationsRepository(db)

    def now(self) -> datetime:
        return self._clock()

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    # -- drafts ----------------------------------------------------------------------------------

    async def start(self, telegram_id: int, organization_id: int) -> ActivityDraft:
        """A new draft for this organization (re-authorized: raises ``StaffRefused``).

        Administrators may publish for any organization, but only an approved one: volunteers
        would otherwise see activities of a pending or suspended host."""
        organization = await self._staff.organization_for(telegram_id, organization_id)
        if organization.status is not OrganizationStatus.APPROVED:
            raise StaffRefused(StaffRefusal.NOT_ACTIVE)
        stored = await self._repo.create_draft(
            organization_id,
            telegram_id,
            PublishStep.TITLE.value,
            DraftData().model_dump_json(),
            self.now(),
        )
        log.info("user %s started activity draft %s", telegram_id, stored.draft_id)
        return _draft(stored)

    async def organizations_to_pick(
        self, telegram_id: int, offset: int = 0
    ) -> tuple[list[Organization], int]:
        """For an administrator: a page of approved organizations to publish for (also those
        they are no member of), and how many there are. Raises ``StaffRefused`` otherwise."""
        await self._staff.require_admin(telegram_id)
        return await self._repo.approved_organizations(max(offset, 0), ORGANIZATIONS_PAGE)

    async def is_admin(self, telegram_id: int) -> bool:
        return await self._staff.is_admin(telegram_id)

    async def current(self, telegram_id: int) -> ActivityDraft:
        stored = await self._repo.latest_draft_of(telegram_id)
        if stored is None:
            raise NoDraft
        return _draft(stored)

    async def current_or_none(self, telegram_id: int) -> ActivityDraft | None:
        try:
            return await self.current(telegram_id)
        except NoDraft:
            return None

    async def resume(self, telegram_id: int, draft_id: int) -> ActivityDraft:
        """Take up a draft of one's organization (re-authorized); it becomes the current one."""
        stored = await self._repo.get_draft(draft_id)
        if stored is None:
            raise NoDraft
        await self._staff.organization_for(telegram_id, stored.organization_id)
        draft = _draft(stored)
        return await self._save(telegram_id, draft, draft.step, draft.data)

    async def drafts_of(self, organization_id: int) -> list[ActivityDraft]:
        """An organization's drafts, latest first (the manage screen links ``pub:draft:<id>``).
        The caller authorizes."""
        return [
            _draft(stored)
            for stored in await self._repo.drafts_of_organization(organization_id, DRAFTS_LISTED)
        ]

    async def discard(self, telegram_id: int) -> bool:
        draft = await self.current_or_none(telegram_id)
        if draft is None:
            return False
        await self._staff.organization_for(telegram_id, draft.organization_id)
        log.info("user %s discarded activity draft %s", telegram_id, draft.draft_id)
        return await self._repo.delete_draft(draft.draft_id)

    async def _save(
        self, telegram_id: int, draft: ActivityDraft, step: PublishStep, data: DraftData
    ) -> ActivityDraft:
        stored = await self._repo.save_draft(
            draft.draft_id, telegram_id, step.value, data.model_dump_json(), self.now()
        )
        if stored is None:
            raise NoDraft
        return _draft(stored)

    async def _step(self, telegram_id: int, *steps: PublishStep) -> ActivityDraft:
        draft = await self.current(telegram_id)
        if draft.step not in steps:
            raise WrongStep
        return draft

    async def _answered(
        self, telegram_id: int, draft: ActivityDraft, data: DraftData
    ) -> ActivityDraft:
        """Store an answer and move on: to the next step, or back to the preview when the
        field was edited from there (unless the answer opens a follow-up step)."""
        data = data.model_copy(update={"training_mode": None})
        step = await self._next(draft.step, data)
        if data.return_to_preview and step not in (PublishStep.END, PublishStep.LOCATION):
            step = PublishStep.PREVIEW  # the follow-up of a start or a place is still asked
        if step is PublishStep.PREVIEW:
            data = data.model_copy(update={"return_to_preview": False})
        return await self._save(telegram_id, draft, step, data)

    async def _next(self, step: PublishStep, data: DraftData) -> PublishStep:
        index = ORDER.index(step) + 1
        while index < len(ORDER):
            candidate = ORDER[index]
            if candidate is PublishStep.END and data.ends_at is not None:
                index += 1  # a typed range gave the end already
                continue
            if candidate is PublishStep.KEY_DATE and not await self.key_date_choices(data):
                index += 1
                continue
            return candidate
        return PublishStep.PREVIEW

    async def edit_from_preview(self, telegram_id: int, step: PublishStep) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.PREVIEW)
        if step not in EDITABLE_STEPS:
            raise WrongStep
        # The answers stay (a new start replaces the end too), so Back returns to the preview
        # with the draft as it was.
        data = draft.data.model_copy(
            update={
                "return_to_preview": True,
                "picked_day": None,
                "picked_hour": None,
                "training_mode": None,
            }
        )
        return await self._save(telegram_id, draft, step, data)

    async def back(self, telegram_id: int, step: PublishStep) -> ActivityDraft:
        """Back from ``step`` (the step the pressed button was drawn for; another step is a
        stale press): to the preview when the field was opened from there, else to the step
        asked before (the end and a key date that is not offered are skipped; the date is asked
        again from its start). Answers are kept: answering again replaces them."""
        draft = await self._step(telegram_id, step)
        data = draft.data.model_copy(update={"picked_day": None, "picked_hour": None})
        if step is PublishStep.TITLE:
            raise WrongStep
        if step is PublishStep.TRAINING and data.training_mode is not None:
            # Back from the list of qualifications: the step's three answers again.
            data = data.model_copy(update={"training_mode": None})
            return await self._save(telegram_id, draft, step, data)
        if data.return_to_preview and step is not PublishStep.END:
            data = data.model_copy(update={"return_to_preview": False})
            return await self._save(telegram_id, draft, PublishStep.PREVIEW, data)
        index = ORDER.index(step) - 1
        while ORDER[index] is PublishStep.END or (
            ORDER[index] is PublishStep.KEY_DATE and not await self.key_date_choices(data)
        ):
            index -= 1
        return await self._save(telegram_id, draft, ORDER[index], data)

    # -- answers ---------------------------------------------------------------------------------

    async def set_title(self, telegram_id: int, text: str) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.TITLE)
        title = parse_title(text)
        return await self._answered(
            telegram_id, draft, draft.data.model_copy(update={"title": title})
        )

    async def set_category(self, telegram_id: int, code: str) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.CATEGORY)
        item = await self._catalog.category(code)
        if item is None or not item.is_active:
            raise InvalidInput(CHOOSE_CATEGORY)
        return await self._answered(
            telegram_id, draft, draft.data.model_copy(update={"category_code": code})
        )

    async def set_description(self, telegram_id: int, text: str | None) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.DESCRIPTION)
        description = "" if text is None else parse_description(text)
        return await self._answered(
            telegram_id, draft, draft.data.model_copy(update={"description": description})
        )

    async def set_start_text(self, telegram_id: int, text: str, language: str) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.START)
        parsed = parse_when(text, self.now(), self.tz, language)
        if isinstance(parsed, WhenError):
            raise when_invalid(parsed)
        data = draft.data.model_copy(
            update={
                "starts_at": parsed.starts_at,
                "ends_at": parsed.ends_at,
                "picked_day": None,
                "picked_hour": None,
            }
        )
        return await self._answered(telegram_id, draft, data)

    async def set_end_text(self, telegram_id: int, text: str, language: str) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.END)
        if draft.data.starts_at is None:
            raise WrongStep
        ends_at = parse_end(text, draft.data.starts_at, self.now(), self.tz, language)
        if isinstance(ends_at, WhenError):
            raise when_invalid(ends_at)
        data = draft.data.model_copy(
            update={"ends_at": ends_at, "picked_day": None, "picked_hour": None}
        )
        return await self._answered(telegram_id, draft, data)

    async def pick_day(self, telegram_id: int, day: date) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.START, PublishStep.END)
        if day < self.today():
            raise when_invalid(WhenError.IN_THE_PAST)
        data = draft.data.model_copy(update={"picked_day": day, "picked_hour": None})
        return await self._save(telegram_id, draft, draft.step, data)

    async def pick_hour(self, telegram_id: int, hour: int) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.START, PublishStep.END)
        if draft.data.picked_day is None or not 0 <= hour <= 23:
            raise WrongStep
        data = draft.data.model_copy(update={"picked_hour": hour})
        return await self._save(telegram_id, draft, draft.step, data)

    async def pick_minute(self, telegram_id: int, minute: int) -> ActivityDraft:
        """The last press of the picker: the moment is checked like a typed one."""
        draft = await self._step(telegram_id, PublishStep.START, PublishStep.END)
        data = draft.data
        if data.picked_day is None or data.picked_hour is None or not 0 <= minute <= 59:
            raise WrongStep
        moment = wall_time(data.picked_day, time(data.picked_hour, minute), self.tz)
        reset = {"picked_day": None, "picked_hour": None}
        if draft.step is PublishStep.START:
            error = check_range(moment, None, self.now())
            if error is not None:
                await self._save(telegram_id, draft, draft.step, data.model_copy(update=reset))
                raise when_invalid(error)
            data = data.model_copy(update={**reset, "starts_at": moment, "ends_at": None})
        else:
            assert data.starts_at is not None
            error = check_range(data.starts_at, moment, self.now())
            if error is not None:
                await self._save(telegram_id, draft, draft.step, data.model_copy(update=reset))
                raise when_invalid(error)
            data = data.model_copy(update={**reset, "ends_at": moment})
        return await self._answered(telegram_id, draft, data)

    async def unpick(self, telegram_id: int) -> ActivityDraft:
        """Back from the hour or minute keyboard to the calendar."""
        draft = await self._step(telegram_id, PublishStep.START, PublishStep.END)
        data = draft.data.model_copy(update={"picked_day": None, "picked_hour": None})
        return await self._save(telegram_id, draft, draft.step, data)

    async def set_place(self, telegram_id: int, text: str) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.PLACE)
        place = parse_place(text)
        data = draft.data.model_copy(update={"place": place})
        step = PublishStep.LOCATION
        return await self._save(telegram_id, draft, step, data)

    async def set_location(
        self, telegram_id: int, latitude: float | None, longitude: float | None
    ) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.LOCATION)
        if latitude is not None and longitude is not None:
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise WrongStep
        else:
            latitude = longitude = None
        data = draft.data.model_copy(update={"latitude": latitude, "longitude": longitude})
        return await self._answered(telegram_id, draft, data)

    async def set_area(self, telegram_id: int, code: str | None) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.AREA)
        if code is not None:
            item = await self._catalog.area(code)
            if item is None or not item.is_active:
                raise WrongStep
        return await self._answered(
            telegram_id, draft, draft.data.model_copy(update={"area_code": code})
        )

    async def set_capacity(self, telegram_id: int, text: str) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.CAPACITY)
        capacity = parse_capacity(text)
        return await self._answered(
            telegram_id, draft, draft.data.model_copy(update={"capacity": capacity})
        )

    async def toggle_skill(self, telegram_id: int, code: str) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.SKILLS)
        skills = list(draft.data.required_skills)
        if code in skills:
            skills.remove(code)
        else:
            item = await self._catalog.skill(code)
            if item is None or not item.is_active:
                raise WrongStep
            skills.append(code)
        data = draft.data.model_copy(update={"required_skills": skills})
        return await self._save(telegram_id, draft, draft.step, data)

    async def toggle_people(self, telegram_id: int, code: str) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.PEOPLE)
        try:
            group = PeopleServed(code)
        except ValueError:
            raise WrongStep from None
        people = list(draft.data.people_served)
        if group in people:
            people.remove(group)
        else:
            people.append(group)
        data = draft.data.model_copy(update={"people_served": people})
        return await self._save(telegram_id, draft, draft.step, data)

    async def done(self, telegram_id: int) -> ActivityDraft:
        """ "Done" on a multi-select step (skills, people served)."""
        draft = await self._step(telegram_id, PublishStep.SKILLS, PublishStep.PEOPLE)
        return await self._answered(telegram_id, draft, draft.data)

    async def set_flag(self, telegram_id: int, value: bool) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.VOLUNTEERING, PublishStep.ADULTS)
        key = "is_volunteering" if draft.step is PublishStep.VOLUNTEERING else "adults_only"
        return await self._answered(telegram_id, draft, draft.data.model_copy(update={key: value}))

    # -- training (Art. 8) -----------------------------------------------------------------------

    async def qualifications_of(self, organization_id: int) -> list[Qualification]:
        """The organization's qualifications, by name (the training step offers them; the
        caller authorizes)."""
        return await self._qualifications.of_organization(organization_id)

    async def qualification_names(self, *ids: int | None) -> dict[int, str]:
        """Names of qualifications by id (a preview or a confirmation names them)."""
        names: dict[int, str] = {}
        for qualification_id in ids:
            if qualification_id is not None:
                found = await self._qualifications.get(qualification_id)
                if found is not None:
                    names[qualification_id] = found.name
        return names

    async def _own_qualification(self, organization_id: int, qualification_id: int) -> None:
        """Raise :class:`WrongStep` unless the qualification is this organization's (a press
        naming another organization's is forged)."""
        found = await self._qualifications.get(qualification_id)
        if found is None or found.organization_id != organization_id:
            log.warning(
                "qualification %s refused for organization %s", qualification_id, organization_id
            )
            raise WrongStep

    async def choose_training(self, telegram_id: int, code: str) -> ActivityDraft:
        """A button of the training step: ``none``; ``r`` / ``g`` open the list of
        qualifications (required / granted); ``r<id>`` / ``g<id>`` pick one. Each code says
        what it means, so a press on an older screen of this step acts on what it showed."""
        draft = await self._step(telegram_id, PublishStep.TRAINING)
        await self._staff.organization_for(telegram_id, draft.organization_id)
        if code in (TrainingChoice.REQUIRES.value, TrainingChoice.GRANTS.value):
            data = draft.data.model_copy(update={"training_mode": TrainingChoice(code)})
            return await self._save(telegram_id, draft, draft.step, data)
        parsed = parse_training_value(code)
        if parsed is None:
            raise WrongStep
        choice, qualification_id = parsed
        if qualification_id is not None:
            await self._own_qualification(draft.organization_id, qualification_id)
        return await self._answered(
            telegram_id, draft, _with_training(draft.data, choice, qualification_id)
        )

    async def name_training(self, telegram_id: int, text: str) -> ActivityDraft:
        """A typed qualification name while the list is open: the organization's qualification
        of that name (created if new) is required or granted."""
        draft = await self._step(telegram_id, PublishStep.TRAINING)
        mode = draft.data.training_mode
        if mode is None or mode is TrainingChoice.NONE:
            raise InvalidInput(USE_BUTTONS)
        name = parse_qualification_name(text)
        await self._staff.organization_for(telegram_id, draft.organization_id)
        qualification = await self._qualifications.name(draft.organization_id, name, self.now())
        data = _with_training(draft.data, mode, qualification.qualification_id)
        return await self._answered(telegram_id, draft, data)

    async def name_qualification(
        self, telegram_id: int, activity_id: int, text: str
    ) -> Qualification:
        """Editing a published activity: a typed qualification name, for its organization
        (re-authorized; raises ``StaffRefused``, :class:`NotEditable` or ``InvalidInput``)."""
        name = parse_qualification_name(text)
        activity = await self.editable(telegram_id, activity_id)
        return await self._qualifications.name(activity.organization_id, name, self.now())

    async def set_deadline(
        self, telegram_id: int, text: str | None, language: str
    ) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.DEADLINE)
        deadline: datetime | None = None
        if text is not None:
            assert draft.data.starts_at is not None
            deadline = self._parse_deadline(text, draft.data.starts_at, language)
        return await self._answered(
            telegram_id, draft, draft.data.model_copy(update={"signup_deadline": deadline})
        )

    def _parse_deadline(self, text: str, starts_at: datetime, language: str) -> datetime:
        parsed = parse_when(text, self.now(), self.tz, language)
        if isinstance(parsed, WhenError):
            raise when_invalid(parsed)
        if parsed.ends_at is not None:
            raise when_invalid(WhenError.UNPARSEABLE)
        if parsed.starts_at >= starts_at:
            raise InvalidInput(DEADLINE_AFTER_START)
        return parsed.starts_at

    async def leader_suggestion(self, telegram_id: int) -> str:
        """活动负责人 by default: the organizer's registered name, else their Telegram name."""
        profile = await self._volunteers.get_profile(telegram_id)
        if profile is not None and profile.real_name:
            return profile.real_name
        user = await self._users.get(telegram_id)
        return user.first_name[:LEADER_MAX] if user is not None else ""

    async def set_leader(self, telegram_id: int, text: str | None) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.LEADER)
        if text is None:
            leader = await self.leader_suggestion(telegram_id) or None
        else:
            leader = parse_leader(text)
        return await self._answered(
            telegram_id, draft, draft.data.model_copy(update={"leader_name": leader})
        )

    async def key_date_choices(self, data: DraftData) -> list[KeyDate]:
        """The key date near the activity's day, if any (``bot.domain.keydates.suggest``)."""
        if data.starts_at is None:
            return []
        return await self.key_dates_near(data.starts_at)

    async def key_dates_near(self, starts_at: datetime) -> list[KeyDate]:
        """The key date suggested for an activity starting then (none, or one)."""
        if self._key_dates is None:
            return []
        day = starts_at.astimezone(self.tz).date()
        suggestion = suggest(await self._key_dates.enabled(), day)
        return [suggestion] if suggestion is not None else []

    async def key_date_name(self, code: str, language: str) -> str:
        """The name people read for a stored key date tag (the code is internal). Key dates are
        never deleted, only disabled, so a tag always has a name; the code is the last resort."""
        found = await self._key_dates.get(code) if self._key_dates is not None else None
        return found.name(language) if found is not None else code

    async def key_dates_for(self, activity: Activity) -> list[KeyDate]:
        """The tags an activity's edit screen offers: the key date near its day, and its current
        tag even when no longer near or since disabled (so the screen names what is set)."""
        near = await self.key_dates_near(activity.starts_at)
        if activity.key_date and all(k.code != activity.key_date for k in near):
            keys = self._key_dates
            current = await keys.get(activity.key_date) if keys is not None else None
            if current is not None:
                near.append(current)
        return near

    async def set_key_date(self, telegram_id: int, code: str | None) -> ActivityDraft:
        draft = await self._step(telegram_id, PublishStep.KEY_DATE)
        if code is not None and code not in {
            k.code for k in await self.key_date_choices(draft.data)
        }:
            raise WrongStep
        return await self._answered(
            telegram_id, draft, draft.data.model_copy(update={"key_date": code})
        )

    # -- preview and publishing ------------------------------------------------------------------

    async def preview(self, draft: ActivityDraft) -> Activity:
        """The draft as volunteers will see it (an unsaved :class:`Activity`)."""
        organization = await self._staff_org(draft)
        data = draft.data
        now = self.now()
        starts = data.starts_at or now
        return Activity(
            activity_id=0,
            organization_id=draft.organization_id,
            organization_name=organization,
            title=data.title or "",
            category_code=data.category_code or "",
            description=data.description,
            starts_at=starts,
            ends_at=data.ends_at or starts,
            place=data.place or "",
            area_code=data.area_code,
            latitude=data.latitude,
            longitude=data.longitude,
            capacity=data.capacity or 1,
            required_skills=tuple(data.required_skills),
            training_required=data.training_required,
            adults_only=data.adults_only,
            people_served=tuple(data.people_served),
            signup_deadline=data.signup_deadline,
            signups_closed_at=None,
            key_date=data.key_date,
            leader_name=data.leader_name,
            status=ActivityStatus.DRAFT,
            cancel_reason=None,
            confirmed_count=0,
            offered_count=0,
            waitlist_count=0,
            created_at=now,
            updated_at=now,
            is_volunteering=data.is_volunteering,
            grants_qualification=await self._reference(data.grants_qualification_id),
            requires_qualification=await self._reference(data.requires_qualification_id),
        )

    async def _reference(self, qualification_id: int | None) -> QualificationRef | None:
        if qualification_id is None:
            return None
        found = await self._qualifications.get(qualification_id)
        if found is None:
            return None
        return QualificationRef(qualification_id=qualification_id, name=found.name)

    async def _staff_org(self, draft: ActivityDraft) -> str:
        organization = await self._staff.organization_for(draft.telegram_id, draft.organization_id)
        return organization.name

    async def publish(self, telegram_id: int) -> Activity:
        """Publish the current draft (re-checking everything: time may have passed since)."""
        draft = await self._step(telegram_id, PublishStep.PREVIEW)
        await self._staff.organization_for(telegram_id, draft.organization_id)
        data = draft.data
        now = self.now()
        if data.starts_at is None or data.ends_at is None:
            raise WrongStep
        error = check_range(data.starts_at, data.ends_at, now)
        if error is not None:
            raise when_invalid(error)
        if data.signup_deadline is not None and not (now < data.signup_deadline < data.starts_at):
            raise InvalidInput(DEADLINE_AFTER_START)
        if not data.title or not data.category_code or not data.place or not data.capacity:
            raise WrongStep
        for qualification_id in (data.requires_qualification_id, data.grants_qualification_id):
            if qualification_id is not None:
                try:
                    await self._own_qualification(draft.organization_id, qualification_id)
                except WrongStep:
                    raise InvalidInput(NO_LONGER_OFFERED) from None
        new = NewActivity(
            organization_id=draft.organization_id,
            title=data.title,
            category_code=data.category_code,
            description=data.description,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            place=data.place,
            area_code=data.area_code,
            latitude=data.latitude,
            longitude=data.longitude,
            capacity=data.capacity,
            required_skills=tuple(data.required_skills),
            training_required=data.training_required,
            adults_only=data.adults_only,
            people_served=tuple(data.people_served),
            signup_deadline=data.signup_deadline,
            key_date=data.key_date,
            leader_name=data.leader_name,
            created_by=telegram_id,
            is_volunteering=data.is_volunteering,
            grants_qualification_id=data.grants_qualification_id,
            requires_qualification_id=data.requires_qualification_id,
        )
        async with self._db.transaction() as tx:
            # The draft is the guard: a second press (here or in another process) finds it gone
            # and publishes nothing, instead of publishing the activity twice.
            if not await PublishingRepository.delete_draft_in(tx, draft.draft_id):
                raise WrongStep
            activity_id = await ActivitiesRepository.insert(tx, new, now)
            activity = (await load_activities(tx.fetch_all, [activity_id]))[activity_id]
        log.info(
            "user %s published activity %s (draft %s)", telegram_id, activity_id, draft.draft_id
        )
        return activity

    # -- editing a published activity ------------------------------------------------------------

    async def editable(self, telegram_id: int, activity_id: int) -> Activity:
        """The activity, if this user may edit it and it can still change: published and not
        started yet (volunteers on their way must not find another place or time). Raises
        ``StaffRefused`` or :class:`NotEditable`."""
        activity = await self._staff.activity_for(telegram_id, activity_id)
        _check_editable(activity, self.now())
        return activity

    def parse_edit(self, activity: Activity, edit: EditField, text: str, language: str) -> str:
        """Validate a typed new value; returns it in the form :meth:`apply_edit` takes (for the
        time: ``start_iso/end_iso``)."""
        parse = FIELD[edit].parse
        if parse is not None:
            return parse(text)
        if edit is EditField.WHEN:
            parsed = parse_when(text, self.now(), self.tz, language)
            if isinstance(parsed, WhenError):
                raise when_invalid(parsed)
            ends = parsed.ends_at
            if ends is None:  # a new start only: keep the duration
                ends = parsed.starts_at + (activity.ends_at - activity.starts_at)
            return f"{parsed.starts_at.isoformat()}/{ends.isoformat()}"
        if edit is EditField.DEADLINE:
            if text.strip() in ("", "-"):
                return ""
            return self._parse_deadline(text, activity.starts_at, language).isoformat()
        raise WrongStep

    async def capacity_plan(self, activity: Activity, capacity: int) -> CapacityPlan | None:
        """Whom lowering the capacity would move to the waitlist; ``None`` when nobody."""
        needed = activity.taken - capacity
        if needed <= 0:
            return None
        async with self._db.transaction() as tx:
            candidates = _move_order(
                await PublishingRepository.participants(
                    tx, activity.activity_id, (SignupStatus.CONFIRMED, SignupStatus.OFFERED)
                )
            )
        return CapacityPlan(
            needed=needed,
            candidates=tuple(candidates),
            default=tuple(p.signup_id for p in candidates[:needed]),
        )

    async def apply_edit(
        self,
        telegram_id: int,
        activity_id: int,
        edit: EditField,
        value: str,
        *,
        move: Sequence[int] = (),
    ) -> EditResult:
        """Change one field (re-authorized), in one transaction with its consequences."""
        activity = await self.editable(telegram_id, activity_id)
        now = self.now()
        columns: dict[str, object] = {}
        skills: list[str] | None = None
        people: list[PeopleServed] | None = None
        notify_field: str | None = None
        notify_value = ""
        field = FIELD[edit]
        if field.column is not None:  # a plain value in one column (the table says which)
            columns[field.column] = field.store(value)
        elif edit is EditField.CATEGORY:
            item = await self._catalog.category(value)
            if item is None or not item.is_active:
                raise InvalidInput(CHOOSE_CATEGORY)
            columns["category_code"] = value
        elif edit is EditField.PLACE:
            # A pin for the old place would send volunteers to the wrong spot: it goes too.
            columns.update(place=value, latitude=None, longitude=None)
            if value != activity.place or activity.has_location:
                notify_field, notify_value = "place", value
        elif edit is EditField.PIN:
            pin = _parse_pin(value)
            latitude, longitude = pin if pin is not None else (None, None)
            columns.update(latitude=latitude, longitude=longitude)
            if (latitude, longitude) != (activity.latitude, activity.longitude):
                notify_field, notify_value = "pin", format_pin(latitude, longitude)
        elif edit is EditField.AREA:
            if value and value != activity.area_code:
                item = await self._catalog.area(value)
                if item is None or not item.is_active:
                    raise InvalidInput(NO_LONGER_OFFERED)
            columns["area_code"] = value or None
        elif edit is EditField.KEY_DATE:
            if value and value != activity.key_date:
                near = {k.code for k in await self.key_dates_near(activity.starts_at)}
                if value not in near:
                    raise InvalidInput(NO_LONGER_OFFERED)
            columns["key_date"] = value or None
        elif edit is EditField.SKILLS:
            skills = list(dict.fromkeys(c for c in value.split(",") if c))
            for code in skills:
                if code in activity.required_skills:
                    continue  # kept even if the skill was retired from the list since
                item = await self._catalog.skill(code)
                if item is None or not item.is_active:
                    raise InvalidInput(NO_LONGER_OFFERED)
        elif edit is EditField.PEOPLE:
            try:
                people = list(dict.fromkeys(PeopleServed(c) for c in value.split(",") if c))
            except ValueError:
                raise InvalidInput(NO_LONGER_OFFERED) from None
        elif edit is EditField.WHEN:
            starts_text, _, ends_text = value.partition("/")
            starts_at, ends_at = (
                datetime.fromisoformat(starts_text),
                datetime.fromisoformat(ends_text),
            )
            error = check_range(starts_at, ends_at, now)
            if error is not None:
                raise when_invalid(error)
            if activity.signup_deadline is not None and activity.signup_deadline >= starts_at:
                columns["signup_deadline"] = None  # a deadline after the new start means nothing
            columns.update(starts_at=starts_at, ends_at=ends_at)
            if (starts_at, ends_at) != (activity.starts_at, activity.ends_at):
                notify_field = "time"
                notify_value = f"{starts_at.isoformat()}/{ends_at.isoformat()}"
        elif edit is EditField.DEADLINE:
            deadline = datetime.fromisoformat(value) if value else None
            if deadline is not None and not now < deadline < activity.starts_at:
                raise InvalidInput(DEADLINE_AFTER_START)
            columns["signup_deadline"] = deadline
        elif edit is EditField.CAPACITY:
            return await self._change_capacity(telegram_id, activity, int(value), move)
        elif edit is EditField.TRAINING:
            parsed = parse_training_value(value)
            if parsed is None:
                raise InvalidInput(NO_LONGER_OFFERED)
            choice, qualification_id = parsed
            if qualification_id is not None:
                try:
                    await self._own_qualification(activity.organization_id, qualification_id)
                except WrongStep:
                    raise InvalidInput(NO_LONGER_OFFERED) from None
            columns.update(
                training_required=False,
                requires_qualification_id=(
                    qualification_id if choice is TrainingChoice.REQUIRES else None
                ),
                grants_qualification_id=(
                    qualification_id if choice is TrainingChoice.GRANTS else None
                ),
            )
        else:
            raise WrongStep
        notified = 0
        async with self._db.transaction() as tx:
            # Checked again inside the write: a co-organizer may have cancelled it meanwhile.
            _check_editable((await load_activities(tx.fetch_all, [activity_id]))[activity_id], now)
            if not await PublishingRepository.update_activity(tx, activity_id, columns, now):
                raise NotEditable(NotEditableReason.STARTED)  # changed by another process
            if skills is not None:
                await PublishingRepository.set_skills(tx, activity_id, skills)
            if people is not None:
                await PublishingRepository.set_people_served(
                    tx, activity_id, [group.value for group in people]
                )
            if notify_field is not None:
                notified = await self._notify_changed(
                    tx, activity_id, notify_field, notify_value, now
                )
            moved = edit is EditField.WHEN and columns["starts_at"] != activity.starts_at
            if moved and self._reminders is not None:
                await self._reminders.replan_activity(tx, activity_id, now)
            changed = (await load_activities(tx.fetch_all, [activity_id]))[activity_id]
        log.info(
            "user %s edited %s of activity %s (%s notified)",
            telegram_id,
            edit.value,
            activity_id,
            notified,
        )
        offered = 0
        if edit in (EditField.WHEN, EditField.DEADLINE) and self._sweep is not None:
            await self._sweep()  # a later deadline may reopen offers to the waitlist
        return EditResult(changed, notified=notified, offered=offered)

    async def _notify_changed(
        self, tx: Transaction, activity_id: int, what: str, value: str, now: datetime
    ) -> int:
        """ACTIVITY_CHANGED to everyone confirmed, offered or waiting (called only when the
        value really changed). The subject carries the new value and the moment of the change,
        so every change is one message even when it goes back to an earlier value; the renderer
        drops messages a later change made stale."""
        digest = hashlib.sha256(f"{value}|{now.isoformat()}".encode()).hexdigest()[:16]
        count = 0
        for person in await PublishingRepository.participants(
            tx,
            activity_id,
            (SignupStatus.CONFIRMED, SignupStatus.OFFERED, SignupStatus.WAITLISTED),
        ):
            if person.telegram_id is None:
                continue
            await self._outbox.enqueue(
                tx,
                Notification(
                    kind=NotificationKind.ACTIVITY_CHANGED,
                    telegram_id=person.telegram_id,
                    subject=f"activity:{activity_id}:{what}:{digest}",
                    payload={"activity_id": activity_id, "field": what, "value": value},
                    due_at=now,
                ),
                now,
            )
            count += 1
        return count

    async def _change_capacity(
        self, telegram_id: int, activity: Activity, capacity: int, move: Sequence[int]
    ) -> EditResult:
        if not 1 <= capacity <= MAX_CAPACITY:
            raise InvalidInput(CAPACITY_FORMAT)
        now = self.now()
        activity_id = activity.activity_id
        moved: list[int] = []
        async with self._db.transaction() as tx:
            current = (await load_activities(tx.fetch_all, [activity_id]))[activity_id]
            _check_editable(current, now)  # not cancelled or started since the screen was shown
            needed = current.taken - capacity
            if needed <= 0:
                if not await PublishingRepository.set_capacity(tx, activity_id, capacity, now):
                    raise CapacityChanged(max(needed, 1))  # a spot was taken meanwhile
            else:
                candidates = _move_order(
                    await PublishingRepository.participants(
                        tx, activity_id, (SignupStatus.CONFIRMED, SignupStatus.OFFERED)
                    )
                )
                by_id = {p.signup_id: p for p in candidates}
                chosen = [by_id[i] for i in dict.fromkeys(move) if i in by_id]
                if len(chosen) < needed:
                    # Someone signed up meanwhile, or the choice is stale: ask again.
                    raise CapacityChanged(needed)
                chosen = chosen[:needed]
                confirmed = sum(p.status is SignupStatus.CONFIRMED for p in chosen)
                offered = len(chosen) - confirmed
                if not await PublishingRepository.set_capacity(
                    tx,
                    activity_id,
                    capacity,
                    now,
                    confirmed=-confirmed,
                    offered=-offered,
                    waitlist=len(chosen),
                ):
                    raise CapacityChanged(needed)
                # They keep the head of the waitlist, in the order they signed up. Read after
                # set_capacity, whose UPDATE holds the activity's row lock in PostgreSQL (every
                # waitlist join takes it first too), so nobody joins between this read and the
                # moves below.
                head = await PublishingRepository.first_queued_at(tx, activity_id)
                first = min(head, now) if head is not None else now
                ordered = sorted(chosen, key=lambda p: (p.status_at, p.signup_id))
                for index, person in enumerate(ordered):
                    queued_at = first - timedelta(microseconds=len(ordered) - index)
                    # Moved only from the state read, which the counter change above assumed;
                    # a sign-up changed meanwhile rolls everything back: choose again.
                    signup = await PublishingRepository.back_to_waitlist(
                        tx, person.signup_id, queued_at, now, expected=person.status
                    )
                    if signup is None:
                        raise CapacityChanged(needed)
                    moved.append(person.signup_id)
                    if person.telegram_id is not None:
                        await self._outbox.enqueue(
                            tx,
                            Notification(
                                kind=NotificationKind.MOVED_TO_WAITLIST,
                                telegram_id=person.telegram_id,
                                subject=f"signup:{signup.signup_id}:{signup.status_at.isoformat()}",
                                payload={"signup_id": signup.signup_id, "activity_id": activity_id},
                                due_at=now,
                            ),
                            now,
                        )
            changed = (await load_activities(tx.fetch_all, [activity_id]))[activity_id]
        log.info(
            "user %s set capacity of activity %s to %s (%s moved to the waitlist)",
            telegram_id,
            activity_id,
            capacity,
            len(moved),
        )
        offered_count = 0
        if capacity > activity.capacity and self._sweep is not None:
            report = await self._sweep()  # the waitlist gets the new spots
            offered_count = int(getattr(report, "offered", 0))
            changed = await self._activities.get(activity_id) or changed
        return EditResult(changed, moved=tuple(moved), offered=offered_count)


class CapacityChanged(Exception):
    """The sign-ups changed since the organizer chose whom to move: show the list again."""

    def __init__(self, needed: int) -> None:
        super().__init__(str(needed))
        self.needed = needed


def _check_editable(activity: Activity, now: datetime) -> None:
    """Raise :class:`NotEditable` unless the activity is published and not started yet."""
    if activity.status is ActivityStatus.CANCELLED:
        raise NotEditable(NotEditableReason.CANCELLED)
    if activity.status is not ActivityStatus.PUBLISHED:
        raise NotEditable(NotEditableReason.NOT_PUBLISHED)
    if activity.starts_at <= now:
        raise NotEditable(NotEditableReason.STARTED)


def _move_order(people: Sequence[Participant]) -> list[Participant]:
    """Whom to move first when capacity drops: held offers (not yet accepted) before confirmed
    sign-ups, and within each the last signed up first."""
    return sorted(
        people,
        key=lambda p: (
            p.status is not SignupStatus.OFFERED,
            -p.status_at.timestamp(),
            -p.signup_id,
        ),
    )


def _with_training(
    data: DraftData, choice: TrainingChoice, qualification_id: int | None
) -> DraftData:
    """The draft with the training step answered (the old yes/no flag no longer applies)."""
    return data.model_copy(
        update={
            "training_required": False,
            "requires_qualification_id": (
                qualification_id if choice is TrainingChoice.REQUIRES else None
            ),
            "grants_qualification_id": qualification_id
            if choice is TrainingChoice.GRANTS
            else None,
            "training_mode": None,
        }
    )
