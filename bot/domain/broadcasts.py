"""Broadcast models: who an administrator's announcement goes to and how far it got.

The flow (compose, choose the audience, confirm, queue, cancel) is
:class:`bot.services.broadcasts.BroadcastService`; these are the values it and
``storage.broadcasts`` exchange.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Audience",
    "AudienceKind",
    "Broadcast",
    "BroadcastDraft",
    "BroadcastStatus",
    "Progress",
    "batch_key",
]


class AudienceKind(StrEnum):
    ALL = "all"
    AREA = "area"
    CATEGORY = "category"


class Audience(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: AudienceKind
    code: str | None = None  # the area or category code; None for everyone


class BroadcastStatus(StrEnum):
    QUEUING = "queuing"
    QUEUED = "queued"
    CANCELLED = "cancelled"


class Broadcast(BaseModel):
    model_config = ConfigDict(frozen=True)

    broadcast_id: int
    created_by: int | None
    text: str
    audience: Audience
    status: BroadcastStatus
    recipients: int
    queued_through: int
    created_at: datetime
    queued_at: datetime | None = None
    cancelled_at: datetime | None = None

    @property
    def batch_key(self) -> str:
        return batch_key(self.broadcast_id)


class BroadcastDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    telegram_id: int
    text: str | None = None
    audience: Audience | None = None
    updated_at: datetime


class Progress(BaseModel):
    """Outbox rows of one broadcast per status."""

    model_config = ConfigDict(frozen=True)

    sent: int = 0
    pending: int = 0
    failed: int = 0
    dropped: int = 0

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> Progress:
        return cls(
            sent=counts.get("sent", 0),
            pending=counts.get("pending", 0),
            failed=counts.get("failed", 0),
            dropped=counts.get("dropped", 0),
        )

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.failed + self.dropped


def batch_key(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"
