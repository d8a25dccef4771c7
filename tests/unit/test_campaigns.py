"""Campaign planning with a manual clock: who gets the heads-up, the campaign stages, the
greeting and the digest, and that re-running plans nothing twice.

The seeded key date 12·5 (国际志愿者日, 2026-12-05) is the one near the tests' ``NOW`` (Monday
2026-11-23 10:00 in Shanghai): heads-up 2026-11-21 10:00, campaigns 11-28 and 12-04 at 10:00,
greeting 12-05 10:00. The digest day is Friday 2026-11-27 at 19:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.domain.activities import MemberRole, Organization
from bot.domain.keydates import KeyDate
from bot.domain.volunteers import VolunteerProfile
from bot.services.campaigns import CampaignPolicy, CampaignService, StageKind, due_stages
from storage.campaigns import CampaignsRepository
from storage.db import Database
from storage.keydates import KeyDatesRepository
from storage.organizations import OrganizationsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_user, add_volunteer

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = CampaignPolicy(tz=SHANGHAI)
DAY = date(2026, 12, 5)


async def set_status(db: Database, activity_id: int, status: str) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE activities SET status = ? WHERE activity_id = ?", (status, activity_id)
        )


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def service(db: Database, clock: ManualClock, chunk_size: int = 500) -> CampaignService:
    return CampaignService(
        db,
        KeyDatesRepository(db),
        CampaignsRepository(db),
        VolunteersRepository(db),
        clock,
        POLICY,
        chunk_size=chunk_size,
    )


async def rows(db: Database, kind: str) -> dict[int, list[str]]:
    """Outbox rows of one kind: recipient → batch keys."""
    found: dict[int, list[str]] = {}
    for row in await db.fetch_all(
        "SELECT telegram_id, batch_key FROM outbox WHERE kind = ? ORDER BY notification_id",
        (kind,),
    ):
        found.setdefault(row["telegram_id"], []).append(row["batch_key"])
    return found


async def organizer(db: Database, organization: Organization) -> int:
    telegram_id = await add_user(db)
    await OrganizationsRepository(db).add_member(
        organization.organization_id, telegram_id, MemberRole.MANAGER, NOW
    )
    return telegram_id


@pytest.fixture
async def org(db: Database) -> Organization:
    return await add_organization(db)


async def audience(db: Database) -> dict[str, VolunteerProfile]:
    """Volunteers in every state that matters for campaigns."""
    volunteers = VolunteersRepository(db)
    people = {name: await add_volunteer(db, name=name) for name in
              ("in", "in2", "out", "paused", "deleted", "blocked")}  # fmt: skip
    out = people["out"]
    await volunteers.set_notifications(
        out.telegram_id, out.notifications.model_copy(update={"campaigns": False, "digest": False}),
        NOW,
    )  # fmt: skip
    await volunteers.pause(people["paused"].telegram_id, date(2027, 1, 1), NOW)
    await volunteers.delete_account(people["deleted"].telegram_id, NOW)
    await UsersRepository(db).mark_unreachable(people["blocked"].telegram_id, NOW)
    return people


def test_due_stages_follow_the_calendar() -> None:
    key_dates = [KeyDate(code="ivd", name_zh="国际志愿者日", name_en="IVD", month=12, day=5)]

    def kinds(moment: datetime) -> list[str]:
        return [stage.run_key for stage in due_stages(key_dates, POLICY, moment)]

    assert kinds(local(date(2026, 11, 21), 9, 59)) == []
    assert kinds(local(date(2026, 11, 21), 10)) == ["hu:ivd:2026-12-05"]
    assert kinds(local(date(2026, 11, 22), 9, 59)) == ["hu:ivd:2026-12-05"]  # catching up
    assert kinds(local(date(2026, 11, 22), 10)) == []
    assert kinds(local(date(2026, 11, 28), 10)) == ["cp:ivd:2026-12-05:7d"]
    assert kinds(local(date(2026, 12, 4), 18)) == ["cp:ivd:2026-12-05:1d"]
    assert kinds(local(date(2026, 12, 4), 23, 59)) == ["cp:ivd:2026-12-05:1d", "dg:2026-12-04"]
    # On the day the 1-day stage is over even within its catch-up day: only the greeting.
    assert kinds(local(DAY, 9)) == []
    assert kinds(local(DAY, 10)) == ["gr:ivd:2026-12-05"]
    friday = due_stages(key_dates, POLICY, local(date(2026, 11, 27), 19))
    assert [(stage.kind, stage.run_key) for stage in friday] == [
        (StageKind.DIGEST, "dg:2026-11-27")
    ]
    assert due_stages(key_dates, POLICY, local(date(2026, 11, 27), 18, 59)) == []
    disabled = [key_dates[0].model_copy(update={"is_enabled": False})]
    assert due_stages(disabled, POLICY, local(date(2026, 11, 28), 10)) == []


async def test_heads_up_goes_to_organizers_only(db: Database, org: Organization) -> None:
    people = await audience(db)
    first = await organizer(db, org)
    second = await organizer(db, org)
    pending_org = await add_organization(db, name="待审核", status="pending")  # type: ignore[arg-type]
    await organizer(db, pending_org)
    clock = ManualClock(local(date(2026, 11, 21), 10, 5))
    campaigns = service(db, clock)
    report = await campaigns.plan()
    assert report.planned == 2
    heads_up = await rows(db, "key_date_heads_up")
    assert heads_up == {first: ["hu:intl_volunteer_day:2026-12-05"],
                        second: ["hu:intl_volunteer_day:2026-12-05"]}  # fmt: skip
    assert not set(heads_up) & {p.telegram_id for p in people.values()}
    assert await rows(db, "campaign") == {}
    assert (await campaigns.plan()).planned == 0


async def test_campaign_at_7_and_1_days_only_to_opted_in(db: Database, org: Organization) -> None:
    people = await audience(db)
    await organizer(db, org)
    await add_activity(db, org, starts_at=local(DAY, 9), key_date="intl_volunteer_day")
    clock = ManualClock(local(date(2026, 11, 28), 9, 55))
    campaigns = service(db, clock, chunk_size=1)  # one recipient per transaction
    assert (await campaigns.plan()).planned == 0  # not yet 10:00
    clock.set(local(date(2026, 11, 28), 10))
    assert (await campaigns.plan()).planned == 2
    assert (await campaigns.plan()).planned == 0  # re-run: nothing twice
    clock.advance(timedelta(minutes=5))
    assert (await campaigns.plan()).planned == 0
    expected = {people["in"].telegram_id, people["in2"].telegram_id}
    assert set(await rows(db, "campaign")) == expected
    run = await CampaignsRepository(db).get_run("cp:intl_volunteer_day:2026-12-05:7d")
    assert run is not None and run.finished_at is not None and run.planned == 2
    clock.set(local(date(2026, 12, 4), 10, 3))
    assert (await campaigns.plan()).planned == 2
    assert (await campaigns.plan()).planned == 0
    campaign_rows = await rows(db, "campaign")
    assert set(campaign_rows) == expected
    for keys in campaign_rows.values():
        assert keys == [
            "cp:intl_volunteer_day:2026-12-05:7d",
            "cp:intl_volunteer_day:2026-12-05:1d",
        ]
    assert await rows(db, "key_date_heads_up") == {}  # its window closed long ago
    # What the message lists, decided at send time.
    found = await campaigns.campaign_matches(
        people["in"].telegram_id, "intl_volunteer_day", "2026-12-05"
    )
    assert found is not None and len(found[2]) == 1
    assert await campaigns.campaign_matches(
        people["out"].telegram_id, "intl_volunteer_day", "2026-12-05"
    ) is None  # fmt: skip
    # On the day: the greeting, to the same audience.
    clock.set(local(DAY, 10))
    assert (await campaigns.plan()).planned == 2
    assert set(await rows(db, "key_date_greeting")) == expected
    assert await campaigns.greeting(people["in"].telegram_id, "intl_volunteer_day", "2026-12-05")


async def test_no_campaign_without_activities(db: Database, org: Organization) -> None:
    await audience(db)
    clock = ManualClock(local(date(2026, 11, 28), 10))
    campaigns = service(db, clock)
    assert (await campaigns.plan()).planned == 0
    assert await CampaignsRepository(db).get_run("cp:intl_volunteer_day:2026-12-05:7d") is None
    # An activity published later the same day is still announced.
    await add_activity(db, org, starts_at=local(date(2026, 12, 6), 9), now=clock())
    clock.advance(timedelta(hours=2))
    assert (await campaigns.plan()).planned == 2


async def test_stale_campaign_when_activity_gone_or_key_date_disabled(
    db: Database, org: Organization
) -> None:
    people = await audience(db)
    activity = await add_activity(db, org, starts_at=local(DAY, 9), key_date="intl_volunteer_day")
    clock = ManualClock(local(date(2026, 11, 28), 10))
    campaigns = service(db, clock)
    telegram_id = people["in"].telegram_id
    assert await campaigns.campaign_matches(telegram_id, "intl_volunteer_day", "2026-12-05")
    await set_status(db, activity.activity_id, "cancelled")
    assert await campaigns.campaign_matches(telegram_id, "intl_volunteer_day", "2026-12-05") is None
    await set_status(db, activity.activity_id, "published")
    key_dates = KeyDatesRepository(db)
    ivd = await key_dates.get("intl_volunteer_day")
    assert ivd is not None
    await key_dates.update(ivd.model_copy(update={"is_enabled": False}), clock())
    assert await campaigns.campaign_matches(telegram_id, "intl_volunteer_day", "2026-12-05") is None
    assert (await campaigns.plan()).planned == 0  # disabled: not planned either


async def test_digest_only_when_something_matches(db: Database, org: Organization) -> None:
    people = await audience(db)
    other = await add_volunteer(db, name="elsewhere", categories=("sports",), area_code="yuelu")
    clock = ManualClock(local(date(2026, 11, 27), 19))
    campaigns = service(db, clock)
    assert (await campaigns.plan()).planned == 0  # nothing published this week
    assert await CampaignsRepository(db).get_run("dg:2026-11-27") is not None
    await add_activity(
        db, org, starts_at=local(date(2026, 12, 1), 9), now=local(date(2026, 11, 25), 9)
    )
    clock.set(local(date(2027, 1, 1), 19))  # a Friday
    assert (await campaigns.plan()).planned == 0  # published over a week before
    # A new week with a new, matching activity.
    clock.set(local(date(2026, 12, 4), 19))
    await add_activity(
        db, org, starts_at=local(date(2026, 12, 12), 9), now=local(date(2026, 12, 2), 9)
    )
    assert (await campaigns.plan()).planned == 2
    assert set(await rows(db, "digest")) == {people["in"].telegram_id, people["in2"].telegram_id}
    assert other.telegram_id not in await rows(db, "digest")
    matches = await campaigns.digest_matches(
        people["in"].telegram_id, "2026-11-27T11:00:00+00:00", "2026-12-04T11:00:00+00:00"
    )
    assert [match.activity.starts_at for match in matches] == [local(date(2026, 12, 12), 9)]
    assert await campaigns.digest_matches(
        other.telegram_id, "2026-11-27T11:00:00+00:00", "2026-12-04T11:00:00+00:00"
    ) == []  # fmt: skip


async def test_opt_out(db: Database) -> None:
    people = await audience(db)
    campaigns = service(db, ManualClock(NOW))
    assert await campaigns.opt_out(people["in"].telegram_id, campaigns=True, digest=False)
    profile = await VolunteersRepository(db).get_profile(people["in"].telegram_id)
    assert profile is not None
    assert not profile.notifications.campaigns and profile.notifications.digest
    assert not await campaigns.opt_out(123, campaigns=True, digest=False)
