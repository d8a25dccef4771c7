"""HTTP front of the local Bot API: ``/bot{token}/{method}`` and ``/file/bot{token}/{path}``.

The bot under test is a normal PTB ``Application`` pointed here with
``ApplicationBuilder().base_url(f"{url}/bot").base_file_url(f"{url}/file/bot")``; it must not
be able to tell this server from Telegram. The in-process side (virtual users, observation,
waiting) is inherited from :class:`~bot.localapi.state.ApiState`, so tests drive and observe
the same object the bot talks to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.localapi import errors
from bot.localapi.errors import ApiError
from bot.localapi.flood import FloodLimits
from bot.localapi.methods import METHODS, Call, Handler
from bot.localapi.models import EventKind
from bot.localapi.params import Params, UploadedFile
from bot.localapi.state import ActiveOutage, ApiState, BotRef, BotState, Outage
from bot.localapi.webhook import RetryPolicy

logger = logging.getLogger("bot.localapi")

# Telegram accepts uploads of up to 50 MB through the Bot API.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response with Chinese left readable (also used by the playground's web API)."""
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False),
        status=status,
        content_type="application/json",
        headers=headers,
    )


#: What a gateway (nginx) in front of the Bot API answers when the API behind it is down: its own
#: HTML page, not the API's JSON.
_GATEWAY_PAGES = {
    Outage.BAD_GATEWAY: (502, "502 Bad Gateway"),
    Outage.GATEWAY_NOT_FOUND: (404, "404 Not Found"),
}


