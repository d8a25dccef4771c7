"""Several instances on one PostgreSQL database in webhook mode (issue #21).

Three real runtimes (``zhiyuan run --webhook`` as :class:`bot.runtime.BotRuntime` starts it)
sit behind a small round-robin balancer; the local Bot API server posts every update to the
balancer as Telegram posts to a load balancer. 200 volunteers open an activity's card; 100 of
them press Sign up for 5 spots while one instance is killed: exactly 5 are confirmed, every
press is answered, and each user's replies come in the order of their messages. Runs only when
``ZHIYUAN_TEST_POSTGRES`` names a server (SQLite is for one process).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from bot.clock import ManualClock
from bot.config import Settings
from bot.localapi import LocalBotApi, VirtualUser
from bot.localapi.balancer import PATH, Balancer, free_port
from bot.runtime import BotRuntime
from tests.conftest import on_postgres
from tests.e2e.conftest import eventually
from tests.factories import add_activity, add_organization, add_volunteer

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="several instances need PostgreSQL (ZHIYUAN_TEST_POSTGRES)"
)

MakeUser = Callable[..., VirtualUser]
SECRET = "several-instances_secret"


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi(webhook_retry_base=0.05, webhook_retry_max=0.5) as server:
        yield server


async def test_three_instances_share_the_work_and_survive_one_killed(
    api: LocalBotApi, settings: Settings, make_user: MakeUser
) -> None:
    balancer = Balancer()
    await balancer.start()
    runtimes: list[BotRuntime] = []
    try:
        for number in range(3):
            port = free_port()
            instance = settings.model_copy(
                update={
                    "webhook_url": f"http://127.0.0.1:{balancer.port}{PATH}",
                    "webhook_secret": SecretStr(SECRET),
                    "webhook_port": port,
                    "instance_name": f"zy-{number}",
                    "inbox_lease_seconds": 2.0,
                }
            )
            runtimes.append(await BotRuntime.start(instance, webhook=True))
            balancer.ports.append(port)
        db = runtimes[0].db
        now = datetime.now(UTC)
        organization = await add_organization(db, now=now)
        activity = await add_activity(
            db,
            organization,
            capacity=5,
            title="Harbour clean-up",
            starts_at=now + timedelta(days=3),
            now=now,
        )
        users = [make_user(f"V{n}", language_code="en") for n in range(200)]
        for user in users:
            await add_volunteer(db, user.id, name=f"Volunteer {user.id}", now=now)

        # Each user writes twice in a row; the replies come in the same order.
        await asyncio.gather(*(user.send("/help") for user in users))
        await asyncio.gather(*(user.send(f"/start act_{activity.activity_id}") for user in users))
        for user in users:
            first = await user.wait_for_text("What I can do", timeout=60)
            card = await user.wait_for_text("Harbour clean-up", timeout=60)
            assert first.message_id < card.message_id

        # The storm: 100 press Sign up at once; one instance is killed while they are handled.
        pressers = users[:100]
        cards = [user.last_bot_message() for user in pressers]
        await asyncio.gather(
            *(
                user.press("✋ Sign up", message=card)
                for user, card in zip(pressers, cards, strict=True)
                if card is not None
            )
        )
        killed = runtimes[1]
        balancer.ports.remove(killed.settings.webhook_port)
        await killed.crash()
        runtimes.remove(killed)

        def answered(user: VirtualUser) -> bool:
            query = user.last_query_id
            return query is not None and api.callback_query(query).answer is not None

        await api.wait_for(
            lambda: all(answered(user) for user in pressers),
            timeout=120,
            description="every press answered",
        )

        async def pending() -> int:
            row = await db.fetch_one("SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending'")
            return int(row["n"]) if row is not None else -1

        await eventually(pending, lambda n: n == 0, timeout=60)
        row = await db.fetch_one(
            "SELECT confirmed_count, (SELECT COUNT(*) FROM signups WHERE activity_id = ? "
            "AND status = 'confirmed') AS rows FROM activities WHERE activity_id = ?",
            (activity.activity_id, activity.activity_id),
        )
        assert row is not None and row["confirmed_count"] == row["rows"] == 5
        # The work was shared: more than one instance handled updates.
        owners = await db.fetch_all("SELECT COUNT(*) AS n FROM leases WHERE name = 'scheduler'")
        assert owners[0]["n"] == 1  # one scheduler across the instances
        stats = api.stats
        assert stats.webhook_deliveries >= 400
    finally:
        for runtime in runtimes:
            await runtime.stop()
        await balancer.stop()


async def test_a_broadcast_from_three_instances_arrives_once_each_within_the_global_rate(
    api: LocalBotApi, settings: Settings, make_user: MakeUser
) -> None:
    """Only the holder of the scheduler lease delivers, so 300 recipients get the announcement
    exactly once and the overall pace stays under Telegram's 30 per second."""
    from bot.domain.broadcasts import Audience, AudienceKind
    from tests.e2e.conftest import ADMIN_ID

    daytime = ManualClock(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    balancer = Balancer()
    await balancer.start()
    runtimes: list[BotRuntime] = []
    try:
        for number in range(3):
            port = free_port()
            instance = settings.model_copy(
                update={
                    "webhook_url": f"http://127.0.0.1:{balancer.port}{PATH}",
                    "webhook_secret": SecretStr(SECRET),
                    "webhook_port": port,
                    "instance_name": f"zy-b{number}",
                }
            )
            # 10:00 in Shanghai: a broadcast waits out quiet hours, so the test runs by day.
            runtimes.append(await BotRuntime.start(instance, webhook=True, clock=daytime))
            balancer.ports.append(port)
        db = runtimes[0].db
        now = daytime()
        users = [make_user(f"R{n}", language_code="en") for n in range(300)]
        for user in users:
            await add_volunteer(db, user.id, name=f"Resident {user.id}", now=now)
        # They wrote to the bot before (Telegram lets a bot write only to those).
        await asyncio.gather(*(user.send("/help") for user in users))
        for user in users:
            await user.wait_for_text("What I can do", timeout=60)
        from tests.factories import add_user

        await add_user(db, ADMIN_ID, first_name="Admin", now=now)
        broadcasts = runtimes[2].application.services.broadcasts
        await broadcasts.begin(ADMIN_ID)
        await broadcasts.set_text(ADMIN_ID, "Typhoon warning: stay indoors")
        await broadcasts.set_audience(ADMIN_ID, Audience(kind=AudienceKind.ALL))
        await broadcasts.confirm(ADMIN_ID)
        began = asyncio.get_running_loop().time()
        for user in users:
            await user.wait_for_text("Typhoon warning", timeout=120)
        seconds = asyncio.get_running_loop().time() - began
        counts = [
            sum("Typhoon warning" in (m.plain_text or "") for m in user.bot_messages())
            for user in users
        ]
        assert set(counts) == {1}
        assert api.stats.too_many_requests == 0
        assert len(users) / max(seconds, 0.001) <= 30
    finally:
        for runtime in runtimes:
            await runtime.stop()
        await balancer.stop()
