"""``zhiyuan playground``: try the bot in a browser, with no Telegram account and no token.

One process runs three things on one event loop:

* the local Bot API server (:class:`~bot.localapi.LocalBotApi`) on an ephemeral loopback port,
  which simulates Telegram and the people chatting with the bot;
* the real bot (:class:`~bot.runtime.BotRuntime`), long polling that server exactly as it
  would poll Telegram, on a database filled with demo data (:mod:`bot.demo`);
* a small web page (this module's aiohttp app plus ``static/``) where a person picks one of
  the demo personas and chats with the bot as that persona.

The page talks to a small JSON API; the server turns its requests into virtual-user actions
(``user_send_text``, ``user_press_button``...) and reads the chats back from the local Bot
API's records. Changes reach the page by long polling: ``GET /api/chat/{persona}?after=SEQ``
waits, without polling sleeps, until an event of that chat has a sequence number above
``SEQ`` (see :meth:`bot.localapi.state.ApiState.wait_until`).

JSON API (every error is ``{"error": "...", "status": N}`` with that HTTP status):

``GET /api/personas``
    the bot, the personas (each with the ``ui_language`` of the page around its chat), the
    page's own texts in each language (:mod:`bot.playground.ui`), the demo location, the text
    limit and the bot's time zone.
``GET /api/chat/{persona}?after=SEQ&wait=SECONDS``
    messages sent, edited or deleted after ``SEQ`` (all of them for 0; each with its ``time``
    already written in the bot's time zone, as the bot's texts are), the reply keyboard
    shown, the bot's answers to button presses ("toasts") and its command list; ``seq`` is the
    ``after`` of the next call. ``wait`` (at most 30) makes it a long poll.
``POST /api/chat/{persona}/send {"text"}``, ``.../press {"message_id", "data"}``,
``.../contact {}``, ``.../location {"latitude", "longitude"}`` (both omitted: the demo
location in Changsha)
    the persona acts; the bot's answer arrives through the long poll.
``GET /api/chat/{persona}/document/{message_id}``
    a document sent in the chat (an ``.ics`` file, a data export), as an attachment.
``GET /api/chat/{persona}/photo/{message_id}``
    a photo sent in the chat (a check-in QR code), shown inline.

The page is meant for one person on their own machine: it listens on loopback unless
``--allow-public`` is given (:func:`check_bind_address`), rejects requests whose ``Host`` is
not a loopback name (DNS rebinding), accepts actions only as ``application/json`` (which a
cross-site form cannot send without a CORS preflight this server never grants), and sends a
strict Content-Security-Policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import ipaddress
import json
import logging
import math
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TextIO, TypeVar
from urllib.parse import quote

from aiohttp import web
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.clock import Clock, system_clock
from bot.config import EXIT_CONFIG_ERROR, Settings
from bot.demo import ADMIN_IDS, PERSONAS, Persona, load_demo_data
from bot.localapi import LocalApiUsageError, LocalBotApi
from bot.localapi.models import (
    BotInfo,
    ChatRecord,
    EventKind,
    JSONDict,
    StoredMessage,
    VirtualUserInfo,
)
from bot.localapi.server import json_response
from bot.playground.ui import UI_TEXTS, ui_language
from bot.runtime import BotRuntime
from storage.backends import open_database
from storage.migrate import migrate

logger = logging.getLogger("bot.playground")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080

# A well-formed but fake token: the local server accepts it and Telegram never sees it.
PLAYGROUND_TOKEN = "7000000001:PLAYGROUND-local-only"
BOT_USERNAME = "zhiyuan_playground_bot"
BOT_NAME = "Zhiyuan"

# Telegram's limit for a message text.
MAX_TEXT_LENGTH = 4096
# Every action is a small JSON object; anything bigger is refused before it is parsed.
MAX_BODY_BYTES = 64 * 1024
MAX_WAIT_SECONDS = 30.0
# Updates the bot has not fetched yet, per bot. More means it is stuck or someone floods it:
# refuse further actions for a moment (429) instead of queueing without limit.
MAX_PENDING_UPDATES = 100
# How long the bot's getUpdates waits; the local server answers at once on shutdown.
BOT_POLL_TIMEOUT = 10
# Where "share my location" puts a persona: 五一广场, the centre of Changsha.
DEMO_LOCATION = (28.1941, 112.9723)

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# Events that change what a chat shows (typing indicators do not).
_CHAT_EVENTS = frozenset(
    {
        EventKind.USER_MESSAGE,
        EventKind.BOT_MESSAGE,
        EventKind.BOT_EDIT,
        EventKind.MESSAGE_DELETED,
        EventKind.CALLBACK_ANSWER,
    }
)
_STATIC_FILES = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "style.css": "text/css",
}
_SECURITY_HEADERS = {
    # Only this server's own script and styles; no inline code, no framing, no other hosts.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
T = TypeVar("T")
N = TypeVar("N", int, float)

_ROLE_LABELS = {
    "visitor": ("New visitor", "新访客"),
    "volunteer": ("Registered volunteer", "注册志愿者"),
    "organizer": ("Organizer", "组织者"),
    "admin": ("Administrator", "管理员"),
}


class PlaygroundError(Exception):
    """The playground cannot start; the message is one line for the person who started it."""


# ------------------------------------------------------------------------------ binding


def check_bind_address(host: str, allow_public: bool) -> str:
    """The address to listen on, or ``ValueError`` for a non-loopback one without permission.

    Anyone who reaches the page can act as every persona, administrators included, so it is
    for the local machine unless ``--allow-public`` says otherwise.
    """
    name = host.strip().strip("[]")
    if not name:
        raise ValueError("--host is empty; use 127.0.0.1 (the default) or another address")
    if name.lower() == "localhost":
        return "localhost"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None and address.is_loopback:
        return str(address)
    if not allow_public:
        raise ValueError(
            f"refusing to listen on {host!r}: it is not a loopback address, and anyone who can "
            "reach the playground can act as any persona (administrators included). "
            "Use --host 127.0.0.1, or add --allow-public if you really mean it."
        )
    return str(address) if address is not None else name


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound now so a busy port fails before anything else starts."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        raise PlaygroundError(f"cannot listen on {host}:{port}: {error}") from error
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        reason = error.strerror or str(error)
        raise PlaygroundError(f"cannot listen on {host}:{port}: {reason}") from error
    sock.setblocking(False)
    return sock


def _page_url(host: str, port: int) -> str:
    """What to open in a browser (a wildcard address is reachable on loopback)."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def _host_name(header: str) -> str:
    """The host part of a ``Host`` header: ``[::1]:8080`` → ``::1``, ``a.b:80`` → ``a.b``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    if header.count(":") > 1:  # a bare IPv6 address
        return header
    return header.partition(":")[0]


# ------------------------------------------------------------------------------ settings


class _PlaygroundSettings(Settings):
    """Settings from the arguments only: the playground must not pick up ``BOT_TOKEN``,
    ``DATABASE_PATH`` or anything else from the environment or a ``.env`` file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def playground_settings(api_url: str, database: Path) -> Settings:
    return _PlaygroundSettings(
        bot_token=PLAYGROUND_TOKEN,
        bot_api_url=api_url,
        database_path=database,
        admin_ids=ADMIN_IDS,
    )


