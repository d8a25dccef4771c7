"""Playground fixtures: the whole playground (local Bot API, bot on demo data, web page) on an
ephemeral loopback port, and a small client of its JSON API that waits by long polling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.domain.activities import Activity
from bot.playground.server import Playground, start_playground
from tests.factories import add_activity, add_organization

JSON = dict[str, Any]


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    running = await start_playground(
        host="127.0.0.1", port=0, database=tmp_path / "playground.sqlite3"
    )
    try:
        yield running
    finally:
        await running.stop()


class PlaygroundClient:
    """Talks HTTP to the page's API like app.js does, remembering each chat's ``seq``."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.seq: dict[str, int] = {}
        self.messages: dict[str, dict[int, JSON]] = {}
        self.toasts: dict[str, list[JSON]] = {}

    async def request(
        self, method: str, path: str, *, json: Any = None, **kwargs: Any
    ) -> tuple[int, Any]:
        async with self.session.request(method, path, json=json, **kwargs) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.read()

    async def act(self, persona: str, action: str, body: Any = None) -> JSON:
        status, data = await self.request(
            "POST", f"/api/chat/{persona}/{action}", json=body if body is not None else {}
        )
        assert status == 200, data
        assert isinstance(data, dict)
        return data

    async def send(self, persona: str, text: str) -> JSON:
        return await self.act(persona, "send", {"text": text})

    async def press(self, persona: str, message: JSON, label: str) -> JSON:
        """Press the inline button labelled ``label`` on ``message`` (as the page does)."""
        buttons = [b for row in message["inline_keyboard"] or [] for b in row]
        button = next((b for b in buttons if b["text"] == label), None)
        assert button is not None, f"no button {label!r}: {[b['text'] for b in buttons]}"
        return await self.act(
            persona, "press", {"message_id": message["id"], "data": button["data"]}
        )

    async def poll(self, persona: str, wait: float = 5.0) -> JSON:
        """One long poll from the last ``seq`` seen for ``persona``."""
        after = self.seq.get(persona, 0)
        status, data = await self.request(
            "GET", f"/api/chat/{persona}", params={"after": str(after), "wait": str(wait)}
        )
        assert status == 200, data
        assert isinstance(data, dict)
        self.seq[persona] = data["seq"]
        known = self.messages.setdefault(persona, {})
        for message in data["messages"]:
            known[message["id"]] = message
        self.toasts.setdefault(persona, []).extend(data["toasts"])
        return data

    async def wait_for_text(
        self,
        persona: str,
        substring: str,
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline per wait, as in VirtualUser
    ) -> JSON:
        """The first bot message sent or edited from now on whose text has ``substring``."""
        async with asyncio.timeout(timeout):
            while True:
                data = await self.poll(persona)
                message: JSON
                for message in data["messages"]:
                    if message["from"] == "bot" and substring in message["text"]:
                        return message
        raise AssertionError("unreachable")  # pragma: no cover

    async def wait_for_toast(
        self,
        persona: str,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> JSON:
        """The oldest answer to a button press not taken yet (waiting for one if needed)."""
        async with asyncio.timeout(timeout):
            while not self.toasts.get(persona):
                await self.poll(persona)
        toast: JSON = self.toasts[persona].pop(0)
        return toast


@pytest.fixture
async def client(playground: Playground) -> AsyncIterator[PlaygroundClient]:
    async with aiohttp.ClientSession(base_url=playground.url) as session:
        yield PlaygroundClient(session)


async def add_test_activity(playground: Playground, title: str, **fields: Any) -> Activity:
    """An activity of our own next to the demo data, starting before any of it."""
    db = playground.runtime.db
    now = playground.runtime.application.services.clock()
    organization = await add_organization(db, name="Playground test team", now=now)
    fields.setdefault("starts_in", timedelta(hours=20))
    fields.setdefault("category_code", "environment")
    return await add_activity(db, organization, title=title, now=now, **fields)
