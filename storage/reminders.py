"""Reminders' reads and the "Still coming?" answers (columns of migration 0009 on ``signups``).

The reminders themselves are outbox rows (:mod:`storage.outbox`); this module reads what
planning and rendering need about a sign-up in one query, and keeps the volunteer's answer:

- ``still_coming``: ``'yes'`` / ``'no'`` once answered, ``NULL`` otherwise;
- ``still_coming_asked_at``: when the "Still coming?" reminder went out (``NULL``: not asked).

The organizer's roster reads the two columns (see :meth:`RemindersRepository.roster_answers`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.activities import ActivityStatus, SignupStatus
from storage.db import Database, Params, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

__all__ = ["ReminderTarget", "RemindersRepository", "RosterAnswer"]

_FetchOne = Callable[[str, Params], Awaitable[Row | None]]


@dataclass(frozen=True)
class ReminderTarget:
    """A sign-up as reminders see it: who, for what, and whether it is still worth reminding."""

    signup_id: int
    activity_id: int
    status: SignupStatus
    telegram_id: int | None  # None: an anonymized (deleted) account
    notify_reminders: bool
    starts_at: datetime
    activity_status: ActivityStatus
    still_coming: str | None
    still_coming_asked_at: datetime | None


@dataclass(frozen=True)
class RosterAnswer:
    """One confirmed sign-up's "Still coming?" state, for the roster."""

    signup_id: int
    volunteer_id: int
    still_coming: str | None  # 'yes' / 'no' / None
    asked_at: datetime | None  # None: not asked yet


_TARGET = (
    "SELECT s.signup_id, s.activity_id, s.status, s.still_coming, s.still_coming_asked_at, "
    "v.telegram_id, v.notify_reminders, a.starts_at, a.status AS activity_status "
    "FROM signups s JOIN volunteers v ON v.volunteer_id = s.volunteer_id "
    "JOIN activities a ON a.activity_id = s.activity_id WHERE s.signup_id = ?"
)


def _to_target(row: Row) -> ReminderTarget:
    asked = row["still_coming_asked_at"]
    return ReminderTarget(
        signup_id=row["signup_id"],
        activity_id=row["activity_id"],
        status=SignupStatus(row["status"]),
        telegram_id=int(row["telegram_id"]) if row["telegram_id"] else None,
        notify_reminders=bool(row["notify_reminders"]),
        starts_at=from_db_time(row["starts_at"]),
        activity_status=ActivityStatus(row["activity_status"]),
        still_coming=row["still_coming"],
        still_coming_asked_at=from_db_time(asked) if asked else None,
    )


async def _target(fetch_one: _FetchOne, signup_id: int) -> ReminderTarget | None:
    row = await fetch_one(_TARGET, (signup_id,))
    return _to_target(row) if row is not None else None


class RemindersRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- inside a transaction --------------------------------------------------------------------

    @staticmethod
    async def target_in(tx: Transaction, signup_id: int) -> ReminderTarget | None:
        return await _target(tx.fetch_one, signup_id)

    @staticmethod
    async def confirmed_signup_ids(tx: Transaction, activity_id: int) -> list[int]:
        rows = await tx.fetch_all(
            "SELECT signup_id FROM signups WHERE activity_id = ? AND status = 'confirmed' "
            "ORDER BY signup_id",
            (activity_id,),
        )
        return [int(row["signup_id"]) for row in rows]

    @staticmethod
    async def reset_answer(tx: Transaction, signup_id: int) -> None:
        """Forget the "Still coming?" state (a new confirmation, or a new start time)."""
        await tx.execute(
            "UPDATE signups SET still_coming = NULL, still_coming_asked_at = NULL "
            "WHERE signup_id = ?",
            (signup_id,),
        )

    @staticmethod
    async def set_answer(tx: Transaction, signup_id: int, answer: str) -> bool:
        """Record the "Still coming?" answer while the sign-up is confirmed; ``False`` when it
        is not (cancelled or moved to the waitlist by another transaction meanwhile)."""
        changed = await tx.execute(
            "UPDATE signups SET still_coming = ? WHERE signup_id = ? AND status = 'confirmed'",
            (answer, signup_id),
        )
        return changed > 0

    # -- outside a transaction -------------------------------------------------------------------

    async def target(self, signup_id: int) -> ReminderTarget | None:
        return await _target(self._db.fetch_one, signup_id)

    async def mark_asked(self, signup_id: int, now: datetime) -> None:
        """Record that "Still coming?" went out; the first time counts (a resend after a
        crash does not move it)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE signups SET still_coming_asked_at = COALESCE(still_coming_asked_at, ?) "
                "WHERE signup_id = ? AND status = 'confirmed'",
                (to_db_time(now), signup_id),
            )

    async def roster_answers(self, activity_id: int) -> list[RosterAnswer]:
        """Per confirmed sign-up of an activity: yes / no / asked without answer / not asked."""
        rows = await self._db.fetch_all(
            "SELECT signup_id, volunteer_id, still_coming, still_coming_asked_at FROM signups "
            "WHERE activity_id = ? AND status = 'confirmed' ORDER BY signup_id",
            (activity_id,),
        )
        return [
            RosterAnswer(
                signup_id=row["signup_id"],
                volunteer_id=row["volunteer_id"],
                still_coming=row["still_coming"],
                asked_at=(
                    from_db_time(row["still_coming_asked_at"])
                    if row["still_coming_asked_at"]
                    else None
                ),
            )
            for row in rows
        ]
