"""The ``flow_owners`` table (migration 0014): which flow reads each user's typed input."""

from __future__ import annotations

import json
from datetime import datetime

from bot.domain.flows import MAX_STATE_CHARS, FlowOwner, FlowState
from storage.db import Database, Row
from storage.timeutil import from_db_time, to_db_time

_COLUMNS = "telegram_id, flow, waiting_for, state, version, updated_at"


def _to_owner(row: Row) -> FlowOwner:
    state = json.loads(row["state"])
    return FlowOwner(
        telegram_id=row["telegram_id"],
        flow=row["flow"],
        waiting_for=row["waiting_for"],
        state=state if isinstance(state, dict) else {},
        version=row["version"],
        updated_at=from_db_time(row["updated_at"]),
    )


class FlowsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, telegram_id: int) -> FlowOwner | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM flow_owners WHERE telegram_id = ? LIMIT 1", (telegram_id,)
        )
        return _to_owner(row) if row else None

    async def take(
        self,
        telegram_id: int,
        flow: str,
        waiting_for: str,
        state: FlowState,
        now: datetime,
    ) -> FlowOwner:
        """Make ``flow`` the owner (one upsert: whoever writes last owns the input)."""
        encoded = json.dumps(state, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        if len(encoded) > MAX_STATE_CHARS:
            raise ValueError(f"flow state over {MAX_STATE_CHARS} characters for {flow!r}")
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO flow_owners (telegram_id, flow, waiting_for, state, version, "
                "updated_at) VALUES (?, ?, ?, ?, 1, ?) "
                "ON CONFLICT (telegram_id) DO UPDATE SET flow = excluded.flow, "
                "waiting_for = excluded.waiting_for, state = excluded.state, "
                "version = flow_owners.version + 1, updated_at = excluded.updated_at "
                f"RETURNING {_COLUMNS}",
                (telegram_id, flow, waiting_for, encoded, to_db_time(now)),
            )
        assert row is not None  # an upsert with RETURNING always returns the row
        return _to_owner(row)

    async def release(self, telegram_id: int, flow: str) -> bool:
        """Forget the owner, only if it is still ``flow`` (a newer flow keeps its claim)."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "DELETE FROM flow_owners WHERE telegram_id = ? AND flow = ?", (telegram_id, flow)
            )
        return changed > 0
