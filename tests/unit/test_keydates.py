"""Key dates: lunar festivals pinned for 2026–2030, fixed dates, edge rules, the repository, and
the administrators' service (refusals, validation, honest failures, code collisions)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.clock import ManualClock
from bot.domain.keydates import (
    BUILTIN_CODES,
    KeyDate,
    is_valid_day,
    occurrence,
    occurrences_between,
    suggest,
    upcoming,
)
from bot.domain.validation import InvalidInput
from bot.services.keydate_admin import (
    ADD_ATTEMPTS,
    MAX_NAME_LENGTH,
    InvalidKeyDay,
    KeyDateAdminService,
    KeyDateNotAdded,
    KeyDateNotFound,
    new_code,
)
from bot.services.staff import StaffRefused, StaffService
from storage.activities import ActivitiesRepository
from storage.db import Database
from storage.keydates import KeyDatesRepository
from storage.organizations import OrganizationsRepository
from storage.users import UsersRepository
from tests.factories import NOW, add_user

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


# ------------------------------------------------------------------------ the admin service

ADMIN = 4242


def admin_service(db: Database, repo: KeyDatesRepository | None = None) -> KeyDateAdminService:
    staff = StaffService(
        UsersRepository(db), OrganizationsRepository(db), ActivitiesRepository(db), {ADMIN}
    )
    return KeyDateAdminService(repo or KeyDatesRepository(db), staff, ManualClock(NOW))


async def stored(db: Database) -> list[tuple[object, ...]]:
    """Every key-date row, updated_at included (proves that nothing was written)."""
    rows = await db.fetch_all("SELECT * FROM key_dates ORDER BY code")
    return [tuple(row) for row in rows]


class StaleRepository(KeyDatesRepository):
    """Reads the list before another administrator's insert of ``hidden`` became visible."""

    def __init__(self, db: Database, hidden: str) -> None:
        super().__init__(db)
        self.hidden = hidden

    async def all(self) -> list[KeyDate]:
        return [key_date for key_date in await super().all() if key_date.code != self.hidden]


class FullRepository(KeyDatesRepository):
    """Every insert writes nothing (as if each code were taken in the meantime)."""

    attempts = 0

    async def add(self, key_date: KeyDate, now: datetime) -> bool:
        self.attempts += 1
        return False


def test_new_code() -> None:
    assert new_code("Arbor Day", set()) == "arbor_day"
    assert new_code("Arbor Day", {"arbor_day"}) == "arbor_day_2"
    assert new_code("Arbor Day", {"arbor_day", "arbor_day_2"}) == "arbor_day_3"
    assert new_code("植树节", set()) == "kd"
    assert new_code("1st of May", set()) == "kd_1st_of_may"


async def test_admin_service_refuses_non_admins_and_writes_nothing(db: Database) -> None:
    service = admin_service(db)
    mallory = await add_user(db)
    before = await stored(db)
    calls = [
        service.all(mallory),
        service.get(mallory, "lei_feng"),
        service.set_enabled(mallory, "lei_feng", False),
        service.rename(mallory, "lei_feng", name_zh="改名", name_en="Renamed"),
        service.set_day(mallory, "lei_feng", 3, 6, False),
        service.add(mallory, "植树节", "Arbor Day", 3, 12, False),
    ]
    for call in calls:
        with pytest.raises(StaffRefused):
            await call
    assert await stored(db) == before


async def test_admin_service_edits(db: Database) -> None:
    service = admin_service(db)
    disabled = await service.set_enabled(ADMIN, "lei_feng", False)
    assert not disabled.is_enabled
    renamed = await service.rename(ADMIN, "lei_feng", name_en="  Learn from Lei Feng Day ")
    # Only the given name changes, and the rename keeps the earlier disable.
    assert (renamed.name_zh, renamed.name_en) == ("学雷锋纪念日", "Learn from Lei Feng Day")
    assert not renamed.is_enabled
    moved = await service.set_day(ADMIN, "lei_feng", 1, 30, True)
    assert (moved.month, moved.day, moved.is_lunar) == (1, 30, True)
    again = await KeyDatesRepository(db).get("lei_feng")
    assert again == moved
    assert await service.get(ADMIN, "lei_feng") == moved


