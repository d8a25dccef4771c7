"""Several instances on one PostgreSQL database in webhook mode (issue #21).

Three real ``zhiyuan run --webhook`` processes sit behind a small round-robin balancer; the
local Bot API server posts every update to the balancer as Telegram posts to a load balancer.
200 people register through the whole form at once and open an activity's card; 100 of them
press Sign up for 5 spots while one process is killed with SIGKILL: exactly 5 are confirmed,
every update is answered, each user's replies come in the order of their messages, and the
answers given twice are counted: at most one per user whose update was in flight on the killed
process. A broadcast to 1,000 from three instances arrives once each within Telegram's global
rate. Runs only when ``ZHIYUAN_TEST_POSTGRES`` names a server (SQLite is for one process).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO

import aiohttp
import pytest
from pydantic import SecretStr

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.broadcasts import Audience, AudienceKind
from bot.localapi import LocalBotApi, VirtualUser
from bot.localapi.balancer import PATH, Balancer, free_port
from bot.localapi.models import BotInfo, EventKind
from bot.runtime import BotRuntime
from storage.db import Database
from tests.conftest import on_postgres
from tests.e2e.conftest import ADMIN_ID, TOKEN, eventually
from tests.factories import add_activity, add_organization, add_user, add_volunteer

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="several instances need PostgreSQL (ZHIYUAN_TEST_POSTGRES)"
)

MakeUser = Callable[..., VirtualUser]
SECRET = "several-instances_secret"


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi(webhook_retry_base=0.05, webhook_retry_max=0.5) as server:
        yield server


class Instance:
    """One ``zhiyuan run --webhook`` process; :meth:`kill` gives it no chance to clean up."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = free_port()
        self.env = env | {"INSTANCE_NAME": name, "WEBHOOK_PORT": str(self.port)}
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self._output: IO[bytes] | None = None

    async def start(self) -> None:
        self._output = self.log.open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--webhook",
            env=self.env,
            # The test's own folder: no .env file of the developer's deployment is read.
            cwd=self.log.parent,
            stdout=self._output,
            stderr=self._output,
        )

    async def ready(self, session: aiohttp.ClientSession) -> bool:
        assert self.process is not None
        if self.process.returncode is not None:
            raise AssertionError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
        try:
            async with session.get(f"http://127.0.0.1:{self.port}/healthz") as answer:
                return answer.status == 200
        except aiohttp.ClientError:
            return False

    async def kill(self) -> None:
        """A real SIGKILL: no ``finally``, no lease given back, no connection closed."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._output is not None:
            self._output.close()


def _env(api: LocalBotApi, database: str, balancer: Balancer) -> dict[str, str]:
    keep = ("PATH", "HOME", "VIRTUAL_ENV", "PYTHONPATH", "LANG")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    return env | {
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": api.url,
        "DATABASE_URL": database,
        "ADMIN_IDS": str(ADMIN_ID),
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_URL": f"http://127.0.0.1:{balancer.port}{PATH}",
        "WEBHOOK_SECRET": SECRET,
        # A killed instance's update is taken over after this lease (30 s in production).
        "INBOX_LEASE_SECONDS": "2",
        "OUTBOX_INTERVAL_SECONDS": "0.2",
    }


#: A generous wait for one answer: 200 users act at once on a loaded 2-core CI machine.
PATIENCE = 90.0


async def register(user: VirtualUser) -> None:
    """``/register`` to "You are registered", as a person answers the form (the answers of
    tests/e2e/flows.py, with waits long enough for 200 people registering at once)."""
    steps: list[tuple[str, str | None, str | None]] = [
        # (what the bot asks, the button pressed or None, the text typed or None)
        ("Before you register", "✅ I accept", None),
        ("your real name", None, "Ann Lee"),
        ("your phone number", "📱 Share my phone number", None),
        ("your gender", "Female", None),
        ("date of birth", None, "1990-05-17"),
        ("where do you live", "Furong District", None),
        ("your skills", "Done ➡️", None),
        ("kinds of service", "Health", None),
        ("kinds of service", "Done ➡️", None),
        ("free to volunteer", "Weekday evenings", None),
        ("free to volunteer", "Done ➡️", None),
        ("groups", "Done ➡️", None),
        ("Please check your answers", "✅ Confirm", None),
    ]
    await user.send("/register")
    for question, button, text in steps:
        await user.wait_for_text(question, timeout=PATIENCE)
        if button == "📱 Share my phone number":
            await user.tap_reply_button(button)
        elif button is not None:
            await user.press(button)
        else:
            assert text is not None
            await user.send(text)
    await user.wait_for_text("You are registered", timeout=PATIENCE)


def answered_twice(
    api: LocalBotApi, users: list[VirtualUser], pressers: list[VirtualUser], mark: int
) -> int:
    """Updates answered a second time, as the users saw it: a second "What I can do" or
    activity card for a user; a card edited twice after the presses (``mark``); and every
    second answer of a callback query after it (the local server refuses one, as Telegram does,
    so each refusal is a press handled again after its answer went out)."""
    twice = 0
    for user in users:
        for text in ("What I can do", "Harbour clean-up"):
            twice += max(sum(text in m.visible_text for m in user.bot_messages()) - 1, 0)
    since = api.events_since(mark)
    for user in pressers:
        chat = user.chat_id
        edits = [e for e in since if e.kind is EventKind.BOT_EDIT and e.chat_id == chat]
        twice += max(len(edits) - 1, 0)
    return twice + sum(
        1
        for event in since
        if event.kind is EventKind.API_ERROR and event.detail.startswith("answerCallbackQuery")
    )


async def test_three_processes_share_the_work_and_survive_one_killed_with_sigkill(
    api: LocalBotApi, settings: Settings, db: Database, make_user: MakeUser, tmp_path: Path
) -> None:
    database = settings.database_target
    assert isinstance(database, str)
    balancer = Balancer()
    await balancer.start()
    env = _env(api, database, balancer)
    instances = [Instance(f"zy-{n}", env, tmp_path / f"zy-{n}.log") for n in range(3)]
    try:
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
        await asyncio.gather(*(instance.start() for instance in instances))
        async with aiohttp.ClientSession() as session:
            for instance in instances:
                await eventually(partial(instance.ready, session), bool, timeout=60)
                balancer.ports.append(instance.port)

        # All 200 register at once, through the whole form (some 14 updates each).
        await asyncio.gather(*(register(user) for user in users))
        registered = await db.fetch_one("SELECT COUNT(*) AS n FROM volunteers")
        assert registered is not None and registered["n"] == len(users)
        stored_before = await db.fetch_one("SELECT COUNT(*) AS n FROM inbox")
        assert stored_before is not None

        # Each user writes twice in a row; the replies come in the same order.
        await asyncio.gather(*(user.send("/help") for user in users))
        await asyncio.gather(*(user.send(f"/start act_{activity.activity_id}") for user in users))
        for user in users:
            first = await user.wait_for_text("What I can do", timeout=60)
            card = await user.wait_for_text("Harbour clean-up", timeout=60)
            assert first.message_id < card.message_id

        # The storm: 100 press Sign up at once; one process is killed while they are handled,
        # as soon as it holds some of them (or, if it never does, once all are answered).
        pressers = users[:100]
        cards = [user.last_bot_message() for user in pressers]
        victim = instances[1]

        def answered(user: VirtualUser) -> bool:
            query = user.last_query_id
            return query is not None and api.callback_query(query).answer is not None

        async def holding() -> int:
            if all(answered(user) for user in pressers):
                return -1
            row = await db.fetch_one(
                "SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending' AND owner = ?",
                (victim.name,),
            )
            return int(row["n"]) if row is not None else 0

        mark = api.seq
        await asyncio.gather(
            *(
                user.press("✋ Sign up", message=card)
                for user, card in zip(pressers, cards, strict=True)
                if card is not None
            )
        )
        await eventually(holding, lambda n: n != 0, timeout=60)
        await victim.kill()
        # A request the balancer had sent it fails and goes to the next instance; then the
        # balancer's health check (here: the test) takes it out of the rotation.
        balancer.ports.remove(victim.port)
        # What the dead process held stays leased to it until the lease runs out: those are
        # the updates in flight, at most one per user (a lane's head only).
        in_flight = await db.fetch_all(
            "SELECT lane FROM inbox WHERE status = 'pending' AND owner = ?", (victim.name,)
        )
        lanes = Counter(row["lane"] for row in in_flight)
        assert all(count == 1 for count in lanes.values())

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
        # No update lost: every one the users sent was stored once and handled.
        stored = await db.fetch_one("SELECT COUNT(*) AS n FROM inbox")
        assert stored is not None
        assert stored["n"] == stored_before["n"] + 2 * len(users) + len(pressers)
        # Answered twice: only an update in flight on the killed process may be (its answer
        # went out, the kill came before it was marked done, another process ran it again).
        twice = answered_twice(api, users, pressers, mark)
        print(
            f"\nSIGKILL with {len(lanes)} users' updates in flight on {victim.name}; "
            f"answered twice: {twice}"
        )
        assert twice <= len(lanes)
        # The work was shared, and one scheduler ran across the instances.
        owners = await db.fetch_all("SELECT COUNT(*) AS n FROM leases WHERE name = 'scheduler'")
        assert owners[0]["n"] == 1
        assert api.stats.webhook_deliveries >= stored["n"]
    finally:
        for instance in instances:
            await instance.stop()
        await balancer.stop()


def busiest_second(times: list[float]) -> int:
    """The most events within any one second (a sliding window over sorted times)."""
    times = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def test_a_broadcast_from_three_instances_arrives_once_each_within_the_global_rate(
    api: LocalBotApi, settings: Settings, make_user: MakeUser, bot_info: BotInfo
) -> None:
    """Only the holder of the scheduler lease delivers, so 1,000 recipients get the
    announcement exactly once, with no 429, and never more than Telegram's 30 in any one
    second as the local server timed the messages."""
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
        users = [make_user(f"R{n}", language_code="en") for n in range(1000)]
        for user in users:
            # They started the bot earlier (Telegram lets a bot write only to those).
            api.open_private_chat(bot_info, user.info)
            await add_volunteer(db, user.id, name=f"Resident {user.id}", now=now)
        await add_user(db, ADMIN_ID, first_name="Admin", now=now)
        broadcasts = runtimes[2].application.services.broadcasts
        await broadcasts.begin(ADMIN_ID)
        await broadcasts.set_text(ADMIN_ID, "Typhoon warning: stay indoors")
        await broadcasts.set_audience(ADMIN_ID, Audience(kind=AudienceKind.ALL))
        mark = len(api.events)
        await broadcasts.confirm(ADMIN_ID)
        for user in users:
            await user.wait_for_text("Typhoon warning", timeout=180, anywhere=True)
        counts = [
            sum("Typhoon warning" in (m.plain_text or "") for m in user.bot_messages())
            for user in users
        ]
        assert set(counts) == {1}
        assert api.stats.too_many_requests == 0
        sent = [e.time for e in api.events_since(mark) if e.kind is EventKind.BOT_MESSAGE]
        busiest = busiest_second(sent)
        print(f"\n1,000 recipients: at most {busiest} messages in any one second")
        assert busiest <= 30
    finally:
        for runtime in runtimes:
            await runtime.stop()
        await balancer.stop()
