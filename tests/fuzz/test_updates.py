"""Fuzzed updates through the real application (issue #15 item 4), property-based.

Hypothesis draws updates of every kind the bot may receive: random, huge and control-character
text, forged presses of every known button family with random fields, edited messages, media
without text, contacts and locations, commands in groups and supergroups, commands of an
anonymous group administrator (``GroupAnonymousBot``, a bot sender), channel posts. Each is fed
to the application that ``zhiyuan run`` builds (``bot.app.build_application``), talking HTTP to
the local Bot API server, with ``application.process_update``. Properties:

* no exception reaches the error handler;
* forged presses by people without any role change nothing: the organization, its members,
  activities, sign-ups, service records and volunteer profiles keep their checksums;
* afterwards ``PRAGMA integrity_check`` is ok.

Deterministic (``derandomize``) and sized for CI; ``ZHIYUAN_FUZZ_EXAMPLES`` runs more.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.app import ZyApplication, build_application
from bot.clock import system_clock
from bot.config import Settings
from bot.domain.activities import MemberRole
from bot.localapi import LocalBotApi, VirtualUserInfo
from bot.localapi.models import JSONDict
from bot.localapi.state import BotState
from handlers.callbacks import PRESS_FAMILIES
from handlers.lazy import expanded
from handlers.press_table import PressQueryHandler
from storage.db import Database, SqliteDatabase
from storage.migrate import migrate
from storage.organizations import OrganizationsRepository
from tests.factories import add_activity, add_organization, add_volunteer

pytestmark = pytest.mark.sqlite_only

EXAMPLES = int(os.environ.get("ZHIYUAN_FUZZ_EXAMPLES", "800"))
TOKEN = "424242:FUZZ-token"
ADMIN_ID = 9000
MANAGER_ID = 8001
SIGNED_UP_ID = 8002
# People without any role: unregistered, in no organization (their presses are all forged).
PEOPLE = [
    VirtualUserInfo(7001 + n, name, language_code=code)
    for n, (name, code) in enumerate([("Ann", "en"), ("Bo", "zh-hans"), ("Cy", None)])
]
GROUP_ID = -4242
SUPERGROUP_ID = -1001234567890
CHANNEL = {"id": -1009876543210, "type": "channel", "title": "News"}
ANONYMOUS_ADMIN = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
#: What a forged press must never change (ordered by key so a checksum is stable).
GUARDED = {
    "organizations": "organization_id",
    "organization_members": "organization_id, telegram_id",
    "activities": "activity_id",
    "signups": "signup_id",
    "service_records": "record_id",
    "volunteers": "volunteer_id",
}


@dataclass(repr=False)
class Harness:
    loop: asyncio.AbstractEventLoop
    api: LocalBotApi
    state: BotState
    application: ZyApplication
    db: Database
    path: Path
    errors: list[BaseException | None] = field(default_factory=list)
    #: A bot message in each chat that presses are made on.
    pressable: dict[int, int] = field(default_factory=dict)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    loop = asyncio.new_event_loop()
    path = tmp_path_factory.mktemp("fuzz") / "zhiyuan.db"
    api = LocalBotApi()
    loop.run_until_complete(api.__aenter__())
    bot_info = api.add_bot(TOKEN, username="zhiyuan_fuzz_bot", first_name="Zhiyuan")
    config = Settings(
        bot_token=TOKEN, bot_api_url=api.url, database_path=path, admin_ids=frozenset({ADMIN_ID})
    )

    async def start() -> tuple[ZyApplication, Database]:
        db = await SqliteDatabase.open_file(path)
        await migrate(db)
        application = build_application(config, db, clock=system_clock)
        await application.initialize()
        now = system_clock()
        organization = await add_organization(db, now=now)
        await add_volunteer(db, MANAGER_ID, name="李组织", now=now)
        await OrganizationsRepository(db).add_member(
            organization.organization_id, MANAGER_ID, MemberRole.MANAGER, now
        )
        for days in (3, 10):
            await add_activity(db, organization, now=now, starts_in=timedelta(days=days))
        await add_volunteer(db, SIGNED_UP_ID, name="张志愿", now=now)
        await application.services.signups.sign_up(SIGNED_UP_ID, 1)
        return application, db

    application, db = loop.run_until_complete(start())
    state = api.bot_state(bot_info)
    found = Harness(loop, api, state, application, db, path)

    async def count(update: object, context: Any) -> None:
        found.errors.append(context.error)

    application.add_error_handler(count)
    for person in PEOPLE:
        chat = api.open_private_chat(bot_info, person)
        found.pressable[person.id] = api.bot_message(state, chat, text="Menu").message_id
    for chat_id in (GROUP_ID, SUPERGROUP_ID):
        chat = api.create_group(bot_info, chat_id, members=PEOPLE)
        found.pressable[chat_id] = api.bot_message(state, chat, text="Hi").message_id
    try:
        yield found
    finally:

        async def stop() -> None:
            await application.shutdown()
            await db.close()
            await api.__aexit__(None, None, None)

        loop.run_until_complete(stop())
        loop.close()


# ------------------------------------------------------------------------------ strategies


def _prefixes() -> list[str]:
    """Every callback prefix a handler listens to: typed families and older regex patterns."""
    application = build_application(
        Settings(bot_token=TOKEN, database_path=Path("unused.db")),
        None,  # type: ignore[arg-type]  # only the handler table is read
        token=TOKEN,
    )
    # Every module loaded, so every Press family is defined.
    handlers = expanded(application.handlers)
    found = set(PRESS_FAMILIES)
    for group in handlers.values():
        for handler in group:
            # A module's own prefix (``adm.*``): data under it that no family parses.
            if isinstance(handler, PressQueryHandler) and handler.claims.endswith(".*"):
                found.add(handler.claims.removesuffix("*"))
            if isinstance(handler, CallbackQueryHandler) and isinstance(
                handler.pattern, re.Pattern
            ):
                literal = re.match(r"\^((?:[A-Za-z0-9_.-]|\\.)+)", handler.pattern.pattern)
                if literal:
                    found.add(re.sub(r"\\(.)", r"\1", literal.group(1)))
    return sorted(found)


def _field_values(kind: Any) -> st.SearchStrategy[str]:
    """Valid-looking values of a Press field's type (ids small, so they hit real rows)."""
    if kind is bool:
        return st.sampled_from(["0", "1"])
    if kind is int:
        return st.one_of(st.integers(0, 5).map(str), st.sampled_from(["9999999999999999"]))
    if isinstance(kind, type) and issubclass(kind, Enum):
        return st.sampled_from([str(member.value) for member in kind])
    return st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True)


