"""Service records and their corrections (migration 0019).

Confirming an activity's hours is one transaction: the guard ``hours_confirmed_at IS NULL`` is
taken first (so two organizers pressing "Confirm" at once write the records once), the records
are inserted (``ON CONFLICT DO NOTHING`` on the activity and volunteer), a training grants its
qualification, and the volunteers' notifications are queued with the records. A record changes
afterwards only through an approved correction, audited like every hand change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.notifications import Notification
from bot.domain.service_records import (
    Correction,
    CorrectionStatus,
    HoursSummary,
    RecordingActivity,
    RecordKind,
    ServiceRecord,
)
from storage.attendance import audit_in
from storage.db import Database, Row, Transaction
from storage.evaluations import EvaluationsRepository
from storage.outbox import OutboxRepository
from storage.timeutil import from_db_time, to_db_time


@dataclass(frozen=True)
class NewRecord:
    volunteer_id: int
    minutes: int


def _to_record(row: Row) -> ServiceRecord:
    return ServiceRecord(
        record_id=row["record_id"],
        volunteer_id=row["volunteer_id"],
        activity_id=row["activity_id"],
        organization_id=row["organization_id"],
        kind=RecordKind(row["kind"]),
        activity_title=row["activity_title"],
        service_date=date.fromisoformat(row["service_date"]),
        place=row["place"],
        category_code=row["category_code"],
        content=row["content"],
        organization_name=row["organization_name"],
        leader_name=row["leader_name"],
        minutes=row["minutes"],
        recorded_at=from_db_time(row["recorded_at"]),
        pending_correction=bool(row["pending"]),
    )


def _to_correction(row: Row) -> Correction:
    return Correction(
        correction_id=row["correction_id"],
        record_id=row["record_id"],
        requested_by=row["requested_by"],
        reason=row["reason"],
        old_minutes=row["old_minutes"],
        proposed_minutes=row["proposed_minutes"],
        status=CorrectionStatus(row["status"]),
        decided_by=row["decided_by"],
        decided_at=from_db_time(row["decided_at"]) if row["decided_at"] else None,
        decision_reason=row["decision_reason"],
        created_at=from_db_time(row["created_at"]),
        activity_title=row["activity_title"],
        service_date=date.fromisoformat(row["service_date"]),
        organization_id=row["organization_id"],
        volunteer_name=row["real_name"],
    )


_RECORD_COLUMNS = (
    "r.*, EXISTS (SELECT 1 FROM record_corrections c WHERE c.record_id = r.record_id "
    "AND c.status = 'pending') AS pending"
)
_CORRECTION_SELECT = (
    "SELECT c.*, r.activity_title, r.service_date, r.organization_id, v.real_name "
    "FROM record_corrections c JOIN service_records r ON r.record_id = c.record_id "
    "JOIN volunteers v ON v.volunteer_id = r.volunteer_id "
)


class ServiceRecordsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- confirming ------------------------------------------------------------------------------

    async def confirm(
        self,
        activity: RecordingActivity,
        service_date: date,
        records: Sequence[NewRecord],
        *,
        by: int,
        now: datetime,
        notify: Sequence[Notification],
    ) -> tuple[bool, int, int]:
        """Write the records; (confirmed now, records written, qualifications granted).

        ``(False, 0, 0)`` when the hours were confirmed already (by this press or another)."""
        stamp = to_db_time(now)
        aid = activity.activity_id
        async with self._db.transaction() as tx:
            taken = await tx.execute(
                "UPDATE activities SET hours_confirmed_at = ?, hours_confirmed_by = ?, "
                "updated_at = ? WHERE activity_id = ? AND hours_confirmed_at IS NULL",
                (stamp, by, stamp, aid),
            )
            if not taken:
                return False, 0, 0
            written = 0
            granted = 0
            if activity.is_volunteering:
                content = activity.description.strip()[:200]
                written = await tx.execute_many(
                    "INSERT INTO service_records (volunteer_id, activity_id, organization_id, "
                    "kind, activity_title, service_date, place, category_code, content, "
                    "organization_name, leader_name, minutes, recorded_by, recorded_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (activity_id, volunteer_id) DO NOTHING",
                    [
                        (
                            record.volunteer_id,
                            aid,
                            activity.organization_id,
                            activity.kind.value,
                            activity.title,
                            service_date.isoformat(),
                            activity.place,
                            activity.category_code,
                            content,
                            activity.organization_name,
                            activity.leader_name,
                            record.minutes,
                            by,
                            stamp,
                            stamp,
                        )
                        for record in records
                    ],
                )
                if activity.grants_qualification_id is not None:
                    granted = await tx.execute(
                        "INSERT INTO volunteer_qualifications (volunteer_id, qualification_id, "
                        "granted_at, activity_id) SELECT volunteer_id, ?, ?, ? "
                        "FROM service_records WHERE activity_id = ? AND minutes > 0 "
                        "ON CONFLICT (volunteer_id, qualification_id) DO NOTHING",
                        (activity.grants_qualification_id, stamp, aid, aid),
                    )
            # "How was it?" to everyone recorded, in the transaction that recorded them.
            await EvaluationsRepository.queue_rating_requests_in(tx, aid, now)
            await audit_in(tx, aid, None, by, now, "confirm", None, str(written), None)
            await OutboxRepository.enqueue_many(tx, notify, now)
        return True, written, granted

    async def records_of_activity(self, activity_id: int) -> list[ServiceRecord]:
        rows = await self._db.fetch_all(
            f"SELECT {_RECORD_COLUMNS} FROM service_records r WHERE r.activity_id = ? "
            "ORDER BY r.record_id",
            (activity_id,),
        )
        return [_to_record(row) for row in rows]

    async def record_of(self, activity_id: int, volunteer_id: int) -> ServiceRecord | None:
        row = await self._db.fetch_one(
            f"SELECT {_RECORD_COLUMNS} FROM service_records r "
            "WHERE r.activity_id = ? AND r.volunteer_id = ?",
            (activity_id, volunteer_id),
        )
        return _to_record(row) if row is not None else None

    # -- a volunteer's records -------------------------------------------------------------------

    async def summary(self, volunteer_id: int, year: int) -> HoursSummary:
        row = await self._db.fetch_one(
            "SELECT COALESCE(SUM(minutes), 0) AS total, COUNT(*) AS n, "
            "COALESCE(SUM(CASE WHEN service_date >= ? AND service_date < ? THEN minutes "
            "ELSE 0 END), 0) AS this_year "
            "FROM service_records WHERE volunteer_id = ?",
            (f"{year:04d}-01-01", f"{year + 1:04d}-01-01", volunteer_id),
        )
        assert row is not None
        return HoursSummary(
            total_minutes=row["total"], year_minutes=row["this_year"], records=row["n"]
        )

    async def records_of(self, volunteer_id: int, offset: int, limit: int) -> list[ServiceRecord]:
        rows = await self._db.fetch_all(
            f"SELECT {_RECORD_COLUMNS} FROM service_records r WHERE r.volunteer_id = ? "
            "ORDER BY r.service_date DESC, r.record_id DESC LIMIT ? OFFSET ?",
            (volunteer_id, limit, offset),
        )
        return [_to_record(row) for row in rows]

    async def record(self, record_id: int) -> ServiceRecord | None:
        row = await self._db.fetch_one(
            f"SELECT {_RECORD_COLUMNS} FROM service_records r WHERE r.record_id = ?", (record_id,)
        )
        return _to_record(row) if row is not None else None

    async def all_records_of(self, volunteer_id: int) -> list[Row]:
        """For the data export: every record and every correction of it."""
        return await self._db.fetch_all(
            "SELECT * FROM service_records WHERE volunteer_id = ? ORDER BY service_date, record_id",
            (volunteer_id,),
        )

    async def qualifications_of(self, volunteer_id: int) -> list[tuple[str, str, datetime]]:
        """(qualification, organization, granted at) of the trainings completed."""
        rows = await self._db.fetch_all(
            "SELECT q.name, o.name AS organization_name, vq.granted_at "
            "FROM volunteer_qualifications vq "
            "JOIN qualifications q ON q.qualification_id = vq.qualification_id "
            "JOIN organizations o ON o.organization_id = q.organization_id "
            "WHERE vq.volunteer_id = ? ORDER BY vq.granted_at",
            (volunteer_id,),
        )
        return [(r["name"], r["organization_name"], from_db_time(r["granted_at"])) for r in rows]

    async def awards_of(self, volunteer_id: int) -> list[tuple[str, str, date]]:
        rows = await self._db.fetch_all(
            "SELECT title, issuer, awarded_on FROM awards WHERE volunteer_id = ? "
            "ORDER BY awarded_on DESC, award_id DESC",
            (volunteer_id,),
        )
        return [(r["title"], r["issuer"], date.fromisoformat(r["awarded_on"])) for r in rows]

    # -- corrections -----------------------------------------------------------------------------

    async def request_correction(
        self,
        record: ServiceRecord,
        requested_by: int,
        proposed_minutes: int,
        reason: str,
        now: datetime,
        notify: Sequence[Notification],
    ) -> int | None:
        """The new correction's id; ``None`` when one is pending already (the partial unique
        index decides, so two presses at once store one)."""
        async with self._db.transaction() as tx:
            pending = await tx.fetch_one(
                "SELECT 1 FROM record_corrections WHERE record_id = ? AND status = 'pending'",
                (record.record_id,),
            )
            if pending is not None:
                return None
            row = await tx.fetch_one(
                "INSERT INTO record_corrections (record_id, requested_by, reason, old_minutes, "
                "proposed_minutes, status, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?) "
                "ON CONFLICT DO NOTHING RETURNING correction_id",
                (
                    record.record_id,
                    requested_by,
                    reason,
                    record.minutes,
                    proposed_minutes,
                    to_db_time(now),
                ),
            )
            if row is None:
                return None
            correction_id: int = row["correction_id"]
            for notification in notify:
                await OutboxRepository.enqueue(
                    tx,
                    notification.model_copy(
                        update={"payload": {**notification.payload, "correction": correction_id}}
                    ),
                    now,
                )
        return correction_id

    async def correction(self, correction_id: int) -> Correction | None:
        row = await self._db.fetch_one(
            _CORRECTION_SELECT + "WHERE c.correction_id = ?", (correction_id,)
        )
        return _to_correction(row) if row is not None else None

    async def corrections_of(self, volunteer_id: int) -> list[Correction]:
        rows = await self._db.fetch_all(
            _CORRECTION_SELECT + "WHERE r.volunteer_id = ? ORDER BY c.created_at, c.correction_id",
            (volunteer_id,),
        )
        return [_to_correction(row) for row in rows]

    async def pending_corrections(self, organization_id: int) -> list[Correction]:
        rows = await self._db.fetch_all(
            _CORRECTION_SELECT + "WHERE r.organization_id = ? AND c.status = 'pending' "
            "ORDER BY c.created_at, c.correction_id",
            (organization_id,),
        )
        return [_to_correction(row) for row in rows]

    async def decide(
        self,
        correction: Correction,
        approve: bool,
        by: int,
        reason: str | None,
        now: datetime,
        notify: Sequence[Notification],
    ) -> bool:
        """Approve (the record takes the proposed hours) or reject; False when decided already."""
        stamp = to_db_time(now)
        status = CorrectionStatus.APPROVED if approve else CorrectionStatus.REJECTED
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE record_corrections SET status = ?, decided_by = ?, decided_at = ?, "
                "decision_reason = ? WHERE correction_id = ? AND status = 'pending'",
                (status.value, by, stamp, reason, correction.correction_id),
            )
            if not changed:
                return False
            if approve:
                row = await tx.fetch_one(
                    "UPDATE service_records SET minutes = ?, updated_at = ? WHERE record_id = ? "
                    "RETURNING activity_id, volunteer_id",
                    (correction.proposed_minutes, stamp, correction.record_id),
                )
                if row is not None and row["activity_id"] is not None:
                    await audit_in(
                        tx,
                        row["activity_id"],
                        row["volunteer_id"],
                        by,
                        now,
                        "correction",
                        str(correction.old_minutes),
                        str(correction.proposed_minutes),
                        correction.reason,
                    )
            for notification in notify:
                await OutboxRepository.enqueue(tx, notification, now)
        return True

    @staticmethod
    async def managers_in(tx: Transaction, organization_id: int) -> list[int]:
        rows = await tx.fetch_all(
            "SELECT telegram_id FROM organization_members WHERE organization_id = ? "
            "ORDER BY member_role, telegram_id",
            (organization_id,),
        )
        return [row["telegram_id"] for row in rows]

    async def managers(self, organization_id: int) -> list[int]:
        async with self._db.transaction() as tx:
            return await self.managers_in(tx, organization_id)
