"""Qualifications, what activities grant and require, and who holds them (migration 0019).

An activity requiring a qualification admits only its holders: the sign-up service asks
:meth:`QualificationsRepository.holds`, and the statements that choose volunteers without a
sign-up press (a waitlist offer, a recruiting invitation) add :func:`holds_required` to their
``WHERE``. Granting one is the lead's confirm transaction (one ``INSERT`` into
``volunteer_qualifications``); an administrator may grant one by hand later.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.activities import Activity
from bot.domain.qualifications import HeldQualification, Qualification
from storage.activities import load_activities
from storage.db import Database, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

__all__ = ["QualificationsRepository", "holds_required"]

_COLUMNS = "qualification_id, organization_id, name"


def holds_required(volunteer: str, activity: str) -> str:
    """SQL: the volunteer (a column holding a volunteer id) holds what the activity (a column
    holding an activity id) requires, or it requires nothing. No parameters."""
    return (
        f"NOT EXISTS (SELECT 1 FROM activities ra WHERE ra.activity_id = {activity} "
        "AND ra.requires_qualification_id IS NOT NULL AND NOT EXISTS ("
        "SELECT 1 FROM volunteer_qualifications vq "
        f"WHERE vq.volunteer_id = {volunteer} "
        "AND vq.qualification_id = ra.requires_qualification_id))"
    )


def _qualification(row: Row) -> Qualification:
    return Qualification(
        qualification_id=row["qualification_id"],
        organization_id=row["organization_id"],
        name=row["name"],
    )


class QualificationsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, qualification_id: int) -> Qualification | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM qualifications WHERE qualification_id = ?",
            (qualification_id,),
        )
        return _qualification(row) if row is not None else None

    async def of_organization(self, organization_id: int, limit: int = 50) -> list[Qualification]:
        """An organization's qualifications by name (the form offers them)."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM qualifications WHERE organization_id = ? "
            "ORDER BY name, qualification_id LIMIT ?",
            (organization_id, limit),
        )
        return [_qualification(row) for row in rows]

    async def name(self, organization_id: int, name: str, now: datetime) -> Qualification:
        """The organization's qualification of this name, created if new (names are unique per
        organization, so two organizers typing the same name get the same one)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO qualifications (organization_id, name, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (organization_id, name) DO NOTHING",
                (organization_id, name, to_db_time(now)),
            )
            row = await tx.fetch_one(
                f"SELECT {_COLUMNS} FROM qualifications WHERE organization_id = ? AND name = ?",
                (organization_id, name),
            )
        assert row is not None
        return _qualification(row)

    @staticmethod
    async def holds_in(tx: Transaction, volunteer_id: int, qualification_id: int) -> bool:
        row = await tx.fetch_one(
            "SELECT 1 FROM volunteer_qualifications WHERE volunteer_id = ? "
            "AND qualification_id = ?",
            (volunteer_id, qualification_id),
        )
        return row is not None

    async def holds(self, volunteer_id: int, qualification_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM volunteer_qualifications WHERE volunteer_id = ? "
            "AND qualification_id = ?",
            (volunteer_id, qualification_id),
        )
        return row is not None

    async def held_by(self, volunteer_id: int) -> list[HeldQualification]:
        """What a volunteer holds, latest first (``/hours`` shows the names and dates)."""
        rows = await self._db.fetch_all(
            "SELECT q.qualification_id, q.name, o.name AS organization_name, vq.granted_at, "
            "vq.activity_id FROM volunteer_qualifications vq "
            "JOIN qualifications q ON q.qualification_id = vq.qualification_id "
            "JOIN organizations o ON o.organization_id = q.organization_id "
            "WHERE vq.volunteer_id = ? ORDER BY vq.granted_at DESC, q.name",
            (volunteer_id,),
        )
        return [
            HeldQualification(
                qualification_id=row["qualification_id"],
                name=row["name"],
                organization_name=row["organization_name"],
                granted_at=from_db_time(row["granted_at"]),
                activity_id=row["activity_id"],
            )
            for row in rows
        ]

    async def next_session(self, qualification: int, now: datetime) -> Activity | None:
        """The next published activity granting the qualification, of the organization that
        named it, starting after ``now`` (index ``activities_grants_idx``)."""
        row = await self._db.fetch_one(
            "SELECT a.activity_id FROM activities a "
            "WHERE a.grants_qualification_id = ? AND a.status = 'published' AND a.starts_at > ? "
            "AND a.organization_id = (SELECT organization_id FROM qualifications "
            "WHERE qualification_id = ?) ORDER BY a.starts_at, a.activity_id LIMIT 1",
            (qualification, to_db_time(now), qualification),
        )
        if row is None:
            return None
        found = await load_activities(self._db.fetch_all, [row["activity_id"]])
        return found.get(row["activity_id"])

    @staticmethod
    async def anyone_eligible_waiting(tx: Transaction, activity_id: int) -> bool:
        """Someone on the waitlist who may be offered a spot (holds what it requires)."""
        row = await tx.fetch_one(
            "SELECT 1 FROM signups s WHERE s.activity_id = ? AND s.status = 'waitlisted' "
            f"AND {holds_required('s.volunteer_id', 's.activity_id')} LIMIT 1",
            (activity_id,),
        )
        return row is not None
