"""Administrator broadcasts: one announcement to everyone, an area or a category's followers.

```mermaid
stateDiagram-v2
    [*] --> draft: /broadcast · bc:new (admins only)
    draft --> draft: text, audience (broadcast_drafts)
    draft --> queuing: confirm (broadcasts row)
    queuing --> queued: every recipient has an outbox row
    queuing --> cancelled: cancel the rest
    queued --> cancelled: cancel the rest
```

**Who "everyone" is.** Registered volunteers with a live profile (not deleted) whose Telegram
account is reachable (they have not blocked the bot). People who only pressed /start never
registered and never agreed to hear from us, and staff without a volunteer profile are not
volunteers, so neither is included. Paused volunteers *are* included: pausing stops invitations
and campaigns, while a broadcast is an announcement from the administrators (e.g. a safety
notice). An area audience is the volunteers living in that area or in an area directly below it;
a category audience is the volunteers who follow that service category.

**Queuing.** Recipients are chosen when the admin confirms, and written to the outbox in chunks
of :data:`CHUNK_SIZE`, one transaction each, ordered by Telegram id. Each chunk also moves the
broadcast's resume point (``queued_through``), so a crash mid-way resumes after the last chunk;
the outbox's dedup key (one row per broadcast and recipient) makes a repeated chunk harmless.
Broadcasts are not time-critical: delivery holds them during the recipient's quiet hours.

**Cancelling.** The broadcast is marked cancelled first (later chunks are not written and rows
claimed meanwhile render as stale), then its pending outbox rows are dropped; a message already
being handed to Telegram finishes.

Every action re-checks on the server that the caller is an administrator
(:meth:`StaffService.is_admin`); a refusal is logged.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from bot.clock import Clock
from bot.domain.broadcasts import (
    Audience,
    AudienceKind,
    Broadcast,
    BroadcastDraft,
    BroadcastStatus,
    Progress,
    batch_key,
)
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.refusals import Refused
from bot.domain.validation import clean_free_text
from bot.services.staff import StaffService
from storage.broadcasts import BroadcastsRepository
from storage.catalog import CatalogRepository
from storage.db import Database
from storage.outbox import OutboxRepository

__all__ = [
    "CHUNK_SIZE",
    "MAX_TEXT_LENGTH",
    "Audience",
    "AudienceKind",
    "Broadcast",
    "BroadcastDraft",
    "BroadcastRefusal",
    "BroadcastRefused",
    "BroadcastService",
    "BroadcastStatus",
    "Held",
    "Progress",
    "batch_key",
    "draft_version",
]

log = logging.getLogger(__name__)

#: Telegram allows 4096 characters per message; the header and some room stay free.
MAX_TEXT_LENGTH: Final = 3500
#: Recipients written per transaction: short enough never to hold the write lock for long.
CHUNK_SIZE: Final = 500
#: How many past broadcasts the progress list shows.
RECENT_LIMIT: Final = 10


class BroadcastRefusal(StrEnum):
    NOT_ADMIN = "not_admin"
    NOT_FOUND = "not_found"  # no such broadcast
    NO_DRAFT = "no_draft"  # nothing being composed (finished or lost)
    NO_TEXT = "no_text"
    NO_AUDIENCE = "no_audience"
    UNKNOWN_AUDIENCE = "unknown_audience"  # an area or category that does not exist (any more)
    NO_RECIPIENTS = "no_recipients"
    CHANGED = "changed"  # confirmed from a preview of an older version of the draft


class BroadcastRefused(Refused):
    def __init__(self, reason: BroadcastRefusal) -> None:
        super().__init__(reason)
        self.reason: BroadcastRefusal = reason


@dataclass(frozen=True)
class Held:
    """Messages of a broadcast waiting for the end of their recipients' quiet hours."""

    count: int
    first: datetime  # the earliest of them goes out then
    last: datetime


def draft_version(draft: BroadcastDraft) -> str:
    """A short fingerprint of what a preview shows (text and audience): the Send button carries
    it, so a preview of an older text or audience cannot send the current one."""
    audience = draft.audience
    shown = "\x00".join(
        (
            draft.text or "",
            audience.kind.value if audience is not None else "",
            (audience.code or "") if audience is not None else "",
        )
    )
    return hashlib.sha256(shown.encode()).hexdigest()[:12]


class _ChunkLost(Exception):
    """Another process queued this chunk first, or the broadcast was cancelled meanwhile."""