# ------------------------------------------------------------------------------ JSON views


def _role_label(persona: Persona) -> str:
    english, chinese = _ROLE_LABELS.get(persona.role, (persona.role, persona.role))
    if persona.language_code.startswith("zh"):
        return f"{chinese} · 中文"
    return f"{english} · English"


def personajson_response(persona: Persona) -> JSONDict:
    return {
        "key": persona.key,
        "id": persona.telegram_id,
        "name": persona.first_name,
        "language": persona.language_code,
        "role": persona.role,
        "label": _role_label(persona),
        "ui_language": ui_language(persona.language_code),
    }


def _inline_buttonjson_response(button: JSONDict) -> JSONDict:
    text = str(button.get("text", ""))
    if "callback_data" in button:
        return {"text": text, "kind": "callback", "data": str(button["callback_data"])}
    if "url" in button:
        return {"text": text, "kind": "url", "url": str(button["url"])}
    return {"text": text, "kind": "unsupported"}


def _reply_buttonjson_response(button: str | JSONDict) -> JSONDict:
    if isinstance(button, str):
        return {"text": button, "kind": "text"}
    text = str(button.get("text", ""))
    if button.get("request_contact"):
        return {"text": text, "kind": "contact"}
    if button.get("request_location"):
        return {"text": text, "kind": "location"}
    if {"request_users", "request_chat", "request_poll", "web_app"} & set(button):
        return {"text": text, "kind": "unsupported"}
    return {"text": text, "kind": "text"}


