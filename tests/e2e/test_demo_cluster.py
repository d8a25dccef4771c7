"""``zhiyuan demo-cluster`` (issue #21): one command starts a throwaway PostgreSQL cluster, the
local Bot API server with webhooks, the balancer, three ``zhiyuan run --webhook`` processes
and the playground page; a message typed on the page is answered by one of the instances, the
console names it, and stopping removes everything.

Needs Debian's ``postgresql`` (``/usr/lib/postgresql/<version>/bin``); runs in the PostgreSQL
phase of CI only (where it is installed), so it runs once per CI run."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest

from bot.localcluster import find_postgres_bin, start_demo_cluster
from tests.conftest import on_postgres

pytestmark = pytest.mark.skipif(
    not on_postgres() or find_postgres_bin() is None,
    reason="needs Debian's postgresql (runs in CI's PostgreSQL phase)",
)


def _exists(folder: str) -> bool:
    return Path(folder).exists()


async def test_the_demo_cluster_answers_a_message_from_the_page_and_cleans_up() -> None:
    lines: list[str] = []
    demo = await start_demo_cluster(port=0, report=lines.append)
    try:
        assert len(demo.instances) == 3 and demo.throwaway
        folder = re.sub(r"^.*host=", "", demo.database_url)
        assert _exists(folder)
        async with aiohttp.ClientSession() as session:
            chat = f"{demo.url}api/chat/volunteer-en"
            async with session.get(chat) as answer:
                seq = (await answer.json())["seq"]
            async with session.post(f"{chat}/send", json={"text": "/help"}) as answer:
                assert answer.status == 200
            # The page's long poll: it answers as soon as the chat changes after ``seq``.
            texts: list[str] = []
            for _ in range(20):
                async with session.get(f"{chat}?after={seq}&wait=5") as answer:
                    snapshot = await answer.json()
                seq = snapshot["seq"]
                texts += [m["text"] for m in snapshot["messages"] if m["from"] == "bot"]
                if any("What I can do" in text for text in texts):
                    break
            assert any("What I can do" in text for text in texts)
        assert any(re.match(r"zy-[123]  sendMessage → Tom", line) for line in lines), lines
    finally:
        await demo.stop()
    assert not _exists(folder)
    assert all(i.process is not None and i.process.returncode is not None for i in demo.instances)
