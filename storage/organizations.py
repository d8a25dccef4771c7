"""Organizations and their members (tables of migration 0004), applications in progress and
co-organizer invitations (migration 0007)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.activities import (
    MemberRole,
    NewOrganization,
    Organization,
    OrganizationStatus,
    OrganizationType,
)
from storage.db import Database, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

__all__ = [
    "ApplicationDraftRow",
    "Invite",
    "Member",
    "MemberRole",
    "OrganizationDetails",
    "OrganizationsRepository",
]


class OrganizationDetails(BaseModel):
    """An organization with who applied for it and how it was last decided."""

    model_config = ConfigDict(frozen=True)

    organization: Organization
    status_reason: str | None
    applied_by: int | None
    decided_by: int | None
    decided_at: datetime | None


class Member(BaseModel):
    model_config = ConfigDict(frozen=True)

    telegram_id: int
    role: MemberRole
    first_name: str
    last_name: str | None
    username: str | None
    added_at: datetime


class Invite(BaseModel):
    model_config = ConfigDict(frozen=True)

    organization_id: int
    expires_at: datetime
    used_by: int | None
    used_at: datetime | None


class ApplicationDraftRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    step: str
    data: str  # JSON, parsed by the domain


_DETAIL_COLUMNS = "status_reason, applied_by, decided_by, decided_at"


_COLUMNS = (
    "organization_id, name, org_type, area_code, contact_name, contact_phone, description, "
    "status, created_at"
)


def _to_organization(row: Row) -> Organization:
    return Organization(
        organization_id=row["organization_id"],
        name=row["name"],
        org_type=OrganizationType(row["org_type"]),
        area_code=row["area_code"],
        contact_name=row["contact_name"],
        contact_phone=row["contact_phone"],
        description=row["description"],
        status=OrganizationStatus(row["status"]),
        created_at=from_db_time(row["created_at"]),
    )


class OrganizationsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, new: NewOrganization, now: datetime) -> Organization:
        async with self._db.transaction() as tx:
            return await self.create_in(tx, new, now)

    @staticmethod
    async def create_in(tx: Transaction, new: NewOrganization, now: datetime) -> Organization:
        """:meth:`create` inside the caller's transaction (an application and its notices)."""
        if not new.name.strip():
            raise ValueError("an organization needs a name")
        stamp = to_db_time(now)
        row = await tx.fetch_one(
            "INSERT INTO organizations (name, org_type, area_code, contact_name, "
            "contact_phone, description, status, applied_by, created_at, updated_at) "
            f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
            (
                new.name.strip(),
                new.org_type.value,
                new.area_code,
                new.contact_name,
                new.contact_phone,
                new.description,
                new.status.value,
                new.applied_by,
                stamp,
                stamp,
            ),
        )
        assert row is not None
        return _to_organization(row)

    async def get(self, organization_id: int) -> Organization | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM organizations WHERE organization_id = ?", (organization_id,)
        )
        return _to_organization(row) if row is not None else None

    async def add_member(
        self, organization_id: int, telegram_id: int, role: MemberRole, now: datetime
    ) -> None:
        """Make a user a member (or change their role); the ``users`` row must exist."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO organization_members (organization_id, telegram_id, member_role, "
                "added_at) VALUES (?, ?, ?, ?) ON CONFLICT (organization_id, telegram_id) "
                "DO UPDATE SET member_role = excluded.member_role",
                (organization_id, telegram_id, role.value, to_db_time(now)),
            )

    async def memberships(self, telegram_id: int) -> list[tuple[int, MemberRole]]:
        rows = await self._db.fetch_all(
            "SELECT organization_id, member_role FROM organization_members WHERE telegram_id = ? "
            "ORDER BY organization_id",
            (telegram_id,),
        )
        return [(row["organization_id"], MemberRole(row["member_role"])) for row in rows]

    async def membership(self, organization_id: int, telegram_id: int) -> MemberRole | None:
        row = await self._db.fetch_one(
            "SELECT member_role FROM organization_members "
            "WHERE organization_id = ? AND telegram_id = ?",
            (organization_id, telegram_id),
        )
        return MemberRole(row["member_role"]) if row is not None else None

    # -- applications and decisions ------------------------------------------------------------

    async def details(self, organization_id: int) -> OrganizationDetails | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS}, {_DETAIL_COLUMNS} FROM organizations WHERE organization_id = ?",
            (organization_id,),
        )
        if row is None:
            return None
        decided_at = row["decided_at"]
        return OrganizationDetails(
            organization=_to_organization(row),
            status_reason=row["status_reason"],
            applied_by=row["applied_by"],
            decided_by=row["decided_by"],
            decided_at=from_db_time(decided_at) if decided_at is not None else None,
        )

    async def applications_of(
        self, telegram_id: int, statuses: Iterable[OrganizationStatus]
    ) -> list[Organization]:
        """Organizations this person applied for, in the given states, newest first."""
        wanted = [status.value for status in statuses]
        marks = ", ".join("?" for _ in wanted)
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM organizations WHERE applied_by = ? AND status IN ({marks}) "
            "ORDER BY created_at DESC, organization_id DESC",
            (telegram_id, *wanted),
        )
        return [_to_organization(row) for row in rows]

    async def list_by_status(
        self, statuses: Iterable[OrganizationStatus], *, offset: int = 0, limit: int = 10
    ) -> tuple[list[Organization], int]:
        """A page of organizations in the given states (oldest first) and how many there are."""
        wanted = [status.value for status in statuses]
        marks = ", ".join("?" for _ in wanted)
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM organizations WHERE status IN ({marks}) "
            "ORDER BY created_at, organization_id LIMIT ? OFFSET ?",
            (*wanted, limit, offset),
        )
        total = await self._db.fetch_one(
            f"SELECT COUNT(*) AS n FROM organizations WHERE status IN ({marks})", tuple(wanted)
        )
        return [_to_organization(row) for row in rows], int(total["n"]) if total else 0

    @staticmethod
    async def change_status_in(
        tx: Transaction,
        organization_id: int,
        *,
        expected: OrganizationStatus,
        status: OrganizationStatus,
        by: int,
        reason: str | None,
        now: datetime,
    ) -> bool:
        """Move an organization from ``expected`` to ``status``; ``False`` if it was not in
        ``expected`` any more (someone else decided first: a conditional UPDATE, so two
        administrators pressing at once cannot both decide)."""
        stamp = to_db_time(now)
        changed = await tx.execute(
            "UPDATE organizations SET status = ?, status_reason = ?, decided_by = ?, "
            "decided_at = ?, updated_at = ? WHERE organization_id = ? AND status = ?",
            (status.value, reason, by, stamp, stamp, organization_id, expected.value),
        )
        return changed > 0

    @staticmethod
    async def add_member_in(
        tx: Transaction, organization_id: int, telegram_id: int, role: MemberRole, now: datetime
    ) -> bool:
        """Add a member; an existing member keeps their role. ``True`` if added."""
        changed = await tx.execute(
            "INSERT INTO organization_members (organization_id, telegram_id, member_role, "
            "added_at) VALUES (?, ?, ?, ?) ON CONFLICT (organization_id, telegram_id) DO NOTHING",
            (organization_id, telegram_id, role.value, to_db_time(now)),
        )
        return changed > 0

    # -- members ---------------------------------------------------------------------------

    async def members(self, organization_id: int) -> list[Member]:
        rows = await self._db.fetch_all(
            "SELECT m.telegram_id, m.member_role, m.added_at, u.first_name, u.last_name, "
            "u.username FROM organization_members m JOIN users u ON u.telegram_id = m.telegram_id "
            "WHERE m.organization_id = ? ORDER BY m.member_role, m.added_at, m.telegram_id",
            (organization_id,),
        )
        return [
            Member(
                telegram_id=row["telegram_id"],
                role=MemberRole(row["member_role"]),
                first_name=row["first_name"],
                last_name=row["last_name"],
                username=row["username"],
                added_at=from_db_time(row["added_at"]),
            )
            for row in rows
        ]

    async def member_ids(self, organization_id: int) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT telegram_id FROM organization_members WHERE organization_id = ? "
            "ORDER BY telegram_id",
            (organization_id,),
        )
        return [row["telegram_id"] for row in rows]

    async def remove_member(
        self, organization_id: int, telegram_id: int, *, by: int | None = None
    ) -> bool:
        """Remove a member, unless they are the organization's last manager (checked in the same
        statement, so two managers removing each other at once cannot leave none), and, with
        ``by``, only while ``by`` is still a manager of it. ``False`` when nothing was removed.

        The count of managers is a rule over several rows, which a conditional statement alone
        does not protect in PostgreSQL (two removals of two different managers would each count
        two). So the transaction first updates the organization's own row: PostgreSQL holds its
        lock until commit, the second removal waits for it, and its DELETE (a new statement, a
        new snapshot) counts the managers the first one left. In SQLite ``BEGIN IMMEDIATE``
        already serializes the two; the update costs one row write."""
        async with self._db.transaction() as tx:
            if not await self.lock_in(tx, organization_id):
                return False
            guard = ""
            params: tuple[int, ...] = ()
            if by is not None:
                guard = (
                    " AND EXISTS (SELECT 1 FROM organization_members AS actor "
                    "WHERE actor.organization_id = ? AND actor.telegram_id = ? "
                    "AND actor.member_role = 'manager')"
                )
                params = (organization_id, by)
            changed = await tx.execute(
                "DELETE FROM organization_members WHERE organization_id = ? AND telegram_id = ? "
                "AND (member_role <> 'manager' OR (SELECT COUNT(*) FROM organization_members "
                f"AS m WHERE m.organization_id = ? AND m.member_role = 'manager') > 1){guard}",
                (organization_id, telegram_id, organization_id, *params),
            )
        return changed > 0

    @staticmethod
    async def lock_in(tx: Transaction, organization_id: int) -> bool:
        """Update the organization's row to nothing new, so that in PostgreSQL its row lock
        queues every other transaction that does the same behind this one (see
        :meth:`remove_member`); ``False`` when there is no such organization."""
        changed = await tx.execute(
            "UPDATE organizations SET updated_at = updated_at WHERE organization_id = ?",
            (organization_id,),
        )
        return changed > 0

    # -- application drafts ----------------------------------------------------------------

    async def draft(self, telegram_id: int) -> ApplicationDraftRow | None:
        row = await self._db.fetch_one(
            "SELECT step, data FROM organization_drafts WHERE telegram_id = ?", (telegram_id,)
        )
        return ApplicationDraftRow(step=row["step"], data=row["data"]) if row else None

    async def save_draft(self, telegram_id: int, step: str, data: str, now: datetime) -> None:
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO organization_drafts (telegram_id, step, data, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET "
                "step = excluded.step, data = excluded.data, updated_at = excluded.updated_at",
                (telegram_id, step, data, stamp, stamp),
            )

    @staticmethod
    async def delete_draft_in(tx: Transaction, telegram_id: int) -> bool:
        changed = await tx.execute(
            "DELETE FROM organization_drafts WHERE telegram_id = ?", (telegram_id,)
        )
        return changed > 0

    async def delete_draft(self, telegram_id: int) -> bool:
        async with self._db.transaction() as tx:
            return await self.delete_draft_in(tx, telegram_id)

    # -- invitations -----------------------------------------------------------------------

    async def create_invite(
        self,
        code_hash: str,
        organization_id: int,
        created_by: int,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO organization_invites (code_hash, organization_id, created_by, "
                "created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (code_hash, organization_id, created_by, to_db_time(now), to_db_time(expires_at)),
            )

    async def invite(self, code_hash: str) -> Invite | None:
        row = await self._db.fetch_one(
            "SELECT organization_id, expires_at, used_by, used_at FROM organization_invites "
            "WHERE code_hash = ?",
            (code_hash,),
        )
        if row is None:
            return None
        return Invite(
            organization_id=row["organization_id"],
            expires_at=from_db_time(row["expires_at"]),
            used_by=row["used_by"],
            used_at=from_db_time(row["used_at"]) if row["used_at"] is not None else None,
        )

    @staticmethod
    async def take_invite_in(
        tx: Transaction, code_hash: str, telegram_id: int, now: datetime
    ) -> bool:
        """Mark an unused, unexpired invitation as used by this person; ``False`` otherwise.

        Also only while the organization is approved and the person is not a member yet: both
        were checked when the invitation was shown, and either may have changed since (a
        suspension, a second invitation accepted elsewhere), so they are tested again here
        rather than spending the one-time code on nothing."""
        stamp = to_db_time(now)
        changed = await tx.execute(
            "UPDATE organization_invites SET used_by = ?, used_at = ? "
            "WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? "
            "AND EXISTS (SELECT 1 FROM organizations o "
            "WHERE o.organization_id = organization_invites.organization_id "
            "AND o.status = 'approved') "
            "AND NOT EXISTS (SELECT 1 FROM organization_members m "
            "WHERE m.organization_id = organization_invites.organization_id "
            "AND m.telegram_id = ?)",
            (telegram_id, stamp, code_hash, stamp, telegram_id),
        )
        return changed > 0

    # -- people ----------------------------------------------------------------------------

    async def user_id_by_username(self, username: str) -> int | None:
        """Someone who has used the bot, by their Telegram @username (case-insensitive)."""
        row = await self._db.fetch_one(
            "SELECT telegram_id FROM users WHERE lower(username) = lower(?) "
            "ORDER BY last_seen_at DESC LIMIT 1",
            (username,),
        )
        return row["telegram_id"] if row is not None else None
