"""bot.domain.workdays: China's 2026 holidays and make-up workdays (pinned, and checked against
the maintained package), counting working days across 春节 and 国庆, and administrators' typed
days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.config import ConfigError, load_settings
from bot.domain.validation import InvalidInput
from bot.domain.workdays import (
    OVERRIDE_NO_SUCH_DAY,
    OVERRIDE_NOT_UNDERSTOOD,
    OVERRIDE_UNKNOWN_KIND,
    OVERRIDE_YEAR_RANGE,
    DayKind,
    WorkdayCalendar,
    latest_due_day,
    parse_override,
)
from bot.services.workdays import package_days


def span(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


D = date
# 国务院办公厅关于2026年部分节假日安排的通知.
HOLIDAYS_2026 = (
    span(D(2026, 1, 1), D(2026, 1, 3))  # 元旦
    | span(D(2026, 2, 15), D(2026, 2, 23))  # 春节, nine days
    | span(D(2026, 4, 4), D(2026, 4, 6))  # 清明
    | span(D(2026, 5, 1), D(2026, 5, 5))  # 劳动节
    | span(D(2026, 6, 19), D(2026, 6, 21))  # 端午
    | span(D(2026, 9, 25), D(2026, 9, 27))  # 中秋
    | span(D(2026, 10, 1), D(2026, 10, 7))  # 国庆
)
MAKEUP_WORKDAYS_2026 = {
    D(2026, 1, 4),  # Sunday, 元旦
    D(2026, 2, 14),  # Saturday, 春节
    D(2026, 2, 28),  # Saturday, 春节
    D(2026, 5, 9),  # Saturday, 劳动节
    D(2026, 9, 20),  # Sunday, 国庆
    D(2026, 10, 10),  # Saturday, 国庆
}


@pytest.fixture(scope="module")
def calendar() -> WorkdayCalendar:
    return WorkdayCalendar(package_days())


def test_the_package_has_the_official_2026_arrangement() -> None:
    days = [day for day in package_days() if day.day.year == 2026]
    assert {day.day for day in days if day.kind is DayKind.HOLIDAY} == HOLIDAYS_2026
    assert {day.day for day in days if day.kind is DayKind.WORKDAY} == MAKEUP_WORKDAYS_2026
    names = {day.day: day.name for day in days}
    assert names[D(2026, 2, 17)] == "春节"
    assert names[D(2026, 10, 10)] == "国庆节"
    assert names[D(2026, 1, 1)] == "元旦"


def test_is_workday_in_2026(calendar: WorkdayCalendar) -> None:
    for day in HOLIDAYS_2026:
        assert not calendar.is_workday(day), day
    for day in MAKEUP_WORKDAYS_2026:
        assert day.weekday() >= 5 and calendar.is_workday(day), day
    # Ordinary days.
    assert calendar.is_workday(D(2026, 3, 10))  # a Tuesday
    assert not calendar.is_workday(D(2026, 3, 14))  # a Saturday
    # 2026: 365 days − 104 weekend days − 19 holidays on weekdays + 6 make-up days = 248.
    workdays = [d for d in span(D(2026, 1, 1), D(2026, 12, 31)) if calendar.is_workday(d)]
    assert len(workdays) == 248


def test_counting_across_the_spring_festival(calendar: WorkdayCalendar) -> None:
    end = D(2026, 2, 13)  # Friday before 春节
    number = calendar.working_day_number
    assert number(end, end) == 0
    assert number(end, D(2026, 2, 14)) == 1  # the make-up Saturday is day 1
    assert number(end, D(2026, 2, 15)) == 1  # holiday: still day 1
    assert number(end, D(2026, 2, 23)) == 1  # the last day of the nine-day holiday
    assert number(end, D(2026, 2, 24)) == 2
    assert number(end, D(2026, 2, 25)) == 3
    assert number(end, D(2026, 2, 28)) == 6  # the second make-up Saturday
    assert number(end, D(2026, 3, 1)) == 6  # Sunday
    assert number(end, D(2026, 3, 2)) == 7
    assert number(end, D(2026, 3, 4)) == 9
    assert number(end, D(2026, 3, 5)) == 10
    assert calendar.nth_working_day_after(end, 1) == D(2026, 2, 14)
    assert calendar.nth_working_day_after(end, 3) == D(2026, 2, 25)
    assert calendar.nth_working_day_after(end, 10) == D(2026, 3, 5)
    # Monday to Friday alone would put the deadline on Feb 27, a week early.
    assert WorkdayCalendar().nth_working_day_after(end, 10) == D(2026, 2, 27)
    # An activity that ends on a holiday counts from the first working day after it.
    assert calendar.nth_working_day_after(D(2026, 2, 17), 1) == D(2026, 2, 24)


def test_counting_across_national_day(calendar: WorkdayCalendar) -> None:
    end = D(2026, 9, 19)  # Saturday before the make-up Sunday
    number = calendar.working_day_number
    assert number(end, D(2026, 9, 20)) == 1  # make-up Sunday
    assert number(end, D(2026, 9, 24)) == 5
    assert number(end, D(2026, 9, 27)) == 5  # 中秋 Friday to Sunday
    assert number(end, D(2026, 9, 28)) == 6
    assert number(end, D(2026, 9, 30)) == 8
    assert number(end, D(2026, 10, 7)) == 8  # 国庆
    assert number(end, D(2026, 10, 8)) == 9
    assert number(end, D(2026, 10, 9)) == 10
    assert number(end, D(2026, 10, 10)) == 11  # make-up Saturday
    assert calendar.nth_working_day_after(end, 10) == D(2026, 10, 9)
    assert calendar.nth_working_day_after(D(2026, 9, 30), 1) == D(2026, 10, 8)


def test_first_end_date_within_matches_counting(calendar: WorkdayCalendar) -> None:
    assert calendar.first_end_date_within(D(2026, 3, 5), 10) == D(2026, 2, 13)
    for today in span(D(2026, 1, 1), D(2026, 12, 31)):
        earliest = calendar.first_end_date_within(today, 10)
        assert calendar.working_day_number(earliest, today) <= 10
        assert calendar.working_day_number(earliest - timedelta(days=1), today) > 10


def test_covers_and_years() -> None:
    calendar = WorkdayCalendar(package_days())
    assert calendar.covers(2026) and calendar.covers(2004)
    assert not calendar.covers(2027) and not calendar.covers(2003)
    assert calendar.years[0] == 2004
    assert not WorkdayCalendar().covers(2026)


def test_latest_due_day_sends_only_the_latest_and_stops_at_the_deadline() -> None:
    days = (3, 7, 9)
    assert [latest_due_day(n, days, 10) for n in range(12)] == [
        None, None, None, 3, 3, 3, 3, 7, 7, 9, 9, None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "day", "kind", "name"),
    [
        ("2027-02-06 上班 春节调休", D(2027, 2, 6), DayKind.WORKDAY, "春节调休"),
        ("2027-02-06 workday Spring Festival", D(2027, 2, 6), DayKind.WORKDAY, "Spring Festival"),
        ("2027-10-01 休 国庆节", D(2027, 10, 1), DayKind.HOLIDAY, "国庆节"),
        ("2027/10/8 holiday", D(2027, 10, 8), DayKind.HOLIDAY, ""),
        ("2027年2月6日上班", D(2027, 2, 6), DayKind.WORKDAY, ""),
        ("  2027-01-01   OFF   元旦  ", D(2027, 1, 1), DayKind.HOLIDAY, "元旦"),
    ],
)
def test_parse_override(text: str, day: date, kind: DayKind, name: str) -> None:
    parsed = parse_override(text)
    assert (parsed.day, parsed.kind, parsed.name) == (day, kind, name)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", OVERRIDE_NOT_UNDERSTOOD),
        ("2027-02-06", OVERRIDE_NOT_UNDERSTOOD),
        ("2027-02-30 休", OVERRIDE_NO_SUCH_DAY),
        ("1999-02-03 休", OVERRIDE_YEAR_RANGE),
        ("2027-02-06 maybe 春节", OVERRIDE_UNKNOWN_KIND),
    ],
)
def test_parse_override_refuses_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_override(text)
    assert caught.value.message == message


def test_parse_override_bounds_the_name() -> None:
    with pytest.raises(InvalidInput):
        parse_override("2027-02-06 上班 " + "长" * 21)


def test_settings_of_the_recording_deadline() -> None:
    settings = load_settings(recording_reminder_days="9, 3,7")
    assert settings.recording_reminder_days == (3, 7, 9)
    assert settings.recording_deadline_days == 10
    assert settings.recording_reminder_time == "09:00"
    with pytest.raises(ConfigError, match="RECORDING_REMINDER_DAYS"):
        load_settings(recording_reminder_days="3,x")
    with pytest.raises(ConfigError, match="at most RECORDING_DEADLINE_DAYS"):
        load_settings(recording_reminder_days="3,12")
    with pytest.raises(ConfigError, match="RECORDING_REMINDER_TIME"):
        load_settings(recording_reminder_time="25:00")
