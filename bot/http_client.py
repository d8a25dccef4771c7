"""The bot's HTTP client for the Bot API: PTB's request interface on aiohttp (issue #14).

Why not PTB's own ``HTTPXRequest``: under load httpx/httpcore cost more CPU than the bot's own
work. For every request httpcore's pool asks each idle connection whether it expired (a socket
query through anyio's typed attributes), and each call goes through several anyio cancel
scopes; with a hundred people answered at once that was about half of the bot's Python time in
``bench.mixed``. aiohttp (already installed for the webhook server) parses HTTP in C and keeps
its pool as a list. Requests without files go as a JSON body, which the Bot API accepts, instead
of a form whose every value is URL-quoted.

A proxy named by the environment (``HTTPS_PROXY``/``HTTP_PROXY``, less the hosts of
``NO_PROXY``), as PTB's httpx client honoured it, is looked up once per host with the standard
library's rules and passed to each request. aiohttp's own ``trust_env`` would read the
environment *and* ``~/.netrc`` again on every request, each in a worker thread: two thread
hand-offs per request, a fifth of the bot's time under load in ``bench.mixed`` (0.82 → 0.63 ×
the echo bot's throughput when it was switched on).

Errors keep PTB's meaning (``TimedOut``, ``NetworkError``) and say whether the request
certainly never reached the API (:class:`NotSent`: the connection was refused or never made, or
no connection of the pool came free in time), which :mod:`bot.api_retry` needs to know whether a
message may be sent again.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    import aiohttp

#: PTB's defaults for its HTTPXRequest, kept: 5 s for everything but a file upload's writing.
DEFAULT_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0


class NotSent(NetworkError):
    """The request certainly did not reach the Bot API (safe to make again, whatever it was)."""


class NotSentTimeout(TimedOut):
    """A connect or pool timeout: ``TimedOut`` for PTB, but nothing was sent."""


class AiohttpRequest(BaseRequest):
    """PTB's :class:`~telegram.request.BaseRequest` on one ``aiohttp.ClientSession``."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        read_timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = DEFAULT_TIMEOUT,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        #: (scheme, host) → the proxy to use for it, or ``None`` to connect directly.
        self._proxies: dict[tuple[str, str], str | None] = {}

    def _proxy_for(self, url: str) -> str | None:
        """The environment's proxy for ``url`` (``NO_PROXY`` honoured), read once per host:
        the process's environment does not change under it."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxies = urllib.request.getproxies()
            bypass = not key[1] or urllib.request.proxy_bypass(key[1])
            self._proxies[key] = None if bypass else proxies.get(key[0])
        return self._proxies[key]

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            import aiohttp  # loaded with the first request layer, not on importing the bot

            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0),
                headers={"User-Agent": self.USER_AGENT},
                # Telegram's answers are JSON: no cookies to keep.
                cookie_jar=aiohttp.DummyCookieJar(),
                # The environment's proxy is looked up here once per host, see the module.
                trust_env=False,
            )

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """PTB's parsing, less the inline keyboard of a message the bot sent or edited: PTB
        builds an object of every button of the returned message, and nothing here reads it
        (``tests/unit/test_http_client.py`` checks that no code does). It was a tenth of the
        bot's time with screens of 10–20 buttons in ``bench.mixed``."""
        parsed: dict[str, Any] = BaseRequest.parse_json_payload(payload)
        result = parsed.get("result")
        if isinstance(result, dict) and "message_id" in result:
            result.pop("reply_markup", None)
        return parsed

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        import aiohttp

        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        with_files = request_data is not None and request_data.contains_files
        files = request_data.multipart_data if request_data is not None and with_files else None
        read = _given(read_timeout, self._read_timeout)
        write = _given(write_timeout, MEDIA_WRITE_TIMEOUT if files else self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        # aiohttp has no separate write timeout: reading the answer begins once the request is
        # written, so the two add up to the time allowed after connecting.
        after_connect = None if read is None or write is None else read + write
        # ``connect`` is aiohttp's time to get a connection: waiting for the pool, then connecting.
        waiting = None if pool is None or connect is None else pool + connect
        timeout = aiohttp.ClientTimeout(
            total=None, connect=waiting, sock_connect=connect, sock_read=after_connect
        )
        body: Any = None
        headers: dict[str, str] = {}
        if files:
            body = _form(request_data, files)
        elif request_data is not None and request_data.parameters:
            body = json.dumps(request_data.parameters).encode()
            headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                proxy=self._proxy_for(url),
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as error:
            raise NotSentTimeout(f"aiohttp: {_named(error)}") from error
        except aiohttp.ClientConnectorError as error:
            raise NotSent(f"aiohttp: {_named(error)}") from error
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut(f"aiohttp: {_named(error)}") from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp: {_named(error)}") from error


def request_data(parameters: Mapping[str, object]) -> RequestData:
    """Parameters of a Bot API call made through a request layer directly (the poller's
    getUpdates). ``RequestParameter`` is PTB's own conversion of values (it sits in a private
    module: the tests of the poller cover it if PTB moves it)."""
    from telegram.request._requestparameter import RequestParameter

    return RequestData(
        [
            RequestParameter.from_input(name, value)
            for name, value in parameters.items()
            if value is not None
        ]
    )


def _given(value: Any, default: float | None) -> float | None:
    """A timeout passed by the caller, or ours when PTB passed its 'not given' marker."""
    return default if isinstance(value, _NOT_GIVEN) else cast(float | None, value)


# The type of PTB's "not given" marker for timeouts (``BaseRequest.DEFAULT_NONE``).
_NOT_GIVEN = type(BaseRequest.DEFAULT_NONE)


def _named(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".rstrip(": ")


def _form(request_data: RequestData | None, files: dict[str, Any]) -> Any:
    import aiohttp

    form = aiohttp.FormData(quote_fields=False)
    for name, value in (request_data.json_parameters if request_data else {}).items():
        form.add_field(name, value)
    for name, (file_name, content, mime_type) in files.items():
        form.add_field(name, content, filename=file_name, content_type=mime_type)
    return form
