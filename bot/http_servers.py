"""The HTTP side of an instance: the webhook endpoint Telegram posts updates to, and the
health check a load balancer or supervisor asks (aiohttp).

Apart from :mod:`bot.inbox` so that an instance that polls without a health port never loads
aiohttp (about 0.1 s of start-up, issue #14): :mod:`bot.runtime` imports this module only when
it serves a webhook or ``HEALTH_PORT``.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable

from aiohttp import web

from bot.clock import Clock
from bot.inbox import InboxProcessor, Poller, new_update
from storage.db import Database
from storage.inbox import InboxRepository

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


# ------------------------------------------------------------------------------------ webhook


class WebhookServer:
    """``POST <path>``: an update from Telegram (secret header checked), answered 200 only once
    stored; ``GET /healthz``: 200 when the database answers (for a load balancer)."""

    def __init__(
        self,
        inbox: InboxRepository,
        processor: InboxProcessor,
        db: Database,
        clock: Clock,
        *,
        secret: str,
        path: str,
    ) -> None:
        self._inbox = inbox
        self._processor = processor
        self._db = db
        self._clock = clock
        self._secret = secret
        self._path = path
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(self._path, self._update)
        app.router.add_get("/healthz", self._health)
        return app

    async def start(self, host: str, port: int) -> int:
        self._runner, bound = await _serve(self.app(), host, port)
        log.info("webhook listening on %s:%s%s", host, bound, self._path)
        return bound

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
            stored = new_update(data) if isinstance(data, dict) else None
        except (ValueError, json.JSONDecodeError):
            stored = None
        if stored is None:
            # Not an update: a 200 so Telegram does not retry something that never works.
            log.warning("webhook: ignored a request that is not an update")
            return web.Response(text="ignored")
        try:
            await self._inbox.store([stored], self._clock())
        except Exception:
            log.exception("webhook: could not store update %s", stored.update_id)
            return web.Response(status=503, text="try again")
        self._processor.wake()
        return web.Response(text="ok")

    async def _health(self, request: web.Request) -> web.Response:
        return await _database_health(self._db)


async def _serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app``; the runner (to stop it) and the port bound (``port`` 0 picks one)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    return runner, int(sockets[0].getsockname()[1]) if sockets else port


async def _database_health(db: Database) -> web.Response:
    """200 when the database answers, 503 naming the error otherwise."""
    try:
        await db.fetch_one("SELECT 1 AS ok")
    except Exception as error:
        return web.Response(status=503, text=f"database unreachable: {type(error).__name__}")
    return web.Response(text="ok")


# ------------------------------------------------------------------------------ health (polling)


class HealthServer:
    """``GET /healthz`` in polling mode (``HEALTH_PORT``): 200 while polling works and the
    database answers, 503 with the reason otherwise — so a supervisor notices a process that
    cannot poll (PTB's Updater used to stop for good after a gateway's 404 while the process
    stayed alive)."""

    def __init__(self, poller: Callable[[], Poller | None], db: Database) -> None:
        self._poller = poller
        self._db = db
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> int:
        app = web.Application()
        app.router.add_get("/healthz", self._health)
        self._runner, bound = await _serve(app, host, port)
        return bound

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, request: web.Request) -> web.Response:
        poller = self._poller()
        if poller is None or not poller.healthy:
            return web.Response(status=503, text="cannot reach the Bot API (polling)")
        return await _database_health(self._db)
