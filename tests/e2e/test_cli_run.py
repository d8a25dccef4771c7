"""``zhiyuan run`` as an operator starts it: a real process, long polling the local Bot API
server, answering /start, and shutting down cleanly on SIGTERM with its data written."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.localapi import LocalBotApi, VirtualUser, VirtualUserInfo

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
