"""Which failed Bot API requests are tried again (bot.api_retry), on scripted answers; and the
aiohttp request layer under it, against the local Bot API server failing on demand."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from telegram import InputFile
from telegram.error import InvalidToken, NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot import api_retry
from bot.api_retry import ApiUnreachable, PatientRequest, retry_replies_until
from bot.http_client import AiohttpRequest, NotSent
from bot.localapi import LocalBotApi, VirtualUser, VirtualUserInfo
from bot.localapi.balancer import free_port
from bot.localapi.state import Outage

URL = "https://api.example/bot1:abc/"
Reply = tuple[int, bytes]


def _json(status: int, payload: object) -> Reply:
    return status, json.dumps(payload).encode()


GATEWAY_502: Reply = (502, b"<html><title>502 Bad Gateway</title></html>")
GATEWAY_404: Reply = (404, b"<html><title>404 Not Found</title></html>")
OK = _json(200, {"ok": True, "result": True})
NOT_MODIFIED = _json(
    400, {"ok": False, "error_code": 400, "description": "Bad Request: message is not modified"}
)
# What the request layer raises when the connection was refused, and when no answer came.
REFUSED = NotSent("aiohttp: ClientConnectorError: connection refused")
NO_ANSWER = TimedOut("aiohttp: SocketTimeoutError: Timeout on reading data from socket")

Answer = Reply | Exception


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_retry, "FIRST_PAUSE", 0.01)
    monkeypatch.setattr(api_retry, "MAX_PAUSE", 0.01)


class Scripted(PatientRequest):
    """A request whose every try gets the next of ``answers``; ``calls`` lists the methods."""

    def __init__(self, answers: list[Answer]) -> None:
        super().__init__()
        self.calls: list[str] = []
        self._answers: Iterator[Answer] = iter(answers)

    async def _send_once(
        self, url: str, method: str, request_data: RequestData | None, **timeouts: Any
    ) -> tuple[int, bytes]:
        self.calls.append(url.rsplit("/", 1)[-1])
        answer = next(self._answers)
        if isinstance(answer, Exception):
            raise answer
        return answer


def patient(answers: list[Answer]) -> tuple[PatientRequest, list[str]]:
    request = Scripted(answers)
    return request, request.calls


async def post(request: PatientRequest, method: str) -> object:
    return await request.post(URL + method)


def within(seconds: float) -> Callable[[], None]:
    return lambda: retry_replies_until(time.monotonic() + seconds)


async def test_a_reply_that_did_not_reach_the_api_is_sent_again() -> None:
    within(10)()
    request, calls = patient([GATEWAY_502, REFUSED, GATEWAY_404, OK])
    assert await post(request, "sendMessage") is True
    assert calls == ["sendMessage"] * 4


async def test_a_message_that_may_have_arrived_is_not_sent_again() -> None:
    within(10)()
    request, calls = patient([NO_ANSWER, OK])
    with pytest.raises(TimedOut):
        await post(request, "sendMessage")
    assert calls == ["sendMessage"]


async def test_a_5xx_that_may_have_been_carried_out_is_not_sent_again() -> None:
    within(10)()
    request, calls = patient([(520, b"<html>origin error</html>"), OK])
    with pytest.raises(ApiUnreachable):
        await post(request, "sendMessage")
    assert calls == ["sendMessage"]


async def test_an_edit_that_may_have_arrived_is_repeated_and_not_modified_counts_as_done() -> None:
    within(10)()
    request, calls = patient([NO_ANSWER, NOT_MODIFIED])
    assert await post(request, "editMessageText") is True
    assert calls == ["editMessageText"] * 2


async def test_not_modified_on_a_first_try_is_the_handlers_business() -> None:
    within(10)()
    request, _ = patient([NOT_MODIFIED])
    with pytest.raises(Exception, match="not modified"):
        await post(request, "editMessageText")


async def test_outside_a_reply_nothing_is_repeated_and_a_gateway_404_is_no_invalid_token() -> None:
    request, calls = patient([GATEWAY_404])
    with pytest.raises(ApiUnreachable):
        await post(request, "getUpdates")
    assert calls == ["getUpdates"]
    telegram_404 = _json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
    request, _ = patient([telegram_404])
    with pytest.raises(InvalidToken):
        await post(request, "getMe")


async def test_a_reply_is_given_up_after_its_deadline() -> None:
    within(0.05)()
    request, calls = patient([GATEWAY_502] * 100)
    with pytest.raises(ApiUnreachable):
        await post(request, "sendMessage")
    assert 1 <= len(calls) < 100


# ------------------------------------------------------------------ the aiohttp request layer

TOKEN = "4242:request-layer"


def _data(**values: object) -> RequestData:
    return RequestData([RequestParameter.from_input(name, value) for name, value in values.items()])


async def test_the_request_layer_sends_json_and_files_as_the_api_reads_them() -> None:
    async with LocalBotApi() as server:
        server.add_bot(TOKEN, "request_layer_bot")
        user = VirtualUser(server, TOKEN, VirtualUserInfo(id=81, first_name="Cai"))
        server.open_private_chat(TOKEN, user.info)
        request = AiohttpRequest()
        await request.initialize()
        try:
            base = f"{server.bot_api_url}{TOKEN}/"
            keyboard = {"inline_keyboard": [[{"text": "好的 ✅", "callback_data": "a:1"}]]}
            sent = await request.post(
                base + "sendMessage", _data(chat_id=81, text="您好 & =?", reply_markup=keyboard)
            )
            assert isinstance(sent, dict) and sent["text"] == "您好 & =?"
            shown = user.last_bot_message()
            assert shown is not None and shown.button_labels() == ["好的 ✅"]
            upload = InputFile(b"%PDF-1.4 certificate", filename="证书.pdf")
            parameter = RequestParameter.from_input("document", upload)
            data = RequestData([RequestParameter.from_input("chat_id", 81), parameter])
            document = await request.post(base + "sendDocument", data)
            assert isinstance(document, dict) and document["document"]["file_name"] == "证书.pdf"
        finally:
            await request.shutdown()


async def test_the_request_layer_uses_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HTTPS_PROXY is honoured, as with PTB's httpx client: a request to the API goes to the
    proxy (here a local server standing in for one, which answers instead)."""
    async with LocalBotApi() as proxy:
        proxy.add_bot(TOKEN, "request_layer_bot")
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        request = AiohttpRequest()
        await request.initialize()
        try:
            me = await request.post(f"http://api.telegram.invalid/bot{TOKEN}/getMe")
        finally:
            await request.shutdown()
    assert isinstance(me, dict) and me["username"] == "request_layer_bot"


