"""Registration with REQUIRE_ID_NUMBER on, end to end through the local Bot API server.

The ID number step comes right after the phone, refuses a wrong check character with the
reason, stores the normalized number and never shows it in full: not on the review, not on the
profile card, not in any message or earlier version of a message the bot sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.config import Settings
from bot.domain.validation import mask_id_number
from bot.localapi import LocalBotApi, VirtualUser
from bot.localapi.models import BotInfo
from storage.volunteers import VolunteersRepository
from tests.e2e.conftest import ADMIN_ID, TOKEN, BotProcess, database_settings
from tests.e2e.flows import answer_area_to_review

MakeUser = Callable[..., VirtualUser]

# Valid GB 11643 numbers: born 1949-12-31 (check character X) and 2015-03-01 (a child).
ID_NUMBER = "11010519491231002X"
CHILDS_ID_NUMBER = "430104201503010035"


@pytest.fixture
def settings(api: LocalBotApi, bot_info: BotInfo, db_path: Path) -> Settings:
    """The conftest's settings, with the ID number step switched on (``bot`` uses these)."""
    return Settings(
        bot_token=TOKEN,
        bot_api_url=api.url,
        **database_settings(db_path),  # type: ignore[arg-type]
        admin_ids=frozenset({ADMIN_ID}),
        require_id_number=True,
    )


def volunteers(bot: BotProcess) -> VolunteersRepository:
    assert bot.runtime is not None
    return VolunteersRepository(bot.runtime.db)


def assert_never_shown_in_full(user: VirtualUser, id_number: str) -> None:
    """Neither a bot message in the chat nor any earlier version of one holds the number."""
    messages = user.bot_messages(include_deleted=True)
    assert messages
    for message in messages:
        versions = [(message.text, message.plain_text)]
        versions += [(edit.text, edit.plain_text) for edit in message.edits]
        for text, plain_text in versions:
            assert id_number not in (text or ""), f"message #{message.message_id}: {text!r}"
            assert id_number not in (plain_text or ""), f"message #{message.message_id}"


async def register_until_id_number(user: VirtualUser, name: str) -> None:
    await user.send("/register")
    await user.wait_for_text("Before you register")
    await user.press("✅ I accept")
    await user.wait_for_text("Step 1 of 10: your real name")
    await user.send(name)
    await user.wait_for_text("Step 2 of 10: your phone number")
    await user.send("13812345678")
    await user.wait_for_text("Step 3 of 10: your ID card number")


async def finish_registration(user: VirtualUser, birth_date: str) -> str:
    """From the gender step to the review; returns the review's visible text."""
    await user.press("Female")
    await user.wait_for_text("Step 5 of 10: your date of birth")
    await user.send(birth_date)
    # An adult: the area step follows the birth date directly (no guardian step).
    review = await answer_area_to_review(user)
    return review.plain_text or ""


async def test_the_id_number_step_refuses_a_wrong_check_digit_and_shows_the_number_masked(
    bot: BotProcess, make_user: MakeUser
) -> None:
    user = make_user("Fang", language_code="en")
    await register_until_id_number(user, "Wang Fang")

    # A wrong check character: refused with the reason, the step shown again.
    await user.send("110105194912310021")
    refused = await user.wait_for_text("This ID card number has a mistake in it")
    assert "your ID card number" in (refused.plain_text or "")
    draft = await volunteers(bot).get_draft(user.id)
    assert draft is not None and draft.step.value == "id_number" and draft.data.id_number is None

    # Typed with spaces and a lower-case x: accepted and stored normalized.
    await user.send("110105 19491231 002x")
    await user.wait_for_text("Step 4 of 10: your gender")
    draft = await volunteers(bot).get_draft(user.id)
    assert draft is not None and draft.data.id_number == ID_NUMBER

    review = await finish_registration(user, "1985-06-15")
    masked = mask_id_number(ID_NUMBER)
    assert masked == "110***********002X"
    assert f"ID card number: {masked}" in review
    await user.press("✅ Confirm")
    await user.wait_for_text("You are registered as a volunteer, Wang Fang")

    profile = await volunteers(bot).get_profile(user.id)
    assert profile is not None
    assert profile.id_number == ID_NUMBER
    assert profile.birth_date == date(1985, 6, 15) and not profile.is_minor

    # The profile card masks it too.
    await user.send("/profile")
    card = await user.wait_for_text("My volunteer profile")
    assert masked in (card.plain_text or "")
    assert_never_shown_in_full(user, ID_NUMBER)


async def test_a_childs_id_number_does_not_have_to_match_an_adults_typed_birth_date(
    bot: BotProcess, make_user: MakeUser
) -> None:
    user = make_user("Jun", language_code="en")
    await register_until_id_number(user, "Li Jun")
    await user.send(CHILDS_ID_NUMBER)
    await user.wait_for_text("Step 4 of 10: your gender")

    review = await finish_registration(user, "1980-01-01")
    assert mask_id_number(CHILDS_ID_NUMBER) in review
    await user.press("✅ Confirm")
    await user.wait_for_text("You are registered as a volunteer, Li Jun")

    profile = await volunteers(bot).get_profile(user.id)
    assert profile is not None
    assert profile.id_number == CHILDS_ID_NUMBER
    assert profile.birth_date == date(1980, 1, 1)
    assert not profile.is_minor and profile.guardian_consent_at is None
    assert_never_shown_in_full(user, CHILDS_ID_NUMBER)
