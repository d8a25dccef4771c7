"""Emergency mobilization as a service (bot.services.emergency) over the real repositories: who
may mobilize, the draft's version guard, two processes sending the same wave or starting the same
draft (once), answers only from the alerted and only while it runs, the coalesced edit claim,
the stand-down's recipients, and the pool's defaults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import MemberRole
from bot.domain.emergency import (
    Availability,
    EmergencyRefusal,
    EmergencyRefused,
    EmergencySkill,
    NeedSkill,
    PoolEntry,
)
from bot.domain.geo import Point
from bot.services.emergency import EmergencyService
from bot.services.staff import StaffRefused, StaffService
from storage.activities import ActivitiesRepository
from storage.backends import open_database
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.emergency import EmergencyRepository
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.users import UsersRepository
from tests.factories import NOW, add_organization, add_user, add_volunteer

ADMIN = 9000
RALLY = Point(28.1950, 113.0300)


def service(db: Database, clock: ManualClock) -> EmergencyService:
    settings = Settings(admin_ids=frozenset({ADMIN}))
    staff = StaffService(
        UsersRepository(db), OrganizationsRepository(db), ActivitiesRepository(db), {ADMIN}
    )
    return EmergencyService(
        EmergencyRepository(db), staff, CatalogRepository(db), OutboxRepository(db), clock, settings
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def other(db: Database, db_path: Path) -> AsyncIterator[Database]:
    second = await open_database(db_path)
    try:
        yield second
    finally:
        await second.close()


async def pool(db: Database, count: int, *, skill: EmergencySkill = EmergencySkill.FIRST_AID):
    """``count`` on-call volunteers 1, 2, 3 … km east of the rally point; their Telegram ids."""
    repo = EmergencyRepository(db)
    ids = []
    for k in range(count):
        profile = await add_volunteer(db, name=f"志愿者{k}")
        await repo.save_pool(
            PoolEntry(
                volunteer_id=profile.volunteer_id,
                on_call=True,
                skills=frozenset({skill}),
                area_code="furong",
                availability=Availability.ANY,
                max_km=50,
                latitude=RALLY.latitude,
                longitude=RALLY.longitude + (k + 1) * 0.0102,  # about 1 km per step
            ),
            NOW,
        )
        assert profile.telegram_id is not None
        ids.append(profile.telegram_id)
    return ids


async def started(
    db: Database, clock: ManualClock, needed: int = 2
) -> tuple[EmergencyService, int]:
    svc = service(db, clock)
    await add_user(db, ADMIN)
    organization = await add_organization(db)
    await EmergencyRepository(db).grant(organization.organization_id, ADMIN, NOW)
    draft = await svc.new_draft(ADMIN, organization.organization_id)
    mid = draft.mobilization_id
    await svc.set_title(ADMIN, mid, "演练")
    await svc.set_place(ADMIN, mid, RALLY)
    await svc.set_rally_text(ADMIN, mid, "体育馆北门")
    current = await svc.draft(ADMIN, mid)
    for _ in range(needed):
        current = await svc.change_need(ADMIN, mid, current.version, NeedSkill.FIRST_AID, 1)
    await svc.start(ADMIN, mid, current.version, "演练")
    return svc, mid


async def test_only_allowed_organizations_and_administrators_mobilize(db: Database) -> None:
    clock = ManualClock(NOW)
    svc = service(db, clock)
    organizer = await add_user(db)
    organization = await add_organization(db)
    await OrganizationsRepository(db).add_member(
        organization.organization_id, organizer, MemberRole.ORGANIZER, NOW
    )
    with pytest.raises(EmergencyRefused) as refused:
        await svc.new_draft(organizer, organization.organization_id)
    assert refused.value.reason is EmergencyRefusal.NOT_ALLOWED
    with pytest.raises(StaffRefused):  # granting is for administrators
        await svc.grant(organizer, organization.organization_id)
    await add_user(db, ADMIN)
    await svc.grant(ADMIN, organization.organization_id)
    assert await svc.organizations_for(organizer) == [
        (organization.organization_id, organization.name)
    ]
    draft = await svc.new_draft(organizer, organization.organization_id)
    # Drafts are personal: someone else (even an administrator) cannot change it.
    with pytest.raises(EmergencyRefused):
        await svc.set_title(ADMIN, draft.mobilization_id, "别人的草稿")
    await svc.revoke(ADMIN, organization.organization_id)
    assert await svc.organizations_for(organizer) == []


async def test_a_stale_start_is_refused_and_an_incomplete_one_too(
    db: Database, clock: ManualClock
) -> None:
    await pool(db, 3)
    svc = service(db, clock)
    await add_user(db, ADMIN)
    organization = await add_organization(db)
    await svc.grant(ADMIN, organization.organization_id)
    draft = await svc.new_draft(ADMIN, organization.organization_id)
    mid = draft.mobilization_id
    with pytest.raises(EmergencyRefused) as refused:
        await svc.start(ADMIN, mid, draft.version, "x")
    assert refused.value.reason is EmergencyRefusal.INCOMPLETE
    await svc.set_title(ADMIN, mid, "演练")
    await svc.set_place(ADMIN, mid, RALLY)
    await svc.set_rally_text(ADMIN, mid, "北门")
    seen = await svc.change_need(
        ADMIN, mid, (await svc.draft(ADMIN, mid)).version, NeedSkill.ANY, 1
    )
    await svc.set_drill(ADMIN, mid, seen.version, False)  # changed after "Start" was drawn
    with pytest.raises(EmergencyRefused) as refused:
        await svc.start(ADMIN, mid, seen.version, "x")
    assert refused.value.reason is EmergencyRefusal.CHANGED
    row = await db.fetch_one("SELECT COUNT(*) AS n FROM activities")
    assert row is not None and row["n"] == 0  # nothing was created


async def test_two_processes_start_one_draft_and_send_one_wave_once(
    db: Database, other: Database, clock: ManualClock
) -> None:
    await pool(db, 12)
    first, second = service(db, clock), service(other, clock)
    await add_user(db, ADMIN)
    organization = await add_organization(db)
    await first.grant(ADMIN, organization.organization_id)
    mid = (await first.new_draft(ADMIN, organization.organization_id)).mobilization_id
    await first.set_title(ADMIN, mid, "演练")
    await first.set_place(ADMIN, mid, RALLY)
    await first.set_rally_text(ADMIN, mid, "北门")
    draft = await first.change_need(
        ADMIN, mid, (await first.draft(ADMIN, mid)).version, NeedSkill.FIRST_AID, 2
    )
    results = await asyncio.gather(
        first.start(ADMIN, mid, draft.version, "演练"),
        second.start(ADMIN, mid, draft.version, "演练"),
        return_exceptions=True,
    )
    assert sum(1 for r in results if isinstance(r, EmergencyRefused)) == 1
    activities = await db.fetch_one("SELECT COUNT(*) AS n FROM activities")
    assert activities is not None and activities["n"] == 1
    assert len(await EmergencyRepository(db).alerted_ids(mid)) == 4  # twice the two needed

    clock.advance(timedelta(minutes=4))
    waves = await asyncio.gather(first.run_waves(), second.run_waves())
    assert sorted(len(w) for w in waves) == [0, 1]  # one process sent wave 2
    alerts = await db.fetch_all(
        "SELECT volunteer_id, wave FROM mobilization_alerts WHERE mobilization_id = ?", (mid,)
    )
    assert len(alerts) == 8 and len({a["volunteer_id"] for a in alerts}) == 8
    outbox = await db.fetch_one("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'emergency_alert'")
    assert outbox is not None and outbox["n"] == 8  # nobody alerted twice


async def test_answers_come_from_the_alerted_only_and_stop_at_the_stand_down(
    db: Database, clock: ManualClock
) -> None:
    telegram_ids = await pool(db, 6)
    svc, mid = await started(db, clock, needed=2)
    alerted, unalerted = telegram_ids[:4], telegram_ids[4:]
    with pytest.raises(EmergencyRefused) as refused:
        await svc.answer(unalerted[0], mid, 15)
    assert refused.value.reason is EmergencyRefusal.NOT_ALERTED
    with pytest.raises(EmergencyRefused):
        await svc.answer(alerted[0], mid + 1, 15)  # another mobilization
    assert (await svc.answer(alerted[0], mid, 15)).alert.counted_skill is NeedSkill.FIRST_AID
    changed = await svc.answer(alerted[0], mid, 30)  # a new estimate is not a second person
    assert changed.was_coming
    await svc.answer(alerted[1], mid, None)
    mobilization = await svc.mobilization(mid)
    assert mobilization is not None
    count = await svc.headcount(mobilization)
    assert (count.coming, count.cannot, count.waiting, dict(count.by_eta)) == (1, 1, 2, {30: 1})

    # Two of the alerts were delivered; the stand-down tells the yes and the delivered unanswered.
    for telegram_id in alerted[2:]:
        volunteer = await EmergencyRepository(db).volunteer_id_of(telegram_id)
        assert volunteer is not None
        await svc.delivered(mid, volunteer)
    told = await svc.stand_down(ADMIN, mid)
    assert told == 3
    rows = await db.fetch_all(
        "SELECT telegram_id FROM outbox WHERE kind = 'emergency_stand_down' ORDER BY telegram_id"
    )
    assert [r["telegram_id"] for r in rows] == sorted([alerted[0], *alerted[2:]])
    with pytest.raises(EmergencyRefused) as refused:
        await svc.answer(alerted[2], mid, 15)
    assert refused.value.reason is EmergencyRefusal.STOOD_DOWN
    with pytest.raises(EmergencyRefused):
        await svc.stand_down(ADMIN, mid)  # once


async def test_the_headcount_edit_is_claimed_once_per_interval(
    db: Database, other: Database, clock: ManualClock
) -> None:
    telegram_ids = await pool(db, 4)
    svc, mid = await started(db, clock)
    peer = service(other, clock)
    await svc.place_message(mid, ADMIN, 77)
    await svc.answer(telegram_ids[0], mid, 15)
    assert not await svc.claim_edit(mid)  # drawn just now: held back
    clock.advance(timedelta(seconds=3))
    claims = await asyncio.gather(svc.claim_edit(mid), peer.claim_edit(mid))
    assert sorted(claims) == [False, True]  # one process edits
    assert not await svc.claim_edit(mid)  # nothing new
    await svc.answer(telegram_ids[1], mid, 15)
    assert await svc.stale_messages() == [mid]


async def test_the_pool_defaults_to_the_profile_district_and_keeps_answers(
    db: Database, clock: ManualClock
) -> None:
    svc = service(db, clock)
    profile = await add_volunteer(db, area_code="yuelu")
    assert profile.telegram_id is not None
    entry = await svc.pool(profile.telegram_id)
    assert (entry.on_call, entry.area_code, entry.max_km) == (False, "yuelu", 10)
    await svc.set_on_call(profile.telegram_id, True)
    await svc.toggle_skill(profile.telegram_id, EmergencySkill.RESCUE)
    await svc.set_max_km(profile.telegram_id, 20)
    await svc.set_on_call(profile.telegram_id, False)
    entry = await svc.pool(profile.telegram_id)
    assert entry.skills == {EmergencySkill.RESCUE} and entry.max_km == 20 and not entry.on_call
    with pytest.raises(EmergencyRefused):
        await svc.set_max_km(profile.telegram_id, 7)  # not one of the choices
    stranger = await add_user(db)
    with pytest.raises(EmergencyRefused) as refused:
        await svc.pool(stranger)
    assert refused.value.reason is EmergencyRefusal.NOT_VOLUNTEER
