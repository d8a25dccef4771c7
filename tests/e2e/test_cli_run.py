"""``zhiyuan run`` as an operator starts it: a real process, long polling the local Bot API
server, answering /start, and shutting down cleanly on SIGTERM with its data written."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.localapi import LocalBotApi, VirtualUser, VirtualUserInfo
from tests.e2e.conftest import eventually

# SQLite itself: its files, pragmas and the migration runner on files.
pytestmark = pytest.mark.sqlite_only

TOKEN = "4242:CLI-run-test"


def _env(api: LocalBotApi, database: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "SYSTEMROOT", "VIRTUAL_ENV")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env |= {
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": api.url,
        "DATABASE_PATH": str(database),
        "LOG_LEVEL": "INFO",
    }
    return env


async def test_run_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with LocalBotApi() as api:
        bot = api.add_bot(TOKEN, username="zhiyuan_cli_bot")
        database = tmp_path / "run.sqlite3"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=_env(api, database),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            user = VirtualUser(
                api, bot, VirtualUserInfo(id=555, first_name="Ops", language_code="en")
            )
            # The process needs a moment to start and poll; the reply is what we wait for.
            await user.send("/start")
            await user.wait_for_text("Welcome to Zhiyuan", timeout=30)
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Zhiyuan stopped" in log
    assert TOKEN not in log  # the token never reaches the log
    assert "Traceback" not in log
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT first_name FROM users WHERE telegram_id = 555").fetchone()
    assert row == ("Ops",)


async def test_run_with_a_rejected_token_says_so_in_one_line(tmp_path: Path) -> None:
    async with LocalBotApi() as api:  # no bot registered: the token is unknown there
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=_env(api, tmp_path / "x.sqlite3"),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    log = stderr.decode()
    assert process.returncode == 2, log
    assert "Traceback" not in log
    assert log.strip().splitlines()[-1] == (
        "zhiyuan: the Bot API server rejected BOT_TOKEN (check the token from @BotFather)"
    )


async def _queue_broadcast(database: Path, recipients: list[VirtualUserInfo]) -> None:
    """A broadcast to ``recipients`` queued in the database before the bot starts, as an
    administrator's confirm leaves it (through the real broadcast service)."""
    from bot.app import build_application
    from bot.config import Settings
    from bot.domain.broadcasts import Audience, AudienceKind
    from storage.db import SqliteDatabase
    from storage.migrate import migrate
    from tests.factories import add_user, add_volunteer

    db = await SqliteDatabase.open_file(database)
    try:
        await migrate(db)
        settings = Settings(bot_token=TOKEN, database_path=database, admin_ids=frozenset({1}))
        services = build_application(settings, db, token=TOKEN).services
        now = services.clock()
        for person in recipients:
            await add_volunteer(db, person.id, name=f"Resident {person.id}", now=now)
        # Whatever the hour the test runs at: nobody here keeps quiet hours (equal times).
        async with db.transaction() as tx:
            await tx.execute("UPDATE volunteers SET quiet_start = '00:00', quiet_end = '00:00'")
        await add_user(db, 1, first_name="Admin", now=now)
        broadcasts = services.broadcasts
        await broadcasts.begin(1)
        await broadcasts.set_text(1, "Typhoon warning: stay indoors")
        await broadcasts.set_audience(1, Audience(kind=AudienceKind.ALL))
        await broadcasts.confirm(1)
    finally:
        await db.close()


async def test_sigterm_during_a_broadcast_stops_within_seconds_and_leaves_the_rest_queued(
    tmp_path: Path,
) -> None:
    """#14: a SIGTERM in the middle of a broadcast stops the process within 5 s (it used to
    keep draining for up to 5 minutes). What was sent is recorded as sent, nothing is marked
    failed, and the rest stays queued: the next start delivers it, each message exactly once."""
    recipients = [VirtualUserInfo(id=70_000 + n, first_name=f"R{n}") for n in range(300)]
    database = tmp_path / "run.sqlite3"
    await _queue_broadcast(database, recipients)
    async with LocalBotApi() as api:
        bot = api.add_bot(TOKEN, username="zhiyuan_cli_bot")
        for person in recipients:
            api.open_private_chat(bot, person)
        users = [VirtualUser(api, bot, person) for person in recipients]

        def delivered() -> int:
            return sum(
                "Typhoon warning" in (m.plain_text or "") for u in users for m in u.bot_messages()
            )

        async def start() -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run",
                env=_env(api, database), cwd=tmp_path,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip

        process = await start()
        try:
            await _until(delivered, 60)
            process.send_signal(signal.SIGTERM)
            signalled = asyncio.get_running_loop().time()
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
            took = asyncio.get_running_loop().time() - signalled
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, stderr.decode()
        # Bounded generously for CI: the drain itself stops at the next send.
        assert took < 5.0, f"stopping took {took:.1f} s"
        with sqlite3.connect(database) as connection:
            statuses = dict(
                connection.execute(
                    "SELECT status, COUNT(*) FROM outbox WHERE kind = 'broadcast' GROUP BY status"
                ).fetchall()
            )
        sent_before = delivered()
        assert statuses.get("sent", 0) == sent_before
        assert statuses.get("pending", 0) == 300 - sent_before > 0
        assert "failed" not in statuses

        process = await start()
        try:
            await _until(delivered, 300)
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.communicate(), timeout=60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        counts = {
            sum("Typhoon warning" in (m.plain_text or "") for m in u.bot_messages()) for u in users
        }
        assert counts == {1}


async def _until(condition: Callable[[], int], target: int) -> None:
    """Wait until the server holds ``target`` broadcast messages."""

    async def probe() -> int:
        return condition()

    await eventually(probe, lambda n: n >= target, timeout=60)
