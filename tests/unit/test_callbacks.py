"""Numbers in callback data and typed numbers: ASCII digits only, never a crash.

``str.isdigit()`` passes "²" (which ``int()`` rejects) and "١٢" (which ``int()`` reads), so a
forged button used to raise ``ValueError`` in the handler.
"""

from __future__ import annotations

from datetime import UTC

import pytest

from bot.domain.validation import InvalidInput
from bot.i18n import Language, translator
from bot.services.publishing import parse_capacity
from bot.services.staff import StaffRefusal
from handlers.activity_view import CATEGORY, SEARCH, View
from handlers.calendar_keyboard import parse_day, parse_month
from handlers.callbacks import (
    button,
    button_rows,
    parse_id,
    parse_int,
    parse_page,
    parse_telegram_id,
)
from handlers.staff import STAFF_REFUSALS as REFUSALS
from handlers.staff import staff_refusal_text

NOT_NUMBERS = ["", "²", "١٢", "１２", "፩", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x1", "12a"]


@pytest.mark.parametrize("text", [*NOT_NUMBERS, None])
def test_only_ascii_digits_are_numbers(text: str | None) -> None:
    assert parse_int(text, 16) is None
    assert parse_page(text, 999) is None
    assert parse_id(text) is None
    assert parse_telegram_id(text) is None


def test_numbers_are_parsed_within_their_digits() -> None:
    assert parse_int("0", 1) == 0
    assert parse_int("0042", 4) == 42
    assert parse_int("12345", 4) is None
    assert parse_int("9" * 5000, 12) is None  # huge: refused before int() sees it


def test_pages_stop_at_the_maximum() -> None:
    assert parse_page("0", 999) == 0
    assert parse_page("999", 999) == 999
    assert parse_page("1000", 999) is None
    assert parse_page("9999", 999) is None


def test_ids_are_positive_and_at_most_twelve_digits() -> None:
    assert parse_id("42") == 42
    assert parse_id("0") is None
    assert parse_id("1" * 12) == int("1" * 12)
    assert parse_id("1" * 13) is None


def test_telegram_ids_take_sixteen_digits() -> None:
    big = "7" * 16  # larger than any row id, as Telegram ids can be
    assert parse_telegram_id(big) == int(big)
    assert parse_id(big) is None
    assert parse_telegram_id("1" * 17) is None
    assert parse_telegram_id("0") is None


@pytest.mark.parametrize("page", ["²", "١", "-1", "1000", ""])
def test_views_with_a_forged_page_are_refused(page: str) -> None:
    assert View.parse([SEARCH, page]) is None
    assert View.parse([CATEGORY, "health", page]) is None


def test_calendar_refuses_forged_months_and_days() -> None:
    assert parse_month("202611") == (2026, 11)
    assert parse_day("20261123") is not None
    assert parse_month("20261²") is None
    assert parse_month("２０２６１１") is None
    assert parse_day("2026112²") is None
    assert parse_day("٢٠٢٦١١٢٣") is None


@pytest.mark.parametrize("text", ["12", "１２", "12人", "１２ 人"])
def test_capacity_takes_full_width_digits(text: str) -> None:
    assert parse_capacity(text) == 12


@pytest.mark.parametrize("text", ["²", "١٢", "፩", "-1", "0", "10001", "9" * 12])
def test_capacity_refuses_other_digits_without_crashing(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_capacity(text)


def test_buttons_and_rows() -> None:
    made = button("Go", "mg", "a", 7)
    assert made.text == "Go" and made.callback_data == "mg:a:7"
    laid = button_rows([button(str(n), "x", n) for n in range(5)], 2)
    assert [[b.text for b in row] for row in laid] == [["0", "1"], ["2", "3"], ["4"]]


def test_one_refusal_text_per_reason() -> None:
    t = translator(Language.EN, UTC)
    assert set(REFUSALS) == set(StaffRefusal)
    texts = {staff_refusal_text(t, reason) for reason in StaffRefusal}
    assert len(texts) == len(StaffRefusal)
