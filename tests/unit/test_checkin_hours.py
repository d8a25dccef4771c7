"""Rotating check-in codes, rounding rules, clipping and typed hours (issue #16)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.checkin import (
    ACCEPTED_STEPS,
    RECOGNIZED_STEPS,
    STEP_SECONDS,
    CheckinWindow,
    CheckMode,
    CodeMatch,
    code_for,
    link_token_for,
    match_code,
    match_link_token,
    new_secret,
    parse_typed_code,
    shown_code,
    step_at,
)
from bot.domain.deeplinks import CheckinLink, checkin_payload, parse_start_payload
from bot.domain.hours import (
    Arrival,
    AttendanceMark,
    HoursInputError,
    RoundingRule,
    Schedule,
    credited_minutes,
    days_spanned,
    format_hours,
    parse_clock,
    parse_hours,
)
from bot.domain.service_records import AttendanceEntry, ReviewLine, review_stamp

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 12, 1, 0, 5, tzinfo=UTC)
SECRET = "00112233445566778899aabbccddeeff"


# -- codes ---------------------------------------------------------------------------------------


def test_codes_are_six_digits_and_differ_by_step_mode_and_secret() -> None:
    step = step_at(NOW)
    code = code_for(SECRET, CheckMode.IN, step)
    assert len(code) == 6 and code.isdigit()
    assert code == code_for(SECRET, CheckMode.IN, step)  # any process derives the same
    assert code != code_for(SECRET, CheckMode.IN, step + 1)
    assert code != code_for(SECRET, CheckMode.OUT, step)
    assert code != code_for(new_secret(), CheckMode.IN, step)
    assert shown_code("123456") == "123 456"


def test_a_code_is_accepted_in_its_step_and_the_next_then_expired_then_wrong() -> None:
    code = code_for(SECRET, CheckMode.IN, step_at(NOW))
    for back in range(ACCEPTED_STEPS):
        later = NOW + timedelta(seconds=STEP_SECONDS * back)
        assert match_code(SECRET, CheckMode.IN, code, later) is CodeMatch.VALID
    expired = NOW + timedelta(seconds=STEP_SECONDS * ACCEPTED_STEPS)
    assert match_code(SECRET, CheckMode.IN, code, expired) is CodeMatch.EXPIRED
    long_after = NOW + timedelta(seconds=STEP_SECONDS * (RECOGNIZED_STEPS + 1))
    assert match_code(SECRET, CheckMode.IN, code, long_after) is CodeMatch.WRONG
    # A check-in code never checks anyone out.
    assert match_code(SECRET, CheckMode.OUT, code, NOW) is CodeMatch.WRONG
    # A code from the future (a clock mismatch or a guess) is not accepted either.
    future = code_for(SECRET, CheckMode.IN, step_at(NOW) + 1)
    assert match_code(SECRET, CheckMode.IN, future, NOW) is CodeMatch.WRONG


def test_link_tokens_rotate_like_codes_and_fit_a_deep_link() -> None:
    token = link_token_for(SECRET, CheckMode.IN, step_at(NOW))
    assert match_link_token(SECRET, CheckMode.IN, token, NOW) is CodeMatch.VALID
    two_minutes = NOW + timedelta(minutes=2)
    assert match_link_token(SECRET, CheckMode.IN, token, two_minutes) is CodeMatch.EXPIRED
    assert match_link_token(SECRET, CheckMode.IN, "A" * 12, NOW) is CodeMatch.WRONG
    payload = checkin_payload(123456789, token)
    assert len(payload) <= 64
    assert parse_start_payload(payload) == CheckinLink(123456789, token)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("123456", "123456"),
        ("123 456", "123456"),
        (" 123-456 ", "123456"),
        ("１２３４５６", "123456"),
    ],
)
def test_typed_codes(typed: str, code: str | None) -> None:
    assert parse_typed_code(typed) == code


@pytest.mark.parametrize("typed", ["12345", "1234567", "abc def", "123 45 6", ""])
def test_other_text_is_not_a_code(typed: str) -> None:
    assert parse_typed_code(typed) is None


def test_the_window_opens_before_the_start_and_closes_after_the_end_or_the_extension() -> None:
    start = datetime(2026, 12, 12, 1, 0, tzinfo=UTC)
    end = start + timedelta(hours=2)
    window = CheckinWindow.around(
        start, end, before=timedelta(minutes=30), after=timedelta(hours=1)
    )
    assert not window.contains(start - timedelta(minutes=31))
    assert window.contains(start - timedelta(minutes=30))
    assert window.contains(end + timedelta(hours=1))
    assert not window.contains(end + timedelta(hours=1, seconds=1))
    extended = CheckinWindow.around(
        start,
        end,
        before=timedelta(0),
        after=timedelta(hours=1),
        credit_until=end + timedelta(hours=1),
    )
    assert extended.contains(end + timedelta(hours=2))


# -- hours ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("served", "half_hour", "shancheng", "minute"),
    [
        (0, 0, 0, 0),
        (14, 0, 0, 14),
        (15, 0, 0, 15),  # 志愿山城: ≤ 15 min counts nothing
        (16, 0, 30, 16),  # 15–45 min: half an hour
        (29, 0, 30, 29),
        (30, 30, 30, 30),
        (45, 30, 30, 45),
        (46, 30, 60, 46),  # over 45 min: a whole hour
        (60, 60, 60, 60),
        (75, 60, 60, 75),
        (76, 60, 90, 76),
        (89, 60, 90, 89),
        (106, 90, 120, 106),
        (125, 120, 120, 125),
    ],
)
def test_rounding_rules(served: int, half_hour: int, shancheng: int, minute: int) -> None:
    assert RoundingRule.HALF_HOUR.apply(served) == half_hour
    assert RoundingRule.SHANCHENG.apply(served) == shancheng
    assert RoundingRule.MINUTE.apply(served) == minute


START = datetime(2026, 12, 12, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
SCHEDULE = Schedule(START, START + timedelta(hours=2))


def credited(
    checked_in: datetime | None,
    checked_out: datetime | None,
    schedule: Schedule = SCHEDULE,
    rule: RoundingRule = RoundingRule.HALF_HOUR,
    max_per_day: int = 12 * 60,
) -> int:
    return credited_minutes(
        schedule,
        checked_in,
        checked_out,
        rule=rule,
        max_minutes_per_day=max_per_day,
        tz=SHANGHAI,
    )


def test_time_before_the_start_and_after_the_end_does_not_count() -> None:
    early = START - timedelta(minutes=40)
    late = START + timedelta(hours=3)
    assert credited(early, late) == 120


def test_the_organizer_can_extend_the_end() -> None:
    extended = Schedule(SCHEDULE.starts_at, SCHEDULE.ends_at, START + timedelta(hours=3))
    assert credited(START, START + timedelta(hours=2, minutes=50), extended) == 150
    # An "extension" before the end changes nothing.
    shorter = Schedule(SCHEDULE.starts_at, SCHEDULE.ends_at, START + timedelta(hours=1))
    assert credited(START, START + timedelta(hours=3), shorter) == 120


def test_missing_times_credit_the_schedule() -> None:
    assert credited(None, None) == 120  # marked present by hand
    assert credited(START + timedelta(minutes=40), None) == 60  # never checked out: to the end


def test_check_out_before_check_in_credits_nothing() -> None:
    assert credited(START + timedelta(hours=1), START + timedelta(minutes=30)) == 0


def test_the_daily_maximum_per_day_spanned() -> None:
    long_day = Schedule(START, START + timedelta(hours=14))
    assert credited(None, None, long_day, max_per_day=8 * 60) == 8 * 60
    two_days = Schedule(START, START + timedelta(days=1, hours=2))
    assert days_spanned(two_days.starts_at, two_days.ends_at, SHANGHAI) == 2
    assert credited(None, None, two_days, max_per_day=8 * 60) == 16 * 60


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("3", 180),
        ("3.5", 210),
        ("3,5", 210),
        ("2.5h", 150),
        ("2.5 小时", 150),
        ("0", 0),
        ("1.25", 75),
    ],
)
def test_typed_hours(typed: str, minutes: int) -> None:
    assert parse_hours(typed) == minutes


@pytest.mark.parametrize("typed", ["", "lots", "-1", "25", "nan", "inf", "3..5"])
def test_bad_typed_hours(typed: str) -> None:
    with pytest.raises(HoursInputError):
        parse_hours(typed)


def test_typed_hours_respect_a_lower_maximum() -> None:
    with pytest.raises(HoursInputError):
        parse_hours("13", max_minutes=12 * 60)


@pytest.mark.parametrize(
    ("typed", "clock"),
    [
        ("12:30", time(12, 30)),
        ("12：30", time(12, 30)),
        ("9.05", time(9, 5)),
        ("12点半", time(12, 30)),
        ("12点15分", time(12, 15)),
        ("12点", time(12, 0)),
    ],
)
def test_typed_clock_times(typed: str, clock: time) -> None:
    assert parse_clock(typed) == clock


@pytest.mark.parametrize("typed", ["25:00", "12:60", "noon", "12", ""])
def test_bad_clock_times(typed: str) -> None:
    assert parse_clock(typed) is None


def test_hours_read_as_people_write_them() -> None:
    assert format_hours(120) == "2"
    assert format_hours(150) == "2.5"
    assert format_hours(80) == "1.3"
    assert format_hours(0) == "0"


# -- the review stamp ----------------------------------------------------------------------------


def entry(
    volunteer_id: int, mark: AttendanceMark | None, override: int | None = None
) -> AttendanceEntry:
    return AttendanceEntry(
        volunteer_id=volunteer_id,
        telegram_id=volunteer_id,
        name="x",
        phone=None,
        signed_up=True,
        mark=mark,
        walk_in=False,
        checked_in_at=None,
        checked_out_at=None,
        in_method=None,
        out_method=None,
        distance_m=None,
        minutes_override=override,
        override_reason="r" if override is not None else None,
    )


def test_the_review_stamp_changes_with_what_was_shown() -> None:
    lines = [ReviewLine(entry(1, AttendanceMark.PRESENT), 120), ReviewLine(entry(2, None), 0)]
    stamp = review_stamp(lines)
    assert stamp == review_stamp(list(lines))
    assert stamp != review_stamp(
        [
            ReviewLine(entry(1, AttendanceMark.PRESENT), 120),
            ReviewLine(entry(2, AttendanceMark.LATE), 60),
        ]
    )
    assert stamp != review_stamp(
        [ReviewLine(entry(1, AttendanceMark.PRESENT, override=90), 120), lines[1]]
    )
    assert lines[1].no_show and not lines[0].no_show
    assert ReviewLine(entry(3, AttendanceMark.PRESENT, override=45), 120).minutes == 45


def test_arrival_expects_sign_ups_at_the_start_and_answers_by_their_eta() -> None:
    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    signed = Arrival(signed_up=True)
    assert not signed.walk_in
    assert not signed.late(start + timedelta(minutes=15), start)
    assert signed.late(start + timedelta(minutes=16), start)
    # Answered "coming" 5 min after the mobilization was raised, ETA 30: due at +35.
    coming = Arrival(mobilization=True, promised_at=start + timedelta(minutes=35))
    assert not coming.walk_in
    assert not coming.late(start + timedelta(minutes=50), start)
    assert coming.late(start + timedelta(minutes=51), start)
    # Came to a mobilization without answering: a walk-in nobody set a time for.
    unannounced = Arrival(mobilization=True)
    assert unannounced.walk_in and not unannounced.late(start + timedelta(hours=2), start)
    # A walk-in at an ordinary activity is late as anyone would be.
    walk_in = Arrival()
    assert walk_in.walk_in and walk_in.late(start + timedelta(minutes=16), start)
