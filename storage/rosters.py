"""Managing activities: an organization's lists, rosters, cancelling, closing sign-up early,
duplicating, organizers' messages and the half-typed steps (tables of migrations 0004, 0009
and 0013).

The statements that change sign-ups one by one (``end``, ``adjust_counts``) are those of
:mod:`storage.signups`, called inside the caller's transaction, so cancelling an activity ends
sign-ups exactly as every other path does. Everything here that writes takes an open
:class:`~storage.db.Transaction` or opens one itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.activities import (
    Activity,
    ActivityTab,
    EndReason,
    ManageDraft,
    NewActivity,
    Page,
    SignupStatus,
    clamp_page,
)
from bot.domain.exports import RosterEntry, RosterPage
from bot.domain.volunteers import Gender
from storage.activities import ActivitiesRepository, activities_changed, load_activities
from storage.db import Database, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

__all__ = ["ActivityTab", "EndedSignup", "ManageDraft", "RostersRepository"]


_TABS: dict[ActivityTab, tuple[str, str]] = {
    ActivityTab.UPCOMING: (
        "a.status = 'published' AND a.ends_at > ?",
        "a.starts_at, a.activity_id",
    ),
    ActivityTab.PAST: (
        "((a.status = 'published' AND a.ends_at <= ?) OR a.status = 'cancelled')",
        "a.starts_at DESC, a.activity_id DESC",
    ),
    ActivityTab.DRAFTS: (
        "a.status = 'draft'",
        "a.updated_at DESC, a.activity_id DESC",
    ),
}


@dataclass(frozen=True)
class EndedSignup:
    """A sign-up ended by a cancellation, with whom to tell (``None``: deleted account)."""

    signup_id: int
    previous: SignupStatus
    telegram_id: int | None


# Active sign-ups first (a spot before the waitlist), and, for a cancelled activity, those the
# cancellation ended, so its roster still says who was coming. Waiting people in queue order.
_ROSTER_WHERE = (
    "s.activity_id = ? AND (s.status IN ('confirmed', 'offered', 'waitlisted') "
    "OR s.end_reason = 'activity_cancelled')"
)
_ROSTER_ORDER = (
    "CASE s.status WHEN 'confirmed' THEN 0 WHEN 'offered' THEN 1 WHEN 'waitlisted' THEN 2 "
    "ELSE 3 END, COALESCE(s.queued_at, s.status_at), s.signup_id"
)
_ROSTER_COLUMNS = (
    "s.signup_id, s.volunteer_id, s.status, s.end_reason, s.status_at, s.queued_at, "
    "s.still_coming, s.still_coming_asked_at, v.real_name, v.phone, v.gender"
)


def _to_entry(row: Row, skills: Sequence[str], position: int | None) -> RosterEntry:
    status = SignupStatus(row["status"])
    # The moment of signing up: joining the waitlist for those who came through it (offers
    # keep queued_at), taking the spot for the others.
    signed = row["queued_at"] if status is not SignupStatus.CONFIRMED else None
    asked = row["still_coming_asked_at"]
    return RosterEntry(
        signup_id=row["signup_id"],
        volunteer_id=row["volunteer_id"],
        name=row["real_name"],
        phone=row["phone"],
        gender=Gender(row["gender"]) if row["gender"] else None,
        skills=tuple(skills),
        status=status,
        end_reason=EndReason(row["end_reason"]) if row["end_reason"] else None,
        signed_up_at=from_db_time(signed or row["status_at"]),
        waitlist_position=position,
        still_coming=row["still_coming"],
        still_coming_asked_at=from_db_time(asked) if asked else None,
    )


class RostersRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- an organization's activities ------------------------------------------------------------

    async def organization_activities(
        self, organization_id: int, tab: ActivityTab, now: datetime, page: int, page_size: int
    ) -> Page:
        condition, order = _TABS[tab]
        where = f"a.organization_id = ? AND {condition}"
        params: list[object] = [organization_id]
        if "?" in condition:
            params.append(to_db_time(now))
        count = await self._db.fetch_one(
            f"SELECT COUNT(*) AS n FROM activities a WHERE {where}", params
        )
        total = int(count["n"]) if count is not None else 0
        page = clamp_page(page, total, page_size)
        rows = await self._db.fetch_all(
            f"SELECT a.activity_id FROM activities a WHERE {where} ORDER BY {order} "
            "LIMIT ? OFFSET ?",
            [*params, page_size, page * page_size],
        )
        ids = [int(row["activity_id"]) for row in rows]
        found = await load_activities(self._db.fetch_all, ids)
        items = tuple(found[i] for i in ids if i in found)
        return Page(items=items, page=page, page_size=page_size, total=total)

    # -- the roster ------------------------------------------------------------------------------

    async def roster(self, activity_id: int, page: int, page_size: int) -> RosterPage:
        counts = await self._db.fetch_one(
            "SELECT SUM(CASE WHEN s.status = 'confirmed' THEN 1 ELSE 0 END) AS confirmed, "
            "SUM(CASE WHEN s.status = 'offered' THEN 1 ELSE 0 END) AS offered, "
            "SUM(CASE WHEN s.status = 'waitlisted' THEN 1 ELSE 0 END) AS waitlisted, "
            "COUNT(*) AS total "
            f"FROM signups s WHERE {_ROSTER_WHERE}",
            (activity_id,),
        )
        total = int(counts["total"] or 0) if counts is not None else 0
        page = clamp_page(page, total, page_size)
        entries = await self._entries(activity_id, limit=page_size, offset=page * page_size)
        return RosterPage(
            entries=tuple(entries),
            page=page,
            page_size=page_size,
            total=total,
            confirmed=int(counts["confirmed"] or 0) if counts is not None else 0,
            offered=int(counts["offered"] or 0) if counts is not None else 0,
            waitlisted=int(counts["waitlisted"] or 0) if counts is not None else 0,
        )

    async def roster_all(self, activity_id: int) -> list[RosterEntry]:
        """The whole roster (exports): a few thousand short rows at most."""
        return await self._entries(activity_id, limit=None, offset=0)

    async def _entries(
        self, activity_id: int, *, limit: int | None, offset: int
    ) -> list[RosterEntry]:
        # No LIMIT at all for "everything" (LIMIT -1 is SQLite's spelling only).
        paging, params = (
            (" LIMIT ? OFFSET ?", (activity_id, limit, offset))
            if limit is not None
            else ("", (activity_id,))
        )
        rows = await self._db.fetch_all(
            f"SELECT {_ROSTER_COLUMNS} FROM signups s "
            "JOIN volunteers v ON v.volunteer_id = s.volunteer_id "
            f"WHERE {_ROSTER_WHERE} ORDER BY {_ROSTER_ORDER}{paging}",
            params,
        )
        if not rows:
            return []
        ids = [row["volunteer_id"] for row in rows]
        skills: dict[int, list[str]] = defaultdict(list)
        for found in await self._db.fetch_all(
            "SELECT vs.volunteer_id, vs.skill_code FROM volunteer_skills vs "
            "JOIN skills k ON k.code = vs.skill_code "
            f"WHERE vs.volunteer_id IN ({', '.join('?' for _ in ids)}) "
            "ORDER BY k.sort_order, vs.skill_code",
            ids,
        ):
            skills[found["volunteer_id"]].append(found["skill_code"])
        # Waitlist positions follow from the order: waiting rows come after everyone holding
        # a spot, in queue order, so a row's position is its index minus those before it.
        entries: list[RosterEntry] = []
        not_waiting = await self._not_waiting(activity_id)
        for index, row in enumerate(rows):
            position = None
            if row["status"] == SignupStatus.WAITLISTED.value:
                position = offset + index + 1 - not_waiting
            entries.append(_to_entry(row, skills[row["volunteer_id"]], position))
        return entries

    async def _not_waiting(self, activity_id: int) -> int:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n FROM signups s WHERE s.activity_id = ? "
            "AND s.status IN ('confirmed', 'offered')",
            (activity_id,),
        )
        return int(row["n"]) if row is not None else 0

    # -- cancelling, closing, duplicating (inside the caller's transaction) ----------------------

    @staticmethod
    async def mark_cancelled(tx: Transaction, activity_id: int, reason: str, now: datetime) -> bool:
        """Published and not started → cancelled; ``False`` otherwise (already cancelled, or
        started: an edit of the time may have moved the start since it was read)."""
        stamp = to_db_time(now)
        changed = await tx.execute(
            "UPDATE activities SET status = 'cancelled', cancel_reason = ?, cancelled_at = ?, "
            "updated_at = ? WHERE activity_id = ? AND status = 'published' AND starts_at > ?",
            (reason, stamp, stamp, activity_id, stamp),
        )
        if changed:
            tx.after_commit(activities_changed)
        return changed > 0

    @staticmethod
    async def active_signups(tx: Transaction, activity_id: int) -> list[EndedSignup]:
        rows = await tx.fetch_all(
            "SELECT s.signup_id, s.status, v.telegram_id FROM signups s "
            "JOIN volunteers v ON v.volunteer_id = s.volunteer_id "
            "WHERE s.activity_id = ? AND s.status IN ('confirmed', 'offered', 'waitlisted') "
            "ORDER BY s.signup_id",
            (activity_id,),
        )
        return [
            EndedSignup(
                signup_id=row["signup_id"],
                previous=SignupStatus(row["status"]),
                telegram_id=int(row["telegram_id"]) if row["telegram_id"] else None,
            )
            for row in rows
        ]

    @staticmethod
    async def set_closed(
        tx: Transaction, activity_id: int, closed_at: datetime | None, now: datetime
    ) -> bool:
        """Close sign-up early at ``closed_at`` (only if open), or reopen it (``None``)."""
        if closed_at is not None:
            sql = (
                "UPDATE activities SET signups_closed_at = ?, updated_at = ? "
                "WHERE activity_id = ? AND status = 'published' AND signups_closed_at IS NULL"
            )
            params: tuple[object, ...] = (to_db_time(closed_at), to_db_time(now), activity_id)
        else:
            sql = (
                "UPDATE activities SET signups_closed_at = NULL, updated_at = ? "
                "WHERE activity_id = ? AND status = 'published' "
                "AND signups_closed_at IS NOT NULL AND starts_at > ?"
            )
            params = (to_db_time(now), activity_id, to_db_time(now))
        return await tx.execute(sql, params) > 0

    @staticmethod
    async def copy(tx: Transaction, new: NewActivity, now: datetime) -> int:
        """Insert the copy through the activities repository's own statement."""
        return await ActivitiesRepository.insert(tx, new, now)

    async def get_activity(self, activity_id: int) -> Activity | None:
        return (await load_activities(self._db.fetch_all, [activity_id])).get(activity_id)

    @staticmethod
    async def activity(tx: Transaction, activity_id: int) -> Activity | None:
        return (await load_activities(tx.fetch_all, [activity_id])).get(activity_id)

    # -- organizers' messages --------------------------------------------------------------------

    @staticmethod
    async def recipients(tx: Transaction, activity_id: int, *, waitlist: bool) -> list[int]:
        """Telegram ids of those holding a spot (confirmed or offered), and the waiting ones
        too when ``waitlist``; deleted accounts have none and are skipped."""
        statuses = "'confirmed', 'offered', 'waitlisted'" if waitlist else "'confirmed', 'offered'"
        rows = await tx.fetch_all(
            "SELECT v.telegram_id FROM signups s "
            "JOIN volunteers v ON v.volunteer_id = s.volunteer_id "
            f"WHERE s.activity_id = ? AND s.status IN ({statuses}) "
            "AND v.telegram_id IS NOT NULL ORDER BY s.signup_id",
            (activity_id,),
        )
        return [int(row["telegram_id"]) for row in rows]

    async def count_recipients(self, activity_id: int, *, waitlist: bool) -> int:
        statuses = "'confirmed', 'offered', 'waitlisted'" if waitlist else "'confirmed', 'offered'"
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n FROM signups s "
            "JOIN volunteers v ON v.volunteer_id = s.volunteer_id "
            f"WHERE s.activity_id = ? AND s.status IN ({statuses}) "
            "AND v.telegram_id IS NOT NULL",
            (activity_id,),
        )
        return int(row["n"]) if row is not None else 0

    @staticmethod
    async def add_message(
        tx: Transaction,
        activity_id: int,
        sent_by: int,
        audience: str,
        body: str,
        recipients: int,
        now: datetime,
    ) -> int:
        row = await tx.fetch_one(
            "INSERT INTO organizer_messages (activity_id, sent_by, audience, body, recipients, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING message_id",
            (activity_id, sent_by, audience, body, recipients, to_db_time(now)),
        )
        assert row is not None
        return int(row["message_id"])

    async def message(self, message_id: int) -> tuple[int, str] | None:
        """(activity id, text) of an organizer's message."""
        row = await self._db.fetch_one(
            "SELECT activity_id, body FROM organizer_messages WHERE message_id = ?", (message_id,)
        )
        return (int(row["activity_id"]), str(row["body"])) if row is not None else None

    async def has_active_signup(self, activity_id: int, telegram_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM signups s JOIN volunteers v ON v.volunteer_id = s.volunteer_id "
            "WHERE s.activity_id = ? AND v.telegram_id = ? "
            "AND s.status IN ('confirmed', 'offered', 'waitlisted')",
            (activity_id, telegram_id),
        )
        return row is not None

    # -- half-typed steps ------------------------------------------------------------------------

    async def save_draft(self, draft: ManageDraft, now: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO manage_drafts (telegram_id, action, activity_id, body, audience, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET "
                "action = excluded.action, activity_id = excluded.activity_id, "
                "body = excluded.body, audience = excluded.audience, "
                "updated_at = excluded.updated_at",
                (
                    draft.telegram_id,
                    draft.action,
                    draft.activity_id,
                    draft.body,
                    draft.audience,
                    to_db_time(now),
                ),
            )

    async def draft(self, telegram_id: int) -> ManageDraft | None:
        row = await self._db.fetch_one(
            "SELECT telegram_id, action, activity_id, body, audience FROM manage_drafts "
            "WHERE telegram_id = ?",
            (telegram_id,),
        )
        if row is None:
            return None
        return ManageDraft(
            telegram_id=int(row["telegram_id"]),
            action=str(row["action"]),
            activity_id=int(row["activity_id"]),
            body=row["body"],
            audience=row["audience"],
        )

    async def drop_draft(self, telegram_id: int) -> None:
        async with self._db.transaction() as tx:
            await self.drop_draft_in(tx, telegram_id)

    @staticmethod
    async def drop_draft_in(tx: Transaction, telegram_id: int) -> None:
        await tx.execute("DELETE FROM manage_drafts WHERE telegram_id = ?", (telegram_id,))
