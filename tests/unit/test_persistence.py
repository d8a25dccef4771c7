"""storage.persistence.SQLitePersistence: PTB's persistence contract on our SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData

from storage.db import Database
from storage.migrate import migrate
from storage.persistence import PersistenceDataError, SQLitePersistence


@pytest.fixture
async def persistence(db: Database) -> SQLitePersistence:
    return SQLitePersistence(db)


async def reopen(path: Path) -> Database:
    db = await Database.open(path)
    await migrate(db)
    return db


async def test_empty_database_gives_empty_defaults(persistence: SQLitePersistence) -> None:
    assert await persistence.get_user_data() == {}
    assert await persistence.get_chat_data() == {}
    assert await persistence.get_bot_data() == {}
    assert await persistence.get_callback_data() is None
    assert await persistence.get_conversations("registration") == {}


async def test_everything_survives_a_restart(db_path: Path) -> None:
    db = await reopen(db_path)
    first = SQLitePersistence(db, update_interval=5)
    assert first.update_interval == 5
    await first.update_user_data(7, {"draft": {"name": "李雷", "skills": ["急救", "外语"]}})
    await first.update_user_data(8, {})
    await first.update_chat_data(-100123, {"pinned": 3, "ratio": 0.5, "on": True, "x": None})
    await first.update_bot_data({"campaign": "3·5"})
    await first.update_conversation("registration", (7, 7), 2)
    await first.update_conversation("registration", (8, 8), "ASK_NAME")
    await first.update_conversation("registration", (9, 9), 1)
    await first.update_conversation("registration", (9, 9), None)  # conversation ended
    await first.update_conversation("signup", (-100123, 7, "msg:5"), 0)
    await first.update_callback_data(
        (
            [("kb1", 1700000000.5, {"b1": "join:1", "b2": {"act": "leave", "id": 2}})],
            {"query-1": "kb1"},
        )
    )
    await first.flush()
    await db.close()

    db = await reopen(db_path)
    try:
        second = SQLitePersistence(db)
        assert await second.get_user_data() == {
            7: {"draft": {"name": "李雷", "skills": ["急救", "外语"]}},
            8: {},
        }
        assert await second.get_chat_data() == {
            -100123: {"pinned": 3, "ratio": 0.5, "on": True, "x": None}
        }
        assert await second.get_bot_data() == {"campaign": "3·5"}
        assert await second.get_conversations("registration") == {(7, 7): 2, (8, 8): "ASK_NAME"}
        assert await second.get_conversations("signup") == {(-100123, 7, "msg:5"): 0}
        assert await second.get_callback_data() == (
            [("kb1", 1700000000.5, {"b1": "join:1", "b2": {"act": "leave", "id": 2}})],
            {"query-1": "kb1"},
        )
        # Values are stored as readable JSON.
        row = await db.fetch_one(
            "SELECT value FROM ptb_persistence WHERE kind = 'user_data' AND key = '7'"
        )
        assert row is not None and json.loads(row["value"])["draft"]["name"] == "李雷"
    finally:
        await db.close()


async def test_drop_user_and_chat_data(persistence: SQLitePersistence) -> None:
    await persistence.update_user_data(1, {"a": 1})
    await persistence.update_user_data(2, {"b": 2})
    await persistence.update_chat_data(10, {"c": 3})
    await persistence.drop_user_data(1)
    await persistence.drop_chat_data(10)
    await persistence.drop_chat_data(11)  # unknown ids are fine
    assert await persistence.get_user_data() == {2: {"b": 2}}
    assert await persistence.get_chat_data() == {}
    # Writing the same data again after a drop really writes it again.
    await persistence.update_user_data(1, {"a": 1})
    assert await persistence.get_user_data() == {1: {"a": 1}, 2: {"b": 2}}


async def test_get_returns_copies(persistence: SQLitePersistence) -> None:
    await persistence.update_user_data(1, {"items": [1]})
    loaded = await persistence.get_user_data()
    loaded[1]["items"].append(2)
    assert await persistence.get_user_data() == {1: {"items": [1]}}


async def test_updates_overwrite(persistence: SQLitePersistence) -> None:
    await persistence.update_bot_data({"v": 1})
    await persistence.update_bot_data({"v": 2})
    await persistence.update_conversation("c", (1, 1), 1)
    await persistence.update_conversation("c", (1, 1), 2)
    assert await persistence.get_bot_data() == {"v": 2}
    assert await persistence.get_conversations("c") == {(1, 1): 2}


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"when": datetime(2026, 1, 1, tzinfo=UTC)}, "user_data[5]['when'] is a datetime"),
        ({"draft": {"tags": ("a", "b")}}, "user_data[5]['draft']['tags'] is a tuple"),
        ({"seen": {1, 2}}, "user_data[5]['seen'] is a set"),
        ({"by_id": {3: "x"}}, "user_data[5]['by_id'] has the key 3 of type int"),
        ({"ratio": float("nan")}, "user_data[5]['ratio'] is nan"),
    ],
)
async def test_non_json_user_data_is_refused_with_its_location(
    persistence: SQLitePersistence, data: dict[str, Any], where: str
) -> None:
    with pytest.raises(PersistenceDataError) as caught:
        await persistence.update_user_data(5, data)
    assert isinstance(caught.value, TypeError)
    assert where in str(caught.value)
    assert await persistence.get_user_data() == {}


async def test_other_invalid_data_is_refused(persistence: SQLitePersistence) -> None:
    with pytest.raises(TypeError, match=r"chat_data\[9\]\['obj'\] is a object"):
        await persistence.update_chat_data(9, {"obj": object()})
    with pytest.raises(TypeError, match="bot_data is a list"):
        await persistence.update_bot_data([1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be int or str"):
        await persistence.update_conversation("c", (1, 1), 1.5)
    with pytest.raises(TypeError, match="callback_data keyboard kb"):
        await persistence.update_callback_data(([("kb", 1.0, {"b": ("tuple",)})], {}))


async def test_database_can_come_from_an_async_factory(db: Database) -> None:
    calls = 0

    async def open_db() -> Database:
        nonlocal calls
        calls += 1
        return db

    persistence = SQLitePersistence(open_db)
    await persistence.update_user_data(1, {"x": 1})
    assert await persistence.get_user_data() == {1: {"x": 1}}
    assert calls == 1


# -- through a real telegram.ext.Application ---------------------------------------------------

BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Zhiyuan", "username": "zhiyuan_bot"}
ASK_NAME = 1


class OfflineRequest(BaseRequest):
    """Answers getMe (called by Application.initialize); any other request fails the test."""

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if url.endswith("/getMe"):
            return 200, json.dumps({"ok": True, "result": BOT_USER}).encode()
        raise AssertionError(f"unexpected request to {url}")


def text_update(bot: Any, update_id: int, user_id: int, text: str) -> Update:
    entities = [{"type": "bot_command", "offset": 0, "length": len(text)}] if text[0] == "/" else []
    payload = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(datetime(2026, 3, 5, tzinfo=UTC).timestamp()),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Li"},
            "text": text,
            "entities": entities,
        },
    }
    update = Update.de_json(payload, bot)
    assert update is not None
    return update


def build_app(
    persistence: SQLitePersistence, names: list[str]
) -> Application[Any, Any, Any, Any, Any, Any]:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert context.user_data is not None
        context.user_data["step"] = "name"
        return ASK_NAME

    async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.effective_message is not None and update.effective_message.text
        names.append(update.effective_message.text)
        return ConversationHandler.END

    application = (
        ApplicationBuilder()
        .token("123:ABC")
        .request(OfflineRequest())
        .get_updates_request(OfflineRequest())
        .arbitrary_callback_data(True)
        .persistence(persistence)
        .updater(None)
        .build()
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states={ASK_NAME: [MessageHandler(filters.TEXT & ~filters.COMMAND, got_name)]},
            fallbacks=[],
            name="registration",
            persistent=True,
        )
    )
    return application


async def test_application_state_survives_a_restart(db_path: Path) -> None:
    names: list[str] = []
    db = await reopen(db_path)
    try:
        app = build_app(SQLitePersistence(db), names)
        async with app:  # initialize ... shutdown (which updates and flushes the persistence)
            await app.process_update(text_update(app.bot, 1, 7, "/start"))
            app.bot_data["started"] = 1
            markup = app.bot.callback_data_cache.process_keyboard(
                InlineKeyboardMarkup.from_button(InlineKeyboardButton("Join", callback_data="a:1"))
            )
            await app.update_persistence()
        assert app.user_data[7] == {"step": "name"}
        assert names == []
    finally:
        await db.close()

    db = await reopen(db_path)
    try:
        app = build_app(SQLitePersistence(db), names)
        async with app:
            assert app.user_data[7] == {"step": "name"}
            assert app.bot_data == {"started": 1}
            keyboards, _queries = app.bot.callback_data_cache.persistence_data
            button = markup.inline_keyboard[0][0]
            assert isinstance(button.callback_data, str)
            keyboard_uuid = button.callback_data[:32]
            assert [(uuid, list(data.values())) for uuid, _, data in keyboards] == [
                (keyboard_uuid, ["a:1"])
            ]
            # The conversation resumes where it was: the next text is taken as the name.
            await app.process_update(text_update(app.bot, 2, 7, "李雷"))
            assert names == ["李雷"]
        # The conversation ended, so its state is gone from the database too.
        assert await SQLitePersistence(db).get_conversations("registration") == {}
    finally:
        await db.close()
