"""The local Bot API fails on demand (``LocalBotApi.fail_for``), as a plain HTTP client sees it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.localapi import LocalBotApi, VirtualUser, VirtualUserInfo
from bot.localapi.state import Outage

TOKEN = "4242:outage-modes"


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as api:
        api.add_bot(TOKEN, "outage_modes_bot")
        yield api


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=1.0) as http:
        yield http


def url(server: LocalBotApi, method: str) -> str:
    return f"{server.bot_api_url}{TOKEN}/{method}"


async def test_a_gateway_answers_with_its_own_pages(
    server: LocalBotApi, client: httpx.AsyncClient
) -> None:
    outage = await server.fail_for(Outage.BAD_GATEWAY)
    answer = await client.post(url(server, "getMe"))
    assert (answer.status_code, answer.headers["content-type"].split(";")[0]) == (502, "text/html")
    await server.recover(outage)
    await server.fail_for(Outage.GATEWAY_NOT_FOUND, methods=["sendMessage"])
    assert (await client.post(url(server, "getMe"))).status_code == 200
    answer = await client.post(url(server, "sendMessage"), json={"chat_id": 1, "text": "x"})
    assert answer.status_code == 404 and "nginx" in answer.text
    await server.recover()
    assert (await client.post(url(server, "getMe"))).status_code == 200


async def test_refused_closes_the_port_and_opens_it_again(
    server: LocalBotApi, client: httpx.AsyncClient
) -> None:
    assert (await client.post(url(server, "getMe"))).status_code == 200  # a kept-alive connection
    await server.fail_for(Outage.REFUSED, seconds=0.3)
    with pytest.raises(httpx.ConnectError):
        await client.post(url(server, "getMe"))
    await server.wait_for(lambda: not server.outages or None, timeout=5)  # listening again
    assert (await client.post(url(server, "getMe"))).status_code == 200


async def test_refused_for_chosen_methods_resets_the_connection_before_acting(
    server: LocalBotApi, client: httpx.AsyncClient
) -> None:
    user = VirtualUser(server, TOKEN, VirtualUserInfo(id=77, first_name="Ann"))
    server.open_private_chat(TOKEN, user.info)
    await server.fail_for(Outage.REFUSED, methods=["sendMessage"])
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post(url(server, "sendMessage"), json={"chat_id": 77, "text": "hi"})
    assert user.bot_messages() == []
    assert (await client.post(url(server, "getMe"))).status_code == 200


async def test_slow_carries_the_call_out_and_answers_after_the_client_gave_up(
    server: LocalBotApi, client: httpx.AsyncClient
) -> None:
    user = VirtualUser(server, TOKEN, VirtualUserInfo(id=78, first_name="Bo"))
    server.open_private_chat(TOKEN, user.info)
    outage = await server.fail_for(Outage.SLOW, delay=30)
    with pytest.raises(httpx.ReadTimeout):
        await client.post(url(server, "sendMessage"), json={"chat_id": 78, "text": "hi"})
    assert [m.text for m in user.bot_messages()] == ["hi"]  # it did arrive
    pending = asyncio.create_task(client.post(url(server, "getMe"), timeout=10))
    await asyncio.sleep(0.2)  # time for an answer that is not held back (it is)
    assert not pending.done()
    await server.recover(outage)  # held answers go out at once
    assert (await pending).status_code == 200