def _gateway_page(status: int, title: str) -> web.Response:
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>"
    )
    return web.Response(status=status, text=body, content_type="text/html")


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def read_params(request: web.Request) -> Params:
    """Parameters from the query string and a JSON, form or multipart body."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.body_exists:
        return Params(values)
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            raise ApiError.bad_request("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise ApiError.bad_request("JSON request body must be an object")
        values.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = UploadedFile(
                    filename=value.filename or name,
                    content_type=value.content_type or "application/octet-stream",
                    data=value.file.read(),
                )
            elif isinstance(value, bytes | bytearray):
                values[name] = value.decode("utf-8", errors="replace")
            else:
                values[name] = value
    return Params(values, files)


class LocalBotApi(ApiState):
    """A Telegram Bot API–compatible server on localhost, plus the simulated Telegram behind it.

    Usage::

        async with LocalBotApi() as server:
            bot = server.add_bot("123:ABC", "zhiyuan_test_bot", "Zhiyuan")
            app = ApplicationBuilder().token(bot.token).base_url(server.bot_api_url)...
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        flood_limits: FloodLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        latency: float = 0.0,
        webhook_retry_base: float = 0.5,
        webhook_retry_max: float = 10.0,
        webhook_timeout: float = 60.0,
    ) -> None:
        # A failed webhook request is retried after webhook_retry_base seconds, doubling per
        # failure up to webhook_retry_max (tests set both low); one request may take
        # webhook_timeout seconds.
        retry = RetryPolicy(webhook_retry_base, webhook_retry_max, webhook_timeout)
        super().__init__(flood_limits, clock=clock, wall_clock=wall_clock, webhook_retry=retry)
        # Simulated network round trip of each call except getUpdates (half on the way in,
        # half on the way out), so benchmarks see a sender's concurrency the way Telegram does.
        self.latency = latency
        self.host = host
        self.port = port
        self.app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner: web.AppRunner | None = None
        self._site: web.BaseSite | None = None
        self._outage_timers: set[asyncio.TimerHandle] = set()
        self._outage_tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234`` (the real port once started)."""
        return f"http://{self.host}:{self.port}"

    @property
    def bot_api_url(self) -> str:
        """What to pass to ``ApplicationBuilder.base_url``."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """What to pass to ``ApplicationBuilder.base_file_url``."""
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("LocalBotApi is already running")
        self.closing = False
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        self._runner = runner
        await self._listen()
        self.resume_webhooks()
        logger.info("Local Bot API listening on %s", self.url)

    async def stop(self) -> None:
        """Stop serving; waiting long polls are answered (empty) first so shutdown is quick.

        Webhook requests in flight are cut off; their updates stay pending (and are sent again
        if the server is started again)."""
        if self._runner is None:
            return
        self.closing = True
        for timer in self._outage_timers:
            timer.cancel()
        self._outage_timers.clear()
        self.end_outage()
        self.notify()
        await self.stop_webhooks()
        runner, self._runner = self._runner, None
        self._site = None
        await runner.cleanup()
        logger.info("Local Bot API on %s stopped", self.url)

    async def __aenter__(self) -> LocalBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _listen(self) -> None:
        assert self._runner is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._site = web.SockSite(self._runner, sock)
        await self._site.start()

    async def _stop_listening(self) -> None:
        """Connections are refused from now on, and the open ones (kept alive by the client, or
        a long poll) are closed, as when the API's host goes away."""
        if self._site is not None:
            site, self._site = self._site, None
            await site.stop()
        server = self._runner.server if self._runner is not None else None
        for connection in server.connections if server is not None else []:
            connection.force_close()
        await asyncio.sleep(0)  # let the closes go out before the caller goes on

    # ---------------------------------------------------------------------------- outages

    async def fail_for(
        self,
        kind: Outage,
        seconds: float | None = None,
        *,
        methods: Iterable[str] | None = None,
        bot: BotRef | None = None,
        delay: float = 30.0,
    ) -> ActiveOutage:
        """The API fails as ``kind`` says for ``seconds`` (until :meth:`recover` when ``None``),
        for ``methods`` (all when ``None``) of ``bot`` (every bot when ``None``). ``REFUSED``
        for everything stops listening on the port; otherwise see :class:`Outage`. ``delay``:
        how long ``SLOW`` holds an answer at most (the outage's end releases it sooner)."""
        outage = self.begin_outage(kind, methods=methods, bot=bot, delay=delay)
        if outage.stops_listening:
            await self._stop_listening()
        if seconds is not None:
            loop = asyncio.get_running_loop()

            def end() -> None:
                self._outage_timers.discard(timer)
                task = loop.create_task(self.recover(outage))
                self._outage_tasks.add(task)
                task.add_done_callback(self._outage_tasks.discard)

            timer = loop.call_later(seconds, end)
            self._outage_timers.add(timer)
        return outage

    async def recover(self, outage: ActiveOutage | None = None) -> None:
        """End ``outage`` (all when ``None``): listen again if nothing else keeps the port shut."""
        remaining = [o for o in self.outages if outage is not None and o is not outage]
        if (
            self._runner is not None
            and self._site is None
            and not any(o.stops_listening for o in remaining)
        ):
            await self._listen()  # before the outage is over for whoever waits on it
        self.end_outage(outage)

    async def _fail(
        self,
        request: web.Request,
        bot: BotState,
        canonical: str,
        handler: Handler,
        outage: ActiveOutage,
    ) -> web.StreamResponse:
        self.stats.requests[canonical] += 1
        self.record(EventKind.API_ERROR, bot.info.id, None, None, f"{canonical} -> {outage.kind}")
        page = _GATEWAY_PAGES.get(outage.kind)
        if page is not None:
            return _gateway_page(*page)
        if outage.kind is Outage.SLOW:
            # Carried out now, answered late: the client cannot tell whether it happened.
            response = await self._handle_known(request, bot, canonical, handler)
            await self.wait_until(lambda: outage.ended or None, outage.delay)
            return response
        # REFUSED for chosen methods (or a request on a connection that was open before the
        # port closed): the connection is reset before anything is done.
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError

    # ---------------------------------------------------------------------------- handlers

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        name = request.match_info["method"]
        bot = self.bot_by_token(token)
        if bot is None:
            logger.info("Rejected %s: unknown token", name)
            return json_response(ApiError(401, errors.UNAUTHORIZED).payload(), 401)
        entry = METHODS.get(name.lower())
        if entry is None:
            logger.warning("@%s called unsupported method %s", bot.info.username, name)
            self.stats.requests[name] += 1
            return self._error(bot, name, None, ApiError(404, errors.METHOD_NOT_FOUND))
        canonical, handler = entry
        outage = self.outage_for(canonical, bot.info.id)
        if outage is not None:
            return await self._fail(request, bot, canonical, handler, outage)
        if self.latency > 0 and canonical != "getUpdates":
            await asyncio.sleep(self.latency / 2)
            response = await self._handle_known(request, bot, canonical, handler)
            await asyncio.sleep(self.latency / 2)
            return response
        return await self._handle_known(request, bot, canonical, handler)

    async def _handle_known(
        self, request: web.Request, bot: BotState, canonical: str, handler: Handler
    ) -> web.Response:
        self.stats.requests[canonical] += 1
        params: Params | None = None
        try:
            fault = self.take_fault(canonical, bot.info.id)
            if fault is not None:
                raise fault
            params = await read_params(request)
            logger.debug("@%s %s %s", bot.info.username, canonical, params.values)
            result = await handler(Call(self, bot, params))
        except ApiError as exc:
            if exc.error_code == 409 and _client_gone(request):
                # A long poll the client abandoned (PTB cancels it when stopping) was superseded
                # by the client's next call: nobody will read this answer, so it is not an error.
                logger.debug("@%s abandoned %s ended: %s", bot.info.username, canonical, exc)
                return json_response(exc.payload(), exc.error_code)
            return self._error(bot, canonical, params, exc)
        except ConnectionResetError:
            # The client hung up while its request was still being read (a bot stopping in the
            # middle of a long poll): there is nobody to answer, and nothing went wrong here.
            logger.debug("@%s %s: the client went away", bot.info.username, canonical)
            raise
        except Exception:
            logger.exception("Local Bot API failed on %s", canonical)
            error = ApiError(500, "Internal Server Error: local Bot API failure")
            return self._error(bot, canonical, params, error)
        return json_response({"ok": True, "result": result})

    def _error(
        self, bot: BotState, method: str, params: Params | None, exc: ApiError
    ) -> web.Response:
        self.stats.errors[exc.error_code] += 1
        if exc.error_code == 429:
            self.stats.too_many_requests += 1
        chat_id: int | None = None
        if params is not None:
            try:
                chat_id = params.get_int("chat_id")
            except ApiError:
                chat_id = None
        log = logger.debug if exc.error_code == 429 else logger.info
        log("@%s %s -> %s %s", bot.info.username, method, exc.error_code, exc.description)
        self.record(
            EventKind.API_ERROR,
            bot.info.id,
            chat_id,
            None,
            f"{method} -> {exc.error_code} {exc.description}",
        )
        return json_response(exc.payload(), exc.error_code)

    async def _handle_file(self, request: web.Request) -> web.Response:
        bot = self.bot_by_token(request.match_info["token"])
        if bot is None:
            return json_response(ApiError(401, errors.UNAUTHORIZED).payload(), 401)
        stored = bot.files_by_path.get(request.match_info["path"])
        if stored is None:
            return json_response(ApiError(404, errors.NOT_FOUND).payload(), 404)
        return web.Response(body=stored.data, content_type=stored.mime_type)
