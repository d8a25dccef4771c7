"""Starting and stopping the bot: the same sequence for ``zhiyuan run``, tests and playground.

We do not use ``Application.run_polling`` nor PTB's ``Updater``: the Updater acknowledges a batch
of updates (the next ``getUpdates`` offset) before its handlers ran, so a crash lost them, and
gave up for good after a gateway's 404. Updates go through the durable inbox instead
(:mod:`bot.inbox`): polled or received by webhook, stored, then processed in per-user order by
:class:`~bot.inbox.InboxProcessor`, which calls ``application.process_update``. The database is
opened on our loop before the application initializes (the services read from it), and tests and
the playground start and stop the bot inside a loop they already run.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import signal
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import BotCommandScopeDefault, Update

from bot.app import ZyApplication, build_application
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.domain.users import Language
from bot.i18n import translator
from bot.inbox import (
    ALLOWED_UPDATES,
    WEBHOOK_LEASE,
    InboxProcessor,
    Leadership,
    Poller,
    instance_name,
)
from handlers.commands import commands_for
from storage.backends import open_database
from storage.db import Database
from storage.inbox import InboxRepository, LeasesRepository
from storage.migrate import migrate

if TYPE_CHECKING:  # aiohttp loads only for a webhook or a health port (bot.http_servers)
    from bot.http_servers import HealthServer, WebhookServer

log = logging.getLogger(__name__)

PRUNE_JOB = "inbox-prune"


@dataclass
class BotRuntime:
    settings: Settings
    db: Database
    application: ZyApplication
    processor: InboxProcessor | None = None
    poller: Poller | None = None
    webhook: WebhookServer | None = None
    leadership: Leadership | None = None
    #: The port the webhook listens on (when ``webhook`` is set; 0 asks for a free one).
    webhook_port: int | None = None
    health: HealthServer | None = None
    health_port: int | None = None
    name: str = ""
    poll_timeout: int = 10

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        token: str | None = None,
        api_url: str | None = None,
        poll_timeout: int = 10,
        webhook: bool = False,
    ) -> BotRuntime:
        db = await open_database(settings.database_target, sqlite_cache_mb=settings.sqlite_cache_mb)
        try:
            report = await migrate(db)
            if report.applied:
                log.info("applied migrations %s, schema version %s", report.applied, report.version)
            if report.applied or await db.statistics_stale():
                await db.analyze()
            application = build_application(settings, db, clock=clock, token=token, api_url=api_url)
            await application.initialize()
        except BaseException:
            await db.close()
            raise
        name = instance_name(settings.instance_name, settings.webhook_port if webhook else None)
        runtime = cls(settings, db, application, poll_timeout=poll_timeout, name=name)
        # The command menus are built and sent while the rest starts (they need no answer
        # first, and building them in two languages is ≈ 10 ms of CPU, #14); a failure still
        # fails the start.
        menus = asyncio.ensure_future(runtime._publish_commands())
        try:
            await application.start()
            await runtime._start_scheduler_leadership()
            await runtime._start_processing()
            if webhook:
                await runtime._start_webhook()
            else:
                await runtime.start_polling()
                if settings.health_port:
                    from bot.http_servers import HealthServer

                    runtime.health = HealthServer(lambda: runtime.poller, db)
                    runtime.health_port = await runtime.health.start(
                        settings.webhook_host, settings.health_port
                    )
            await menus
        except BaseException:
            menus.cancel()
            with contextlib.suppress(BaseException):
                await menus
            await runtime.stop()
            raise
        log.info("Zhiyuan is running as @%s (%s)", application.bot.username, runtime.name)
        return runtime

    async def _start_processing(self) -> None:
        application = self.application

        async def handle(data: dict[str, Any]) -> None:
            update = Update.de_json(data, application.bot)
            await application.process_update(update)

        self.processor = InboxProcessor(
            InboxRepository(self.db),
            handle,
            system_clock,
            lanes=self.settings.concurrent_users,
            owner=self.name,
            lease=timedelta(seconds=self.settings.inbox_lease_seconds),
            reply_retry_for=timedelta(seconds=self.settings.reply_retry_seconds),
        )
        await self.processor.start()
        processor = self.processor

        async def prune(_context: object) -> None:
            await processor.prune()

        # Handled updates are kept only while Telegram may still repeat them (the scheduler's
        # job: one instance prunes).
        if application.job_queue is not None:
            application.job_queue.run_repeating(prune, interval=3600, first=60, name=PRUNE_JOB)

    async def start_polling(self) -> None:
        """Long polling into the inbox (tests switch it off and on to alternate processes)."""
        if self.poller is not None:
            return
        assert self.processor is not None
        await self.application.bot.delete_webhook()
        self.poller = Poller(
            self.application.bot,
            self.application.updates_request,
            InboxRepository(self.db),
            self.processor,
            system_clock,
            timeout=self.poll_timeout,
        )
        self.poller.start()

    async def stop_polling(self) -> None:
        if self.poller is not None:
            poller, self.poller = self.poller, None
            await poller.stop()

    async def _start_webhook(self) -> None:
        settings = self.settings
        url = settings.webhook_url
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        if not url or not secret:
            raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
        assert self.processor is not None
        from bot.http_servers import WebhookServer

        self.webhook = WebhookServer(
            InboxRepository(self.db),
            self.processor,
            self.db,
            system_clock,
            secret=secret,
            path=settings.webhook_path,
        )
        self.webhook_port = await self.webhook.start(settings.webhook_host, settings.webhook_port)
        # One instance tells Telegram (the one that changes the recorded URL and secret).
        fingerprint = hashlib.sha256(f"{url}\n{secret}".encode()).hexdigest()
        leases = LeasesRepository(self.db)
        if await leases.set_value_once(WEBHOOK_LEASE, fingerprint, self.name, system_clock()):
            await self.application.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                max_connections=settings.webhook_max_connections,
            )
            log.info("webhook set to %s", url)

    async def _start_scheduler_leadership(self) -> None:
        """PostgreSQL, several instances: only the holder of the scheduler lease runs the
        periodic jobs, the outbox's included, so bulk sending is paced by one process and
        Telegram's per-bot budget stays global; an instance that loses the lease stops
        sending at once (:meth:`Deliverer.hold`). SQLite has one process: it always runs them."""
        job_queue = self.application.job_queue
        if self.db.backend != "postgresql" or job_queue is None:
            return
        scheduler = job_queue.scheduler
        deliverer = self.application.deliverer

        async def on_change(leader: bool) -> None:
            if leader:
                deliverer.resume()
                scheduler.resume()
            else:
                scheduler.pause()
                deliverer.hold()

        scheduler.pause()
        deliverer.hold()
        self.leadership = Leadership(LeasesRepository(self.db), self.name, on_change)
        await self.leadership.start()

    async def _publish_commands(self) -> None:
        """Localized command menus: Telegram shows the list matching the client's language.

        The three calls go at once: one round trip to Telegram before the bot answers instead
        of three (≈ 0.1 s each from far away), and independent of each other."""
        bot = self.application.bot
        default = self.settings.default_language
        menus = [
            bot.set_my_commands(
                commands_for(translator(language, self.settings.tz)),
                language_code=language.value,
            )
            for language in Language
        ]
        t = translator(default, self.settings.tz)
        menus.append(bot.set_my_commands(commands_for(t), scope=BotCommandScopeDefault()))
        # All finish (none left running unobserved); the first failure is raised as before.
        for outcome in await asyncio.gather(*menus, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome

    async def stop(self) -> None:
        """Stop receiving, let running handlers finish, close the database."""
        application = self.application
        deliverer = getattr(application, "deliverer", None)
        if deliverer is not None:
            deliverer.stop()  # a broadcast in progress stays queued rather than delaying this
        try:
            await self.stop_polling()
            if self.health is not None:
                await self.health.stop()
            if self.webhook is not None:
                await self.webhook.stop()
            if self.processor is not None:
                await self.processor.stop()
            if self.leadership is not None:
                await self.leadership.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
        finally:
            await self.db.close()
        log.info("Zhiyuan stopped")

    async def crash(self) -> None:
        """Stop as after ``kill -9`` between two updates (tests): whatever ran has finished,
        nothing is released on the way down (the scheduler lease runs out), and what was
        received but not handled stays in the inbox. A kill in the middle of handling is
        tested with a real process (``tests/e2e/test_processes.py``)."""
        if self.poller is not None:
            await self.poller.stop()
        if self.webhook is not None:
            await self.webhook.stop()
        if self.processor is not None:
            await self.processor.idle(timeout=10)
            self.processor.abandon()
        application = self.application
        try:
            if application.running:
                await application.stop()
            await application.shutdown()
        finally:
            await self.db.close()


async def run_until_signalled(settings: Settings, *, webhook: bool = False) -> None:
    """``zhiyuan run``: long polling (or the webhook) until SIGINT or SIGTERM, then a clean
    shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    try:
        runtime = await BotRuntime.start(settings, webhook=webhook)
    finally:
        # The CLI starts with the garbage collector off: importing the modules and building
        # the application allocate long-lived objects only, and collecting in between cost
        # ~50 ms of start-up (#14). Frozen, they are not walked by later collections either.
        # (Feature modules imported later, on first use, are collected as usual.)
        gc.freeze()
        gc.enable()
    try:
        await stop.wait()
        log.info("stop signal received, shutting down")
    finally:
        await runtime.stop()