class BroadcastService:
    def __init__(
        self,
        db: Database,
        repository: BroadcastsRepository,
        outbox: OutboxRepository,
        catalog: CatalogRepository,
        staff: StaffService,
        clock: Clock,
        *,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._db = db
        self._repo = repository
        self._outbox = outbox
        self._catalog = catalog
        self._staff = staff
        self._clock = clock
        self._chunk_size = chunk_size
        self._filling: set[int] = set()  # broadcasts being queued by this process right now

    # -- authorization ---------------------------------------------------------------------------

    async def authorize(self, telegram_id: int) -> None:
        """Raise :class:`BroadcastRefused` (and log) unless the user is an administrator."""
        if not await self._staff.is_admin(telegram_id):
            log.warning("broadcast refused: user %s is not an administrator", telegram_id)
            raise BroadcastRefused(BroadcastRefusal.NOT_ADMIN)

    # -- composing -------------------------------------------------------------------------------

    async def begin(self, telegram_id: int) -> BroadcastDraft:
        """Start composing afresh (an older unfinished draft is replaced)."""
        await self.authorize(telegram_id)
        draft = BroadcastDraft(telegram_id=telegram_id, updated_at=self._clock())
        await self._repo.save_draft(draft)
        return draft

    async def draft(self, telegram_id: int) -> BroadcastDraft:
        await self.authorize(telegram_id)
        draft = await self._repo.get_draft(telegram_id)
        if draft is None:
            raise BroadcastRefused(BroadcastRefusal.NO_DRAFT)
        return draft

    async def set_text(self, telegram_id: int, raw: str) -> BroadcastDraft:
        """Store the announcement; raises :class:`InvalidInput` when empty or too long."""
        draft = await self.draft(telegram_id)
        text = clean_free_text(raw, min_length=1, max_length=MAX_TEXT_LENGTH, multiline=True)
        updated = draft.model_copy(update={"text": text, "updated_at": self._clock()})
        await self._repo.save_draft(updated)
        return updated

    async def set_audience(self, telegram_id: int, audience: Audience) -> BroadcastDraft:
        draft = await self.draft(telegram_id)
        if draft.text is None:
            raise BroadcastRefused(BroadcastRefusal.NO_TEXT)
        await self._check_audience(audience)
        updated = draft.model_copy(update={"audience": audience, "updated_at": self._clock()})
        await self._repo.save_draft(updated)
        return updated

    async def recipient_count(self, audience: Audience) -> int:
        return await self._repo.count_audience(audience)

    async def discard(self, telegram_id: int) -> None:
        await self.authorize(telegram_id)
        await self._repo.delete_draft(telegram_id)

    async def confirm(self, telegram_id: int, seen: str | None = None) -> Broadcast:
        """Turn the draft into a broadcast and queue its recipients. ``seen`` is the
        :func:`draft_version` of the preview the administrator confirmed: a draft changed
        since is refused (``CHANGED``) rather than sent unseen."""
        draft = await self.draft(telegram_id)
        if seen is not None and draft_version(draft) != seen:
            raise BroadcastRefused(BroadcastRefusal.CHANGED)
        if draft.text is None:
            raise BroadcastRefused(BroadcastRefusal.NO_TEXT)
        if draft.audience is None:
            raise BroadcastRefused(BroadcastRefusal.NO_AUDIENCE)
        await self._check_audience(draft.audience)
        if await self._repo.count_audience(draft.audience) == 0:
            raise BroadcastRefused(BroadcastRefusal.NO_RECIPIENTS)
        now = self._clock()
        async with self._db.transaction() as tx:
            # The draft as read is the guard: a second press (here or in another process)
            # finds it gone, and an edit made meanwhile finds it changed, so nothing is sent
            # twice and nothing is sent that the admin did not see.
            if not await self._repo.delete_draft_in(tx, telegram_id, updated_at=draft.updated_at):
                raise BroadcastRefused(BroadcastRefusal.NO_DRAFT)
            broadcast = await self._repo.create(tx, telegram_id, draft.text, draft.audience, now)
        log.info(
            "admin %s confirmed broadcast %s to %s",
            telegram_id,
            broadcast.broadcast_id,
            draft.audience.kind,
        )
        return await self.fill(broadcast.broadcast_id)

    async def fill(self, broadcast_id: int) -> Broadcast:
        """Queue the recipients not queued yet, chunk by chunk; resumable and idempotent."""
        if broadcast_id in self._filling:  # another task of this process is on it
            return await self._get(broadcast_id)
        self._filling.add(broadcast_id)
        try:
            while True:
                try:
                    async with self._db.transaction() as tx:
                        broadcast = await self._repo.get_in(tx, broadcast_id)
                        if broadcast is None:
                            raise BroadcastRefused(BroadcastRefusal.NOT_FOUND)
                        if broadcast.status is not BroadcastStatus.QUEUING:
                            return broadcast
                        now = self._clock()
                        recipients = await self._repo.audience_chunk(
                            tx, broadcast.audience, broadcast.queued_through, self._chunk_size
                        )
                        if not recipients:
                            await self._repo.mark_queued(tx, broadcast_id, now)
                            continue  # read back the final state
                        added = 0
                        for recipient in recipients:
                            stored = await self._outbox.enqueue(
                                tx,
                                Notification(
                                    kind=NotificationKind.BROADCAST,
                                    telegram_id=recipient,
                                    subject=batch_key(broadcast_id),
                                    payload={"broadcast_id": broadcast_id},
                                    due_at=now,
                                    batch_key=batch_key(broadcast_id),
                                ),
                                now,
                            )
                            added += int(stored)
                        # Guarded: still queuing, from the resume point read. Another
                        # process's fill or a cancellation changes that; then this chunk rolls
                        # back (the exception leaves the transaction) and the loop reads again.
                        if not await self._repo.advance(
                            tx, broadcast_id, recipients[-1], added, after=broadcast.queued_through
                        ):
                            raise _ChunkLost
                except _ChunkLost:
                    continue
        finally:
            self._filling.discard(broadcast_id)

    async def resume_unfinished(self) -> int:
        """Finish queuing the broadcasts a stop interrupted (run at start-up); returns how many
        there were. Without it the rest of the audience would wait for an admin to open the
        progress screen."""
        unfinished = await self._repo.queuing_ids()
        for broadcast_id in unfinished:
            log.info("resuming the queuing of broadcast %s", broadcast_id)
            await self.fill(broadcast_id)
        return len(unfinished)

    # -- progress and cancelling -----------------------------------------------------------------

    async def progress(self, telegram_id: int, broadcast_id: int) -> tuple[Broadcast, Progress]:
        await self.authorize(telegram_id)
        broadcast = await self._get(broadcast_id)
        if broadcast.status is BroadcastStatus.QUEUING and broadcast_id not in self._filling:
            # Queuing stopped half-way (the bot restarted): carry on from the resume point.
            broadcast = await self.fill(broadcast_id)
        progress = Progress.from_counts(await self._outbox.batch_counts(broadcast.batch_key))
        return broadcast, progress

    async def held(self, broadcast_id: int) -> Held | None:
        """How many of its messages delivery has put off to the end of their recipients' quiet
        hours, and when they go out (``None`` when none are held)."""
        count, first, last = await self._repo.held_for_quiet_hours(
            batch_key(broadcast_id), self._clock()
        )
        if not count or first is None or last is None:
            return None
        return Held(count=count, first=first, last=last)

    async def recent(self, telegram_id: int) -> list[tuple[Broadcast, Progress]]:
        await self.authorize(telegram_id)
        found = []
        for broadcast in await self._repo.recent(RECENT_LIMIT):
            counts = await self._outbox.batch_counts(broadcast.batch_key)
            found.append((broadcast, Progress.from_counts(counts)))
        return found

    async def cancel(self, telegram_id: int, broadcast_id: int) -> int:
        """Stop the unsent rest; returns how many pending messages were dropped."""
        await self.authorize(telegram_id)
        await self._get(broadcast_id)
        now = self._clock()
        await self._repo.mark_cancelled(broadcast_id, telegram_id, now)
        dropped = await self._outbox.drop_pending_batch(
            batch_key(broadcast_id), now, "broadcast cancelled"
        )
        log.info("admin %s cancelled broadcast %s: %s dropped", telegram_id, broadcast_id, dropped)
        return dropped

    # -- delivery --------------------------------------------------------------------------------

    async def for_delivery(self, broadcast_id: int) -> Broadcast | None:
        """The broadcast to render, or ``None`` when it is gone or was cancelled (stale)."""
        broadcast = await self._repo.get(broadcast_id)
        if broadcast is None or broadcast.status is BroadcastStatus.CANCELLED:
            return None
        return broadcast

    # -- helpers ---------------------------------------------------------------------------------

    async def _get(self, broadcast_id: int) -> Broadcast:
        broadcast = await self._repo.get(broadcast_id)
        if broadcast is None:
            raise BroadcastRefused(BroadcastRefusal.NOT_FOUND)
        return broadcast

    async def _check_audience(self, audience: Audience) -> None:
        if audience.kind is AudienceKind.ALL:
            if audience.code is not None:
                raise BroadcastRefused(BroadcastRefusal.UNKNOWN_AUDIENCE)
            return
        if audience.code is None:
            raise BroadcastRefused(BroadcastRefusal.UNKNOWN_AUDIENCE)
        lookup = (
            self._catalog.area if audience.kind is AudienceKind.AREA else self._catalog.category
        )
        item = await lookup(audience.code)
        if item is None or not item.is_active:
            raise BroadcastRefused(BroadcastRefusal.UNKNOWN_AUDIENCE)
