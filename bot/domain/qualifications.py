"""Trainings and qualifications (民政部令第67号 Art. 8, 先培训再上岗).

An organization names its qualifications («急救证»). An activity either needs no training, or
*requires* a qualification (only holders may sign up), or *is a training* that grants one when
its hours are confirmed. The old yes/no "training required" flag of older activities stays
readable ("training before service", not tracked here).

```mermaid
flowchart LR
    T[training activity] -- hours confirmed --> H[volunteer_qualifications]
    H -- holder --> S[sign-up of an activity requiring it]
    N[non-holder] -. refused, pointed to the next session .-> T
```
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

from bot.domain import validation

QUALIFICATION_NAME_MAX: Final = 40


class Qualification(BaseModel):
    model_config = ConfigDict(frozen=True)

    qualification_id: int
    organization_id: int
    name: str


class HeldQualification(BaseModel):
    """A qualification a volunteer holds (``/hours`` lists them)."""

    model_config = ConfigDict(frozen=True)

    qualification_id: int
    name: str
    organization_name: str
    granted_at: datetime
    activity_id: int | None  # the training that granted it; None when granted by hand


class TrainingChoice(StrEnum):
    """The form's training step: the three answers (codes of its buttons and edit values)."""

    NONE = "none"  # no training needed
    REQUIRES = "r"  # requires a qualification: only holders may sign up
    GRANTS = "g"  # this activity is a training that grants a qualification


def parse_qualification_name(text: str) -> str:
    """A qualification's name as typed: one line, trimmed, 1–40 characters."""
    return validation.clean_free_text(text, min_length=1, max_length=QUALIFICATION_NAME_MAX)


def training_value(choice: TrainingChoice, qualification_id: int | None = None) -> str:
    """The training field as one value (an edit's value, a button's code): ``none``,
    ``r<id>`` or ``g<id>``."""
    if choice is TrainingChoice.NONE or qualification_id is None:
        return TrainingChoice.NONE.value
    return f"{choice.value}{qualification_id}"


def parse_training_value(value: str) -> tuple[TrainingChoice, int | None] | None:
    """The inverse of :func:`training_value`; ``None`` when malformed (forged)."""
    if value == TrainingChoice.NONE.value:
        return TrainingChoice.NONE, None
    kind, digits = value[:1], value[1:]
    if kind not in (TrainingChoice.REQUIRES.value, TrainingChoice.GRANTS.value):
        return None
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12 or digits[0] == "0":
        return None
    return TrainingChoice(kind), int(digits)