_GARBAGE_PART = st.one_of(
    st.integers(-3, 10**17).map(str),
    st.text(max_size=12),
    st.sampled_from(["", "²", "١٢", "-1", " 1", "0x1", "1e3", "None", "nan"]),
)


@st.composite
def callback_data(draw: st.DrawFn) -> str:
    choice = draw(st.integers(0, 9))
    if choice < 5:  # a typed family with fields of the right types, sometimes one too many/few
        family = PRESS_FAMILIES[draw(st.sampled_from(sorted(PRESS_FAMILIES)))]
        parts = [draw(_field_values(kind)) for _, kind in family._field_types()]
        if draw(st.integers(0, 4)) == 0:
            shorter = bool(parts) and draw(st.booleans())
            parts = parts[:-1] if shorter else [*parts, "1"]
        data = ":".join([family.prefix, *parts])
    elif choice < 9:  # any handler's prefix with garbage fields
        parts = draw(st.lists(_GARBAGE_PART, max_size=5))
        data = ":".join([draw(st.sampled_from(PREFIXES)), *parts])
    else:
        data = draw(st.text(min_size=1, max_size=64))
    # Telegram refuses callback data over 64 bytes; a client cannot send more.
    return data.encode()[:64].decode(errors="ignore") or "x"


_CONTROL = st.characters(min_codepoint=0, max_codepoint=31)
_TEXT = st.one_of(
    st.text(min_size=1, max_size=50),
    st.text(alphabet=_CONTROL, min_size=1, max_size=20),
    st.integers(1000, 4096).map(lambda n: "长" * n),  # Telegram's limit is 4096 characters
    st.sampled_from(
        [
            "/start",
            "/start reg",
            "/start a_1",
            "/my",
            "/help",
            "/cancel",
            "/admin",
            "/new",
            "/stats",
            "/hours",
            "/language",
            "/start@zhiyuan_fuzz_bot",
            "/unknown",
            "/",
            "\u200b",
        ]
    ).flatmap(lambda cmd: st.sampled_from([cmd, cmd + " " + "x" * 100, cmd + " \x00\x07"])),
).filter(lambda text: text.strip() != "")

