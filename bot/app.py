"""The composition root: the one place that wires settings, storage, services and handlers.

``zhiyuan run``, the end-to-end tests and the playground all build the bot through
:func:`build_application` (by way of :class:`bot.runtime.BotRuntime`), so what is tested is
what runs. Only the entry points import this module; handlers see the types of
:mod:`bot.context`.
"""

from __future__ import annotations

from typing import cast

from telegram.ext import ApplicationBuilder, ContextTypes

from bot.api_retry import PatientRequest
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.context import OUTBOX_JOB, Services, ZyApplication, ZyContext, deliver_outbox
from bot.delivery import Deliverer, DeliveryRateLimiter, Pacer, SendWindow
from bot.update_processor import PerUserUpdateProcessor
from handlers import notification_renderers, register_handlers
from handlers.jobs import schedule_jobs
from storage.db import Database


def build_application(
    settings: Settings,
    db: Database,
    *,
    clock: Clock = system_clock,
    token: str | None = None,
    api_url: str | None = None,
) -> ZyApplication:
    """Build the bot. ``db`` must be open and migrated (flows and drafts are read from it)."""
    base = (api_url or settings.bot_api_url).rstrip("/")
    services = Services(settings, db, clock)
    # Every message sent, answers and bulk, counted in one place: the outbox paces by it.
    send_window = SendWindow()
    updates_request = PatientRequest(connection_pool_size=1, log_outages=False)
    application = cast(
        ZyApplication,
        ApplicationBuilder()
        .application_class(ZyApplication)
        .token(token or settings.require_token())
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .context_types(ContextTypes(context=ZyContext))
        .concurrent_updates(PerUserUpdateProcessor(settings.concurrent_users))
        # AIORateLimiter that hands 429s of outbox sends back to the deliverer (bot.delivery).
        .rate_limiter(DeliveryRateLimiter(max_retries=2, window=send_window))
        # Replies retried through an outage, never sent twice (bot.api_retry); polling retries
        # in its own loop, so its requests only get the outage-aware errors.
        .request(PatientRequest(connection_pool_size=256))
        .get_updates_request(updates_request)
        .build(),
    )
    application.services = services
    application.updates_request = updates_request
    application.deliverer = Deliverer(
        outbox=services.outbox,
        accounts=services.accounts,
        # Read when the outbox first runs: the sign-up service is built on first use.
        sweep=lambda: services.signups.sweep(),
        clock=clock,
        settings=settings,
        translator_for=services.translator,
        renderers=notification_renderers(),
        render_context=services,
        pacer=Pacer(
            settings.send_rate_per_second,
            settings.chat_interval_seconds,
            settings.group_messages_per_minute,
            window=send_window,
        ),
    )
    register_handlers(application)
    assert application.job_queue is not None  # the job-queue extra is a dependency
    schedule_jobs(application.job_queue, settings)
    application.job_queue.run_repeating(
        deliver_outbox,
        interval=settings.outbox_interval_seconds,
        first=settings.outbox_interval_seconds,
        name=OUTBOX_JOB,
        # A run drains while rows are due (bot.delivery); a tick meanwhile returns at once
        # instead of APScheduler logging "maximum number of running instances reached".
        job_kwargs={"max_instances": 2},
    )
    return application
