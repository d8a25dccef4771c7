"""Taking and giving back a user's typed input (see :mod:`bot.domain.flows`)."""

from __future__ import annotations

from bot.clock import Clock
from bot.domain.flows import FlowOwner, FlowState
from storage.flows import FlowsRepository


class FlowService:
    def __init__(self, flows: FlowsRepository, clock: Clock) -> None:
        self._flows = flows
        self._clock = clock

    async def owner(self, telegram_id: int) -> FlowOwner | None:
        return await self._flows.get(telegram_id)

    async def take(
        self,
        telegram_id: int,
        flow: str,
        waiting_for: str,
        state: FlowState | None = None,
    ) -> FlowOwner:
        """``flow`` asked ``waiting_for``: it reads the user's next typed input."""
        return await self._flows.take(telegram_id, flow, waiting_for, state or {}, self._clock())

    async def release(self, telegram_id: int, flow: str) -> bool:
        """``flow`` is done with the user's input (a newer owner is left alone)."""
        return await self._flows.release(telegram_id, flow)

    async def owned_by(self, telegram_id: int, flow: str) -> FlowOwner | None:
        """The record if ``flow`` owns the input now, else ``None``."""
        owner = await self._flows.get(telegram_id)
        return owner if owner is not None and owner.flow == flow else None