async def test_hosts_of_no_proxy_are_reached_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_PROXY names hosts to reach without the proxy (a Bot API server on the same network),
    as with PTB's httpx client; the proxy is looked up once per host, not per request."""
    async with LocalBotApi() as proxy, LocalBotApi() as direct:
        proxy.add_bot(TOKEN, "through_the_proxy_bot")
        direct.add_bot(TOKEN, "direct_bot")
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        request = AiohttpRequest()
        await request.initialize()
        try:
            for _ in range(2):
                near = await request.post(f"{direct.url}/bot{TOKEN}/getMe")
                far = await request.post(f"http://api.telegram.invalid/bot{TOKEN}/getMe")
                assert isinstance(near, dict) and near["username"] == "direct_bot"
                assert isinstance(far, dict) and far["username"] == "through_the_proxy_bot"
            assert len(request._proxies) == 2
        finally:
            await request.shutdown()


async def test_the_request_layer_tells_not_sent_from_maybe_sent() -> None:
    request = AiohttpRequest(read_timeout=0.3, connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(NotSent):  # nothing listens on that port: refused, never sent
            await request.post(f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe")
        async with LocalBotApi() as server:
            server.add_bot(TOKEN, "request_layer_bot")
            user = VirtualUser(server, TOKEN, VirtualUserInfo(id=82, first_name="Dai"))
            server.open_private_chat(TOKEN, user.info)
            base = f"{server.bot_api_url}{TOKEN}/"
            outage = await server.fail_for(Outage.SLOW, delay=30)
            with pytest.raises(TimedOut) as slow:
                await request.post(base + "sendMessage", _data(chat_id=82, text="hi"))
            assert not isinstance(slow.value, NotSent)
            assert [m.text for m in user.bot_messages()] == ["hi"]  # it did arrive
            await server.recover(outage)
            await server.fail_for(Outage.REFUSED, methods=["sendMessage"])
            with pytest.raises(NetworkError) as dropped:  # reset after sending: maybe arrived
                await request.post(base + "sendMessage", _data(chat_id=82, text="again"))
            assert not isinstance(dropped.value, NotSent)
    finally:
        await request.shutdown()
