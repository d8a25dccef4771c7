"""Resident requests (tables of migration 0024): drafts, requests, their events, the volunteers
a team asked, dispatchers by area, and the service records a completed request writes.

Every change of a request is :meth:`RequestsRepository.change_in`: one conditional ``UPDATE``
that names the statuses (and the version) it changes from, so the first of two competing
presses wins and the second changes nothing (portable to PostgreSQL's READ COMMITTED). The
repository decides nothing about the business; :mod:`bot.services.requests` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.domain.requests import (
    MASKED,
    Beneficiary,
    DraftRow,
    Helper,
    HelperStatus,
    OrgCandidate,
    RequestDraft,
    RequestStatus,
    RequestTimes,
    ServiceMode,
    ServiceRequest,
)
from storage.db import Database, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

__all__ = ["NewHelperRecord", "RequestsRepository"]

#: Columns a change may set (names come from this list only, never from input).
_CHANGEABLE = frozenset(
    {
        "status", "organization_id", "dispatched_by", "dispatched_at", "first_dispatched_at",
        "dispatch_round", "reminded_at", "escalated_at", "accepted_by", "accepted_at",
        "service_mode", "activity_id", "in_service_at", "completed_by", "completed_at",
        "minutes", "report", "status_reason", "closed_at", "rating", "rating_comment", "rated_at",
    }
)  # fmt: skip

_SELECT = (
    "SELECT r.*, o.name AS organization_name FROM service_requests r "
    "LEFT JOIN organizations o ON o.organization_id = r.organization_id"
)

_OPEN = ("dispatched", "accepted", "in_service")


def _time(value: str | None) -> datetime | None:
    return from_db_time(value) if value is not None else None


def _to_request(row: Row) -> ServiceRequest:
    return ServiceRequest(
        request_id=row["request_id"],
        resident_id=row["resident_id"],
        category_code=row["category_code"],
        need=row["need"],
        starts_at=from_db_time(row["starts_at"]),
        ends_at=_time(row["ends_at"]),
        area_code=row["area_code"],
        address=row["address"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        beneficiary=Beneficiary(row["beneficiary"]),
        contact_name=row["contact_name"],
        phone=row["phone"],
        urgent=bool(row["urgent"]),
        status=RequestStatus(row["status"]),
        version=row["version"],
        organization_id=row["organization_id"],
        organization_name=row["organization_name"],
        dispatched_at=_time(row["dispatched_at"]),
        first_dispatched_at=_time(row["first_dispatched_at"]),
        dispatch_round=row["dispatch_round"],
        reminded_at=_time(row["reminded_at"]),
        escalated_at=_time(row["escalated_at"]),
        accepted_by=row["accepted_by"],
        accepted_at=_time(row["accepted_at"]),
        service_mode=ServiceMode(row["service_mode"]) if row["service_mode"] else None,
        activity_id=row["activity_id"],
        in_service_at=_time(row["in_service_at"]),
        completed_at=_time(row["completed_at"]),
        minutes=row["minutes"],
        report=row["report"],
        status_reason=row["status_reason"],
        closed_at=_time(row["closed_at"]),
        rating=row["rating"],
        rating_comment=row["rating_comment"],
        rated_at=_time(row["rated_at"]),
        masked_at=_time(row["masked_at"]),
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
    )


def _db_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_db_time(value)
    if isinstance(value, bool):
        return int(value)
    if hasattr(value, "value"):  # an enum
        return value.value
    return value


@dataclass(frozen=True)
class NewHelperRecord:
    """The Art. 7 fields of one volunteer's record for a completed request."""

    volunteer_id: int
    activity_id: int | None
    organization_id: int
    title: str
    service_date: date
    place: str
    category_code: str
    content: str
    organization_name: str
    leader_name: str | None
    minutes: int


class RequestsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- drafts ----------------------------------------------------------------------------

    async def draft(self, telegram_id: int) -> DraftRow | None:
        row = await self._db.fetch_one(
            "SELECT step, data FROM request_drafts WHERE telegram_id = ?", (telegram_id,)
        )
        if row is None:
            return None
        return DraftRow(row["step"], RequestDraft.model_validate_json(row["data"]))

    async def save_draft(
        self, telegram_id: int, step: str, draft: RequestDraft, now: datetime
    ) -> None:
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO request_drafts (telegram_id, step, data, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET "
                "step = excluded.step, data = excluded.data, updated_at = excluded.updated_at",
                (telegram_id, step, draft.model_dump_json(), stamp, stamp),
            )

    async def delete_draft(self, telegram_id: int) -> bool:
        async with self._db.transaction() as tx:
            return await self.delete_draft_in(tx, telegram_id)

    @staticmethod
    async def delete_draft_in(tx: Transaction, telegram_id: int) -> bool:
        """Remove the draft; ``False`` when there was none (a second "Send" press)."""
        return (
            await tx.execute("DELETE FROM request_drafts WHERE telegram_id = ?", (telegram_id,)) > 0
        )

    # -- requests --------------------------------------------------------------------------

    @staticmethod
    async def create_in(
        tx: Transaction, resident_id: int, draft: RequestDraft, now: datetime
    ) -> int:
        stamp = to_db_time(now)
        assert draft.starts_at is not None and draft.beneficiary is not None
        row = await tx.fetch_one(
            "INSERT INTO service_requests (resident_id, category_code, need, starts_at, ends_at, "
            "area_code, address, latitude, longitude, beneficiary, contact_name, phone, urgent, "
            "status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?) RETURNING request_id",
            (
                resident_id,
                draft.category_code,
                draft.need,
                to_db_time(draft.starts_at),
                to_db_time(draft.ends_at) if draft.ends_at is not None else None,
                draft.area_code,
                draft.address,
                draft.latitude,
                draft.longitude,
                draft.beneficiary.value,
                draft.contact_name,
                draft.phone,
                int(bool(draft.urgent)),
                stamp,
                stamp,
            ),
        )
        assert row is not None
        return int(row["request_id"])

    async def get(self, request_id: int) -> ServiceRequest | None:
        row = await self._db.fetch_one(f"{_SELECT} WHERE r.request_id = ?", (request_id,))
        return _to_request(row) if row is not None else None

    @staticmethod
    async def get_in(tx: Transaction, request_id: int) -> ServiceRequest | None:
        row = await tx.fetch_one(f"{_SELECT} WHERE r.request_id = ?", (request_id,))
        return _to_request(row) if row is not None else None

    async def of_resident(self, telegram_id: int, limit: int = 20) -> list[ServiceRequest]:
        rows = await self._db.fetch_all(
            f"{_SELECT} WHERE r.resident_id = ? ORDER BY r.created_at DESC LIMIT ?",
            (telegram_id, limit),
        )
        return [_to_request(row) for row in rows]

    async def queue(self, areas: Sequence[str] | None, limit: int = 30) -> list[ServiceRequest]:
        """Requests waiting for a dispatcher or for a team's answer, urgent first, then oldest
        (``areas`` ``None``: every area)."""
        where = "r.status IN ('queued', 'dispatched')"
        params: list[object] = []
        if areas is not None:
            if not areas:
                return []
            where += f" AND r.area_code IN ({', '.join('?' for _ in areas)})"
            params += list(areas)
        rows = await self._db.fetch_all(
            f"{_SELECT} WHERE {where} ORDER BY r.urgent DESC, r.created_at, r.request_id LIMIT ?",
            (*params, limit),
        )
        return [_to_request(row) for row in rows]

    async def of_organizations(
        self, organization_ids: Sequence[int], limit: int = 30
    ) -> list[ServiceRequest]:
        """What the teams hold now (sent to them, accepted or in service)."""
        if not organization_ids:
            return []
        marks = ", ".join("?" for _ in organization_ids)
        rows = await self._db.fetch_all(
            f"{_SELECT} WHERE r.organization_id IN ({marks}) "
            "AND r.status IN ('dispatched', 'accepted', 'in_service') "
            "ORDER BY r.urgent DESC, r.starts_at, r.request_id LIMIT ?",
            (*organization_ids, limit),
        )
        return [_to_request(row) for row in rows]

    @staticmethod
    async def change_in(
        tx: Transaction,
        request_id: int,
        *,
        from_statuses: Iterable[RequestStatus],
        version: int | None,
        now: datetime,
        bump: bool = True,
        unset: str | None = None,
        mode_free: bool = False,
        **values: Any,
    ) -> bool:
        """Set ``values`` if the request is in one of ``from_statuses`` (and at ``version``
        when given, with ``unset`` still NULL, with no service mode chosen yet when
        ``mode_free``); ``True`` when this call made the change."""
        unknown = (set(values) | ({unset} if unset else set())) - _CHANGEABLE
        if unknown:
            raise ValueError(f"not changeable: {sorted(unknown)}")
        names = sorted(values)
        sets = [f"{name} = ?" for name in names] + ["updated_at = ?"]
        if bump:
            sets.append("version = version + 1")
        statuses = [status.value for status in from_statuses]
        sql = (
            f"UPDATE service_requests SET {', '.join(sets)} WHERE request_id = ? "
            f"AND status IN ({', '.join('?' for _ in statuses)})"
        )
        params: list[object] = [_db_value(values[name]) for name in names]
        params += [to_db_time(now), request_id, *statuses]
        if version is not None:
            sql += " AND version = ?"
            params.append(version)
        if unset is not None:
            sql += f" AND {unset} IS NULL"
        if mode_free:
            sql += " AND service_mode IS NULL"
        return await tx.execute(sql, params) > 0

    @staticmethod
    async def event_in(
        tx: Transaction,
        request_id: int,
        action: str,
        now: datetime,
        *,
        actor: int | None = None,
        organization_id: int | None = None,
        reason: str | None = None,
    ) -> None:
        await tx.execute(
            "INSERT INTO request_events (request_id, at, actor, action, organization_id, reason) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (request_id, to_db_time(now), actor, action, organization_id, reason),
        )

    async def tried_organizations(self, request_id: int) -> frozenset[int]:
        """Organizations that declined the request or let it time out."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT organization_id FROM request_events WHERE request_id = ? "
            "AND action IN ('declined', 'timeout') AND organization_id IS NOT NULL",
            (request_id,),
        )
        return frozenset(int(row["organization_id"]) for row in rows)

    @staticmethod
    async def tried_organizations_in(tx: Transaction, request_id: int) -> frozenset[int]:
        rows = await tx.fetch_all(
            "SELECT DISTINCT organization_id FROM request_events WHERE request_id = ? "
            "AND action IN ('declined', 'timeout') AND organization_id IS NOT NULL",
            (request_id,),
        )
        return frozenset(int(row["organization_id"]) for row in rows)

    # -- the dispatch suggestion -------------------------------------------------------------

    @staticmethod
    async def org_candidates_in(fetch: Any, category_code: str) -> list[OrgCandidate]:
        """Every approved organization with the figures the suggestion weighs. ``fetch`` is
        the database's or a transaction's ``fetch_all``."""
        rows = await fetch(
            "SELECT o.organization_id, o.name, o.area_code, "
            "(SELECT COUNT(*) FROM activities a WHERE a.organization_id = o.organization_id "
            " AND a.category_code = ? AND a.status = 'published') AS category_activities, "
            "(SELECT COUNT(*) FROM service_requests r WHERE r.organization_id = o.organization_id "
            f" AND r.status IN ({', '.join('?' for _ in _OPEN)})) AS open_requests, "
            "(SELECT COUNT(*) FROM request_events e WHERE e.organization_id = o.organization_id "
            " AND e.action = 'offered') AS offered, "
            "(SELECT COUNT(*) FROM request_events e WHERE e.organization_id = o.organization_id "
            " AND e.action = 'accepted') AS accepted "
            "FROM organizations o WHERE o.status = 'approved' ORDER BY o.organization_id",
            (category_code, *_OPEN),
        )
        return [
            OrgCandidate(
                organization_id=row["organization_id"],
                name=row["name"],
                area_code=row["area_code"],
                category_activities=int(row["category_activities"]),
                open_requests=int(row["open_requests"]),
                offered=int(row["offered"]),
                accepted=int(row["accepted"]),
            )
            for row in rows
        ]

    # -- people ----------------------------------------------------------------------------

    async def dispatchers_of(self, area_code: str) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT telegram_id FROM dispatchers WHERE area_code = ? ORDER BY telegram_id",
            (area_code,),
        )
        return [int(row["telegram_id"]) for row in rows]

    @staticmethod
    async def dispatchers_in(tx: Transaction, area_code: str) -> list[int]:
        rows = await tx.fetch_all(
            "SELECT telegram_id FROM dispatchers WHERE area_code = ? ORDER BY telegram_id",
            (area_code,),
        )
        return [int(row["telegram_id"]) for row in rows]

    async def areas_of(self, telegram_id: int) -> list[str]:
        rows = await self._db.fetch_all(
            "SELECT area_code FROM dispatchers WHERE telegram_id = ? ORDER BY area_code",
            (telegram_id,),
        )
        return [str(row["area_code"]) for row in rows]

    async def all_dispatchers(self) -> list[tuple[str, int, str]]:
        """(area code, telegram id, first name) of every dispatcher."""
        rows = await self._db.fetch_all(
            "SELECT d.area_code, d.telegram_id, u.first_name FROM dispatchers d "
            "JOIN users u ON u.telegram_id = d.telegram_id ORDER BY d.area_code, d.telegram_id"
        )
        return [(row["area_code"], int(row["telegram_id"]), row["first_name"]) for row in rows]

    async def appoint(self, area_code: str, telegram_id: int, by: int, now: datetime) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "INSERT INTO dispatchers (area_code, telegram_id, appointed_by, appointed_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (area_code, telegram_id) DO NOTHING",
                (area_code, telegram_id, by, to_db_time(now)),
            )
        return changed > 0

    async def remove_dispatcher(self, area_code: str, telegram_id: int) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "DELETE FROM dispatchers WHERE area_code = ? AND telegram_id = ?",
                (area_code, telegram_id),
            )
        return changed > 0

    @staticmethod
    async def members_in(tx: Transaction, organization_id: int) -> list[int]:
        rows = await tx.fetch_all(
            "SELECT telegram_id FROM organization_members WHERE organization_id = ? "
            "ORDER BY telegram_id",
            (organization_id,),
        )
        return [int(row["telegram_id"]) for row in rows]

    async def admins(self, fixed: Iterable[int]) -> list[int]:
        rows = await self._db.fetch_all("SELECT telegram_id FROM users WHERE role = 'admin'")
        return sorted({*fixed, *(int(row["telegram_id"]) for row in rows)})

    async def user_name(self, telegram_id: int) -> str | None:
        row = await self._db.fetch_one(
            "SELECT first_name FROM users WHERE telegram_id = ?", (telegram_id,)
        )
        return str(row["first_name"]) if row is not None else None

    # -- helpers ---------------------------------------------------------------------------

    async def helpers(self, request_id: int) -> list[Helper]:
        rows = await self._db.fetch_all(
            "SELECT h.request_id, h.volunteer_id, h.status, v.telegram_id, v.real_name "
            "FROM request_helpers h JOIN volunteers v ON v.volunteer_id = h.volunteer_id "
            "WHERE h.request_id = ? ORDER BY h.asked_at, h.volunteer_id",
            (request_id,),
        )
        return [
            Helper(
                request_id=row["request_id"],
                volunteer_id=row["volunteer_id"],
                telegram_id=row["telegram_id"],
                name=row["real_name"],
                status=HelperStatus(row["status"]),
            )
            for row in rows
        ]

    @staticmethod
    async def ask_in(
        tx: Transaction, request_id: int, volunteer_id: int, by: int, now: datetime
    ) -> bool:
        changed = await tx.execute(
            "INSERT INTO request_helpers (request_id, volunteer_id, status, asked_by, asked_at) "
            "VALUES (?, ?, 'asked', ?, ?) ON CONFLICT (request_id, volunteer_id) DO NOTHING",
            (request_id, volunteer_id, by, to_db_time(now)),
        )
        return changed > 0

    @staticmethod
    async def answer_in(
        tx: Transaction, request_id: int, volunteer_id: int, status: HelperStatus, now: datetime
    ) -> bool:
        """The volunteer's answer; only while asked (a second press changes nothing)."""
        changed = await tx.execute(
            "UPDATE request_helpers SET status = ?, answered_at = ? "
            "WHERE request_id = ? AND volunteer_id = ? AND status = 'asked'",
            (status.value, to_db_time(now), request_id, volunteer_id),
        )
        return changed > 0

    async def volunteer_of(self, telegram_id: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT volunteer_id FROM volunteers WHERE telegram_id = ? AND deleted_at IS NULL",
            (telegram_id,),
        )
        return int(row["volunteer_id"]) if row is not None else None

    @staticmethod
    async def accepted_helpers_in(tx: Transaction, request_id: int) -> list[tuple[int, int | None]]:
        rows = await tx.fetch_all(
            "SELECT h.volunteer_id, v.telegram_id FROM request_helpers h "
            "JOIN volunteers v ON v.volunteer_id = h.volunteer_id "
            "WHERE h.request_id = ? AND h.status = 'accepted' ORDER BY h.volunteer_id",
            (request_id,),
        )
        return [(int(row["volunteer_id"]), row["telegram_id"]) for row in rows]

    @staticmethod
    async def asked_helpers_in(tx: Transaction, request_id: int) -> list[int]:
        """Telegram ids of volunteers asked or accepted (told when the request is withdrawn)."""
        rows = await tx.fetch_all(
            "SELECT v.telegram_id FROM request_helpers h "
            "JOIN volunteers v ON v.volunteer_id = h.volunteer_id "
            "WHERE h.request_id = ? AND h.status IN ('asked', 'accepted') "
            "AND v.telegram_id IS NOT NULL ORDER BY v.telegram_id",
            (request_id,),
        )
        return [int(row["telegram_id"]) for row in rows]

    @staticmethod
    async def signed_up_in(tx: Transaction, activity_id: int) -> list[tuple[int, int | None]]:
        """Confirmed volunteers of the activity made from a request."""
        rows = await tx.fetch_all(
            "SELECT s.volunteer_id, v.telegram_id FROM signups s "
            "JOIN volunteers v ON v.volunteer_id = s.volunteer_id "
            "WHERE s.activity_id = ? AND s.status = 'confirmed' ORDER BY s.volunteer_id",
            (activity_id,),
        )
        return [(int(row["volunteer_id"]), row["telegram_id"]) for row in rows]

    # -- records ---------------------------------------------------------------------------

    @staticmethod
    async def write_records_in(
        tx: Transaction,
        request_id: int,
        records: Sequence[NewHelperRecord],
        by: int,
        now: datetime,
    ) -> int:
        """Write the service records (kind 'service', Art. 7 fields) of a completed request,
        inside the completing transaction; a volunteer who already has a record of the same
        activity (its hours confirmed through check-in) keeps that one."""
        stamp = to_db_time(now)
        written = 0
        for record in records:
            row = await tx.fetch_one(
                "INSERT INTO service_records (volunteer_id, activity_id, organization_id, kind, "
                "activity_title, service_date, place, category_code, content, "
                "organization_name, leader_name, minutes, recorded_by, recorded_at, updated_at) "
                "VALUES (?, ?, ?, 'service', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (activity_id, volunteer_id) DO NOTHING RETURNING record_id",
                (
                    record.volunteer_id,
                    record.activity_id,
                    record.organization_id,
                    record.title,
                    record.service_date.isoformat(),
                    record.place,
                    record.category_code,
                    record.content,
                    record.organization_name,
                    record.leader_name,
                    record.minutes,
                    by,
                    stamp,
                    stamp,
                ),
            )
            if row is None:
                continue
            written += 1
            await tx.execute(
                "UPDATE request_helpers SET record_id = ? WHERE request_id = ? "
                "AND volunteer_id = ?",
                (row["record_id"], request_id, record.volunteer_id),
            )
        return written

    @staticmethod
    async def confirm_activity_hours_in(
        tx: Transaction, activity_id: int, by: int, now: datetime
    ) -> None:
        """The activity made from a request is recorded with the request: the recording
        reminders (10 working days) need not chase it."""
        await tx.execute(
            "UPDATE activities SET hours_confirmed_at = ?, hours_confirmed_by = ? "
            "WHERE activity_id = ? AND hours_confirmed_at IS NULL",
            (to_db_time(now), by, activity_id),
        )

    # -- the periodic job ------------------------------------------------------------------

    async def waiting(
        self, dispatched_before: datetime, created_before: datetime
    ) -> list[ServiceRequest]:
        """Candidates for the job: sent to a team before ``dispatched_before`` and not yet
        accepted, or urgent, unescalated and ordered before ``created_before``."""
        rows = await self._db.fetch_all(
            f"{_SELECT} WHERE (r.status = 'dispatched' AND r.dispatched_at <= ?) "
            "OR (r.urgent = 1 AND r.escalated_at IS NULL AND r.status IN ('queued', 'dispatched') "
            "AND r.created_at <= ?) ORDER BY r.request_id",
            (to_db_time(dispatched_before), to_db_time(created_before)),
        )
        return [_to_request(row) for row in rows]

    async def mask_closed_before(self, cutoff: datetime, now: datetime) -> list[int]:
        """Overwrite the address, phone and pin of requests closed before ``cutoff``."""
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all(
                "UPDATE service_requests SET address = ?, phone = ?, latitude = NULL, "
                "longitude = NULL, masked_at = ? "
                "WHERE masked_at IS NULL AND closed_at IS NOT NULL AND closed_at <= ? "
                "RETURNING request_id",
                (MASKED, MASKED, to_db_time(now), to_db_time(cutoff)),
            )
            ids = sorted(int(row["request_id"]) for row in rows)
            for request_id in ids:
                await self.event_in(tx, request_id, "masked", now)
        return ids

    # -- numbers ---------------------------------------------------------------------------

    async def times(self, since: datetime | None = None) -> list[RequestTimes]:
        where = "WHERE r.created_at >= ?" if since is not None else ""
        params = (to_db_time(since),) if since is not None else ()
        rows = await self._db.fetch_all(
            "SELECT r.area_code, r.organization_id, o.name AS organization_name, r.status, "
            "r.created_at, r.first_dispatched_at, r.dispatched_at, r.accepted_at, "
            "r.completed_at, r.rating FROM service_requests r "
            f"LEFT JOIN organizations o ON o.organization_id = r.organization_id {where} "
            "ORDER BY r.request_id",
            params,
        )
        return [
            RequestTimes(
                area_code=row["area_code"],
                organization_id=row["organization_id"],
                organization_name=row["organization_name"],
                status=RequestStatus(row["status"]),
                created_at=from_db_time(row["created_at"]),
                first_dispatched_at=_time(row["first_dispatched_at"]),
                dispatched_at=_time(row["dispatched_at"]),
                accepted_at=_time(row["accepted_at"]),
                completed_at=_time(row["completed_at"]),
                rating=row["rating"],
            )
            for row in rows
        ]
