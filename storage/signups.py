"""Sign-ups and the counters on ``activities`` (tables of migration 0004).

The statements that change sign-ups take an open :class:`~storage.db.Transaction`: the sign-up
service (:mod:`bot.services.signups`) composes them into one transaction per volunteer action, so
the sign-up row, the activity's counters and any notification are committed together or not at
all. Taking a spot is a single conditional ``UPDATE ... WHERE confirmed_count + offered_count <
capacity``, so two volunteers can never both take the last spot.

Several bot processes may share the database (PostgreSQL, READ COMMITTED), so no decision here
rests on a value read by an earlier statement: each change of a sign-up's state is a conditional
``UPDATE ... WHERE status = <the state the caller saw>`` (the ``*_if`` methods return ``None``
when another transaction changed the row first), the waitlist offer picks its head and changes
it in one statement, and a waitlist place is inserted only behind everyone already waiting.
Statements that change counters take the ``activities`` row first (its lock, in PostgreSQL,
queues every other change of the same activity's counters behind this transaction).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.domain.activities import (
    Activity,
    EndReason,
    MySignup,
    Signup,
    SignupStatus,
)
from storage.activities import load_activities
from storage.db import Database, Params, Row, Transaction
from storage.qualifications import holds_required
from storage.timeutil import from_db_time, to_db_time

__all__ = ["SignupsRepository"]

_COLUMNS = (
    "signup_id, activity_id, volunteer_id, status, created_at, status_at, queued_at, "
    "offer_expires_at, ended_at, end_reason, cancel_note"
)


def _time(value: str | None) -> datetime | None:
    return from_db_time(value) if value is not None else None


def _to_signup(row: Row) -> Signup:
    return Signup(
        signup_id=row["signup_id"],
        activity_id=row["activity_id"],
        volunteer_id=row["volunteer_id"],
        status=SignupStatus(row["status"]),
        created_at=from_db_time(row["created_at"]),
        status_at=from_db_time(row["status_at"]),
        queued_at=_time(row["queued_at"]),
        offer_expires_at=_time(row["offer_expires_at"]),
        ended_at=_time(row["ended_at"]),
        end_reason=EndReason(row["end_reason"]) if row["end_reason"] else None,
        cancel_note=row["cancel_note"],
    )


_FetchOne = Callable[[str, Params], Awaitable[Row | None]]


# Reads shared by the transactional statements (``tx.fetch_one``, which see the transaction's
# own writes) and the plain reads (``db.fetch_one``, committed data).


async def _by_pair(fetch_one: _FetchOne, activity_id: int, volunteer_id: int) -> Signup | None:
    row = await fetch_one(
        f"SELECT {_COLUMNS} FROM signups WHERE activity_id = ? AND volunteer_id = ?",
        (activity_id, volunteer_id),
    )
    return _to_signup(row) if row is not None else None


async def _by_id(fetch_one: _FetchOne, signup_id: int) -> Signup | None:
    row = await fetch_one(f"SELECT {_COLUMNS} FROM signups WHERE signup_id = ?", (signup_id,))
    return _to_signup(row) if row is not None else None


async def _position(fetch_one: _FetchOne, signup: Signup) -> int | None:
    if signup.status is not SignupStatus.WAITLISTED or signup.queued_at is None:
        return None
    queued = to_db_time(signup.queued_at)
    row = await fetch_one(
        "SELECT COUNT(*) AS ahead FROM signups WHERE activity_id = ? AND status = 'waitlisted' "
        "AND (queued_at < ? OR (queued_at = ? AND signup_id < ?))",
        (signup.activity_id, queued, queued, signup.signup_id),
    )
    return (int(row["ahead"]) if row is not None else 0) + 1


#: Rounds of "read the active rows, end each from the state read" before giving up on rows
#: that other processes keep changing (each round ends every row nobody touched meanwhile).
_SETTLE_ROUNDS = 3


def _open_condition(open_at: datetime | None) -> tuple[str, tuple[str, ...]]:
    """SQL (on ``activities``) for "sign-up is open at ``open_at``", the rule of
    :meth:`bot.domain.activities.Activity.is_open_for_signup`; empty for ``None``."""
    if open_at is None:
        return "", ()
    stamp = to_db_time(open_at)
    return (
        " AND status = 'published' AND starts_at > ? "
        "AND (signup_deadline IS NULL OR signup_deadline > ?) "
        "AND (signups_closed_at IS NULL OR signups_closed_at > ?)",
        (stamp, stamp, stamp),
    )


class SignupsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- inside a transaction --------------------------------------------------------------------

    @staticmethod
    async def activity(tx: Transaction, activity_id: int) -> Activity | None:
        return (await load_activities(tx.fetch_all, [activity_id])).get(activity_id)

    @staticmethod
    async def find(tx: Transaction, activity_id: int, volunteer_id: int) -> Signup | None:
        return await _by_pair(tx.fetch_one, activity_id, volunteer_id)

    @staticmethod
    async def find_by_id(tx: Transaction, signup_id: int) -> Signup | None:
        return await _by_id(tx.fetch_one, signup_id)

    @staticmethod
    async def lock_activity(tx: Transaction, activity_id: int) -> None:
        """Take the activity's row lock (PostgreSQL) before any sign-up row of it.

        A join changes the activity's counters first and then writes the sign-up; a cancel,
        an offer's answer or a "Still coming?" No used to change the sign-up first and the
        counters after, so a join and a cancel of the same sign-up could each hold the lock the
        other waits for (a deadlock, 40P01). Every action that changes a sign-up and its
        activity's counters calls this first: one lock order. The update writes nothing new
        and does not touch the key, so it takes the same lock as the counter updates."""
        await tx.execute(
            "UPDATE activities SET confirmed_count = confirmed_count WHERE activity_id = ?",
            (activity_id,),
        )

    @staticmethod
    async def take_spot(
        tx: Transaction,
        activity_id: int,
        *,
        open_at: datetime | None = None,
        nobody_waiting: bool = False,
    ) -> bool:
        """Count one more confirmed volunteer if a spot is free; ``False`` when full.

        ``open_at``: only while sign-up is open at that moment; ``nobody_waiting``: only when
        nobody is on the waitlist (they come first). Both are tested in the statement itself, so
        an organizer closing sign-up or a volunteer joining the waitlist in another process
        cannot slip between a check and the update."""
        extra, params = _open_condition(open_at)
        if nobody_waiting:
            extra += " AND waitlist_count = 0"
        row = await tx.fetch_one(
            "UPDATE activities SET confirmed_count = confirmed_count + 1 "
            f"WHERE activity_id = ? AND confirmed_count + offered_count < capacity{extra} "
            "RETURNING confirmed_count",
            (activity_id, *params),
        )
        return row is not None

    @staticmethod
    async def queue_up(tx: Transaction, activity_id: int, open_at: datetime) -> bool:
        """Count one more waiting volunteer while sign-up is open; ``False`` when it is not
        (closed, cancelled or started meanwhile)."""
        extra, params = _open_condition(open_at)
        row = await tx.fetch_one(
            "UPDATE activities SET waitlist_count = waitlist_count + 1 "
            f"WHERE activity_id = ?{extra} RETURNING waitlist_count",
            (activity_id, *params),
        )
        return row is not None

    @staticmethod
    async def hold_spot_for_offer(
        tx: Transaction, activity_id: int, *, open_at: datetime | None = None
    ) -> bool:
        """Move one waiting volunteer to "offered", holding a free spot; ``False`` when full
        (or, with ``open_at``, when sign-up is not open at that moment)."""
        extra, params = _open_condition(open_at)
        row = await tx.fetch_one(
            "UPDATE activities SET offered_count = offered_count + 1, "
            "waitlist_count = waitlist_count - 1 "
            "WHERE activity_id = ? AND confirmed_count + offered_count < capacity "
            f"AND waitlist_count > 0{extra} RETURNING offered_count",
            (activity_id, *params),
        )
        return row is not None

    @staticmethod
    async def offer_head(
        tx: Transaction, activity_id: int, expires_at: datetime, now: datetime
    ) -> Signup | None:
        """Turn the first in line into an offer, chosen and changed in one statement.

        The outer ``AND status = 'waitlisted'`` is not redundant: in PostgreSQL the subquery's
        choice comes from the statement's snapshot, and if another transaction changes that row
        first (the volunteer leaves the waitlist), the re-check after the row lock skips it and
        nothing is offered (``None``) instead of offering a place that is gone. The caller tries
        again: a new statement sees the new head."""
        row = await tx.fetch_one(
            "UPDATE signups SET status = 'offered', status_at = ?, offer_expires_at = ? "
            "WHERE signup_id = (SELECT w.signup_id FROM signups w WHERE w.activity_id = ? "
            "AND w.status = 'waitlisted' "
            # First in line among those holding what the activity requires (Art. 8).
            f"AND {holds_required('w.volunteer_id', 'w.activity_id')} "
            "ORDER BY w.queued_at, w.signup_id LIMIT 1) "
            f"AND status = 'waitlisted' RETURNING {_COLUMNS}",
            (to_db_time(now), to_db_time(expires_at), activity_id),
        )
        return _to_signup(row) if row is not None else None

    @staticmethod
    async def anyone_waiting(tx: Transaction, activity_id: int) -> bool:
        row = await tx.fetch_one(
            "SELECT 1 FROM signups WHERE activity_id = ? AND status = 'waitlisted' LIMIT 1",
            (activity_id,),
        )
        return row is not None

    @staticmethod
    async def adjust_counts(
        tx: Transaction,
        activity_id: int,
        *,
        confirmed: int = 0,
        offered: int = 0,
        waitlist: int = 0,
    ) -> None:
        await tx.execute(
            "UPDATE activities SET confirmed_count = confirmed_count + ?, "
            "offered_count = offered_count + ?, waitlist_count = waitlist_count + ? "
            "WHERE activity_id = ?",
            (confirmed, offered, waitlist, activity_id),
        )

    @staticmethod
    async def save(
        tx: Transaction,
        activity_id: int,
        volunteer_id: int,
        status: SignupStatus,
        now: datetime,
        *,
        queued_at: datetime | None = None,
    ) -> Signup:
        """Create the volunteer's row for this activity, or bring a cancelled one back."""
        stamp = to_db_time(now)
        queued = to_db_time(queued_at) if queued_at is not None else None
        row = await tx.fetch_one(
            "INSERT INTO signups (activity_id, volunteer_id, status, created_at, status_at, "
            "queued_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (activity_id, volunteer_id) DO UPDATE SET status = excluded.status, "
            "status_at = excluded.status_at, queued_at = excluded.queued_at, "
            "offer_expires_at = NULL, ended_at = NULL, end_reason = NULL, cancel_note = NULL, "
            # A new sign-up: the "Still coming?" answer of an earlier one no longer holds.
            "still_coming = NULL, still_coming_asked_at = NULL "
            f"RETURNING {_COLUMNS}",
            (activity_id, volunteer_id, status.value, stamp, stamp, queued),
        )
        assert row is not None
        return _to_signup(row)

    @staticmethod
    async def join(
        tx: Transaction,
        activity_id: int,
        volunteer_id: int,
        status: SignupStatus,
        now: datetime,
        *,
        queued_at: datetime | None = None,
    ) -> tuple[Signup, int | None] | None:
        """:meth:`save` for a volunteer's own sign-up, guarded in the statement.

        Writes only when the volunteer has no active sign-up for the activity (a cancelled row
        is brought back), and with ``queued_at`` only when nobody already waiting is queued at
        or after that moment, so the new place is strictly last in line however many processes
        join at once. ``None`` when either guard failed (the caller reads again and decides
        anew). Returns the sign-up and, when waiting, its position in line (1 = next), counted
        in the same statement."""
        stamp = to_db_time(now)
        queued = to_db_time(queued_at) if queued_at is not None else None
        # INSERT ... SELECT so the row can carry a WHERE; the CASTs give PostgreSQL the
        # parameter types it cannot infer from a bare SELECT list.
        guard: tuple[str | int | None, ...] = ()
        where = "WHERE 1 = 1 "  # SQLite needs a WHERE before ON CONFLICT after a SELECT
        if queued is not None:
            where = (
                "WHERE NOT EXISTS (SELECT 1 FROM signups WHERE activity_id = ? "
                "AND status = 'waitlisted' AND queued_at >= ?) "
            )
            guard = (activity_id, queued)
        row = await tx.fetch_one(
            "INSERT INTO signups (activity_id, volunteer_id, status, created_at, status_at, "
            "queued_at) SELECT CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS TEXT), "
            f"CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT) {where}"
            "ON CONFLICT (activity_id, volunteer_id) DO UPDATE SET status = excluded.status, "
            "status_at = excluded.status_at, queued_at = excluded.queued_at, "
            "offer_expires_at = NULL, ended_at = NULL, end_reason = NULL, cancel_note = NULL, "
            # A new sign-up: the "Still coming?" answer of an earlier one no longer holds.
            "still_coming = NULL, still_coming_asked_at = NULL "
            "WHERE signups.status = 'cancelled' "
            f"RETURNING {_COLUMNS}, (SELECT COUNT(*) FROM signups AS w "
            "WHERE w.activity_id = signups.activity_id AND w.status = 'waitlisted' "
            "AND w.signup_id <> signups.signup_id AND (w.queued_at < signups.queued_at "
            "OR (w.queued_at = signups.queued_at AND w.signup_id < signups.signup_id))) AS ahead",
            (activity_id, volunteer_id, status.value, stamp, stamp, queued, *guard),
        )
        if row is None:
            return None
        signup = _to_signup(row)
        position = int(row["ahead"]) + 1 if signup.status is SignupStatus.WAITLISTED else None
        return signup, position

    @staticmethod
    async def confirm(tx: Transaction, signup_id: int, now: datetime) -> Signup:
        row = await tx.fetch_one(
            "UPDATE signups SET status = 'confirmed', status_at = ?, offer_expires_at = NULL, "
            "still_coming = NULL, still_coming_asked_at = NULL "
            f"WHERE signup_id = ? RETURNING {_COLUMNS}",
            (to_db_time(now), signup_id),
        )
        assert row is not None
        return _to_signup(row)

    @staticmethod
    async def offer(
        tx: Transaction, signup_id: int, expires_at: datetime, now: datetime
    ) -> Signup | None:
        """Offer the held spot to this waiting sign-up; ``None`` if it is no longer waiting (it
        left the line, or another process offered it first): the statement decides, not the
        read that found it."""
        row = await tx.fetch_one(
            "UPDATE signups SET status = 'offered', status_at = ?, offer_expires_at = ? "
            f"WHERE signup_id = ? AND status = 'waitlisted' RETURNING {_COLUMNS}",
            (to_db_time(now), to_db_time(expires_at), signup_id),
        )
        return _to_signup(row) if row is not None else None

    @staticmethod
    async def accept_if_offered(tx: Transaction, signup_id: int, now: datetime) -> Signup | None:
        """Confirm a sign-up only while its offer stands (offered, deadline not passed);
        ``None`` when it was answered, expired or withdrawn meanwhile."""
        stamp = to_db_time(now)
        row = await tx.fetch_one(
            "UPDATE signups SET status = 'confirmed', status_at = ?, offer_expires_at = NULL, "
            "still_coming = NULL, still_coming_asked_at = NULL "
            "WHERE signup_id = ? AND status = 'offered' AND offer_expires_at > ? "
            f"RETURNING {_COLUMNS}",
            (stamp, signup_id, stamp),
        )
        return _to_signup(row) if row is not None else None

    @staticmethod
    async def end_if(
        tx: Transaction,
        signup_id: int,
        expected: SignupStatus,
        reason: EndReason,
        now: datetime,
        note: str | None = None,
    ) -> Signup | None:
        """:meth:`end`, only if the sign-up is still ``expected``; ``None`` when another
        transaction changed it first (its counters are then that transaction's business)."""
        stamp = to_db_time(now)
        row = await tx.fetch_one(
            "UPDATE signups SET status = 'cancelled', status_at = ?, ended_at = ?, "
            "end_reason = ?, cancel_note = ?, offer_expires_at = NULL, queued_at = NULL "
            f"WHERE signup_id = ? AND status = ? RETURNING {_COLUMNS}",
            (stamp, stamp, reason.value, note, signup_id, expected.value),
        )
        return _to_signup(row) if row is not None else None

    @staticmethod
    async def end(
        tx: Transaction, signup_id: int, reason: EndReason, now: datetime, note: str | None = None
    ) -> Signup:
        stamp = to_db_time(now)
        row = await tx.fetch_one(
            "UPDATE signups SET status = 'cancelled', status_at = ?, ended_at = ?, "
            "end_reason = ?, cancel_note = ?, offer_expires_at = NULL, queued_at = NULL "
            f"WHERE signup_id = ? RETURNING {_COLUMNS}",
            (stamp, stamp, reason.value, note, signup_id),
        )
        assert row is not None
        return _to_signup(row)

    @staticmethod
    async def clash(tx: Transaction, volunteer_id: int, activity: Activity) -> Activity | None:
        """Another confirmed sign-up of this volunteer overlapping the activity's time."""
        row = await tx.fetch_one(
            "SELECT a.activity_id FROM signups s "
            "JOIN activities a ON a.activity_id = s.activity_id "
            "WHERE s.volunteer_id = ? AND s.status = 'confirmed' AND a.status = 'published' "
            "AND a.activity_id <> ? AND a.starts_at < ? AND a.ends_at > ? "
            "ORDER BY a.starts_at LIMIT 1",
            (
                volunteer_id,
                activity.activity_id,
                to_db_time(activity.ends_at),
                to_db_time(activity.starts_at),
            ),
        )
        if row is None:
            return None
        return (await load_activities(tx.fetch_all, [row["activity_id"]]))[row["activity_id"]]

    @staticmethod
    async def withdraw_from_unfinished(tx: Transaction, volunteer_id: int, now: datetime) -> int:
        """End a volunteer's active sign-ups for activities not finished yet, releasing their
        spots and waitlist places (account deletion; the waitlist sweep offers the spots on).
        Finished activities keep their records. Returns how many were ended."""
        ended = 0
        # Each row is ended only from the state it was read in (end_if), and its counter follows
        # the state actually left. A row another process changed meanwhile (an offer made from
        # the waitlist) is read again on the next round; a few rounds settle any such race.
        for _ in range(_SETTLE_ROUNDS):
            rows = await tx.fetch_all(
                f"SELECT {', '.join('s.' + c for c in _COLUMNS.split(', '))} FROM signups s "
                "JOIN activities a ON a.activity_id = s.activity_id "
                "WHERE s.volunteer_id = ? AND s.status IN ('confirmed', 'waitlisted', 'offered') "
                "AND a.ends_at > ?",
                (volunteer_id, to_db_time(now)),
            )
            if not rows:
                break
            for row in rows:
                signup = _to_signup(row)
                if await SignupsRepository.end_if(
                    tx, signup.signup_id, signup.status, EndReason.VOLUNTEER, now
                ):
                    await SignupsRepository.release_counts(tx, signup.activity_id, signup.status)
                    ended += 1
        return ended

    @staticmethod
    async def release_counts(tx: Transaction, activity_id: int, left: SignupStatus) -> None:
        """Take one off the counter of the state a sign-up just left."""
        await SignupsRepository.adjust_counts(
            tx,
            activity_id,
            confirmed=-int(left is SignupStatus.CONFIRMED),
            offered=-int(left is SignupStatus.OFFERED),
            waitlist=-int(left is SignupStatus.WAITLISTED),
        )

    @staticmethod
    async def last_queued_at(tx: Transaction, activity_id: int) -> datetime | None:
        row = await tx.fetch_one(
            "SELECT MAX(queued_at) AS last FROM signups WHERE activity_id = ? "
            "AND status = 'waitlisted'",
            (activity_id,),
        )
        return from_db_time(row["last"]) if row is not None and row["last"] else None

    @staticmethod
    async def expired_offers(tx: Transaction, now: datetime, limit: int) -> list[Signup]:
        rows = await tx.fetch_all(
            f"SELECT {_COLUMNS} FROM signups WHERE status = 'offered' AND offer_expires_at <= ? "
            "ORDER BY offer_expires_at, signup_id LIMIT ?",
            (to_db_time(now), limit),
        )
        return [_to_signup(row) for row in rows]

    @staticmethod
    async def recipient(tx: Transaction, volunteer_id: int) -> int | None:
        """The volunteer's Telegram id, or ``None`` for an anonymized (deleted) account."""
        row = await tx.fetch_one(
            "SELECT telegram_id FROM volunteers WHERE volunteer_id = ?", (volunteer_id,)
        )
        return int(row["telegram_id"]) if row is not None and row["telegram_id"] else None

    @staticmethod
    async def activities_with_free_spots_and_waitlist(
        tx: Transaction, now: datetime, limit: int
    ) -> list[int]:
        rows = await tx.fetch_all(
            "SELECT activity_id FROM activities WHERE status = 'published' AND starts_at > ? "
            "AND (signup_deadline IS NULL OR signup_deadline > ?) "
            "AND (signups_closed_at IS NULL OR signups_closed_at > ?) "
            "AND waitlist_count > 0 AND confirmed_count + offered_count < capacity "
            "ORDER BY starts_at LIMIT ?",
            (to_db_time(now), to_db_time(now), to_db_time(now), limit),
        )
        return [int(row["activity_id"]) for row in rows]

    # -- reading ---------------------------------------------------------------------------------

    async def get(self, activity_id: int, volunteer_id: int) -> Signup | None:
        return await _by_pair(self._db.fetch_one, activity_id, volunteer_id)

    async def get_by_id(self, signup_id: int) -> Signup | None:
        return await _by_id(self._db.fetch_one, signup_id)

    async def waitlist_position(self, signup: Signup) -> int | None:
        """1 for the head of the waitlist; ``None`` when the sign-up is not waiting."""
        return await _position(self._db.fetch_one, signup)

    async def active_activity_ids(self, volunteer_id: int) -> frozenset[int]:
        rows = await self._db.fetch_all(
            "SELECT activity_id FROM signups WHERE volunteer_id = ? "
            "AND status IN ('confirmed', 'waitlisted', 'offered')",
            (volunteer_id,),
        )
        return frozenset(row["activity_id"] for row in rows)

    async def for_volunteer(
        self, volunteer_id: int, now: datetime, *, upcoming: bool, limit: int
    ) -> list[MySignup]:
        """Upcoming: active sign-ups for activities not finished yet, soonest first. Past:
        confirmed sign-ups of finished activities, latest first."""
        if upcoming:
            condition = (
                "s.status IN ('confirmed', 'waitlisted', 'offered') AND a.ends_at > ? "
                "AND a.status = 'published'"
            )
            order = "a.starts_at, a.activity_id"
        else:
            condition = "s.status = 'confirmed' AND a.ends_at <= ? AND a.status = 'published'"
            order = "a.starts_at DESC, a.activity_id DESC"
        rows = await self._db.fetch_all(
            f"SELECT {', '.join('s.' + c for c in _COLUMNS.split(', '))} "
            "FROM signups s JOIN activities a ON a.activity_id = s.activity_id "
            f"WHERE s.volunteer_id = ? AND {condition} ORDER BY {order} LIMIT ?",
            (volunteer_id, to_db_time(now), limit),
        )
        signups = [_to_signup(row) for row in rows]
        activities = await load_activities(self._db.fetch_all, [s.activity_id for s in signups])
        result: list[MySignup] = []
        for signup in signups:
            position = await self.waitlist_position(signup)
            result.append(
                MySignup(
                    signup=signup,
                    activity=activities[signup.activity_id],
                    waitlist_position=position,
                )
            )
        return result
