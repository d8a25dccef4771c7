"""Flow state lives in the database, so it survives what process memory does not (#12, #13.9):

* two bot processes on one database serving one user alternately continue the same forms
  (PTB's ConversationHandler kept its states per process and never re-read them);
* a real ``zhiyuan run`` killed with SIGKILL right after a form step was shown, then started
  again, takes the user's answer to that step (the old per-user flag was flushed every 2 s).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.domain.activities import MemberRole
from bot.localapi import LocalBotApi, VirtualUser, VirtualUserInfo
from bot.runtime import BotRuntime
from storage.backends import open_database
from storage.db import Database
from storage.migrate import migrate
from storage.organizations import OrganizationsRepository
from storage.volunteers import VolunteersRepository
from tests.e2e.conftest import ADMIN_ID, TOKEN, eventually
from tests.e2e.flows import answer_area_to_review
from tests.factories import add_activity, add_organization, add_user, add_volunteer

# SQLite itself: its files, pragmas and the migration runner on files.
pytestmark = pytest.mark.sqlite_only

# ------------------------------------------------------------------------ two processes


async def _serve_with(active: BotRuntime, idle: BotRuntime) -> None:
    """Hand polling from ``idle`` to ``active``: the other process keeps its memory."""
    await idle.stop_polling()  # what it fetched is in the inbox, served once
    await active.start_polling()


async def test_two_processes_on_one_database_continue_the_same_forms(
    settings: Settings, api: LocalBotApi, make_user: Callable[..., VirtualUser]
) -> None:
    first = await BotRuntime.start(settings, poll_timeout=1)
    second = await BotRuntime.start(settings, poll_timeout=1)
    try:
        assert first.db is not second.db  # two connections, like two processes
        user = make_user("Ann")
        await _serve_with(first, second)
        await user.send("/register")
        await user.wait_for_text("Before you register")
        await user.press("✅ I accept")
        await user.wait_for_text("your real name")

        await _serve_with(second, first)  # the name goes to the other process
        await user.send("Ann Lee")
        await user.wait_for_text("your phone number")

        await _serve_with(first, second)  # back to the first, whose memory saw only "accept"
        await user.send("13812345678")
        await user.wait_for_text("your gender")
        await user.press("Female")
        await user.wait_for_text("date of birth")

        await _serve_with(second, first)
        await user.send("1990-05-17")
        await _serve_with(first, second)
        await answer_area_to_review(user)
        await _serve_with(second, first)
        await user.press("✅ Confirm")
        await user.wait_for_text("You are registered")
        profile = await VolunteersRepository(first.db).get_profile(user.id)
        assert profile is not None
        assert (profile.real_name, profile.phone) == ("Ann Lee", "+8613812345678")

        # A one-question flow across processes: /search asked by one, answered at the other.
        await _serve_with(first, second)
        await user.send("/search")
        await user.wait_for_text("Type the words")
        await _serve_with(second, first)
        await user.send("nothing-like-this")
        await user.wait_for_text("nothing-like-this")  # the results screen names the words
    finally:
        await first.stop()
        await second.stop()


# ------------------------------------------------------------------------------ kill -9


def _env(api: LocalBotApi, database: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "SYSTEMROOT", "VIRTUAL_ENV", "PYTHONPATH")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env |= {
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": api.url,
        "DATABASE_PATH": str(database),
        "ADMIN_IDS": str(ADMIN_ID),
        "LOG_LEVEL": "WARNING",
    }
    return env


class RunningBot:
    """``zhiyuan run`` as a real process that can be killed without any chance to clean up."""

    def __init__(self, api: LocalBotApi, database: Path, cwd: Path) -> None:
        self._env = _env(api, database)
        self._cwd = cwd
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=self._env,
            cwd=self._cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        self.process = None


@dataclass(frozen=True)
class Form:
    """How to reach one typed step of a form, and what answering it leads to."""

    name: str
    user_id: int
    seed: Callable[[Database, int], Awaitable[None]]
    reach: Callable[[VirtualUser], Awaitable[None]]
    prompt: str
    answer: str
    after: str


async def _nothing(db: Database, user_id: int) -> None:
    return None


async def _volunteer(db: Database, user_id: int) -> None:
    await add_volunteer(db, user_id, name="Old Name")


async def _organizer(db: Database, user_id: int) -> None:
    await add_user(db, user_id)
    organization = await add_organization(db)
    await OrganizationsRepository(db).add_member(
        organization.organization_id, user_id, MemberRole.MANAGER, datetime.now(UTC)
    )


async def _volunteer_and_activity(db: Database, user_id: int) -> None:
    await add_volunteer(db, user_id, name="Kim")
    organization = await add_organization(db)
    await add_activity(db, organization, title="River cleanup", now=datetime.now(UTC))


async def _edit_name(user: VirtualUser) -> None:
    await user.send("/profile")
    await user.wait_for_text("My volunteer profile", timeout=30)
    await user.press("✏️ Edit")
    await user.wait_for_text("Which field")
    await user.press("✏️ Name")


async def _register(user: VirtualUser) -> None:
    await user.send("/register")
    await user.wait_for_text("Before you register")
    await user.press("✅ I accept")


async def _new_activity(user: VirtualUser) -> None:
    await user.send("/new")


async def _cancel_with_reason(user: VirtualUser) -> None:
    await user.start("act_1")  # the only activity
    await user.wait_for_text("River cleanup", timeout=30)
    await user.press("✋ Sign up")
    await user.wait_for_text("You are signed up!")
    await user.press("❌ Cancel my sign-up")
    await user.wait_for_text("tell the organizer why")
    await user.press("✍️ Type a reason")


async def _apply(user: VirtualUser) -> None:
    await user.send("/organize")


async def _broadcast(user: VirtualUser) -> None:
    await user.send("/broadcast")


async def _search(user: VirtualUser) -> None:
    await user.send("/search")


FORMS = [
    Form("profile edit", 7001, _volunteer, _edit_name, "real name", "New Name", "check your"),
    Form("registration", 7002, _nothing, _register, "real name", "Ann Lee", "phone number"),
    Form("new activity", 7003, _organizer, _new_activity, "title", "Tree planting", "kind of"),
    Form(
        "cancel reason",
        7004,
        _volunteer_and_activity,
        _cancel_with_reason,
        "Type your reason",
        "Flu",
        "sign-up is cancelled",
    ),
    Form("organization", 7005, _nothing, _apply, "full name", "Green Hunan", "type"),
    Form("broadcast", ADMIN_ID, _nothing, _broadcast, "announcement", "Snow tomorrow", "Who"),
    Form("search", 7006, _nothing, _search, "Type the words", "no-such-words", "no-such-words"),
]


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as server:
        yield server


@pytest.mark.parametrize("form", FORMS, ids=[form.name for form in FORMS])
async def test_kill_9_right_after_a_step_is_shown_keeps_the_step(
    form: Form, api: LocalBotApi, tmp_path: Path
) -> None:
    bot_info = api.add_bot(TOKEN, username="zhiyuan_kill_bot")
    database = tmp_path / "kill.sqlite3"
    db = await open_database(database)
    try:
        await migrate(db)
        await form.seed(db, form.user_id)
    finally:
        await db.close()
    user = VirtualUser(
        api, bot_info, VirtualUserInfo(id=form.user_id, first_name="Kai", language_code="en")
    )
    running = RunningBot(api, database, tmp_path)
    await running.start()
    try:
        await form.reach(user)
        await user.wait_for_text(form.prompt, timeout=30)
        # Polling has acknowledged the press or message that showed the step (so it is not
        # delivered again after the restart); then the process dies with no chance to flush.
        await api.wait_for(lambda: not api.pending_updates(TOKEN), description="acknowledged")
        await running.kill()
        await running.start()
        await user.send(form.answer)
        await user.wait_for_text(form.after, timeout=30)
        assert not any(
            "did not understand" in (message.text or "") for message in user.bot_messages()
        )
    finally:
        await running.kill()


# ------------------------------------------------------------ kill -9 during a sign-up storm


async def test_kill_9_during_100_sign_up_presses_loses_none_and_overbooks_nothing(
    api: LocalBotApi, tmp_path: Path
) -> None:
    """Issue #15 item 1: 100 volunteers press Sign up for 5 spots within a second and the bot
    is killed mid-way. Polling stores each update before it acknowledges it (the durable inbox),
    so after the restart every press is answered — the spot or "full" — exactly 5 are confirmed
    and the counters equal the rows."""
    bot_info = api.add_bot(TOKEN, username="zhiyuan_storm_bot")
    database = tmp_path / "storm.sqlite3"
    db = await open_database(database)
    try:
        await migrate(db)
        organization = await add_organization(db)
        activity = await add_activity(
            db,
            organization,
            capacity=5,
            title="Storm drill",
            starts_at=datetime.now(UTC) + timedelta(days=5),
        )
        people = []
        for number in range(100):
            user_id = 20_000 + number
            await add_volunteer(db, user_id, name=f"Storm {number}")
            people.append(
                VirtualUser(
                    api,
                    bot_info,
                    VirtualUserInfo(id=user_id, first_name=f"S{number}", language_code="en"),
                )
            )
    finally:
        await db.close()
    running = RunningBot(api, database, tmp_path)
    await running.start()
    try:
        # Everyone opens the card first (served before the storm).
        for user in people:
            await user.send(f"/start act_{activity.activity_id}")
        for user in people:
            await user.wait_for_text("Storm drill", timeout=60)
        cards = [user.last_bot_message() for user in people]
        # The storm: 100 presses at once; the process is killed once a few were answered.
        await asyncio.gather(
            *(
                user.press("✋ Sign up", message=card)
                for user, card in zip(people, cards, strict=True)
                if card is not None
            )
        )

        def answered(user: VirtualUser) -> bool:
            query = user.last_query_id
            return query is not None and api.callback_query(query).answer is not None

        await api.wait_for(
            lambda: sum(1 for user in people if answered(user)) >= 3,
            timeout=60,
            description="a few presses answered",
        )
        await running.kill()
        await running.start()
        await api.wait_for(
            lambda: all(answered(user) for user in people),
            timeout=120,
            description="every press answered after the restart",
        )
        # And the inbox drains: every stored update was handled to the end.
        watcher = await open_database(database)
        try:

            async def pending() -> int:
                row = await watcher.fetch_one(
                    "SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending'"
                )
                return int(row["n"]) if row is not None else -1

            await eventually(pending, lambda n: n == 0, timeout=60)
        finally:
            await watcher.close()
    finally:
        await running.kill()
    db = await open_database(database)
    try:
        row = await db.fetch_one(
            "SELECT confirmed_count, (SELECT COUNT(*) FROM signups WHERE activity_id = ? "
            "AND status = 'confirmed') AS rows FROM activities WHERE activity_id = ?",
            (activity.activity_id, activity.activity_id),
        )
    finally:
        await db.close()
    assert row is not None and row["confirmed_count"] == row["rows"] == 5
