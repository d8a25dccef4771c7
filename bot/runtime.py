"""Starting and stopping the bot: the same sequence for ``zhiyuan run``, tests and playground.

We do not use ``Application.run_polling``: it owns the event loop, while the database is opened
on our loop before the application initializes (the services read from it), and tests and the
playground must start and stop the bot inside a loop they already run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from telegram import BotCommandScopeDefault
from telegram.error import TelegramError

from bot.app import ZyApplication, build_application
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.domain.users import Language
from bot.i18n import translator
from handlers.commands import commands_for
from storage.backends import open_database
from storage.db import Database
from storage.migrate import migrate

log = logging.getLogger(__name__)


@dataclass
class BotRuntime:
    settings: Settings
    db: Database
    application: ZyApplication

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        token: str | None = None,
        api_url: str | None = None,
        poll_timeout: int = 10,
    ) -> BotRuntime:
        db = await open_database(settings.database_target)
        try:
            report = await migrate(db)
            if report.applied:
                log.info("applied migrations %s, schema version %s", report.applied, report.version)
            await db.analyze()
            application = build_application(settings, db, clock=clock, token=token, api_url=api_url)
            await application.initialize()
            # The working-day calendar from its maintained source (idempotent; admins' rows win).
            await application.services.workdays.seed()
        except BaseException:
            await db.close()
            raise
        runtime = cls(settings, db, application)
        try:
            await runtime._publish_commands()
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0.0,
                timeout=poll_timeout,
                allowed_updates=["message", "callback_query", "my_chat_member"],
                error_callback=_log_polling_error,
            )
        except BaseException:
            await runtime.stop()
            raise
        log.info("Zhiyuan is running as @%s", application.bot.username)
        return runtime

    async def _publish_commands(self) -> None:
        """Localized command menus: Telegram shows the list matching the client's language."""
        bot = self.application.bot
        default = self.settings.default_language
        for language in Language:
            t = translator(language, self.settings.tz)
            await bot.set_my_commands(commands_for(t), language_code=language.value)
        t = translator(default, self.settings.tz)
        await bot.set_my_commands(commands_for(t), scope=BotCommandScopeDefault())

    async def stop(self) -> None:
        """Stop polling, let running handlers finish, close the database."""
        application = self.application
        try:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
        finally:
            await self.db.close()
        log.info("Zhiyuan stopped")


def _log_polling_error(error: TelegramError) -> None:
    log.warning("polling failed, retrying: %s", error)


async def run_until_signalled(settings: Settings) -> None:
    """``zhiyuan run``: long polling until SIGINT or SIGTERM, then a clean shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    runtime = await BotRuntime.start(settings)
    try:
        await stop.wait()
        log.info("stop signal received, shutting down")
    finally:
        await runtime.stop()
