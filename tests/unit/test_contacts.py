"""Masking and the reveal request (bot.domain.contacts)."""

from __future__ import annotations

import pytest

from bot.domain.contacts import is_masked, mask_phone, parse_reveal
from bot.domain.exports import phone_text
from bot.domain.validation import InvalidInput


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("+8613812345678", "+86 138 **** 5678"),
        ("+14155550123", "+1 415 *** 0123"),
        ("+85261234567", "+852 612 * 4567"),
        ("12345", "*****"),
        (None, None),
        ("", ""),
    ],
)
def test_mask_keeps_the_ends_only(phone: str | None, shown: str | None) -> None:
    assert mask_phone(phone) == shown
    if shown:
        assert is_masked(shown)


def test_a_masked_number_stays_masked_in_files() -> None:
    assert phone_text("+86 138 **** 5678") == "138 **** 5678"
    assert phone_text("+8613812345678") == "138 1234 5678"


def test_reveal_needs_a_line_and_a_reason() -> None:
    assert parse_reveal("  3   the venue changed ") == (3, "the venue changed")
    for text in ("", "3", "3 ok", "three the venue changed", "３ the venue changed", "-1 reason"):
        with pytest.raises(InvalidInput):
            parse_reveal(text)
    with pytest.raises(InvalidInput):
        parse_reveal("2 " + "x" * 201)
