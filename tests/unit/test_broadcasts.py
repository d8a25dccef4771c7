"""Administrator broadcasts: audiences, chunked and idempotent queuing, cancelling midway."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.domain.notifications import NotificationKind
from bot.domain.validation import InvalidInput
from bot.services.broadcasts import (
    MAX_TEXT_LENGTH,
    Audience,
    AudienceKind,
    BroadcastRefusal,
    BroadcastRefused,
    BroadcastService,
    BroadcastStatus,
)
from bot.services.staff import StaffService
from storage.activities import ActivitiesRepository
from storage.broadcasts import BroadcastsRepository
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_user, add_volunteer

ADMIN = 77


def service(db: Database, clock: ManualClock, *, chunk_size: int = 500) -> BroadcastService:
    staff = StaffService(
        UsersRepository(db),
        OrganizationsRepository(db),
        ActivitiesRepository(db),
        frozenset({ADMIN}),
    )
    return BroadcastService(
        db,
        BroadcastsRepository(db),
        OutboxRepository(db),
        CatalogRepository(db),
        staff,
        clock,
        chunk_size=chunk_size,
    )


async def recipients(db: Database, broadcast_id: int) -> dict[int, str]:
    rows = await db.fetch_all(
        "SELECT telegram_id, status, kind FROM outbox WHERE batch_key = ? ORDER BY telegram_id",
        (f"broadcast:{broadcast_id}",),
    )
    assert all(row["kind"] == NotificationKind.BROADCAST.value for row in rows)
    return {row["telegram_id"]: row["status"] for row in rows}


async def compose(svc: BroadcastService, text: str, audience: Audience) -> None:
    await svc.begin(ADMIN)
    await svc.set_text(ADMIN, text)
    await svc.set_audience(ADMIN, audience)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def people(db: Database) -> dict[str, int]:
    """Volunteers in two areas and categories, plus people who must never be reached."""
    await add_user(db, ADMIN, first_name="Admin")
    found = {
        "furong_health": (await add_volunteer(db, 101, area_code="furong")).telegram_id,
        "furong_env": (
            await add_volunteer(db, 102, area_code="furong", categories=("environment",))
        ).telegram_id,
        "yuelu_health": (await add_volunteer(db, 103, area_code="yuelu")).telegram_id,
        "no_area_env": (
            await add_volunteer(db, 104, area_code=None, categories=("environment", "health"))
        ).telegram_id,
        "blocked": (await add_volunteer(db, 105, area_code="furong")).telegram_id,
        "deleted": (await add_volunteer(db, 106, area_code="furong")).telegram_id,
        "not_registered": await add_user(db, 107),
    }
    await UsersRepository(db).mark_unreachable(105, NOW)
    await VolunteersRepository(db).delete_account(106, NOW)
    return {key: value or 0 for key, value in found.items()}


async def test_audiences_area_category_and_everyone(
    db: Database, clock: ManualClock, people: dict[str, int]
) -> None:
    svc = service(db, clock)
    cases = [
        (Audience(kind=AudienceKind.AREA, code="furong"), {101, 102}),
        (Audience(kind=AudienceKind.CATEGORY, code="environment"), {102, 104}),
        # Everyone = live, reachable, registered volunteers: not the blocked (105), the deleted
        # (106), the one who never registered (107) nor the admin without a profile.
        (Audience(kind=AudienceKind.ALL), {101, 102, 103, 104}),
    ]
    for audience, expected in cases:
        assert await svc.recipient_count(audience) == len(expected)
        await compose(svc, f"Hello {audience.kind}", audience)
        broadcast = await svc.confirm(ADMIN)
        assert broadcast.status is BroadcastStatus.QUEUED
        assert broadcast.recipients == len(expected)
        assert set(await recipients(db, broadcast.broadcast_id)) == expected


async def test_queuing_in_chunks_is_resumable_and_idempotent(
    db: Database, clock: ManualClock, people: dict[str, int]
) -> None:
    svc = service(db, clock, chunk_size=1)
    await compose(svc, "Chunked", Audience(kind=AudienceKind.ALL))
    broadcast = await svc.confirm(ADMIN)
    assert broadcast.recipients == 4
    assert broadcast.queued_through == 104  # the resume point moved chunk by chunk
    assert list(await recipients(db, broadcast.broadcast_id)) == [101, 102, 103, 104]

    # A crash that lost the resume point: queuing runs again over recipients already queued.
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE broadcasts SET status = 'queuing', queued_through = 0 WHERE broadcast_id = ?",
            (broadcast.broadcast_id,),
        )
    again = await svc.fill(broadcast.broadcast_id)
    assert again.status is BroadcastStatus.QUEUED
    assert again.recipients == 4  # nothing stored twice
    assert list(await recipients(db, broadcast.broadcast_id)) == [101, 102, 103, 104]

    # The progress screen resumes a queuing that stopped half-way.
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE broadcasts SET status = 'queuing', queued_through = 102 WHERE broadcast_id = ?",
            (broadcast.broadcast_id,),
        )
    resumed, progress = await svc.progress(ADMIN, broadcast.broadcast_id)
    assert resumed.status is BroadcastStatus.QUEUED
    assert progress.pending == 4 and progress.total == 4

    # At start-up the bot finishes an interrupted queuing by itself, without the admin.
    async with db.transaction() as tx:
        await tx.execute(
            "DELETE FROM outbox WHERE telegram_id IN (103, 104)",
        )
        await tx.execute(
            "UPDATE broadcasts SET status = 'queuing', queued_through = 102, recipients = 2 "
            "WHERE broadcast_id = ?",
            (broadcast.broadcast_id,),
        )
    assert await svc.resume_unfinished() == 1
    assert list(await recipients(db, broadcast.broadcast_id)) == [101, 102, 103, 104]
    done = await svc.fill(broadcast.broadcast_id)
    assert done.status is BroadcastStatus.QUEUED and done.recipients == 4
    assert await svc.resume_unfinished() == 0


async def test_cancel_midway_drops_only_the_pending_rows(
    db: Database, clock: ManualClock, people: dict[str, int]
) -> None:
    svc = service(db, clock)
    outbox = OutboxRepository(db)
    await compose(svc, "Road closed tomorrow", Audience(kind=AudienceKind.ALL))
    broadcast = await svc.confirm(ADMIN)
    # One is already sent, one is being sent right now (leased), two wait.
    first, second = await outbox.claim_due(clock(), timedelta(minutes=1), limit=2)
    await outbox.finish(first.notification_id, "sent", clock())
    assert await svc.for_delivery(broadcast.broadcast_id) is not None

    dropped = await svc.cancel(ADMIN, broadcast.broadcast_id)

    assert dropped == 2
    statuses = await recipients(db, broadcast.broadcast_id)
    assert statuses[first.telegram_id] == "sent"
    assert statuses[second.telegram_id] == "pending"  # in flight: not touched by the cancel
    assert sorted(statuses.values()) == ["dropped", "dropped", "pending", "sent"]
    # ...but if it was not handed to Telegram yet, it renders as stale and is not sent.
    assert await svc.for_delivery(broadcast.broadcast_id) is None
    cancelled, progress = await svc.progress(ADMIN, broadcast.broadcast_id)
    assert cancelled.status is BroadcastStatus.CANCELLED
    assert (progress.sent, progress.pending, progress.dropped) == (1, 1, 2)
    # Cancelling again changes nothing.
    assert await svc.cancel(ADMIN, broadcast.broadcast_id) == 0


async def test_only_admins_compose_confirm_see_or_cancel(
    db: Database, clock: ManualClock, people: dict[str, int]
) -> None:
    svc = service(db, clock)
    volunteer = people["furong_health"]
    with pytest.raises(BroadcastRefused) as refused:
        await svc.begin(volunteer)
    assert refused.value.reason is BroadcastRefusal.NOT_ADMIN
    await compose(svc, "Admins only", Audience(kind=AudienceKind.AREA, code="furong"))
    for action in (svc.confirm, svc.recent, svc.discard):
        with pytest.raises(BroadcastRefused):
            await action(volunteer)
    assert await db.fetch_all("SELECT * FROM broadcasts") == []
    broadcast = await svc.confirm(ADMIN)
    for attempt in (svc.cancel, svc.progress):
        with pytest.raises(BroadcastRefused):
            await attempt(volunteer, broadcast.broadcast_id)
    assert set((await recipients(db, broadcast.broadcast_id)).values()) == {"pending"}


async def test_text_and_audience_are_validated(
    db: Database, clock: ManualClock, people: dict[str, int]
) -> None:
    svc = service(db, clock)
    await svc.begin(ADMIN)
    for bad in ("", "   \n ", "x" * (MAX_TEXT_LENGTH + 1)):
        with pytest.raises(InvalidInput):
            await svc.set_text(ADMIN, bad)
    draft = await svc.set_text(ADMIN, "  Line one\n\n\n\nLine <two> & more  ")
    assert draft.text == "Line one\n\nLine <two> & more"  # kept as typed, HTML escaped on render
    for audience in (
        Audience(kind=AudienceKind.AREA, code="atlantis"),
        Audience(kind=AudienceKind.CATEGORY, code=None),
        Audience(kind=AudienceKind.ALL, code="furong"),
    ):
        with pytest.raises(BroadcastRefused) as refused:
            await svc.set_audience(ADMIN, audience)
        assert refused.value.reason is BroadcastRefusal.UNKNOWN_AUDIENCE
    with pytest.raises(BroadcastRefused) as refused:
        await svc.confirm(ADMIN)
    assert refused.value.reason is BroadcastRefusal.NO_AUDIENCE
    # An audience nobody belongs to cannot be confirmed.
    await svc.set_audience(ADMIN, Audience(kind=AudienceKind.AREA, code="ningxiang"))
    with pytest.raises(BroadcastRefused) as refused:
        await svc.confirm(ADMIN)
    assert refused.value.reason is BroadcastRefusal.NO_RECIPIENTS