@pytest.mark.parametrize("code", ["no_such_day", "Bad Code!", ""])
async def test_admin_service_refuses_a_missing_code(db: Database, code: str) -> None:
    service = admin_service(db)
    before = await stored(db)
    with pytest.raises(KeyDateNotFound):
        await service.get(ADMIN, code)
    with pytest.raises(KeyDateNotFound):
        await service.set_enabled(ADMIN, code, False)
    with pytest.raises(KeyDateNotFound):
        await service.rename(ADMIN, code, name_zh="新名字")
    with pytest.raises(KeyDateNotFound):
        await service.set_day(ADMIN, code, 3, 6, False)
    assert await stored(db) == before


async def test_admin_service_refuses_a_key_date_that_vanished(db: Database) -> None:
    service = admin_service(db)
    added = await service.add(ADMIN, "植树节", "Arbor Day", 3, 12, False)
    async with db.transaction() as tx:  # another administrator's deletion, say
        await tx.execute("DELETE FROM key_dates WHERE code = ?", (added.code,))
    # The write itself finds no row (no read comes first): refused, nothing re-created.
    with pytest.raises(KeyDateNotFound):
        await service.set_enabled(ADMIN, added.code, False)
    assert await KeyDatesRepository(db).get(added.code) is None


async def test_admin_service_validates(db: Database) -> None:
    service = admin_service(db)
    before = await stored(db)
    with pytest.raises(InvalidKeyDay):
        await service.set_day(ADMIN, "lei_feng", 2, 30, False)
    with pytest.raises(InvalidKeyDay):
        await service.set_day(ADMIN, "lei_feng", 13, 1, False)
    with pytest.raises(InvalidKeyDay):
        await service.add(ADMIN, "植树节", "Arbor Day", 1, 31, True)
    with pytest.raises(InvalidInput):
        await service.rename(ADMIN, "lei_feng", name_zh="   ")
    with pytest.raises(InvalidInput):
        await service.rename(ADMIN, "lei_feng", name_en="x" * (MAX_NAME_LENGTH + 1))
    with pytest.raises(InvalidInput):
        await service.add(ADMIN, "植树\n节", "Arbor Day", 3, 12, False)
    assert await stored(db) == before


async def test_admin_service_adds(db: Database) -> None:
    service = admin_service(db)
    added = await service.add(ADMIN, " 植树节 ", "Arbor Day", 3, 12, False)
    assert added == await KeyDatesRepository(db).get("arbor_day")
    assert (added.name_zh, added.is_enabled, added.builtin) == ("植树节", True, False)
    # The same name again gets its own code (two key dates, as asked).
    second = await service.add(ADMIN, "植树节", "Arbor Day", 3, 12, False)
    assert second.code == "arbor_day_2"


async def test_admin_service_add_retries_a_code_taken_meanwhile(db: Database) -> None:
    first = await admin_service(db).add(ADMIN, "植树节", "Arbor Day", 3, 12, False)
    assert first.code == "arbor_day"
    # The second administrator read the list before the first one's insert: it computes
    # arbor_day too, the insert writes nothing, and the retry takes the next code.
    late = admin_service(db, StaleRepository(db, hidden="arbor_day"))
    second = await late.add(ADMIN, "植树节 2", "Arbor Day", 4, 1, False)
    assert second.code == "arbor_day_2"
    repo = KeyDatesRepository(db)
    assert await repo.get("arbor_day") == first  # untouched
    assert await repo.get("arbor_day_2") == second


async def test_admin_service_add_reports_when_nothing_was_written(db: Database) -> None:
    repo = FullRepository(db)
    before = await stored(db)
    with pytest.raises(KeyDateNotAdded):
        await admin_service(db, repo).add(ADMIN, "植树节", "Arbor Day", 3, 12, False)
    assert repo.attempts == ADD_ATTEMPTS
    assert await stored(db) == before
