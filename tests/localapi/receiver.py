"""A webhook endpoint for tests: records every request the local Bot API sends to it.

It stands in for a bot in webhook mode. ``answer`` decides each response (status code; it may
also take its time), so tests can make the bot slow, flaky or down, and then check what the
server did: order per chat, concurrency, retries, the secret header.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.localapi.webhook import SECRET_HEADER, ordering_key

JSONDict = dict[str, Any]

# (update, attempt number of this update starting at 1) -> HTTP status to answer
Answer = Callable[[JSONDict, int], Awaitable[int]]


async def always_ok(update: JSONDict, attempt: int) -> int:
    return 200


@dataclass(frozen=True, slots=True)
class Request:
    """One POST the server made."""

    update: JSONDict
    attempt: int
    secret: str | None
    content_type: str
    status: int

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def chat_id(self) -> int:
        return ordering_key(self.update)


class WebhookReceiver:
    """An aiohttp server on 127.0.0.1 that answers webhook POSTs as ``answer`` says."""

    def __init__(self, answer: Answer = always_ok, path: str = "/hook") -> None:
        self.answer = answer
        self.path = path
        self.requests: list[Request] = []  # in the order they were answered
        self.accepted: list[JSONDict] = []  # updates answered 2xx, in that order
        self.in_flight = 0
        self.max_in_flight = 0
        self.overlaps = 0  # times a chat had two requests open at once (must stay 0)
        self._open_per_chat: Counter[int] = Counter()
        self._attempts: Counter[int] = Counter()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def texts(self, chat_id: int) -> list[str]:
        """Texts of the accepted message updates of one chat, in delivery order."""
        return [
            u["message"]["text"]
            for u in self.accepted
            if "message" in u and u["message"]["chat"]["id"] == chat_id
        ]

    async def _handle(self, request: web.Request) -> web.Response:
        update = json.loads(await request.read())
        chat = ordering_key(update)
        self._attempts[update["update_id"]] += 1
        attempt = self._attempts[update["update_id"]]
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self._open_per_chat[chat] += 1
        if self._open_per_chat[chat] > 1:
            self.overlaps += 1
        try:
            status = await self.answer(update, attempt)
        finally:
            self.in_flight -= 1
            self._open_per_chat[chat] -= 1
        self.requests.append(
            Request(
                update,
                attempt,
                request.headers.get(SECRET_HEADER),
                request.content_type,
                status,
            )
        )
        if 200 <= status < 300:
            self.accepted.append(update)
        return web.json_response({"ok": 200 <= status < 300}, status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(self.path, self._handle)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> WebhookReceiver:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def closed_port_url() -> str:
    """An http URL on this machine where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


async def never_answer(update: JSONDict, attempt: int) -> int:
    """Keeps the request open until the server gives up on it (a hung bot)."""
    await asyncio.Event().wait()
    return 200