def reply_keyboardjson_response(markup: JSONDict | None) -> JSONDict | None:
    if not markup or "keyboard" not in markup:
        return None
    return {
        "rows": [[_reply_buttonjson_response(b) for b in row] for row in markup["keyboard"]],
        "one_time": bool(markup.get("one_time_keyboard")),
        "placeholder": markup.get("input_field_placeholder"),
    }


def messagejson_response(message: StoredMessage, document_url: str, timezone: tzinfo) -> JSONDict:
    """What the page needs to draw a message: visible text plus entities, never raw markup.

    ``time`` is written here, in the bot's time zone: the bot says "09:00" in that zone, so a
    bubble stamped in the browser's own zone would disagree with the texts inside it."""
    data: JSONDict = {
        "id": message.message_id,
        "from": "bot" if message.from_bot else "user",
        "date": message.date,
        "time": datetime.fromtimestamp(message.date, timezone).strftime("%H:%M"),
        "text": message.visible_text,
        "entities": message.entities,
        "edited": message.edit_date is not None,
        "deleted": message.deleted,
        "inline_keyboard": None,
        "document": None,
        "photo": None,
        "location": message.location,
        "contact": message.contact,
    }
    rows = message.inline_keyboard
    if rows is not None:
        data["inline_keyboard"] = [[_inline_buttonjson_response(b) for b in row] for row in rows]
    if message.document is not None:
        data["document"] = {
            "file_name": message.document.file_name,
            "mime_type": message.document.mime_type,
            "size": message.document.file_size,
            "url": document_url,
        }
    if message.photo is not None:
        # A rotating photo is edited in place: the version in the URL makes the page fetch
        # the new picture rather than show the cached one.
        photo_url = document_url.replace("/document/", "/photo/")
        data["photo"] = {"url": f"{photo_url}?v={len(message.edits)}"}
    return data


# ------------------------------------------------------------------------------ web app


