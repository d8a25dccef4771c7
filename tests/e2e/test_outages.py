"""Bot API outages through the real application and the local Bot API server (issue #15).

Every failure kind the local server can act out (:class:`bot.localapi.state.Outage`) is tried at
once, each against its own server and its own bot (polling, and webhook mode for two of them),
while virtual users keep writing: afterwards every message is answered exactly once, within 10 s
of the API's return, and the polling health check says "cannot poll" meanwhile.

The outage lasts ``ZHIYUAN_OUTAGE_SECONDS`` (default 60 s, what the issue asks for, and what CI
runs: the kinds run side by side, so the whole file stays under about two and a half minutes).

The 5-minute outage of the notification test is real for the Bot API side (the server refuses
connections the whole time) but drives the outbox's idea of time with a ManualClock: five
minutes of backoff and staleness are walked through in steps while the server is down for a few
real seconds.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from bot.clock import Clock, ManualClock, system_clock
from bot.config import Settings
from bot.context import Services
from bot.delivery import API_UNREACHABLE, Rendered
from bot.domain.notifications import Notification, NotificationKind, OutboxItem
from bot.i18n import Translator
from bot.localapi import LocalBotApi, VirtualUser, VirtualUserInfo
from bot.localapi.balancer import free_port
from bot.localapi.state import Outage
from bot.runtime import BotRuntime
from storage.outbox import OutboxRepository
from storage.timeutil import to_db_time
from tests import conftest as root
from tests.e2e.conftest import database_settings, eventually
from tests.factories import add_user

OUTAGE_SECONDS = float(os.environ.get("ZHIYUAN_OUTAGE_SECONDS", "60"))
#: What the issue asks: answers resume within 10 s of the API's return.
ANSWERED_WITHIN = 10.0
REPLIES = ("sendMessage", "editMessageText", "answerCallbackQuery")
USERS_PER_BOT = 4
MESSAGES_PER_USER = 8
#: The main menu, which "🏠 Main menu" under the help text turns that message into.
MAIN_MENU = "Welcome to Zhiyuan"
SECRET = "outage-secret-0123456789"

pytestmark = pytest.mark.timeout(OUTAGE_SECONDS * 2 + 120)


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: Outage
    methods: tuple[str, ...] | None = None
    webhook: bool = False

    @property
    def cannot_poll(self) -> bool:
        return not self.webhook and self.methods is None


SCENARIOS = [
    Scenario("502 from a gateway, polling", Outage.BAD_GATEWAY),
    Scenario("502 on replies only, polling works", Outage.BAD_GATEWAY, REPLIES),
    Scenario("404 from a gateway, polling", Outage.GATEWAY_NOT_FOUND),
    Scenario("connections refused, polling", Outage.REFUSED),
    Scenario("answers too slow, polling", Outage.SLOW),
    Scenario("502 from a gateway, webhook", Outage.BAD_GATEWAY, webhook=True),
    Scenario("replies too slow, webhook", Outage.SLOW, REPLIES, webhook=True),
]


@pytest.fixture
async def database_for(
    tmp_path: Path, postgres_template: str | None
) -> AsyncIterator[Callable[[str], Path]]:
    """A fresh database per bot: a file, or on PostgreSQL a copy of the migrated template."""
    created: list[str] = []

    def make(name: str) -> Path:
        if postgres_template is None or root.POSTGRES_ADMIN_URL is None:
            return tmp_path / name / "zhiyuan.sqlite3"
        database = f"zy_t_{uuid.uuid4().hex[:16]}"
        root._admin(f'CREATE DATABASE "{database}" TEMPLATE "{postgres_template}"')
        created.append(database)
        return root._database_url(root.POSTGRES_ADMIN_URL, database)  # type: ignore[return-value]

    try:
        yield make
    finally:
        for database in created:
            root._admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@dataclass
class Pair:
    """One local Bot API server and one bot talking to it, with its users."""

    scenario: Scenario
    api: LocalBotApi
    runtime: BotRuntime
    users: list[VirtualUser]
    sent: dict[int, int] = field(default_factory=dict)
    #: user id → (the message whose "Main menu" they pressed during the outage, the query id)
    pressed: dict[int, tuple[int, str]] = field(default_factory=dict)

    async def health(self) -> int:
        url = f"http://127.0.0.1:{self.runtime.health_port}/healthz"
        async with aiohttp.ClientSession() as session, session.get(url) as answer:
            return answer.status

    def answers(self, user: VirtualUser) -> int:
        return len(user.bot_messages())

    def press_handled(self, user: VirtualUser) -> bool:
        if user.id not in self.pressed:
            return True
        message_id, query_id = self.pressed[user.id]
        answered = self.api.callback_query(query_id).answer is not None
        menu = self.api.message(user.bot, user.chat_id, message_id).text or ""
        return answered and MAIN_MENU in menu

    def all_answered(self) -> bool:
        return all(
            self.answers(user) >= self.sent.get(user.id, 0) and self.press_handled(user)
            for user in self.users
        )

    async def settled(self) -> bool:
        """Nothing left to handle: the inbox is empty and nothing runs."""
        processor = self.runtime.processor
        assert processor is not None
        row = await self.runtime.db.fetch_one(
            "SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending'"
        )
        return row is not None and int(row["n"]) == 0 and processor.busy == 0


async def start_pair(
    number: int, scenario: Scenario, database: Path, *, clock: Clock = system_clock
) -> Pair:
    api = LocalBotApi(webhook_retry_base=0.05, webhook_retry_max=0.5)
    await api.start()
    token = f"{700000 + number}:outage-{number}"
    info = api.add_bot(token, username=f"zhiyuan_outage_{number}_bot", first_name="Zhiyuan")
    values: dict[str, object] = {
        "bot_token": token,
        "bot_api_url": api.url,
        **database_settings(database),
        "outbox_interval_seconds": 0.2,
    }
    if scenario.webhook:
        port = free_port()
        values |= {
            "webhook_url": f"http://127.0.0.1:{port}/telegram",
            "webhook_secret": SecretStr(SECRET),
            "webhook_port": port,
        }
    else:
        values["health_port"] = free_port()
    try:
        runtime = await BotRuntime.start(
            Settings(**values),  # type: ignore[arg-type]
            clock=clock,
            poll_timeout=1,
            webhook=scenario.webhook,
        )
    except BaseException:
        await api.stop()
        raise
    users = [
        VirtualUser(
            api,
            info,
            VirtualUserInfo(id=number * 1000 + n, first_name=f"U{number}-{n}", language_code="en"),
        )
        for n in range(USERS_PER_BOT)
    ]
    return Pair(scenario, api, runtime, users)


async def stop_pair(pair: Pair) -> None:
    try:
        await pair.runtime.stop()
    finally:
        await pair.api.stop()


async def say(pair: Pair, user: VirtualUser) -> None:
    await user.send("/help")
    pair.sent[user.id] = pair.sent.get(user.id, 0) + 1


async def test_every_kind_of_outage_answers_every_update_once_soon_after(
    database_for: Callable[[str], Path],
) -> None:
    """Seven outages side by side, each ``OUTAGE_SECONDS`` long (60 s in CI, as the issue asks)."""
    make_database = database_for
    pairs: list[Pair] = []
    try:
        for number, scenario in enumerate(SCENARIOS, start=1):
            pairs.append(await start_pair(number, scenario, make_database(str(number))))
        loop = asyncio.get_running_loop()
        # Everybody is answered before the outage: each bot works.
        for pair in pairs:
            for user in pair.users:
                await say(pair, user)
        for pair in pairs:
            await pair.api.wait_for(pair.all_answered, timeout=20, description="warm-up")
            if not pair.scenario.webhook:
                await eventually(pair.health, lambda code: code == 200, timeout=10)

        outages = [
            await pair.api.fail_for(
                pair.scenario.kind, methods=pair.scenario.methods, delay=OUTAGE_SECONDS
            )
            for pair in pairs
        ]
        began = loop.time()
        # Users keep writing through the outage, spread over it.
        pause = OUTAGE_SECONDS / (MESSAGES_PER_USER + 1)
        for _ in range(MESSAGES_PER_USER):
            await asyncio.sleep(pause)  # the outage is a span of real time
            for pair in pairs:
                for user in pair.users:
                    await say(pair, user)
        # Polling bots that cannot poll say so.
        for pair in pairs:
            if pair.scenario.cannot_poll:
                assert await pair.health() == 503, pair.scenario.name
        await asyncio.sleep(max(0.0, began + OUTAGE_SECONDS - loop.time()))
        recovered = loop.time()
        for pair, outage in zip(pairs, outages, strict=True):
            await pair.api.recover(outage)

        async def answered(pair: Pair) -> float:
            left = recovered + ANSWERED_WITHIN - loop.time()
            await pair.api.wait_for(
                pair.all_answered,
                timeout=max(left, 0.1),
                description=f"every message answered after: {pair.scenario.name}",
            )
            return loop.time() - recovered

        # Within 10 s of the API's return (the bound; all seven bots share the
        # machine, which keeps it honest on a loaded CI runner).
        delays = await asyncio.gather(*(answered(pair) for pair in pairs))
        assert max(delays) <= ANSWERED_WITHIN, dict(
            zip([p.scenario.name for p in pairs], delays, strict=True)
        )
        for pair in pairs:
            await eventually(pair.settled, bool, timeout=30)
            # Exactly once: no reply repeated after a timeout the API had carried out.
            counts = {u.id: pair.answers(u) for u in pair.users}
            assert counts == pair.sent, pair.scenario.name
            if not pair.scenario.webhook:
                await eventually(pair.health, lambda code: code == 200, timeout=10)
    finally:
        for pair in pairs:
            await stop_pair(pair)


# ----------------------------------------------------------------- notifications, 5 minutes

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: no quiet hours
OUTAGE = timedelta(minutes=5)
STEP = timedelta(seconds=10)


async def render_until_stale(
    item: OutboxItem, services: Services, t: Translator
) -> Rendered | None:
    """The test's notification: timely until its ``stale_at`` (as a real reminder is until
    the activity starts)."""
    if services.clock() >= datetime.fromisoformat(str(item.payload["stale_at"])):
        return None
    return Rendered(str(item.payload["text"]))


async def outbox_rows(services: Services) -> list[dict[str, object]]:
    rows = await services.db.fetch_all(
        "SELECT telegram_id, status, attempts, due_at, last_error FROM outbox "
        "ORDER BY notification_id"
    )
    return [dict(row) for row in rows]


async def test_a_five_minute_outage_delivers_every_timely_notification_afterwards(
    database_for: Callable[[str], Path],
) -> None:
    make_database = database_for
    clock = ManualClock(NOW)
    pair = await start_pair(
        1, Scenario("refused for 5 minutes", Outage.REFUSED), make_database("n"), clock=clock
    )
    try:
        services = pair.runtime.application.services
        pair.runtime.application.deliverer.register(NotificationKind.REMINDER, render_until_stale)
        for user in pair.users:
            await add_user(services.db, user.id, now=clock())
            pair.api.open_private_chat(user.bot, user.info)
        await eventually(pair.health, lambda code: code == 200, timeout=10)
        outage = await pair.api.fail_for(Outage.REFUSED)
        await eventually(pair.health, lambda code: code == 503, timeout=15)
        # Half the users get a notification that stays timely, half one that goes stale
        # two minutes into the outage.
        timely = {user.id for user in pair.users[::2]}
        async with services.db.transaction() as tx:
            for user in pair.users:
                stale_at = NOW + (timedelta(hours=1) if user.id in timely else timedelta(minutes=2))
                await OutboxRepository.enqueue(
                    tx,
                    Notification(
                        kind=NotificationKind.REMINDER,
                        telegram_id=user.id,
                        subject=f"outage-{user.id}",
                        payload={
                            "text": f"Reminder for {user.id}",
                            "stale_at": stale_at.isoformat(),
                        },
                        due_at=NOW,
                    ),
                    NOW,
                )

        async def tried_all_due() -> bool:
            """Every pending row due by the (manual) clock has been tried and put back."""
            rows = await outbox_rows(services)
            return all(
                row["status"] != "pending" or str(row["due_at"]) > now_text() for row in rows
            )

        def now_text() -> str:
            return to_db_time(clock())

        # Five minutes of the outbox's time while the API refuses every connection.
        while clock() - NOW < OUTAGE:
            await eventually(tried_all_due, bool, timeout=15)
            clock.advance(STEP)
        await eventually(tried_all_due, bool, timeout=15)
        rows = await outbox_rows(services)
        assert not any(row["status"] in ("sent", "failed") for row in rows), rows
        assert all(user.bot_messages() == [] for user in pair.users)
        # Tried again and again: the old rule (six tries) had failed them by now.
        assert min(int(str(r["attempts"])) for r in rows if r["status"] == "pending") >= 6

        waiting = [row for row in rows if row["status"] == "pending"]
        assert all(str(row["last_error"]).startswith(API_UNREACHABLE) for row in waiting)
        # Backing off: the next tries lie up to MAX_BACKOFF ahead on the outbox's clock.
        assert max(str(row["due_at"]) for row in waiting) > now_text()

        await pair.api.recover(outage)
        await eventually(pair.health, lambda code: code == 200, timeout=15)

        async def settled() -> bool:
            return all(row["status"] != "pending" for row in await outbox_rows(services))

        # The outbox's clock stands still: no backoff runs out, yet once the API answers its
        # probe, every row waiting on it is tried in the next run (sent or, stale, dropped).
        await eventually(settled, bool, timeout=30)
        by_user = {int(str(row["telegram_id"])): row for row in await outbox_rows(services)}
        for user in pair.users:
            row = by_user[user.id]
            if user.id in timely:
                assert row["status"] == "sent", row
                assert [m.text for m in user.bot_messages()] == [f"Reminder for {user.id}"]
            else:
                assert row["status"] == "dropped", row
                assert user.bot_messages() == []
    finally:
        await stop_pair(pair)
