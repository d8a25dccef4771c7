"""Certificates, their holders' names and the counter of wrong verification codes (0021).

Every change of status is one guarded UPDATE (``WHERE status = 'requested'`` to approve or
reject, ``WHERE status = 'issued'`` to revoke), so two managers or two administrators pressing
at once change it once; the notification is queued in the same transaction. The number is made
from the row id inside the issuing transaction, so it is unique without a sequence table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.certificates import (
    Certificate,
    CertificateSnapshot,
    CertificateStatus,
    GuessPolicy,
    Period,
    certificate_number,
)
from bot.domain.notifications import Notification
from bot.domain.service_records import ServiceRecord
from bot.domain.users import Language
from storage.db import Database, Row, Transaction
from storage.outbox import OutboxRepository
from storage.service_records import _to_record as to_record
from storage.timeutil import from_db_time, to_db_time

_SELECT = (
    "SELECT c.*, h.telegram_id AS holder_telegram_id FROM certificates c "
    "LEFT JOIN certificate_holders h ON h.certificate_id = c.certificate_id "
)


def _time(value: str | None) -> datetime | None:
    return from_db_time(value) if value else None


def _to_certificate(row: Row) -> Certificate:
    snapshot = None
    if row["records_json"] is not None:
        snapshot = CertificateSnapshot(
            lines=CertificateSnapshot.lines_from_json(row["records_json"]),
            content_summary=row["content_summary"] or "",
            recording_units=tuple(
                unit for unit in (row["recording_units"] or "").split("\n") if unit
            ),
        )
    period = (
        Period(date.fromisoformat(row["period_from"]), date.fromisoformat(row["period_to"]))
        if row["period_from"]
        else Period()
    )
    return Certificate(
        certificate_id=row["certificate_id"],
        code=row["code"],
        number=row["number"],
        volunteer_id=row["volunteer_id"],
        requested_by=row["requested_by"],
        period=period,
        language=Language(row["language"]),
        status=CertificateStatus(row["status"]),
        approver_organization_id=row["approver_organization_id"],
        snapshot=snapshot,
        masked_name=row["masked_name"],
        masked_id_number=row["masked_id_number"],
        issuer_name=row["issuer_name"],
        requested_at=from_db_time(row["requested_at"]),
        issued_at=_time(row["issued_at"]),
        approved_by=row["approved_by"],
        rejected_at=_time(row["rejected_at"]),
        reject_reason=row["reject_reason"],
        revoked_at=_time(row["revoked_at"]),
        revoke_reason=row["revoke_reason"],
        holder_telegram_id=row["holder_telegram_id"],
    )


@dataclass(frozen=True)
class IssueData:
    """The snapshot and names written when a certificate is issued."""

    snapshot: CertificateSnapshot
    masked_name: str
    masked_id_number: str | None
    issuer_name: str
    full_name: str
    holder_telegram_id: int
    fingerprint: str
    issued_year: int  # in the federation's time zone


@dataclass(frozen=True)
class GuessCount:
    failures: int
    blocked_until: datetime | None


class CertificatesRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- requesting and issuing ------------------------------------------------------------------

    async def request(
        self,
        *,
        code: str,
        volunteer_id: int,
        requested_by: int,
        period: Period,
        language: Language,
        approver_organization_id: int | None,
        now: datetime,
        notify: Sequence[Notification],
    ) -> int | None:
        """A request waiting for approval; ``None`` when one waits already (the partial unique
        index decides, so two presses at once store one)."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO certificates (code, volunteer_id, requested_by, period_from, "
                "period_to, language, status, approver_organization_id, requested_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'requested', ?, ?) "
                "ON CONFLICT (volunteer_id) WHERE status = 'requested' DO NOTHING "
                "RETURNING certificate_id",
                (
                    code,
                    volunteer_id,
                    requested_by,
                    _day(period.start),
                    _day(period.end),
                    language.value,
                    approver_organization_id,
                    to_db_time(now),
                ),
            )
            if row is None:
                return None
            certificate_id: int = row["certificate_id"]
            await _enqueue(tx, notify, certificate_id, now)
        return certificate_id

    async def issue_new(
        self,
        *,
        code: str,
        volunteer_id: int,
        period: Period,
        language: Language,
        data: IssueData,
        now: datetime,
    ) -> Certificate | None:
        """Request and issue at once (no approval needed); ``None`` when a request of this
        volunteer waits for approval (made while approval was on)."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO certificates (code, volunteer_id, requested_by, period_from, "
                "period_to, language, status, requested_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'requested', ?) "
                "ON CONFLICT (volunteer_id) WHERE status = 'requested' DO NOTHING "
                "RETURNING certificate_id",
                (
                    code,
                    volunteer_id,
                    data.holder_telegram_id,
                    _day(period.start),
                    _day(period.end),
                    language.value,
                    to_db_time(now),
                ),
            )
            if row is None:
                return None
            certificate_id: int = row["certificate_id"]
            issued = await self._issue_in(tx, certificate_id, data, None, now)
            assert issued  # the row was inserted as requested in this transaction
        found = await self.get(certificate_id)
        assert found is not None
        return found

    async def approve(
        self,
        certificate_id: int,
        data: IssueData,
        by: int,
        now: datetime,
        notify: Sequence[Notification],
    ) -> bool:
        """Issue a waiting request; ``False`` when it was decided already."""
        async with self._db.transaction() as tx:
            if not await self._issue_in(tx, certificate_id, data, by, now):
                return False
            await _enqueue(tx, notify, certificate_id, now)
        return True

    @staticmethod
    async def _issue_in(
        tx: Transaction,
        certificate_id: int,
        data: IssueData,
        by: int | None,
        now: datetime,
    ) -> bool:
        snapshot = data.snapshot
        changed = await tx.execute(
            "UPDATE certificates SET status = 'issued', number = ?, total_minutes = ?, "
            "record_count = ?, content_summary = ?, recording_units = ?, records_json = ?, "
            "masked_name = ?, masked_id_number = ?, issuer_name = ?, fingerprint = ?, "
            "issued_at = ?, approved_by = ? "
            "WHERE certificate_id = ? AND status = 'requested'",
            (
                certificate_number(data.issued_year, certificate_id),
                snapshot.total_minutes,
                snapshot.record_count,
                snapshot.content_summary,
                "\n".join(snapshot.recording_units),
                snapshot.lines_json(),
                data.masked_name,
                data.masked_id_number,
                data.issuer_name,
                data.fingerprint,
                to_db_time(now),
                by,
                certificate_id,
            ),
        )
        if not changed:
            return False
        await tx.execute(
            "INSERT INTO certificate_holders (certificate_id, telegram_id, full_name) "
            "VALUES (?, ?, ?) ON CONFLICT (certificate_id) DO NOTHING",
            (certificate_id, data.holder_telegram_id, data.full_name),
        )
        return True

    async def reject(
        self,
        certificate_id: int,
        by: int,
        reason: str,
        now: datetime,
        notify: Sequence[Notification],
    ) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE certificates SET status = 'rejected', rejected_at = ?, rejected_by = ?, "
                "reject_reason = ? WHERE certificate_id = ? AND status = 'requested'",
                (to_db_time(now), by, reason, certificate_id),
            )
            if not changed:
                return False
            await _enqueue(tx, notify, certificate_id, now)
        return True

    async def revoke(
        self,
        certificate_id: int,
        by: int,
        reason: str,
        now: datetime,
        notify: Sequence[Notification],
    ) -> bool:
        """Revoke a valid certificate; ``False`` when it is not valid (revoked already)."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE certificates SET status = 'revoked', revoked_at = ?, revoked_by = ?, "
                "revoke_reason = ? WHERE certificate_id = ? AND status = 'issued'",
                (to_db_time(now), by, reason, certificate_id),
            )
            if not changed:
                return False
            await _enqueue(tx, notify, certificate_id, now)
        return True

    # -- reading ---------------------------------------------------------------------------------

    async def get(self, certificate_id: int) -> Certificate | None:
        row = await self._db.fetch_one(_SELECT + "WHERE c.certificate_id = ?", (certificate_id,))
        return _to_certificate(row) if row is not None else None

    async def by_code(self, code: str) -> Certificate | None:
        row = await self._db.fetch_one(_SELECT + "WHERE c.code = ?", (code,))
        return _to_certificate(row) if row is not None else None

    async def of_volunteer(self, volunteer_id: int, limit: int) -> list[Certificate]:
        rows = await self._db.fetch_all(
            _SELECT + "WHERE c.volunteer_id = ? "
            "ORDER BY c.requested_at DESC, c.certificate_id DESC LIMIT ?",
            (volunteer_id, limit),
        )
        return [_to_certificate(row) for row in rows]

    async def same_valid(
        self, volunteer_id: int, period: Period, language: Language, fingerprint: str
    ) -> Certificate | None:
        """A valid certificate that says exactly what a new one would."""
        row = await self._db.fetch_one(
            _SELECT + "WHERE c.volunteer_id = ? AND c.status = 'issued' AND c.language = ? "
            "AND c.fingerprint = ? AND COALESCE(c.period_from, '') = ? "
            "AND COALESCE(c.period_to, '') = ? ORDER BY c.certificate_id DESC LIMIT 1",
            (
                volunteer_id,
                language.value,
                fingerprint,
                _day(period.start) or "",
                _day(period.end) or "",
            ),
        )
        return _to_certificate(row) if row is not None else None

    async def recent_issued(self, offset: int, limit: int) -> list[Certificate]:
        """For administrators: issued and revoked certificates, newest first."""
        rows = await self._db.fetch_all(
            _SELECT + "WHERE c.status IN ('issued', 'revoked') "
            "ORDER BY c.issued_at DESC, c.certificate_id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [_to_certificate(row) for row in rows]

    async def by_number(self, number: str) -> Certificate | None:
        row = await self._db.fetch_one(_SELECT + "WHERE c.number = ?", (number,))
        return _to_certificate(row) if row is not None else None

    async def full_name(self, certificate_id: int) -> str | None:
        row = await self._db.fetch_one(
            "SELECT full_name FROM certificate_holders WHERE certificate_id = ?",
            (certificate_id,),
        )
        return str(row["full_name"]) if row is not None else None

    async def records_of(self, volunteer_id: int, period: Period) -> list[ServiceRecord]:
        """The volunteer's records in ``period`` (all of them for all records), oldest first."""
        sql = "SELECT r.*, 0 AS pending FROM service_records r WHERE r.volunteer_id = ? "
        params: tuple[object, ...] = (volunteer_id,)
        if period.start is not None and period.end is not None:
            sql += "AND r.service_date >= ? AND r.service_date <= ? "
            params += (period.start.isoformat(), period.end.isoformat())
        rows = await self._db.fetch_all(sql + "ORDER BY r.service_date, r.record_id", params)
        return [to_record(row) for row in rows]

    async def administrators(self) -> list[int]:
        """Appointed administrators (``ADMIN_IDS`` are added by the service)."""
        rows = await self._db.fetch_all(
            "SELECT telegram_id FROM users WHERE role = 'admin' ORDER BY telegram_id"
        )
        return [row["telegram_id"] for row in rows]

    async def managers(self, organization_id: int) -> list[int]:
        """Managers of the organization (the organizers when it has no manager)."""
        rows = await self._db.fetch_all(
            "SELECT telegram_id, member_role FROM organization_members "
            "WHERE organization_id = ? ORDER BY member_role, telegram_id",
            (organization_id,),
        )
        managers = [row["telegram_id"] for row in rows if row["member_role"] == "manager"]
        return managers or [row["telegram_id"] for row in rows]

    # -- guessing --------------------------------------------------------------------------------

    async def blocked_until(self, telegram_id: int, now: datetime) -> datetime | None:
        row = await self._db.fetch_one(
            "SELECT blocked_until FROM verification_attempts "
            "WHERE telegram_id = ? AND blocked_until > ?",
            (telegram_id, to_db_time(now)),
        )
        return from_db_time(row["blocked_until"]) if row is not None else None

    async def count_failure(
        self, telegram_id: int, now: datetime, policy: GuessPolicy
    ) -> GuessCount:
        """One wrong code: counted in the current window (a new window when the last one is
        over), and the user blocked when the count reaches the limit. One statement, so wrong
        codes sent to two processes at once are both counted."""
        stamp = to_db_time(now)
        window_start = to_db_time(now - policy.window)
        block = to_db_time(now + policy.block)
        fresh = "verification_attempts.window_started_at <= ?"
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO verification_attempts (telegram_id, window_started_at, failures, "
                "blocked_until) VALUES (?, ?, 1, CASE WHEN 1 >= ? THEN ? ELSE NULL END) "
                "ON CONFLICT (telegram_id) DO UPDATE SET "
                f"failures = CASE WHEN {fresh} THEN 1 "
                "ELSE verification_attempts.failures + 1 END, "
                f"blocked_until = CASE WHEN (CASE WHEN {fresh} THEN 1 "
                "ELSE verification_attempts.failures + 1 END) >= ? THEN ? "
                "ELSE verification_attempts.blocked_until END, "
                f"window_started_at = CASE WHEN {fresh} THEN ? "
                "ELSE verification_attempts.window_started_at END "
                "RETURNING failures, blocked_until",
                (
                    telegram_id,
                    stamp,
                    policy.max_failures,
                    block,
                    window_start,
                    window_start,
                    policy.max_failures,
                    block,
                    window_start,
                    stamp,
                ),
            )
        assert row is not None
        return GuessCount(row["failures"], _time(row["blocked_until"]))


def _day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


async def _enqueue(
    tx: Transaction, notify: Sequence[Notification], certificate_id: int, now: datetime
) -> None:
    for notification in notify:
        await OutboxRepository.enqueue(
            tx,
            notification.model_copy(
                update={
                    "payload": {**notification.payload, "certificate": certificate_id},
                    "subject": f"{notification.subject}:{certificate_id}",
                }
            ),
            now,
        )
