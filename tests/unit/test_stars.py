"""Star levels (issue #17): thresholds, deriving a level, the congratulation sweep (once per
level, also from two processes), edited thresholds changing levels on the next read, and the
application with a publicity period."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.stars import (
    DEFAULT_THRESHOLDS,
    StarRefusal,
    StarRefused,
    StarRow,
    StarStatus,
    Thresholds,
    parse_thresholds,
    standing,
    stars_text,
)
from bot.domain.validation import InvalidInput
from bot.services.staff import StaffRefused, StaffService
from bot.services.stars import ObjectionReason, StarService
from storage.activities import ActivitiesRepository
from storage.backends import open_database
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.stars import StarsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_user, add_volunteer
from tests.service_records import add_record

ADMIN = 4242


def test_level_for_thresholds() -> None:
    thresholds = Thresholds(DEFAULT_THRESHOLDS)
    assert thresholds.level_for(0) == 0
    assert thresholds.level_for(99 * 60 + 59) == 0
    assert thresholds.level_for(100 * 60) == 1
    assert thresholds.level_for(600 * 60) == 3
    assert thresholds.level_for(10_000 * 60) == 5
    with pytest.raises(ValueError):
        Thresholds((100, 100, 200, 300, 400))
    assert stars_text(2) == "★★☆☆☆"


def test_parse_thresholds() -> None:
    assert parse_thresholds("100 200 500 800 1000").hours == (100, 200, 500, 800, 1000)
    assert parse_thresholds("１００，２００、500/800 1000小时").hours == (100, 200, 500, 800, 1000)
    for text, message in (
        ("100 200 300", "five numbers"),
        ("100 200 a 400 500", "whole numbers"),
        ("0 200 300 400 500", "from 1 to"),
        ("100 300 200 400 500", "more hours than"),
    ):
        with pytest.raises(InvalidInput, match=message):
            parse_thresholds(text)


def test_standing_with_and_without_applications() -> None:
    thresholds = Thresholds(DEFAULT_THRESHOLDS)
    plain = standing(350 * 60, thresholds, [], application=False)
    assert (plain.level, plain.next_level, plain.minutes_to_next) == (2, 3, 250 * 60)
    top = standing(2000 * 60, thresholds, [], application=False)
    assert (top.level, top.next_level, top.minutes_to_next) == (5, None, None)
    granted = StarRow(1, 1, StarStatus.GRANTED, NOW)
    applying = standing(350 * 60, thresholds, [granted], application=True)
    assert (applying.level, applying.earned, applying.can_apply) == (1, 2, 2)
    publicised = StarRow(1, 2, StarStatus.PUBLICISED, NOW, NOW + timedelta(days=7))
    waiting = standing(350 * 60, thresholds, [granted, publicised], application=True)
    assert waiting.can_apply is None and waiting.publicised == publicised


def _service(db: Database, clock: ManualClock, *, application: bool = False) -> StarService:
    settings = Settings(admin_ids=frozenset({ADMIN}), star_application=application)
    users = UsersRepository(db)
    staff = StaffService(
        users, OrganizationsRepository(db), ActivitiesRepository(db), settings.admin_ids
    )
    return StarService(StarsRepository(db), VolunteersRepository(db), users, staff, clock, settings)


async def _volunteer_with_hours(db: Database, hours: int) -> tuple[int, int]:
    organization = await add_organization(db, now=NOW)
    telegram_id = await add_user(db)
    volunteer = await add_volunteer(db, telegram_id, now=NOW)
    remaining = hours * 60
    day = 1
    while remaining > 0:
        activity = await add_activity(db, organization, starts_in=-timedelta(days=day), now=NOW)
        chunk = min(remaining, 1440)
        await add_record(db, activity, volunteer.volunteer_id, NOW, minutes=chunk)
        remaining -= chunk
        day += 1
    return telegram_id, volunteer.volunteer_id


async def _queued(db: Database, kind: str) -> list[tuple[int, str]]:
    rows = await db.fetch_all(
        "SELECT telegram_id, payload FROM outbox WHERE kind = ? ORDER BY notification_id",
        (kind,),
    )
    return [(row["telegram_id"], row["payload"]) for row in rows]


async def test_thresholds_edited_by_an_administrator_change_levels_on_the_next_read(
    db: Database,
) -> None:
    clock = ManualClock(NOW)
    stars = _service(db, clock)
    telegram_id, vid = await _volunteer_with_hours(db, 250)
    assert (await stars.standing_of(vid)).level == 1
    await add_user(db, ADMIN)
    with pytest.raises(InvalidInput):
        await stars.set_thresholds(ADMIN, "100 300 200 400 500")
    with pytest.raises(StaffRefused):  # a volunteer may not
        await stars.set_thresholds(telegram_id, "100 200 500 800 1000")
    await stars.set_thresholds(ADMIN, "100 200 500 800 1000")
    now = await stars.standing_of(vid)
    assert (now.level, now.next_level, now.minutes_to_next) == (2, 3, 250 * 60)
    await stars.set_thresholds(ADMIN, "300 400 500 600 700")
    assert (await stars.standing_of(vid)).level == 0


async def test_the_sweep_congratulates_once_per_level(db: Database, db_path: Path) -> None:
    clock = ManualClock(NOW)
    stars = _service(db, clock)
    telegram_id, vid = await _volunteer_with_hours(db, 320)
    second = await open_database(db_path)
    try:
        other = _service(second, clock)
        counts = await asyncio.gather(stars.sweep(), other.sweep(), stars.sweep())
    finally:
        await second.close()
    assert sum(counts) == 1
    assert await _queued(db, "star_reached") == [(telegram_id, '{"level": 2, "minutes": 19200}')]
    levels = await db.fetch_all(
        "SELECT level, status FROM volunteer_stars WHERE volunteer_id = ?", (vid,)
    )
    assert [(r["level"], r["status"]) for r in levels] == [(1, "granted"), (2, "granted")]
    # Nothing new: nothing queued. Lowered thresholds reach 3★: congratulated for 3 only.
    assert await stars.after_hours_changed([vid]) == 0
    await add_user(db, ADMIN)
    await stars.set_thresholds(ADMIN, "100 200 300 800 1000")
    assert await stars.sweep() == 1
    # Raised again and lowered again: 3★ is not congratulated twice.
    await stars.set_thresholds(ADMIN, "100 300 600 1000 1500")
    await stars.set_thresholds(ADMIN, "100 200 300 800 1000")
    assert await stars.sweep() == 0
    assert [p for _, p in await _queued(db, "star_reached")][-1] == '{"level": 3, "minutes": 19200}'


async def test_application_publicity_objection_and_grant(db: Database) -> None:
    clock = ManualClock(NOW)
    stars = _service(db, clock, application=True)
    await add_user(db, ADMIN)
    telegram_id, vid = await _volunteer_with_hours(db, 120)
    assert await stars.sweep() == 1
    assert [
        k for (k,) in [(r["kind"],) for r in await db.fetch_all("SELECT kind FROM outbox")]
    ] == ["star_eligible"]
    assert (await stars.standing_of(vid)).level == 0
    with pytest.raises(StarRefused) as wrong:
        await stars.apply(telegram_id, 2)
    assert wrong.value.reason is StarRefusal.NOT_ELIGIBLE
    applied = await stars.apply(telegram_id, 1)
    assert applied.publicised is not None and applied.can_apply is None
    assert await _queued(db, "star_publicity") == [(ADMIN, f'{{"level": 1, "volunteer": {vid}}}')]
    # An administrator objects; the volunteer may apply again.
    await stars.object(ADMIN, vid, 1, ObjectionReason.HOURS)
    with pytest.raises(StarRefused):
        await stars.object(ADMIN, vid, 1, ObjectionReason.HOURS)
    assert len(await _queued(db, "star_objected")) == 1
    assert (await stars.standing_of(vid)).can_apply == 1
    await stars.apply(telegram_id, 1)
    clock.advance(timedelta(days=6))
    assert await stars.sweep() == 0 and (await stars.standing_of(vid)).level == 0
    clock.advance(timedelta(days=1))
    assert await stars.sweep() == 1
    assert (await stars.standing_of(vid)).level == 1
    assert await _queued(db, "star_granted") == [(telegram_id, '{"level": 1}')]