_MEDIA: list[JSONDict] = [
    {"photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}]},
    {
        "sticker": {
            "file_id": "s1",
            "file_unique_id": "u2",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    },
    {"voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 1}},
    {"dice": {"emoji": "🎲", "value": 3}},
    {"audio": {"file_id": "a1", "file_unique_id": "u4", "duration": 2}},
    {"document": {"file_id": "d1", "file_unique_id": "u5", "file_name": "x.pdf"}},
]


@dataclass(frozen=True)
class Action:
    kind: str
    person: int
    chat: str  # "private", "group", "supergroup"
    text: str = ""
    data: str = ""
    media: int = 0


actions = st.builds(
    Action,
    kind=st.sampled_from(
        ["text", "press", "press", "edit", "media", "contact", "location", "channel", "anonymous"]
    ),
    person=st.integers(0, len(PEOPLE) - 1),
    chat=st.sampled_from(["private", "private", "group", "supergroup"]),
    text=_TEXT,
    data=callback_data(),
    media=st.integers(0, len(_MEDIA) - 1),
)


# ------------------------------------------------------------------------------ the property


def _update(harness: Harness, action: Action) -> JSONDict:
    """Make the server produce the update (chats, messages and queries it knows), then take it
    from its queue to feed by hand; or build the kinds no virtual user can send."""
    api, state, bot = harness.api, harness.state, harness.state.info
    person = PEOPLE[action.person]
    chat_id = {"private": None, "group": GROUP_ID, "supergroup": SUPERGROUP_ID}[action.chat]
    target = chat_id if chat_id is not None else person.id
    if action.kind == "text":
        api.user_send_text(bot, person, action.text, chat_id=chat_id)
    elif action.kind == "press":
        api.user_press_button(bot, person, harness.pressable[target], action.data, chat_id=chat_id)
    elif action.kind == "contact":
        api.user_share_contact(bot, person, "8613800138000", chat_id=chat_id)
    elif action.kind == "location":
        api.user_share_location(bot, person, 31.2, 121.4, chat_id=chat_id)
    else:
        chat = api.chat(bot, target)
        base: JSONDict = {"message_id": chat.next_message_id, "date": api.now()}
        chat_json: JSONDict = {"id": chat.id, "type": chat.type}
        if action.kind == "edit":
            payload = base | {
                "chat": chat_json,
                "from": person.to_api(),
                "text": action.text,
                "edit_date": api.now(),
            }
            return {"update_id": 0, "edited_message": payload}
        if action.kind == "media":
            payload = base | {"chat": chat_json, "from": person.to_api()} | _MEDIA[action.media]
            return {"update_id": 0, "message": payload}
        if action.kind == "channel":
            return {"update_id": 0, "channel_post": base | {"chat": CHANNEL, "text": action.text}}
        group = {"id": SUPERGROUP_ID, "type": "supergroup", "title": "Volunteers"}
        payload = base | {
            "chat": group,
            "from": ANONYMOUS_ADMIN,
            "sender_chat": group,
            "text": action.text,
        }
        return {"update_id": 0, "message": payload}
    return state.updates.pop()


async def _checksums(db: Database) -> dict[str, str]:
    sums = {}
    for table, key in GUARDED.items():
        rows = await db.fetch_all(f"SELECT * FROM {table} ORDER BY {key}")
        digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
        sums[table] = f"{len(rows)}:{digest}"
    return sums


PREFIXES = _prefixes()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(action=actions)
def test_fuzzed_updates_raise_nothing_and_forged_presses_change_nothing(
    harness: Harness, action: Action
) -> None:
    seen = len(harness.errors)
    before = harness.run(_checksums(harness.db))
    data = _update(harness, action)
    update = Update.de_json(data, harness.application.bot)
    harness.run(harness.application.process_update(update))
    raised = harness.errors[seen:]
    assert raised == [], f"{action!r} raised {raised!r}"
    assert harness.run(_checksums(harness.db)) == before, f"{action!r} changed guarded rows"


def test_the_database_is_intact_afterwards(harness: Harness) -> None:
    rows = harness.run(harness.db.fetch_all("PRAGMA integrity_check"))
    assert [tuple(row) for row in rows] == [("ok",)]
    assert harness.errors == []
