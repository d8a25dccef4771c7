"""bot.domain.activity_form: the one table of the activity form's fields."""

from __future__ import annotations

import pytest

from bot.domain.activity_form import (
    EDITABLE_STEPS,
    FIELD,
    FIELD_OF_STEP,
    FORM_STEPS,
    NEWS_EDITS,
    EditField,
    InputKind,
    PublishStep,
    draft_seen,
    step_number,
)
from bot.domain.validation import InvalidInput


def test_every_step_is_numbered_of_the_same_total() -> None:
    numbers = [step_number(step) or 0 for step in PublishStep if step is not PublishStep.PREVIEW]
    assert FORM_STEPS == 16 and numbers[0] == 1 and max(numbers) == FORM_STEPS
    # The end shares the date's number, the pin has its own, the preview has none.
    assert step_number(PublishStep.END) == step_number(PublishStep.START) == 4
    assert step_number(PublishStep.LOCATION) == 6
    assert step_number(PublishStep.PREVIEW) is None
    assert numbers == sorted(numbers)


def test_the_table_says_what_is_news_and_how_each_field_is_answered() -> None:
    assert {EditField.WHEN, EditField.PLACE, EditField.PIN} == NEWS_EDITS
    assert FIELD[EditField.SKILLS].kind is InputKind.MULTI
    assert FIELD_OF_STEP[PublishStep.END].edit is EditField.WHEN
    assert PublishStep.LOCATION not in EDITABLE_STEPS and PublishStep.END not in EDITABLE_STEPS
    parse = FIELD[EditField.CAPACITY].parse
    assert parse is not None and parse("１２人") == "12"
    with pytest.raises(InvalidInput):
        parse("0")
    assert FIELD[EditField.ADULTS].store("1") is True


def test_a_draft_fingerprint_changes_with_step_draft_and_answers() -> None:
    one = draft_seen(1, PublishStep.TITLE, "{}")
    assert len(one) == 10
    assert one != draft_seen(2, PublishStep.TITLE, "{}")
    assert one != draft_seen(1, PublishStep.CATEGORY, "{}")
    assert one != draft_seen(1, PublishStep.TITLE, '{"title":"x"}')
