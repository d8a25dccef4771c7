"""Notifications the bot sends on its own initiative, as rows of the outbox.

A notification names *what* it is about (ids in ``payload``), not its text: it is rendered at
send time in the recipient's language, and dropped when it has gone stale (an offer that was
already answered, an activity that was cancelled). See ``storage.outbox`` and ``bot.delivery``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class NotificationKind(StrEnum):
    WAITLIST_OFFER = "waitlist_offer"  # a spot is held for you: accept or decline
    OFFER_EXPIRED = "offer_expired"  # you did not answer in time; the spot went to the next


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: NotificationKind
    telegram_id: int
    # What it is about, unique per recipient and kind, e.g. "signup:12:2026-12-01T08:00".
    # Planning the same notification twice therefore stores it once.
    subject: str
    payload: dict[str, int | str] = Field(default_factory=dict)
    due_at: datetime

    @property
    def dedup_key(self) -> str:
        return f"{self.kind.value}:{self.telegram_id}:{self.subject}"


class OutboxItem(BaseModel):
    """A claimed outbox row, ready to render and send."""

    model_config = ConfigDict(frozen=True)

    notification_id: int
    kind: NotificationKind
    telegram_id: int
    payload: dict[str, int | str]
    due_at: datetime
    attempts: int
