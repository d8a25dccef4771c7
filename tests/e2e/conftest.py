"""End-to-end fixtures: the real bot, built and started exactly as ``zhiyuan run`` does it
(:class:`bot.runtime.BotRuntime`), talking HTTP to the project's local Bot API server."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import pytest

from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.domain.workdays import CalendarDay, DayKind
from bot.localapi import LocalBotApi, VirtualUser, VirtualUserInfo
from bot.localapi.models import BotInfo
from bot.runtime import BotRuntime
from storage.backends import open_database
from storage.db import Database
from storage.migrate import migrate
from storage.workdays import CalendarDaysRepository

TOKEN = "123456:TEST-token_for-e2e"
ADMIN_ID = 9000


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as server:
        yield server


@pytest.fixture
def bot_info(api: LocalBotApi) -> BotInfo:
    return api.add_bot(TOKEN, username="zhiyuan_test_bot", first_name="Zhiyuan")


def database_settings(db_path: Path) -> dict[str, object]:
    """The database part of the settings: the test's SQLite file or PostgreSQL database."""
    if isinstance(db_path, str):  # a postgresql:// URL (ZHIYUAN_TEST_POSTGRES)
        return {"database_url": db_path}
    return {"database_path": db_path}


@pytest.fixture
def settings(api: LocalBotApi, bot_info: BotInfo, db_path: Path) -> Settings:
    return Settings(
        bot_token=TOKEN,
        bot_api_url=api.url,
        **database_settings(db_path),  # type: ignore[arg-type]
        admin_ids=frozenset({ADMIN_ID}),
        # The outbox job (offers, expiry sweep) runs often, so tests wait little for it.
        outbox_interval_seconds=0.2,
    )


class BotProcess:
    """Start, stop and restart the bot against the same database, like an operator would."""

    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        self.runtime: BotRuntime | None = None

    @property
    def db(self) -> Database:
        assert self.runtime is not None, "the bot is not running"
        return self.runtime.db

    async def start(self) -> BotRuntime:
        assert self.runtime is None, "already running"
        self.runtime = await BotRuntime.start(self.settings, clock=self.clock, poll_timeout=1)
        return self.runtime

    async def stop(self) -> None:
        if self.runtime is not None:
            runtime, self.runtime = self.runtime, None
            await runtime.stop()

    async def restart(self) -> BotRuntime:
        await self.stop()
        return await self.start()


async def enter_next_years_calendar(settings: Settings, clock: Clock) -> None:
    """Next year's working-day calendar, as a federation enters it in December (its New Year's
    Day, which is a holiday every year). Without it the bot rightly warns every administrator
    from December 1 (:meth:`bot.services.workdays.WorkdayService.warn_missing_year`), and that
    message would arrive in the middle of whatever a test on the real clock does as ADMIN_ID.
    The warning's own tests run on a fixed clock without this."""
    year = clock().astimezone(settings.tz).year + 1
    db = await open_database(settings.database_target)
    try:
        await migrate(db)
        new_year = CalendarDay(date(year, 1, 1), DayKind.HOLIDAY, "元旦")
        await CalendarDaysRepository(db).seed([new_year], clock())
    finally:
        await db.close()


@pytest.fixture
async def bot(settings: Settings, bot_info: BotInfo) -> AsyncIterator[BotProcess]:
    process = BotProcess(settings)
    await enter_next_years_calendar(settings, process.clock)
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


_ids = itertools.count(1001)


@pytest.fixture
def make_user(api: LocalBotApi, bot_info: BotInfo) -> Callable[..., VirtualUser]:
    def make(
        first_name: str = "Alice", language_code: str | None = "en", user_id: int | None = None
    ) -> VirtualUser:
        number = user_id if user_id is not None else next(_ids)
        info = VirtualUserInfo(
            id=number,
            first_name=first_name,
            language_code=language_code,
            # Telegram sends a contact's number without "+"; a valid Chinese mobile number.
            phone_number=f"86138{number % 100_000_000:08d}",
        )
        return VirtualUser(api, bot_info, info)

    return make


T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    condition: Callable[[T], bool],
    timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for polling stored state
) -> T:
    """Wait for a condition on stored state (for effects that send no message to wait for).

    Re-checks every 10 ms until ``timeout``; fails with the last value seen.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if condition(value):
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value {value!r}")
        await asyncio.sleep(0.01)


async def crash(process: BotProcess) -> None:
    """Stop the bot with nothing written on the way down, as after ``kill -9``: the bot keeps
    no state in memory that a shutdown would save (flows and drafts are written before a
    question is shown), so stopping is enough; ``process.start()`` brings it back.
    ``tests/e2e/test_processes.py`` kills a real ``zhiyuan run`` with SIGKILL."""
    runtime, process.runtime = process.runtime, None
    assert runtime is not None, "the bot is not running"
    await runtime.crash()
