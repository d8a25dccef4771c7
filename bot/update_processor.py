"""Per-user ordering with cross-user concurrency.

PTB's ``concurrent_updates(True)`` runs every update at once, so two quick taps of one user can
race inside a conversation; the default runs everything one by one, so one slow handler holds up
everybody on a busy campaign morning. This processor serialises the updates of one user (or of
one chat, for updates without a user) and runs different users concurrently.

Why two limits: PTB acquires its semaphore (``max_concurrent_updates``) *before* calling
:meth:`do_process_update`, so if it were also the handler limit, one user who sends a burst of
updates would fill every slot with tasks that only wait for their own lock. Hence PTB's limit is
a generous bound on queued tasks, and the real handler limit (``concurrent_users``) is taken
only after the per-user lock is held.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


@dataclass
class _KeyLock:
    lock: asyncio.Lock
    holders: int = 0  # tasks holding or waiting for the lock; the entry is dropped at zero


def ordering_key(update: object) -> int | None:
    """The key whose updates must run in order: the user, else the chat; ``None`` if neither."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, concurrent_users: int, queued_updates: int = 4096) -> None:
        super().__init__(max_concurrent_updates=max(queued_updates, concurrent_users))
        self._handler_slots = asyncio.BoundedSemaphore(concurrent_users)
        self._locks: dict[int, _KeyLock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        if key is None:
            async with self._handler_slots:
                await coroutine
            return
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = _KeyLock(asyncio.Lock())
        entry.holders += 1
        try:
            # asyncio.Lock wakes waiters first-in first-out, and PTB starts the tasks in the
            # order updates arrive, so one user's updates run in arrival order.
            async with entry.lock, self._handler_slots:
                await coroutine
        finally:
            entry.holders -= 1
            if entry.holders == 0:
                del self._locks[key]

    @property
    def tracked_keys(self) -> int:
        """How many users currently have updates running or waiting (for tests and metrics)."""
        return len(self._locks)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
