"""Typed activity times (bot.domain.dateparse): both scripts, time zones, impossible dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.dateparse import (
    MESSAGES,
    ParsedWhen,
    WhenError,
    parse_end,
    parse_when,
    when_invalid,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
#: Monday 2026-11-23 10:00 in Shanghai.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def local(text: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)


def parsed(text: str, *, tz: ZoneInfo = SHANGHAI, language: str = "zh") -> ParsedWhen:
    result = parse_when(text, NOW, tz, language)
    assert isinstance(result, ParsedWhen), f"{text!r} gave {result!r}"
    return result


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-12-05 09:00", "2026-12-05 09:00", None),
        ("2026-12-05 09:00-11:30", "2026-12-05 09:00", "2026-12-05 11:30"),
        ("2026/12/5 9:00", "2026-12-05 09:00", None),
        ("12/5 9:00-11:30", "2026-12-05 09:00", "2026-12-05 11:30"),
        ("12-05 9:00", "2026-12-05 09:00", None),
        ("Dec 5 9am-11:30am", "2026-12-05 09:00", "2026-12-05 11:30"),
        ("December 5, 2pm to 4pm", "2026-12-05 14:00", "2026-12-05 16:00"),
        ("tomorrow 9am", "2026-11-24 09:00", None),
        ("12/5 9:00 - 12/6 17:00", "2026-12-05 09:00", "2026-12-06 17:00"),
    ],
)
def test_english_and_numeric_forms(text: str, start: str, end: str | None) -> None:
    result = parsed(text, language="en")
    assert result.starts_at == local(start)
    assert result.ends_at == (local(end) if end else None)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("12月5日 上午9点", "2026-12-05 09:00", None),
        ("12月5日 下午2点半-4点", "2026-12-05 14:30", "2026-12-05 16:00"),
        ("12月5日 14:00至16:30", "2026-12-05 14:00", "2026-12-05 16:30"),
        ("12月5号 上午11点到下午1点", "2026-12-05 11:00", "2026-12-05 13:00"),
        ("2026年12月5日 9点-11点30分", "2026-12-05 09:00", "2026-12-05 11:30"),
        ("明天 9:00", "2026-11-24 09:00", None),
        ("后天 晚上7点", "2026-11-25 19:00", None),
        ("１２月５日　９：００－１１：００", "2026-12-05 09:00", "2026-12-05 11:00"),  # full width
        ("12月5日 中午12点-下午1点", "2026-12-05 12:00", "2026-12-05 13:00"),
    ],
)
def test_chinese_forms(text: str, start: str, end: str | None) -> None:
    result = parsed(text)
    assert result.starts_at == local(start)
    assert result.ends_at == (local(end) if end else None)


def test_a_missing_year_means_the_next_occurrence() -> None:
    assert parsed("11/1 9:00").starts_at == local("2027-11-01 09:00")
    assert parsed("11月23日 晚上8点").starts_at == local("2026-11-23 20:00")  # today, later on
    assert parsed("2/29 9:00").starts_at == local("2028-02-29 09:00")  # next leap year


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("2月30日 9:00", WhenError.IMPOSSIBLE_DATE),
        ("2027-02-29 09:00", WhenError.IMPOSSIBLE_DATE),
        ("13/1 9:00", WhenError.IMPOSSIBLE_DATE),
        ("12/32 9:00", WhenError.IMPOSSIBLE_DATE),
        ("12/5 25:00", WhenError.IMPOSSIBLE_TIME),
        ("12月5日 9:75", WhenError.IMPOSSIBLE_TIME),
        ("12/5", WhenError.MISSING_TIME),
        ("next week sometime", WhenError.UNPARSEABLE),
        ("", WhenError.UNPARSEABLE),
        ("12/5 9:00 and more words", WhenError.UNPARSEABLE),
        ("2026-11-01 09:00", WhenError.IN_THE_PAST),
        ("今天 9:00", WhenError.IN_THE_PAST),  # earlier today
        ("12/5 11:00-9:00", WhenError.END_BEFORE_START),
        ("12/5 9:00 - 12/15 9:00", WhenError.TOO_LONG),
        ("x" * 500, WhenError.UNPARSEABLE),
    ],
)
def test_refusals(text: str, error: WhenError) -> None:
    assert parse_when(text, NOW, SHANGHAI, "en") == error


def test_every_error_has_a_message() -> None:
    for error in WhenError:
        assert when_invalid(error).message == MESSAGES[error]


def test_wall_time_is_read_in_the_deployment_zone() -> None:
    # 23:30 in Shanghai is 15:30 UTC the same day; in New York (UTC-5 in December) it is
    # 04:30 UTC the next day.
    assert parsed("12/5 23:30").starts_at == datetime(2026, 12, 5, 15, 30, tzinfo=UTC)
    assert parsed("12/5 23:30", tz=NEW_YORK).starts_at == datetime(2026, 12, 6, 4, 30, tzinfo=UTC)


def test_relative_days_and_today_follow_the_local_date_near_midnight() -> None:
    # 2026-11-23 23:50 in Shanghai is 15:50 UTC: "tomorrow" is the 24th locally.
    late = datetime(2026, 11, 23, 15, 50, tzinfo=UTC)
    result = parse_when("明天 0:30", late, SHANGHAI)
    assert isinstance(result, ParsedWhen)
    assert result.starts_at == local("2026-11-24 00:30")
    # In New York the same instant is 10:50 on the 23rd: "tomorrow" is the 24th there too,
    # but 00:30 New York time is a different instant.
    result = parse_when("tomorrow 0:30", late, NEW_YORK)
    assert isinstance(result, ParsedWhen)
    assert result.starts_at == local("2026-11-24 00:30", NEW_YORK)
    # "12/5" typed at 00:10 on 5 December in Shanghai (still 4 December in UTC) is today.
    just_after_midnight = datetime(2026, 12, 4, 16, 10, tzinfo=UTC)
    result = parse_when("12/5 9:00", just_after_midnight, SHANGHAI)
    assert isinstance(result, ParsedWhen)
    assert result.starts_at == local("2026-12-05 09:00")


def test_dst_gap_in_a_zone_that_has_one() -> None:
    # New York springs forward on 2027-03-14: 02:30 does not exist; zoneinfo maps it forward
    # consistently, and the result is still a valid aware UTC time after the start of day.
    result = parse_when("2027-03-14 02:30-04:00", NOW, NEW_YORK)
    assert isinstance(result, ParsedWhen)
    assert result.ends_at is not None and result.ends_at > result.starts_at


def test_end_typed_on_its_own() -> None:
    start = local("2026-12-05 14:00")
    assert parse_end("16:30", start, NOW, SHANGHAI) == local("2026-12-05 16:30")
    assert parse_end("下午4点", start, NOW, SHANGHAI) == local("2026-12-05 16:00")
    assert parse_end("12/6 10:00", start, NOW, SHANGHAI) == local("2026-12-06 10:00")
    assert parse_end("13:00", start, NOW, SHANGHAI) == WhenError.END_BEFORE_START
    assert parse_end("12/20 10:00", start, NOW, SHANGHAI) == WhenError.TOO_LONG
    assert parse_end("25:00", start, NOW, SHANGHAI) == WhenError.IMPOSSIBLE_TIME
    assert parse_end("soon", start, NOW, SHANGHAI) == WhenError.UNPARSEABLE


def test_end_of_a_range_is_at_most_seven_days_after_the_start() -> None:
    result = parsed("12/5 9:00 - 12/12 9:00")
    assert result.ends_at is not None
    assert result.ends_at - result.starts_at == timedelta(days=7)