class _Problem(Exception):
    """A request the API refuses: becomes ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return json_response({"error": message, "status": status}, status, headers)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class _PersonaChat:
    persona: Persona
    user: VirtualUserInfo

    @property
    def chat_id(self) -> int:
        return self.user.id


class PlaygroundWeb:
    """The web page and its JSON API over one bot of a local Bot API server."""

    def __init__(
        self,
        api: LocalBotApi,
        bot: BotInfo,
        personas: tuple[Persona, ...] = PERSONAS,
        *,
        timezone: tzinfo,
        allowed_hosts: frozenset[str] | None = None,
    ) -> None:
        self.api = api
        self.bot = bot
        self.timezone = timezone
        self.allowed_hosts = allowed_hosts
        self.closing = False
        self.chats = {
            p.key: _PersonaChat(
                p,
                VirtualUserInfo(
                    id=p.telegram_id,
                    first_name=p.first_name,
                    language_code=p.language_code,
                    phone_number=p.phone_number,
                ),
            )
            for p in personas
        }
        # The personas stand for people who have used the bot before (the demo data has their
        # accounts, an application, sign-ups): their chats exist, so notifications reach them
        # even before they write in this run.
        for chat in self.chats.values():
            api.open_private_chat(bot, chat.user)
        static = importlib.resources.files("bot.playground") / "static"
        self.static = {name: (static / name).read_bytes() for name in _STATIC_FILES}
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[self._middleware])
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/favicon.ico", self._no_favicon)
        app.router.add_get("/api/personas", self._personas)
        app.router.add_get("/api/chat/{persona}", self._chat)
        app.router.add_post("/api/chat/{persona}/send", self._send)
        app.router.add_post("/api/chat/{persona}/press", self._press)
        app.router.add_post("/api/chat/{persona}/contact", self._contact)
        app.router.add_post("/api/chat/{persona}/location", self._location)
        app.router.add_get(r"/api/chat/{persona}/document/{message_id:\d{1,9}}", self._document)
        app.router.add_get(r"/api/chat/{persona}/photo/{message_id:\d{1,9}}", self._photo)
        self.app = app

    def close(self) -> None:
        """End waiting long polls now (they answer with what they have) so shutdown is quick."""
        self.closing = True
        self.api.notify()

    # -------------------------------------------------------------------------- plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Host check, JSON errors for everything (never a traceback), security headers."""
        response: web.StreamResponse
        if self.allowed_hosts is not None and _host_name(request.host) not in self.allowed_hosts:
            logger.warning("refused a request for Host %r (not a loopback name)", request.host)
            response = _error(421, "this playground only answers on a loopback address")
        else:
            try:
                response = await handler(request)
            except _Problem as problem:
                response = _error(problem.status, problem.message, problem.headers)
            except web.HTTPRequestEntityTooLarge:
                response = _error(413, f"request body too large (at most {MAX_BODY_BYTES} bytes)")
            except web.HTTPException as http:
                if http.status < 400:
                    raise
                allow = http.headers.get("Allow")
                response = _error(http.status, http.reason, {"Allow": allow} if allow else None)
            except Exception:
                logger.exception(
                    "playground: %s %s failed (persona %s)",
                    request.method,
                    request.path,
                    request.match_info.get("persona"),
                )
                response = _error(500, "internal error in the playground; see its log")
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _chat_of(self, request: web.Request) -> _PersonaChat:
        key = request.match_info["persona"]
        found = self.chats.get(key)
        if found is None:
            raise _Problem(404, f"unknown persona {key!r}; see GET /api/personas")
        return found

    async def _body(self, request: web.Request, *, allow_empty: bool = False) -> JSONDict:
        if request.content_type != "application/json":
            raise _Problem(415, "send a JSON object with Content-Type: application/json")
        raw = await request.read()
        if not raw.strip() and allow_empty:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:  # UnicodeDecodeError included
            raise _Problem(400, "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _Problem(400, "the request body must be a JSON object")
        return body

    def _check_backlog(self) -> None:
        if len(self.api.bot_state(self.bot).updates) >= MAX_PENDING_UPDATES:
            raise _Problem(
                429,
                "the bot is still busy with earlier messages; try again in a moment",
                {"Retry-After": "1"},
            )

    def _document_url(self, key: str, message_id: int) -> str:
        return f"/api/chat/{quote(key, safe='')}/document/{message_id}"

    # -------------------------------------------------------------------------- static

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.static["index.html"], content_type="text/html", charset="utf-8"
        )

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.static or name == "index.html":
            raise _Problem(404, f"no static file {name!r}")
        return web.Response(
            body=self.static[name], content_type=_STATIC_FILES[name], charset="utf-8"
        )

    async def _no_favicon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    # -------------------------------------------------------------------------- reading

    async def _personas(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "bot": {"username": self.bot.username, "name": self.bot.first_name},
                "personas": [personajson_response(c.persona) for c in self.chats.values()],
                "ui": UI_TEXTS,
                "demo_location": {"latitude": DEMO_LOCATION[0], "longitude": DEMO_LOCATION[1]},
                "max_text_length": MAX_TEXT_LENGTH,
                "timezone": str(self.timezone),
            }
        )

    async def _chat(self, request: web.Request) -> web.Response:
        chat = self._chat_of(request)
        after = _query_number(request, "after", int, 0, 0, 2**53)
        wait = _query_number(request, "wait", float, 0.0, 0.0, MAX_WAIT_SECONDS)
        reset = after > self.api.seq
        if reset:
            # A mark from an earlier run of the playground (the page stayed open): start over.
            after = 0
        elif wait > 0:

            def changed() -> bool:
                return self.closing or any(
                    event.chat_id == chat.chat_id
                    and event.bot_id == self.bot.id
                    and event.kind in _CHAT_EVENTS
                    for event in self.api.events_since(after)
                )

            await self.api.wait_until(changed, wait)
        return json_response(self._snapshot(chat, after, reset=reset))

    def _snapshot(self, chat: _PersonaChat, after: int, *, reset: bool) -> JSONDict:
        """Everything of the chat that changed after ``after``; built synchronously, so it is
        consistent with the ``seq`` it reports."""
        record: ChatRecord | None = self.api.find_chat(self.bot, chat.chat_id)
        key = chat.persona.key
        messages: list[JSONDict] = []
        toasts: list[JSONDict] = []
        if record is not None:
            messages = [
                messagejson_response(m, self._document_url(key, m.message_id), self.timezone)
                for m in record.messages
                if m.last_seq > after and not (after == 0 and m.deleted)
            ]
            if after > 0:
                for query in self.api.bot_state(self.bot).callback_queries.values():
                    answer = query.answer
                    if (
                        query.chat_id == chat.chat_id
                        and answer is not None
                        and answer.seq > after
                        and answer.text
                    ):
                        toasts.append({"text": answer.text, "alert": answer.show_alert})
        return {
            "seq": self.api.seq,
            "reset": reset,
            "messages": messages,
            "reply_keyboard": reply_keyboardjson_response(
                record.reply_keyboard if record else None
            ),
            "toasts": toasts,
            "commands": self._commands(chat),
        }

    def _commands(self, chat: _PersonaChat) -> list[JSONDict]:
        """The command menu a Telegram client would show this persona."""
        language = chat.persona.language_code.split("-")[0]
        for scope, code in (
            ({"type": "chat", "chat_id": chat.chat_id}, ""),
            ({"type": "chat", "chat_id": chat.chat_id}, language),
            (None, language),
            (None, ""),
        ):
            found = self.api.commands(self.bot, scope, code)
            if found:
                return [
                    {
                        "command": str(c.get("command", "")),
                        "description": str(c.get("description", "")),
                    }
                    for c in found
                ]
        return []

    async def _document(self, request: web.Request) -> web.Response:
        chat = self._chat_of(request)
        message_id = int(request.match_info["message_id"])
        record = self.api.find_chat(self.bot, chat.chat_id)
        message = record.message(message_id) if record is not None else None
        if message is None or message.deleted or message.document is None:
            raise _Problem(404, f"no document in message #{message_id} of this chat")
        document = message.document
        fallback = document.file_name.encode("ascii", "replace").decode().replace('"', "_")
        disposition = (
            f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(document.file_name)}"
        )
        return web.Response(
            body=document.data,
            content_type=document.mime_type,
            headers={"Content-Disposition": disposition},
        )

    async def _photo(self, request: web.Request) -> web.Response:
        chat = self._chat_of(request)
        message_id = int(request.match_info["message_id"])
        record = self.api.find_chat(self.bot, chat.chat_id)
        message = record.message(message_id) if record is not None else None
        if message is None or message.deleted or message.photo is None:
            raise _Problem(404, f"no photo in message #{message_id} of this chat")
        return web.Response(
            body=message.photo.data,
            content_type=message.photo.mime_type or "image/png",
            headers={"Cache-Control": "no-store"},
        )

    # -------------------------------------------------------------------------- acting

    async def _send(self, request: web.Request) -> web.Response:
        chat = self._chat_of(request)
        body = await self._body(request)
        text = body.get("text")
        if not isinstance(text, str):
            raise _Problem(400, 'field "text" (a string) is required')
        if not text.strip():
            raise _Problem(400, "the message is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise _Problem(
                400, f"the message is {len(text)} characters long; at most {MAX_TEXT_LENGTH}"
            )
        self._check_backlog()
        message = self._act(lambda: self.api.user_send_text(self.bot, chat.user, text))
        return json_response({"ok": True, "message_id": message.message_id, "seq": self.api.seq})

    async def _press(self, request: web.Request) -> web.Response:
        chat = self._chat_of(request)
        body = await self._body(request)
        message_id = body.get("message_id")
        data = body.get("data")
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            raise _Problem(400, 'field "message_id" (an integer) is required')
        if not isinstance(data, str):
            raise _Problem(400, 'field "data" (a string: the button\'s callback data) is required')
        record = self.api.find_chat(self.bot, chat.chat_id)
        message = record.message(message_id) if record is not None else None
        if message is None or message.deleted or not message.from_bot:
            raise _Problem(400, f"there is no bot message #{message_id} in this chat")
        if not any(b.get("callback_data") == data for b in message.buttons()):
            raise _Problem(400, f"message #{message_id} has no button with that data")
        self._check_backlog()
        query_id = self._act(
            lambda: self.api.user_press_button(self.bot, chat.user, message_id, data)
        )
        return json_response({"ok": True, "query_id": query_id, "seq": self.api.seq})

    async def _contact(self, request: web.Request) -> web.Response:
        chat = self._chat_of(request)
        await self._body(request, allow_empty=True)
        self._check_backlog()
        user = chat.user
        message = self._act(
            lambda: self.api.user_share_contact(
                self.bot, user, user.own_phone_number, user.first_name, user.id
            )
        )
        return json_response({"ok": True, "message_id": message.message_id, "seq": self.api.seq})

    async def _location(self, request: web.Request) -> web.Response:
        chat = self._chat_of(request)
        body = await self._body(request, allow_empty=True)
        if "latitude" not in body and "longitude" not in body:
            latitude, longitude = DEMO_LOCATION
        else:
            latitude = _coordinate(body, "latitude", 90)
            longitude = _coordinate(body, "longitude", 180)
        self._check_backlog()
        message = self._act(
            lambda: self.api.user_share_location(self.bot, chat.user, latitude, longitude)
        )
        return json_response({"ok": True, "message_id": message.message_id, "seq": self.api.seq})

    def _act(self, action: Callable[[], T]) -> T:
        """Run a virtual-user action; a refusal of the simulated Telegram is the client's 409."""
        try:
            return action()
        except LocalApiUsageError as error:
            raise _Problem(409, str(error).splitlines()[0]) from None


