"""Key dates: lunar festivals pinned for 2026–2030, fixed dates, edge rules, the repository."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.keydates import (
    BUILTIN_CODES,
    KeyDate,
    is_valid_day,
    occurrence,
    occurrences_between,
    suggest,
    upcoming,
)
from storage.db import Database
from storage.keydates import KeyDatesRepository
from tests.factories import NOW

SPRING = KeyDate(code="spring_festival", name_zh="春节", name_en="Spring", month=1, day=1,
                 is_lunar=True)  # fmt: skip
MID_AUTUMN = KeyDate(code="mid_autumn", name_zh="中秋节", name_en="Mid", month=8, day=15,
                     is_lunar=True)  # fmt: skip
DOUBLE_NINTH = KeyDate(code="double_ninth", name_zh="重阳节", name_en="9", month=9, day=9,
                       is_lunar=True)  # fmt: skip
VOLUNTEER_DAY = KeyDate(code="intl_volunteer_day", name_zh="国际志愿者日", name_en="IVD",
                        month=12, day=5)  # fmt: skip
LEI_FENG = KeyDate(code="lei_feng", name_zh="学雷锋纪念日", name_en="LF", month=3, day=5)


# The GUIDE's pinned dates (春节 2026, 2027, 2030, 2050; 中秋 2026, 2027, 2030, 2050), the others
# from the 万年历 and cross-checked (重阳 2026-10-18, 2027-10-08).
@pytest.mark.parametrize(
    ("key_date", "year", "expected"),
    [
        (SPRING, 2026, date(2026, 2, 17)),
        (SPRING, 2027, date(2027, 2, 6)),
        (SPRING, 2028, date(2028, 1, 26)),
        (SPRING, 2029, date(2029, 2, 13)),
        (SPRING, 2030, date(2030, 2, 3)),
        (SPRING, 2050, date(2050, 1, 23)),
        (MID_AUTUMN, 2026, date(2026, 9, 25)),
        (MID_AUTUMN, 2027, date(2027, 9, 15)),
        (MID_AUTUMN, 2028, date(2028, 10, 3)),
        (MID_AUTUMN, 2029, date(2029, 9, 22)),
        (MID_AUTUMN, 2030, date(2030, 9, 12)),
        (MID_AUTUMN, 2050, date(2050, 9, 30)),
        (DOUBLE_NINTH, 2026, date(2026, 10, 18)),
        (DOUBLE_NINTH, 2027, date(2027, 10, 8)),
        (DOUBLE_NINTH, 2028, date(2028, 10, 26)),
        (DOUBLE_NINTH, 2029, date(2029, 10, 16)),
        (DOUBLE_NINTH, 2030, date(2030, 10, 5)),
        (VOLUNTEER_DAY, 2026, date(2026, 12, 5)),
        (VOLUNTEER_DAY, 2030, date(2030, 12, 5)),
        (LEI_FENG, 2027, date(2027, 3, 5)),
    ],
)
def test_occurrence(key_date: KeyDate, year: int, expected: date) -> None:
    assert occurrence(key_date, year) == expected


def test_fixed_29_february_falls_on_the_28th_in_common_years() -> None:
    leap = KeyDate(code="leap", name_zh="闰日", name_en="Leap", month=2, day=29)
    assert occurrence(leap, 2028) == date(2028, 2, 29)
    assert occurrence(leap, 2027) == date(2027, 2, 28)


def test_lunar_30th_falls_on_the_last_day_of_a_short_month() -> None:
    # 腊月 of lunar 2026 has 29 days: 腊月三十 is then 除夕, the day before 春节 2027.
    eve = KeyDate(code="eve", name_zh="除夕", name_en="Eve", month=12, day=30, is_lunar=True)
    assert occurrence(eve, 2027) == date(2027, 2, 5)
    for year in range(2027, 2031):
        assert (occurrence(SPRING, year) - occurrence(eve, year)).days == 1


def test_late_lunar_date_can_occur_twice_in_a_gregorian_year() -> None:
    first = KeyDate(code="la1", name_zh="腊月初一", name_en="L", month=12, day=1, is_lunar=True)
    days = occurrences_between(first, date(2027, 1, 1), date(2027, 12, 31))
    assert len(days) == 2
    assert occurrence(first, 2027) == days[0]


def test_upcoming_and_suggest() -> None:
    dates = [SPRING, MID_AUTUMN, VOLUNTEER_DAY, LEI_FENG]
    found = upcoming(dates, date(2026, 11, 23), date(2027, 3, 5))
    assert [(k.code, d) for k, d in found] == [
        ("intl_volunteer_day", date(2026, 12, 5)),
        ("spring_festival", date(2027, 2, 6)),
        ("lei_feng", date(2027, 3, 5)),
    ]
    disabled = VOLUNTEER_DAY.model_copy(update={"is_enabled": False})
    assert upcoming([disabled], date(2026, 12, 1), date(2026, 12, 31)) == []
    assert suggest(dates, date(2026, 12, 6)) == VOLUNTEER_DAY
    assert suggest(dates, date(2026, 12, 20)) is None
    assert suggest(dates, date(2026, 12, 20), window_days=15) == VOLUNTEER_DAY
    assert suggest([disabled], date(2026, 12, 5)) is None


def test_is_valid_day() -> None:
    assert is_valid_day(2, 29, lunar=False)
    assert not is_valid_day(2, 30, lunar=False)
    assert not is_valid_day(4, 31, lunar=False)
    assert not is_valid_day(13, 1, lunar=False)
    assert is_valid_day(12, 30, lunar=True)
    assert not is_valid_day(1, 31, lunar=True)


async def test_repository_seeds_builtins_and_edits(db: Database) -> None:
    repo = KeyDatesRepository(db)
    stored = {key_date.code: key_date for key_date in await repo.all()}
    assert set(BUILTIN_CODES) <= set(stored)
    assert stored["intl_volunteer_day"].name_zh == "国际志愿者日"
    assert stored["double_ninth"].is_lunar and stored["double_ninth"].builtin
    new = KeyDate(code="arbor_day", name_zh="植树节", name_en="Arbor Day", month=3, day=12)
    assert await repo.add(new, NOW)
    assert not await repo.add(new, NOW)  # the code is taken
    await repo.update(new.model_copy(update={"is_enabled": False}), NOW)
    assert "arbor_day" not in {key_date.code for key_date in await repo.enabled()}
    found = await repo.get("arbor_day")
    assert found is not None and not found.is_enabled and not found.builtin
    with pytest.raises(ValueError):
        await repo.add(new.model_copy(update={"code": "bad", "month": 2, "day": 30}), NOW)
