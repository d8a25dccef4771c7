"""Organizations and their members (tables of migration 0004)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from enum import StrEnum

from bot.domain.activities import (
    NewOrganization,
    Organization,
    OrganizationStatus,
    OrganizationType,
)
from storage.db import Database
from storage.timeutil import from_db_time, to_db_time

__all__ = ["MemberRole", "OrganizationsRepository"]


class MemberRole(StrEnum):
    MANAGER = "manager"  # may also invite and remove co-organizers
    ORGANIZER = "organizer"


_COLUMNS = (
    "organization_id, name, org_type, area_code, contact_name, contact_phone, description, "
    "status, created_at"
)


def _to_organization(row: sqlite3.Row) -> Organization:
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
        if not new.name.strip():
            raise ValueError("an organization needs a name")
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
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