def _query_number(request: web.Request, name: str, kind: type[N], default: N, low: N, high: N) -> N:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise _Problem(400, f"query parameter {name!r} must be a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise _Problem(400, f"query parameter {name!r} must be between {low} and {high}")
    return value


def _coordinate(body: JSONDict, name: str, limit: float) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Problem(400, f'field "{name}" (a number) is required')
    number = float(value)
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise _Problem(400, f'field "{name}" must be between {-limit:g} and {limit:g}')
    return number


# ------------------------------------------------------------------------------ lifecycle


@dataclass
class Playground:
    """A running playground; :meth:`stop` ends the web page, the bot and the local server."""

    url: str
    api: LocalBotApi
    runtime: BotRuntime
    web: PlaygroundWeb
    database: Path
    temporary_database: bool
    demo_loaded: bool
    _resources: AsyncExitStack

    @property
    def bot(self) -> BotInfo:
        return self.web.bot

    async def stop(self) -> None:
        await self._resources.aclose()
        logger.info("playground stopped")


async def _prepare_database(path: Path, clock: Clock) -> bool:
    """Migrate and fill with demo data (only once); the bot opens its own connection later."""
    try:
        db = await open_database(path)
    except (OSError, sqlite3.Error) as error:
        raise PlaygroundError(f"cannot open the database {path}: {error}") from error
    try:
        await migrate(db)
        return await load_demo_data(db, clock())
    finally:
        await db.close()


async def start_playground(
    *,
    host: str,
    port: int,
    database: Path | None,
    allow_public: bool = False,
    clock: Clock = system_clock,
) -> Playground:
    """Start the local Bot API server, the bot on demo data, and the web page.

    ``database`` is kept between runs; without it a temporary one is made and deleted by
    :meth:`Playground.stop`. Raises ``ValueError`` for a non-loopback ``host`` without
    ``allow_public`` and :class:`PlaygroundError` when the port or database is unusable.
    """
    bind_host = check_bind_address(host, allow_public)
    sock = _listen(bind_host, port)
    # Everything started so far, stopped in reverse order: by stop(), or here on a failure.
    stack = AsyncExitStack()
    stack.callback(sock.close)
    try:
        if database is None:
            folder = Path(tempfile.mkdtemp(prefix="zhiyuan-playground-"))
            stack.callback(shutil.rmtree, folder, ignore_errors=True)
            path = folder / "zhiyuan.sqlite3"
        else:
            path = database
        loaded = await _prepare_database(path, clock)

        api = LocalBotApi()
        await api.start()
        stack.push_async_callback(api.stop)
        bot = api.add_bot(PLAYGROUND_TOKEN, BOT_USERNAME, BOT_NAME)
        runtime = await BotRuntime.start(
            playground_settings(api.url, path),
            clock=clock,
            token=PLAYGROUND_TOKEN,
            api_url=api.url,
            poll_timeout=BOT_POLL_TIMEOUT,
        )
        stack.push_async_callback(runtime.stop)

        allowed = None if allow_public else _LOOPBACK_NAMES | {bind_host.lower()}
        page = PlaygroundWeb(api, bot, timezone=runtime.settings.tz, allowed_hosts=allowed)
        runner = web.AppRunner(page.app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        # Runs first on stop: waiting long polls answer before the runner waits for them.
        stack.callback(page.close)
        await web.SockSite(runner, sock).start()
    except BaseException:
        await stack.aclose()
        raise
    url = _page_url(bind_host, sock.getsockname()[1])
    # run_playground prints the address; this line is for --verbose runs and embedders.
    logger.debug("playground page on %s (Bot API on %s)", url, api.url)
    return Playground(
        url=url,
        api=api,
        runtime=runtime,
        web=page,
        database=path,
        temporary_database=database is None,
        demo_loaded=loaded,
        _resources=stack,
    )


async def run_playground(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    database: Path | None = None,
    allow_public: bool = False,
    clock: Clock = system_clock,
    out: TextIO | None = None,
) -> int:
    """``zhiyuan playground``: run until Ctrl+C (SIGINT) or SIGTERM; returns the exit code."""
    out = out or sys.stdout
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, other threads
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)
    try:
        try:
            playground = await start_playground(
                host=host, port=port, database=database, allow_public=allow_public, clock=clock
            )
        except ValueError as error:
            print(f"zhiyuan playground: {error}", file=sys.stderr)
            return EXIT_CONFIG_ERROR
        except PlaygroundError as error:
            print(f"zhiyuan playground: {error}", file=sys.stderr)
            return 1
        try:
            if playground.temporary_database:
                where = "a temporary database (deleted when you stop)"
            elif playground.demo_loaded:
                where = f"{playground.database} (demo data loaded; kept after you stop)"
            else:
                where = f"{playground.database} (kept; its data was left as it was)"
            print(
                f"Zhiyuan playground is running: open {playground.url} in your browser.\n"
                f"Data: {where}.\n"
                "Press Ctrl+C to stop.",
                file=out,
                flush=True,
            )
            await stop.wait()
            print("Stopping the playground...", file=out, flush=True)
        finally:
            await playground.stop()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
    return 0


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEMO_LOCATION",
    "MAX_BODY_BYTES",
    "MAX_TEXT_LENGTH",
    "Playground",
    "PlaygroundError",
    "PlaygroundWeb",
    "check_bind_address",
    "run_playground",
    "start_playground",
]
