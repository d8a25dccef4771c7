"""Delivering the outbox: the repeating job that sends due notifications.

Each run (every ``OUTBOX_INTERVAL_SECONDS``, and right after an action that queued something):

1. the waitlist sweep expires unanswered offers and offers free spots (:meth:`SignupService.sweep`);
2. due rows are claimed with a lease (:meth:`OutboxRepository.claim_due`);
3. each is rendered in the recipient's language *now* by the renderer registered for its kind;
   a renderer returns ``None`` when the notification has gone stale, and the row is dropped;
4. the outcome is recorded: sent; ``RetryAfter`` → due again after ``retry_after`` (only that
   row waits); ``Forbidden`` (the user blocked the bot) → the user is marked unreachable and
   their pending rows are dropped; network and server errors → retried with exponential backoff,
   failed after :data:`MAX_ATTEMPTS`; other refusals (bad request) → failed at once.

A crash between claiming and recording leaves the lease to expire, and the row is sent again
on a later run: at-least-once delivery, duplicates bounded by one batch.

Pacing of large campaigns (Telegram's ~30 messages per second overall, ~1 per second per chat)
is the scheduler's concern; a batch here is small (:data:`BATCH_SIZE`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.domain.notifications import NotificationKind, OutboxItem
from bot.i18n import Translator
from storage.outbox import OutboxStatus

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)

BATCH_SIZE = 50
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 6
BACKOFF_BASE = timedelta(seconds=5)


@dataclass(frozen=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None


#: Renders one notification for its recipient, or returns ``None`` when it went stale.
Renderer = Callable[[OutboxItem, "Services", Translator], Awaitable[Rendered | None]]


@dataclass
class DeliveryReport:
    sent: int = 0
    dropped: int = 0
    retried: int = 0
    failed: int = 0


class Deliverer:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._renderers: dict[NotificationKind, Renderer] = {}
        self._running = asyncio.Lock()
        self._again = False

    def register(self, kind: NotificationKind, renderer: Renderer) -> None:
        self._renderers[kind] = renderer

    async def run_once(self, bot: Bot) -> DeliveryReport:
        """One pass (repeated while more is due or a nudge arrived meanwhile)."""
        report = DeliveryReport()
        if self._running.locked():
            return report
        async with self._running:
            await self._services.signups.sweep()
            items = await self._services.outbox.claim_due(self._services.clock(), LEASE, BATCH_SIZE)
            for item in items:
                await self._deliver(bot, item, report)
        return report

    async def _deliver(self, bot: Bot, item: OutboxItem, report: DeliveryReport) -> None:
        services = self._services
        outbox = services.outbox
        user = await services.accounts.get(item.telegram_id)
        if user is None or not user.is_reachable:
            await outbox.finish(
                item.notification_id,
                OutboxStatus.DROPPED,
                services.clock(),
                "recipient unknown or unreachable",
            )
            report.dropped += 1
            return
        renderer = self._renderers.get(item.kind)
        if renderer is None:
            log.error(
                "no renderer for notification kind %s (row %s)", item.kind, item.notification_id
            )
            await outbox.finish(
                item.notification_id, OutboxStatus.FAILED, services.clock(), "no renderer"
            )
            report.failed += 1
            return
        t = services.translator(services.accounts.language_of(user))
        rendered = await renderer(item, services, t)
        if rendered is None:
            await outbox.finish(
                item.notification_id, OutboxStatus.DROPPED, services.clock(), "stale"
            )
            report.dropped += 1
            return
        try:
            await bot.send_message(
                item.telegram_id,
                rendered.text,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.markup,
            )
        except RetryAfter as error:
            wait = error.retry_after
            delay = wait if isinstance(wait, timedelta) else timedelta(seconds=float(wait))
            await outbox.retry_at(item.notification_id, services.clock() + delay, str(error))
            report.retried += 1
        except Forbidden as error:
            log.info("user %s blocked the bot; dropping their notifications", item.telegram_id)
            await services.accounts.blocked_bot(item.telegram_id)
            await outbox.finish(
                item.notification_id, OutboxStatus.DROPPED, services.clock(), str(error)
            )
            await outbox.drop_pending_for(item.telegram_id, services.clock(), "blocked the bot")
            report.dropped += 1
        except BadRequest as error:
            log.error("notification %s (%s) refused: %s", item.notification_id, item.kind, error)
            await outbox.finish(
                item.notification_id, OutboxStatus.FAILED, services.clock(), str(error)
            )
            report.failed += 1
        except (NetworkError, TelegramError) as error:
            if item.attempts >= MAX_ATTEMPTS:
                log.error(
                    "giving up on notification %s (%s) after %s attempts: %s",
                    item.notification_id,
                    item.kind,
                    item.attempts,
                    error,
                )
                await outbox.finish(
                    item.notification_id, OutboxStatus.FAILED, services.clock(), str(error)
                )
                report.failed += 1
            else:
                delay = BACKOFF_BASE * 2 ** (item.attempts - 1)
                log.warning(
                    "notification %s failed (%s), retrying in %s",
                    item.notification_id,
                    error,
                    delay,
                )
                await outbox.retry_at(item.notification_id, services.clock() + delay, str(error))
                report.retried += 1
        else:
            await outbox.finish(item.notification_id, OutboxStatus.SENT, services.clock())
            report.sent += 1
