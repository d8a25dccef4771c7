"""Which failed Bot API requests are tried again (bot.api_retry), on a fake HTTP transport."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from telegram.error import InvalidToken, TimedOut

from bot import api_retry
from bot.api_retry import ApiUnreachable, PatientRequest, retry_replies_until

URL = "https://api.example/bot1:abc/"
GATEWAY_502 = httpx.Response(502, text="<html><title>502 Bad Gateway</title></html>")
GATEWAY_404 = httpx.Response(404, text="<html><title>404 Not Found</title></html>")
OK = httpx.Response(200, json={"ok": True, "result": True})
NOT_MODIFIED = httpx.Response(
    400,
    json={"ok": False, "error_code": 400, "description": "Bad Request: message is not modified"},
)

Answer = httpx.Response | type[Exception]


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_retry, "FIRST_PAUSE", 0.01)
    monkeypatch.setattr(api_retry, "MAX_PAUSE", 0.01)


def patient(answers: list[Answer]) -> tuple[PatientRequest, list[str]]:
    """A request whose transport answers ``answers`` in turn; the list of methods called."""
    calls: list[str] = []
    queue: Iterator[Answer] = iter(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path.rsplit("/", 1)[-1])
        answer = next(queue)
        if isinstance(answer, httpx.Response):
            return answer
        raise answer("injected", request=request)  # type: ignore[call-arg]

    request = PatientRequest()
    request._client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    return request, calls


async def post(request: PatientRequest, method: str) -> object:
    return await request.post(URL + method)


def within(seconds: float) -> Callable[[], None]:
    return lambda: retry_replies_until(time.monotonic() + seconds)


async def test_a_reply_that_did_not_reach_the_api_is_sent_again() -> None:
    within(10)()
    request, calls = patient([GATEWAY_502, httpx.ConnectError, GATEWAY_404, OK])
    assert await post(request, "sendMessage") is True
    assert calls == ["sendMessage"] * 4


async def test_a_message_that_may_have_arrived_is_not_sent_again() -> None:
    within(10)()
    request, calls = patient([httpx.ReadTimeout, OK])
    with pytest.raises(TimedOut):
        await post(request, "sendMessage")
    assert calls == ["sendMessage"]


async def test_a_5xx_that_may_have_been_carried_out_is_not_sent_again() -> None:
    within(10)()
    request, calls = patient([httpx.Response(520, text="<html>origin error</html>"), OK])
    with pytest.raises(ApiUnreachable):
        await post(request, "sendMessage")
    assert calls == ["sendMessage"]


async def test_an_edit_that_may_have_arrived_is_repeated_and_not_modified_counts_as_done() -> None:
    within(10)()
    request, calls = patient([httpx.ReadTimeout, NOT_MODIFIED])
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
    telegram_404 = httpx.Response(
        404, json={"ok": False, "error_code": 404, "description": "Not Found"}
    )
    request, _ = patient([telegram_404])
    with pytest.raises(InvalidToken):
        await post(request, "getMe")


async def test_a_reply_is_given_up_after_its_deadline() -> None:
    within(0.05)()
    request, calls = patient([GATEWAY_502] * 100)
    with pytest.raises(ApiUnreachable):
        await post(request, "sendMessage")
    assert 1 <= len(calls) < 100
