"""Activity drafts (migration 0008) and the statements that edit a published activity.

Drafts are stored as JSON text; their shape is the domain's (:mod:`bot.services.publishing`), so
this module hands back :class:`StoredDraft` rows and leaves parsing to the domain.

Edits of a published activity take an open :class:`~storage.db.Transaction`: the publishing
service composes the change, the sign-ups it moves and the notifications it causes into one
transaction (see :meth:`bot.services.publishing.PublishingService.apply_edit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.activities import Organization, OrganizationStatus, Signup, SignupStatus
from storage.activities import activities_changed
from storage.db import Database, Row, Transaction
from storage.organizations import OrganizationsRepository
from storage.signups import SignupsRepository
from storage.timeutil import from_db_time, to_db_time

__all__ = ["Participant", "PublishingRepository", "StoredDraft"]

_DRAFT_COLUMNS = "draft_id, organization_id, telegram_id, step, data, created_at, updated_at"


@dataclass(frozen=True)
class StoredDraft:
    draft_id: int
    organization_id: int
    telegram_id: int
    step: str
    data: str  # JSON
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Participant:
    """An active sign-up with what an organizer needs to choose whom to move."""

    signup_id: int
    volunteer_id: int
    telegram_id: int | None  # None for an anonymized (deleted) account
    name: str
    status: SignupStatus
    status_at: datetime
    created_at: datetime


def _draft(row: Row) -> StoredDraft:
    return StoredDraft(
        draft_id=row["draft_id"],
        organization_id=row["organization_id"],
        telegram_id=row["telegram_id"],
        step=row["step"],
        data=row["data"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
    )


class PublishingRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- drafts ----------------------------------------------------------------------------------

    async def create_draft(
        self, organization_id: int, telegram_id: int, step: str, data: str, now: datetime
    ) -> StoredDraft:
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO activity_drafts (organization_id, telegram_id, step, data, "
                f"created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING {_DRAFT_COLUMNS}",
                (organization_id, telegram_id, step, data, stamp, stamp),
            )
        assert row is not None
        return _draft(row)

    async def save_draft(
        self, draft_id: int, telegram_id: int, step: str, data: str, now: datetime
    ) -> StoredDraft | None:
        """Store the answers and step; the saver becomes the one filling it (resuming a
        co-organizer's draft takes it over). ``None`` when the draft is gone."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "UPDATE activity_drafts SET telegram_id = ?, step = ?, data = ?, updated_at = ? "
                f"WHERE draft_id = ? RETURNING {_DRAFT_COLUMNS}",
                (telegram_id, step, data, to_db_time(now), draft_id),
            )
        return _draft(row) if row is not None else None

    async def get_draft(self, draft_id: int) -> StoredDraft | None:
        row = await self._db.fetch_one(
            f"SELECT {_DRAFT_COLUMNS} FROM activity_drafts WHERE draft_id = ?", (draft_id,)
        )
        return _draft(row) if row is not None else None

    async def latest_draft_of(self, telegram_id: int) -> StoredDraft | None:
        """The draft this person touched last: the one the conversation is filling."""
        row = await self._db.fetch_one(
            f"SELECT {_DRAFT_COLUMNS} FROM activity_drafts WHERE telegram_id = ? "
            "ORDER BY updated_at DESC, draft_id DESC LIMIT 1",
            (telegram_id,),
        )
        return _draft(row) if row is not None else None

    async def drafts_of_organization(self, organization_id: int, limit: int) -> list[StoredDraft]:
        rows = await self._db.fetch_all(
            f"SELECT {_DRAFT_COLUMNS} FROM activity_drafts WHERE organization_id = ? "
            "ORDER BY updated_at DESC, draft_id DESC LIMIT ?",
            (organization_id, limit),
        )
        return [_draft(row) for row in rows]

    async def delete_draft(self, draft_id: int) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "DELETE FROM activity_drafts WHERE draft_id = ?", (draft_id,)
            )
        return changed > 0

    @staticmethod
    async def delete_draft_in(tx: Transaction, draft_id: int) -> bool:
        """``False`` when the draft is already gone (published by another press meanwhile)."""
        return await tx.execute("DELETE FROM activity_drafts WHERE draft_id = ?", (draft_id,)) > 0

    # -- organizations -----------------------------------------------------------------------

    async def approved_organizations(
        self, offset: int, limit: int
    ) -> tuple[list[Organization], int]:
        """A page of approved organizations (an administrator publishing for one they are no
        member of) and how many there are; read through the organizations repository."""
        return await OrganizationsRepository(self._db).list_by_status(
            [OrganizationStatus.APPROVED], offset=offset, limit=limit
        )

    # -- editing a published activity ------------------------------------------------------------

    @staticmethod
    async def update_activity(
        tx: Transaction, activity_id: int, values: dict[str, object], now: datetime
    ) -> bool:
        """Set plain columns of an activity (names come from the domain's fixed list, never
        from input) and stamp ``updated_at``."""
        allowed = {
            "title",
            "category_code",
            "description",
            "starts_at",
            "ends_at",
            "place",
            "latitude",
            "longitude",
            "signup_deadline",
            "leader_name",
            "training_required",
            "adults_only",
            "area_code",
            "key_date",
            "is_volunteering",
            "requires_qualification_id",
            "grants_qualification_id",
        }
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not an editable column: {sorted(unknown)}")
        columns = [f"{name} = ?" for name in values] + ["updated_at = ?"]
        params: list[object] = []
        for value in values.values():
            if isinstance(value, datetime):
                params.append(to_db_time(value))
            elif isinstance(value, bool):
                params.append(int(value))
            else:
                params.append(value)
        # Only while it can still change (published, not started), tested in the statement:
        # a co-organizer in another process may cancel it or move its start meanwhile.
        changed = (
            await tx.execute(
                f"UPDATE activities SET {', '.join(columns)} WHERE activity_id = ? "
                "AND status = 'published' AND starts_at > ?",
                [*params, to_db_time(now), activity_id, to_db_time(now)],
            )
            > 0
        )
        if changed:
            tx.after_commit(activities_changed)  # its start or category may have changed
        return changed

    @staticmethod
    async def set_skills(tx: Transaction, activity_id: int, codes: Sequence[str]) -> None:
        """Replace the required skills (sign-ups are untouched: see the publishing domain)."""
        await tx.execute("DELETE FROM activity_skills WHERE activity_id = ?", (activity_id,))
        await tx.execute_many(
            "INSERT INTO activity_skills (activity_id, skill_code) VALUES (?, ?)",
            [(activity_id, code) for code in dict.fromkeys(codes)],
        )

    @staticmethod
    async def set_people_served(tx: Transaction, activity_id: int, codes: Sequence[str]) -> None:
        await tx.execute("DELETE FROM activity_people_served WHERE activity_id = ?", (activity_id,))
        await tx.execute_many(
            "INSERT INTO activity_people_served (activity_id, people_code) VALUES (?, ?)",
            [(activity_id, code) for code in dict.fromkeys(codes)],
        )

    @staticmethod
    async def set_capacity(
        tx: Transaction,
        activity_id: int,
        capacity: int,
        now: datetime,
        *,
        confirmed: int = 0,
        offered: int = 0,
        waitlist: int = 0,
    ) -> bool:
        """New capacity and counter changes in one statement, so the CHECK
        ``confirmed_count + offered_count <= capacity`` holds on the resulting row.

        ``False`` (nothing changed) unless the activity is published and not started and the
        new counters fit the new capacity, all tested in the statement: a volunteer taking a
        spot in another process between the organizer's choice and this update makes it
        fail cleanly (the organizer chooses again) instead of breaking the CHECK."""
        stamp = to_db_time(now)
        changed = await tx.execute(
            "UPDATE activities SET capacity = ?, confirmed_count = confirmed_count + ?, "
            "offered_count = offered_count + ?, waitlist_count = waitlist_count + ?, "
            "updated_at = ? WHERE activity_id = ? AND status = 'published' AND starts_at > ? "
            "AND confirmed_count + ? + offered_count + ? <= ?",
            (capacity, confirmed, offered, waitlist, stamp, activity_id, stamp,
             confirmed, offered, capacity),
        )  # fmt: skip
        return changed > 0

    @staticmethod
    async def participants(
        tx: Transaction, activity_id: int, statuses: Sequence[SignupStatus]
    ) -> list[Participant]:
        """Active sign-ups in the given states, with the volunteer's name, oldest first."""
        marks = ", ".join("?" for _ in statuses)
        rows = await tx.fetch_all(
            "SELECT s.signup_id, s.volunteer_id, s.status, s.status_at, s.created_at, "
            "v.telegram_id, v.real_name FROM signups s "
            "JOIN volunteers v ON v.volunteer_id = s.volunteer_id "
            f"WHERE s.activity_id = ? AND s.status IN ({marks}) "
            "ORDER BY s.status_at, s.signup_id",
            [activity_id, *(status.value for status in statuses)],
        )
        return [
            Participant(
                signup_id=row["signup_id"],
                volunteer_id=row["volunteer_id"],
                telegram_id=int(row["telegram_id"]) if row["telegram_id"] else None,
                name=row["real_name"] or "",
                status=SignupStatus(row["status"]),
                status_at=from_db_time(row["status_at"]),
                created_at=from_db_time(row["created_at"]),
            )
            for row in rows
        ]

    @staticmethod
    async def first_queued_at(tx: Transaction, activity_id: int) -> datetime | None:
        row = await tx.fetch_one(
            "SELECT MIN(queued_at) AS first FROM signups WHERE activity_id = ? "
            "AND status = 'waitlisted'",
            (activity_id,),
        )
        return from_db_time(row["first"]) if row is not None and row["first"] else None

    @staticmethod
    async def back_to_waitlist(
        tx: Transaction,
        signup_id: int,
        queued_at: datetime,
        now: datetime,
        *,
        expected: SignupStatus | None = None,
    ) -> Signup | None:
        """A confirmed or offered sign-up goes back to the waitlist at ``queued_at``; with
        ``expected``, only from that state (the one its counter change assumed). ``None`` when
        the sign-up is not in such a state (changed by another transaction meanwhile)."""
        states = (expected.value,) if expected is not None else ("confirmed", "offered")
        marks = ", ".join("?" for _ in states)
        row = await tx.fetch_one(
            "UPDATE signups SET status = 'waitlisted', status_at = ?, queued_at = ?, "
            f"offer_expires_at = NULL WHERE signup_id = ? AND status IN ({marks}) "
            "RETURNING signup_id",
            (to_db_time(now), to_db_time(queued_at), signup_id, *states),
        )
        if row is None:
            return None
        found = await SignupsRepository.find_by_id(tx, signup_id)
        assert found is not None
        return found
