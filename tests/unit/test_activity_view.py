"""Pure parts of the service menu's screens: views in callback data, date windows, labels."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.users import Language
from bot.i18n import Translator, translator
from handlers.activity_view import (
    CATEGORY,
    MAX_PAGE,
    NEAR,
    View,
    clip,
    distance_text,
    short_when,
    when,
    with_view,
)
from handlers.browse import search_words, week_window, weekend_window
from handlers.callbacks import MAX_CALLBACK_BYTES, callback, parse_id
from tests.factories import activity_model

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "view",
    [
        View("cats"),
        View(CATEGORY, "elderly_children", 3),
        View("wk", page=2),
        View(NEAR, page=0),
        View("fy"),
        View("my"),
        View("x"),
    ],
)
def test_views_survive_the_round_trip_through_callback_data(view: View) -> None:
    data = callback("act", 123456789012, *view.parts())
    assert View.parse(data.split(":")[2:]) == view


def test_a_button_that_would_overflow_64_bytes_drops_its_view() -> None:
    longest = View(CATEGORY, "a" * 32, MAX_PAGE)
    realistic = with_view("su", "cxr", 999_999_999, "travel", view=longest)
    assert View.parse(realistic.split(":")[4:]) == longest
    huge = with_view("su", "cxr", 999_999_999_999, "travel", view=longest)
    assert len(huge.encode()) <= MAX_CALLBACK_BYTES
    assert huge.endswith(":x")


@pytest.mark.parametrize(
    "parts",
    [
        [],
        ["c"],
        ["c", "Health", "0"],  # codes are lowercase
        ["c", "health", "-1"],
        ["c", "health", str(MAX_PAGE + 1)],
        ["wk"],
        ["wk", "x"],
        ["fy", "1"],
        ["zz"],
        ["c", "health", "0", "extra"],
    ],
)
def test_malformed_views_are_refused(parts: list[str]) -> None:
    assert View.parse(parts) is None


@pytest.mark.parametrize("text", ["", "0", "-3", "abc", "1" * 13, "12a"])
def test_malformed_ids_are_refused(text: str) -> None:
    assert parse_id(text) is None


def test_ids_are_parsed() -> None:
    assert parse_id("42") == 42


def test_week_window_runs_to_the_end_of_sunday_local_time() -> None:
    t = translator(Language.EN, SHANGHAI)
    wednesday = local(2026, 11, 25, 15, 0).astimezone(UTC)
    start, end = week_window(wednesday, t)
    assert start == wednesday
    assert end == local(2026, 11, 30, 0, 0)  # Monday 00:00 in Shanghai


def test_weekend_window_on_a_weekday_and_on_sunday() -> None:
    t = translator(Language.EN, SHANGHAI)
    start, end = weekend_window(local(2026, 11, 25, 15, 0), t)
    assert (start, end) == (local(2026, 11, 28, 0, 0), local(2026, 11, 30, 0, 0))
    sunday_noon = local(2026, 11, 29, 12, 0)
    start, end = weekend_window(sunday_noon, t)
    assert (start, end) == (sunday_noon, local(2026, 11, 30, 0, 0))


def test_search_words_are_limited() -> None:
    assert search_words("  敬老  院  ") == ["敬老", "院"]
    assert search_words("a b c d e f g") == ["a", "b", "c", "d", "e"]


def test_labels_and_distances() -> None:
    t = translator(Language.EN, SHANGHAI)
    assert clip("short") == "short"
    assert clip("x" * 40) == "x" * 23 + "…"
    assert distance_text(t, 0.34) == "340 m"
    assert distance_text(t, 2.26) == "2.3 km"
    zh = translator(Language.ZH, SHANGHAI)
    assert distance_text(zh, 2.26) == "2.3 公里"


def test_cards_show_the_year_of_an_activity_in_another_year() -> None:
    # Seen on 2026-12-05: an activity a year later read "12月5日周日", like next week's.
    zh = Translator(Language.ZH, SHANGHAI, ManualClock(local(2026, 12, 5, 10, 0)))
    next_year = activity_model(local(2027, 12, 5, 9, 0))
    assert when(zh, next_year).startswith("2027年12月5日（周日）09:00–")
    assert short_when(zh, next_year.starts_at) == "2027年12月5日（周日）09:00"
    this_year = activity_model(local(2026, 12, 21, 14, 0))
    assert when(zh, this_year) == "12月21日（周一）14:00–17:00"  # the date once
