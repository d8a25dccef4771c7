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
import itertools
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.config import Settings
from bot.localapi import LocalBotApi, VirtualUser
from bot.runtime import BotRuntime
from tests.conftest import on_postgres
from tests.e2e.conftest import eventually
from tests.factories import add_activity, add_organization, add_volunteer

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="several instances need PostgreSQL (ZHIYUAN_TEST_POSTGRES)"
)

MakeUser = Callable[..., VirtualUser]
SECRET = "several-instances_secret"
PATH = "/telegram"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Balancer:
    """Round robin over the instances that answer; a refused connection tries the next."""

    def __init__(self) -> None:
        self.ports: list[int] = []
        self._next = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = free_port()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(PATH, self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            "X-Telegram-Bot-Api-Secret-Token": request.headers.get(
                "X-Telegram-Bot-Api-Secret-Token", ""
            ),
            "Content-Type": "application/json",
        }
        assert self._session is not None
        for _ in range(len(self.ports) or 1):
            if not self.ports:
                break
            port = self.ports[next(self._next) % len(self.ports)]
            try:
                async with self._session.post(
                    f"http://127.0.0.1:{port}{PATH}", data=body, headers=headers
                ) as answer:
                    return web.Response(status=answer.status, text=await answer.text())
            except aiohttp.ClientError:
                continue
        return web.Response(status=502, text="no instance")


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
