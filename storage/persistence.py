"""python-telegram-bot persistence in our SQLite database (no maintained one exists for PTB 20+).

Everything lives in one key-value table, ``ptb_persistence(kind, key, value)``, values as JSON:

=======================  ==================  ===========================================
kind                     key                 value
=======================  ==================  ===========================================
``user_data``            user id             the user's ``user_data`` (JSON object)
``chat_data``            chat id             the chat's ``chat_data`` (JSON object)
``bot_data``             ``''``              ``bot_data`` (JSON object)
``callback_data``        ``''``              ``[[[uuid, time, {id: data}]...], {query: uuid}]``
``conversation:<name>``  JSON list of key    the state (JSON int or string)
=======================  ==================  ===========================================

One row per conversation key (rather than one JSON object per conversation) makes every state
change a single-row upsert or delete instead of rewriting every open conversation of that handler.

JSON instead of pickle: the data is inspectable with ``sqlite3``, survives code refactors, and a
database file can never execute code when loaded. The price is that persisted data must
round-trip through JSON *exactly*: dicts with ``str`` keys, lists, ``str``, ``int``, finite
``float``, ``bool`` and ``None``. Anything else (tuples, sets, datetimes, int dict keys, Telegram
objects) raises :class:`PersistenceDataError` (a :class:`TypeError`) naming where it sits, e.g.
``user_data[42]['draft']['when']`` - instead of silently coming back different after a restart.
The same holds for the data of buttons when ``arbitrary_callback_data`` is enabled (the project
uses short string callback data, so normally there is none). Keep drafts in real tables anyway.

Conversation states must be ``int`` or ``str`` (``IntEnum``/``StrEnum`` members are stored as
their plain value and compare equal after a restart). PTB does not persist
``conversation_timeout`` jobs.

Writes go to the database immediately, each in its own short transaction; PTB already batches
them (``update_interval``, and once more on shutdown). Unchanged values are not rewritten.
``refresh_*`` do nothing: no other process edits this data. The :class:`Database` belongs to the
application: PTB calls ``flush()`` from ``Application.shutdown()``, so close the database only
after that (in ``post_shutdown``), and have it open before ``Application.initialize()`` loads
the data (pass it in, or pass an async factory that opens it on first use).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from storage.db import Database

__all__ = ["PersistenceDataError", "SQLitePersistence"]

USER_DATA = "user_data"
CHAT_DATA = "chat_data"
BOT_DATA = "bot_data"
CALLBACK_DATA = "callback_data"
CONVERSATION_PREFIX = "conversation:"
_SINGLE = ""  # the key of the single row of bot_data / callback_data

_UPSERT = """
INSERT INTO ptb_persistence (kind, key, value) VALUES (?, ?, ?)
ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value
"""
_DELETE = "DELETE FROM ptb_persistence WHERE kind = ? AND key = ?"
_SELECT_KIND = "SELECT key, value FROM ptb_persistence WHERE kind = ?"
_SELECT_ONE = "SELECT value FROM ptb_persistence WHERE kind = ? AND key = ?"

Data = dict[Any, Any]
# The same shapes as PTB's (private) telegram.ext._utils.types aliases.
ConversationKey = tuple[int | str, ...]
ConversationDict = MutableMapping[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]


class PersistenceDataError(TypeError):
    """Data handed to the persistence cannot be stored as JSON without changing it."""


def _check_json(value: object, where: str) -> None:
    """Raise :class:`PersistenceDataError` unless ``value`` survives a JSON round trip unchanged."""
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PersistenceDataError(f"{where} is {value!r}, which JSON cannot represent")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise PersistenceDataError(
                    f"{where} has the key {key!r} of type {type(key).__name__}; "
                    "persisted dicts need str keys (JSON would turn it into a string)"
                )
            _check_json(item, f"{where}[{key!r}]")
        return
    raise PersistenceDataError(
        f"{where} is a {type(value).__name__}, which cannot be persisted as JSON unchanged; "
        "store only dict (str keys), list, str, int, float, bool or None"
    )


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _encode_data(value: object, where: str) -> str:
    if not isinstance(value, dict):
        raise PersistenceDataError(f"{where} is a {type(value).__name__}, expected a dict")
    _check_json(value, where)
    return _dumps(value)


def _encode_conversation_key(name: str, key: ConversationKey) -> str:
    if not isinstance(key, tuple) or not all(
        isinstance(part, int | str) and not isinstance(part, bool) for part in key
    ):
        raise PersistenceDataError(
            f"conversation {name!r}: key {key!r} must be a tuple of int/str (chat, user, message)"
        )
    return _dumps(list(key))


class SQLitePersistence(BasePersistence[Data, Data, Data]):
    """:class:`telegram.ext.BasePersistence` backed by the ``ptb_persistence`` table.

    Args:
        database: the open :class:`~storage.db.Database` (migrated), or an async factory that
            returns it; the factory is awaited once, on first use.
        store_data: which kinds of data to persist (default: all).
        update_interval: seconds between PTB's persistence runs.
    """

    __slots__ = ("_db", "_db_factory", "_db_lock", "_written")

    def __init__(
        self,
        database: Database | Callable[[], Awaitable[Database]],
        store_data: PersistenceInput | None = None,
        update_interval: float = 60,
    ) -> None:
        super().__init__(store_data=store_data, update_interval=update_interval)
        self._db: Database | None = database if isinstance(database, Database) else None
        self._db_factory = None if isinstance(database, Database) else database
        self._db_lock = asyncio.Lock()
        # What the database holds for (kind, key), as far as this instance knows: lets update_*
        # skip rewriting unchanged data (PTB hands over every touched user's data, changed or not).
        self._written: dict[tuple[str, str], str] = {}

    async def _database(self) -> Database:
        if self._db is None:
            async with self._db_lock:
                if self._db is None:
                    assert self._db_factory is not None
                    self._db = await self._db_factory()
        return self._db

    # -- reading -------------------------------------------------------------------------------

    async def _load_kind(self, kind: str) -> list[tuple[str, Any]]:
        db = await self._database()
        rows = await db.fetch_all(_SELECT_KIND, (kind,))
        loaded = []
        for row in rows:
            key, value = row["key"], row["value"]
            self._written[(kind, key)] = value
            loaded.append((key, json.loads(value)))
        return loaded

    async def _load_one(self, kind: str) -> Any | None:
        db = await self._database()
        row = await db.fetch_one(_SELECT_ONE, (kind, _SINGLE))
        if row is None:
            return None
        self._written[(kind, _SINGLE)] = row["value"]
        return json.loads(row["value"])

    async def get_user_data(self) -> dict[int, Data]:
        return {int(key): value for key, value in await self._load_kind(USER_DATA)}

    async def get_chat_data(self) -> dict[int, Data]:
        return {int(key): value for key, value in await self._load_kind(CHAT_DATA)}

    async def get_bot_data(self) -> Data:
        data = await self._load_one(BOT_DATA)
        return data if isinstance(data, dict) else {}

    async def get_callback_data(self) -> CDCData | None:
        data = await self._load_one(CALLBACK_DATA)
        if data is None:
            return None
        keyboards, callback_queries = data
        return (
            [
                (str(uuid), float(access_time), dict(buttons))
                for uuid, access_time, buttons in keyboards
            ],
            {str(query): str(uuid) for query, uuid in callback_queries.items()},
        )

    async def get_conversations(self, name: str) -> ConversationDict:
        return {
            tuple(json.loads(key)): state
            for key, state in await self._load_kind(CONVERSATION_PREFIX + name)
        }

    # -- writing -------------------------------------------------------------------------------

    async def _put(self, kind: str, key: str, value: str) -> None:
        if self._written.get((kind, key)) == value:
            return
        db = await self._database()
        async with db.transaction() as tx:
            await tx.execute(_UPSERT, (kind, key, value))
        self._written[(kind, key)] = value

    async def _delete(self, kind: str, key: str) -> None:
        db = await self._database()
        async with db.transaction() as tx:
            await tx.execute(_DELETE, (kind, key))
        self._written.pop((kind, key), None)

    async def update_user_data(self, user_id: int, data: Data) -> None:
        await self._put(USER_DATA, str(user_id), _encode_data(data, f"user_data[{user_id}]"))

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        await self._put(CHAT_DATA, str(chat_id), _encode_data(data, f"chat_data[{chat_id}]"))

    async def update_bot_data(self, data: Data) -> None:
        await self._put(BOT_DATA, _SINGLE, _encode_data(data, "bot_data"))

    async def update_callback_data(self, data: CDCData) -> None:
        keyboards, callback_queries = data
        encoded_keyboards = []
        for uuid, access_time, buttons in keyboards:
            _check_json(buttons, f"callback_data keyboard {uuid}")
            encoded_keyboards.append([uuid, access_time, buttons])
        _check_json(callback_queries, "callback_data queries")
        await self._put(CALLBACK_DATA, _SINGLE, _dumps([encoded_keyboards, callback_queries]))

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        kind = CONVERSATION_PREFIX + name
        encoded_key = _encode_conversation_key(name, key)
        if new_state is None:
            await self._delete(kind, encoded_key)
            return
        if not isinstance(new_state, int | str):
            raise PersistenceDataError(
                f"conversation {name!r} {key!r}: state {new_state!r} is a "
                f"{type(new_state).__name__}; persisted states must be int or str"
            )
        await self._put(kind, encoded_key, _dumps(new_state))

    async def drop_user_data(self, user_id: int) -> None:
        await self._delete(USER_DATA, str(user_id))

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._delete(CHAT_DATA, str(chat_id))

    # -- nothing to do -------------------------------------------------------------------------

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        """Nothing to refresh: only this process writes the data."""

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        """Nothing to refresh: only this process writes the data."""

    async def refresh_bot_data(self, bot_data: Data) -> None:
        """Nothing to refresh: only this process writes the data."""

    async def flush(self) -> None:
        """Every ``update_*`` has already committed when it returned; the database stays open
        (it belongs to the application, which closes it after ``Application.shutdown``)."""
