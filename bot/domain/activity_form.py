"""The activity form's fields, as one table: ``/new``, editing a published activity and the
publishing service all read it instead of each handling a field in its own ``if`` chain.

Per field: the steps of ``/new`` that ask it, its label, how it is answered (typed text, the
calendar, one button of a list, toggles, yes/no, a map pin), the parser of a typed answer, the
activity column a plain value goes to, and whether a change of a published activity is news
for the volunteers (``ACTIVITY_CHANGED``). The form's steps are numbered by field, so the count
never changes mid-form ("step 4 of 15" for both the start and the end of the date step).

```mermaid
flowchart LR
    T[FIELDS] --> N["/new: step number, screen kind, typed parser"]
    T --> E["editing: menu, screen kind, typed parser, news"]
    T --> S["service: typed parser, column, news"]
```
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.domain import validation
from bot.domain.validation import InvalidInput
from bot.i18n import N_

TITLE_MAX: Final = 60
DESCRIPTION_MAX: Final = 1000
PLACE_MAX: Final = 100
LEADER_MAX: Final = 30
MAX_CAPACITY: Final = 10_000
CAPACITY_FORMAT: Final = N_("Please type a number of volunteers from 1 to 10,000.")

_CAPACITY_DIGITS = re.compile(r"[0-9]{1,12}")
_FULL_WIDTH_DIGITS = {0xFF10 + d: ord("0") + d for d in range(10)}


class PublishStep(StrEnum):
    """The steps of ``/new``, in the order they are asked."""

    TITLE = "title"
    CATEGORY = "category"
    DESCRIPTION = "description"
    START = "start"
    END = "end"
    PLACE = "place"
    LOCATION = "location"
    AREA = "area"
    CAPACITY = "capacity"
    SKILLS = "skills"
    TRAINING = "training"
    VOLUNTEERING = "volunteering"
    ADULTS = "adults"
    PEOPLE = "people"
    DEADLINE = "deadline"
    LEADER = "leader"
    KEY_DATE = "key_date"
    PREVIEW = "preview"


class EditField(StrEnum):
    """A field of a published activity that can be edited (one per row of :data:`FIELDS`)."""

    TITLE = "title"
    CATEGORY = "category"
    DESCRIPTION = "description"
    WHEN = "when"
    PLACE = "place"
    PIN = "pin"
    AREA = "area"
    CAPACITY = "capacity"
    SKILLS = "skills"
    TRAINING = "training"
    ADULTS = "adults"
    PEOPLE = "people"
    DEADLINE = "deadline"
    LEADER = "leader"
    KEY_DATE = "key_date"
    VOLUNTEERING = "volunteering"


class InputKind(StrEnum):
    """How a field is answered; each kind has one screen in ``/new`` and one in editing."""

    TEXT = "text"  # typed (parsed by the field's parser, or by the service when it needs the clock)
    WHEN = "when"  # typed, or picked on the calendar
    CHOICE = "choice"  # one button of a list
    MULTI = "multi"  # toggles, then Done (the value is the codes joined with commas)
    YES_NO = "yes_no"  # "1" or "0"
    PIN = "pin"  # a shared location, or none
    #: No training / requires a qualification / is a training granting one; a qualification is
    #: picked from the organization's list or named (typed). The value: ``none``, ``r<id>`` or
    #: ``g<id>`` (:func:`bot.domain.qualifications.training_value`).
    TRAINING = "training"


class News(StrEnum):
    """What an ``ACTIVITY_CHANGED`` notification says changed (its payload's ``field``)."""

    TIME = "time"
    PLACE = "place"
    PIN = "pin"


def parse_title(text: str) -> str:
    return validation.clean_free_text(text, min_length=2, max_length=TITLE_MAX)


def parse_description(text: str) -> str:
    return validation.clean_free_text(
        text, min_length=2, max_length=DESCRIPTION_MAX, multiline=True
    )


def parse_place(text: str) -> str:
    return validation.clean_free_text(text, min_length=2, max_length=PLACE_MAX)


def parse_leader(text: str) -> str:
    return validation.clean_free_text(text, min_length=2, max_length=LEADER_MAX)


def parse_capacity(text: str) -> int:
    # Full-width digits (Chinese keyboards) count; then only ASCII digits are a number:
    # str.isdigit() also passes "²" or "፩", which int() rejects.
    cleaned = validation.clean_free_text(text, min_length=1, max_length=12)
    cleaned = cleaned.translate(_FULL_WIDTH_DIGITS).replace(",", "")
    cleaned = cleaned.replace("，", "").replace(" ", "").removesuffix("人")
    if not _CAPACITY_DIGITS.fullmatch(cleaned) or not 1 <= int(cleaned) <= MAX_CAPACITY:
        raise InvalidInput(CAPACITY_FORMAT)
    return int(cleaned)


def _capacity_value(text: str) -> str:
    return str(parse_capacity(text))


def _flag(value: str) -> bool:
    return value == "1"


def _same(value: str) -> str:
    return value


@dataclass(frozen=True)
class FormField:
    edit: EditField
    label: str  # message id
    kind: InputKind
    steps: tuple[PublishStep, ...]  # the /new steps asking it; the first is returned to
    #: A typed answer to the value :meth:`PublishingService.apply_edit` takes; ``None`` when the
    #: service parses it itself (it needs the clock: times and deadlines) or it is not typed.
    parse: Callable[[str], str] | None = None
    #: The one activity column a plain value is stored in, and how; ``None`` for fields with
    #: consequences of their own (catalog checks, dropped pins, counters, other tables).
    column: str | None = None
    store: Callable[[str], object] = _same
    #: A change is news for the volunteers concerned (``ACTIVITY_CHANGED``), else silent.
    news: News | None = None
    #: May be left empty (a "skip", "none" or "no tag" button).
    optional: bool = False


FIELDS: tuple[FormField, ...] = (
    FormField(
        EditField.TITLE,
        N_("Title"),
        InputKind.TEXT,
        (PublishStep.TITLE,),
        parse=parse_title,
        column="title",
    ),
    FormField(EditField.CATEGORY, N_("Kind of service"), InputKind.CHOICE, (PublishStep.CATEGORY,)),
    FormField(
        EditField.DESCRIPTION,
        N_("Description"),
        InputKind.TEXT,
        (PublishStep.DESCRIPTION,),
        parse=parse_description,
        column="description",
        optional=True,
    ),
    FormField(
        EditField.WHEN,
        N_("Date and time"),
        InputKind.WHEN,
        (PublishStep.START, PublishStep.END),
        news=News.TIME,
    ),
    FormField(
        EditField.PLACE,
        N_("Place"),
        InputKind.TEXT,
        (PublishStep.PLACE,),
        parse=parse_place,
        news=News.PLACE,
    ),
    FormField(
        EditField.PIN,
        N_("Map pin"),
        InputKind.PIN,
        (PublishStep.LOCATION,),
        news=News.PIN,
        optional=True,
    ),
    FormField(EditField.AREA, N_("District"), InputKind.CHOICE, (PublishStep.AREA,), optional=True),
    FormField(
        EditField.CAPACITY,
        N_("Volunteers needed"),
        InputKind.TEXT,
        (PublishStep.CAPACITY,),
        parse=_capacity_value,
    ),
    FormField(
        EditField.SKILLS,
        N_("Required skills"),
        InputKind.MULTI,
        (PublishStep.SKILLS,),
        optional=True,
    ),
    # Art. 8 (先培训再上岗): the qualification columns, checked against the organization's list
    # by the service (never a plain column). The old yes/no flag is cleared by any answer.
    FormField(EditField.TRAINING, N_("Training"), InputKind.TRAINING, (PublishStep.TRAINING,)),
    # Art. 19: an activity that is not volunteer service is not recorded.
    FormField(
        EditField.VOLUNTEERING,
        N_("Volunteer service"),
        InputKind.YES_NO,
        (PublishStep.VOLUNTEERING,),
        column="is_volunteering",
        store=_flag,
    ),
    FormField(
        EditField.ADULTS,
        N_("Adults only"),
        InputKind.YES_NO,
        (PublishStep.ADULTS,),
        column="adults_only",
        store=_flag,
    ),
    FormField(
        EditField.PEOPLE,
        N_("People served"),
        InputKind.MULTI,
        (PublishStep.PEOPLE,),
        optional=True,
    ),
    FormField(
        EditField.DEADLINE,
        N_("Sign-up deadline"),
        InputKind.TEXT,
        (PublishStep.DEADLINE,),
        optional=True,
    ),
    FormField(
        EditField.LEADER,
        N_("Person in charge"),
        InputKind.TEXT,
        (PublishStep.LEADER,),
        parse=parse_leader,
        column="leader_name",
    ),
    FormField(
        EditField.KEY_DATE,
        N_("Key date"),
        InputKind.CHOICE,
        (PublishStep.KEY_DATE,),
        optional=True,
    ),
)

FIELD: Mapping[EditField, FormField] = {field.edit: field for field in FIELDS}
FIELD_OF_STEP: Mapping[PublishStep, FormField] = {
    step: field for field in FIELDS for step in field.steps
}
#: The form's step count: one number per field, the same from the first step to the last
#: (the key date, asked only when one is near, is still counted).
FORM_STEPS: Final = len(FIELDS)

ORDER: tuple[PublishStep, ...] = tuple(PublishStep)
#: The fields the preview's "Edit a field" offers, by the step that asks them (the map pin comes
#: with the place).
EDITABLE_STEPS: tuple[PublishStep, ...] = tuple(
    field.steps[0] for field in FIELDS if field.kind is not InputKind.PIN
)
#: Edits whose value is a list of codes joined with commas.
MULTI_EDITS = frozenset(field.edit for field in FIELDS if field.kind is InputKind.MULTI)
#: Edits that volunteers are told about.
NEWS_EDITS = frozenset(field.edit for field in FIELDS if field.news is not None)

assert set(FIELD) == set(EditField), "every editable field has a row"
assert set(FIELD_OF_STEP) == set(PublishStep) - {PublishStep.PREVIEW}, "every step has a field"


def step_number(step: PublishStep) -> int | None:
    """The step's number in "step N of :data:`FORM_STEPS`" (``None`` for the preview)."""
    field = FIELD_OF_STEP.get(step)
    return FIELDS.index(field) + 1 if field is not None else None


def first_step_of(step: PublishStep) -> bool:
    """The step that opens its field (the start, not the end; the place, not the pin)."""
    field = FIELD_OF_STEP.get(step)
    return field is not None and field.steps[0] is step


def draft_seen(draft_id: int, step: PublishStep, data_json: str) -> str:
    """A short fingerprint of a draft as drawn on a screen, carried by that screen's buttons:
    a press acts only while the draft is still exactly what the user saw."""
    digest = hashlib.sha256(f"{draft_id}|{step.value}|{data_json}".encode()).hexdigest()
    return digest[:10]


def toggled(value: str, code: str) -> str:
    """A comma-joined selection with ``code`` added or removed (the multi-select edits)."""
    codes = [c for c in value.split(",") if c]
    if code in codes:
        codes.remove(code)
    else:
        codes.append(code)
    return ",".join(codes)
