"""Check-in displays, attendance and the audit trail of hand changes (migration 0019).

Every write is one guarded statement (or a few in one transaction), safe when two processes
serve the same activity: a check-in is an upsert that never moves a check-in time later, a
hand mark writes the audit row in the same transaction as the change, and every write refuses
once the activity's hours are confirmed (``hours_confirmed_at IS NULL`` in the statement), so a
late press cannot change what became a record.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.checkin import CheckMethod, CheckMode
from bot.domain.hours import Arrival, AttendanceMark
from bot.domain.service_records import (
    AttendanceChange,
    AttendanceEntry,
    CheckinDisplay,
    RecordingActivity,
)
from storage.db import Database, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

_RECORDING_ACTIVITY = (
    "SELECT a.activity_id, a.organization_id, o.name AS organization_name, a.title, "
    "a.category_code, a.description, a.place, a.leader_name, a.starts_at, a.ends_at, "
    "a.credit_until, a.latitude, a.longitude, a.status, a.is_volunteering, "
    "a.hours_confirmed_at, a.grants_qualification_id, a.confirmed_count "
    "FROM activities a JOIN organizations o ON o.organization_id = a.organization_id "
)


def _time(value: str | None) -> datetime | None:
    return from_db_time(value) if value is not None else None


def to_recording_activity(row: Row) -> RecordingActivity:
    return RecordingActivity(
        activity_id=row["activity_id"],
        organization_id=row["organization_id"],
        organization_name=row["organization_name"],
        title=row["title"],
        category_code=row["category_code"],
        description=row["description"],
        place=row["place"],
        leader_name=row["leader_name"],
        starts_at=from_db_time(row["starts_at"]),
        ends_at=from_db_time(row["ends_at"]),
        credit_until=_time(row["credit_until"]),
        latitude=row["latitude"],
        longitude=row["longitude"],
        cancelled=row["status"] == "cancelled",
        is_volunteering=bool(row["is_volunteering"]),
        hours_confirmed_at=_time(row["hours_confirmed_at"]),
        grants_qualification_id=row["grants_qualification_id"],
        confirmed_count=row["confirmed_count"],
    )


def _to_display(row: Row) -> CheckinDisplay:
    return CheckinDisplay(
        activity_id=row["activity_id"],
        mode=CheckMode(row["mode"]),
        secret=row["secret"],
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        shown_step=row["shown_step"],
        closed_at=_time(row["closed_at"]),
    )


# Everyone with a confirmed sign-up, and everyone with an attendance row (walk-ins, and people
# whose sign-up ended after they were marked), in sign-up order, walk-ins last.
_ENTRIES = """
SELECT p.volunteer_id, v.telegram_id, v.real_name, v.phone,
       s.status = 'confirmed' AS signed_up,
       t.mark, t.walk_in, t.checked_in_at, t.checked_out_at, t.in_method, t.out_method,
       t.distance_m, t.minutes_override, t.override_reason
FROM (
    SELECT volunteer_id FROM signups WHERE activity_id = ? AND status = 'confirmed'
    UNION
    SELECT volunteer_id FROM attendance WHERE activity_id = ?
) p
JOIN volunteers v ON v.volunteer_id = p.volunteer_id
LEFT JOIN signups s ON s.activity_id = ? AND s.volunteer_id = p.volunteer_id
LEFT JOIN attendance t ON t.activity_id = ? AND t.volunteer_id = p.volunteer_id
"""
_ENTRIES_ORDER = " ORDER BY COALESCE(t.walk_in, 0), s.signup_id, p.volunteer_id"


def _to_entry(row: Row) -> AttendanceEntry:
    return AttendanceEntry(
        volunteer_id=row["volunteer_id"],
        telegram_id=row["telegram_id"],
        name=row["real_name"],
        phone=row["phone"],
        signed_up=bool(row["signed_up"]),
        mark=AttendanceMark(row["mark"]) if row["mark"] is not None else None,
        walk_in=bool(row["walk_in"]),
        checked_in_at=_time(row["checked_in_at"]),
        checked_out_at=_time(row["checked_out_at"]),
        in_method=CheckMethod(row["in_method"]) if row["in_method"] else None,
        out_method=CheckMethod(row["out_method"]) if row["out_method"] else None,
        distance_m=row["distance_m"],
        minutes_override=row["minutes_override"],
        override_reason=row["override_reason"],
    )


_UNCONFIRMED = (
    "EXISTS (SELECT 1 FROM activities x WHERE x.activity_id = ? AND x.hours_confirmed_at IS NULL)"
)


class AttendanceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _execute(self, sql: str, params: tuple[object, ...]) -> int:
        async with self._db.transaction() as tx:
            return await tx.execute(sql, params)

    # -- the activity ----------------------------------------------------------------------------

    async def recording_activity(self, activity_id: int) -> RecordingActivity | None:
        row = await self._db.fetch_one(
            _RECORDING_ACTIVITY + "WHERE a.activity_id = ?", (activity_id,)
        )
        return to_recording_activity(row) if row is not None else None

    @staticmethod
    async def recording_activity_in(tx: Transaction, activity_id: int) -> RecordingActivity | None:
        row = await tx.fetch_one(_RECORDING_ACTIVITY + "WHERE a.activity_id = ?", (activity_id,))
        return to_recording_activity(row) if row is not None else None

    async def extend(
        self, activity_id: int, credit_until: datetime, by: int, old: datetime, now: datetime
    ) -> bool:
        """Credit time up to ``credit_until`` (overtime); audited. False once confirmed."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE activities SET credit_until = ?, updated_at = ? "
                "WHERE activity_id = ? AND hours_confirmed_at IS NULL",
                (to_db_time(credit_until), to_db_time(now), activity_id),
            )
            if changed:
                await _audit(
                    tx,
                    activity_id,
                    None,
                    by,
                    now,
                    "extend",
                    to_db_time(old),
                    to_db_time(credit_until),
                    None,
                )
        return changed > 0

    # -- displays --------------------------------------------------------------------------------

    async def display(self, activity_id: int) -> CheckinDisplay | None:
        row = await self._db.fetch_one(
            "SELECT * FROM checkin_displays WHERE activity_id = ?", (activity_id,)
        )
        return _to_display(row) if row is not None else None

    async def open_display(
        self, activity_id: int, mode: CheckMode, secret: str, by: int, now: datetime
    ) -> CheckinDisplay:
        """Open (or switch the mode of) the activity's display; the secret is kept once made,
        so codes already on screen in another chat stay valid for the same mode."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO checkin_displays (activity_id, mode, secret, opened_by, opened_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (activity_id) DO UPDATE SET "
                "mode = excluded.mode, opened_by = excluded.opened_by, "
                "opened_at = excluded.opened_at, closed_at = NULL, shown_step = NULL",
                (activity_id, mode.value, secret, by, to_db_time(now)),
            )
            row = await tx.fetch_one(
                "SELECT * FROM checkin_displays WHERE activity_id = ?", (activity_id,)
            )
        assert row is not None
        return _to_display(row)

    async def place_display(
        self, activity_id: int, chat_id: int, message_id: int, step: int
    ) -> None:
        await self._execute(
            "UPDATE checkin_displays SET chat_id = ?, message_id = ?, shown_step = ? "
            "WHERE activity_id = ?",
            (chat_id, message_id, step, activity_id),
        )

    async def claim_rotation(self, activity_id: int, step: int) -> bool:
        """Only one process redraws a display for a step (the one whose UPDATE wins)."""
        changed = await self._execute(
            "UPDATE checkin_displays SET shown_step = ? WHERE activity_id = ? "
            "AND closed_at IS NULL AND message_id IS NOT NULL "
            "AND (shown_step IS NULL OR shown_step < ?)",
            (step, activity_id, step),
        )
        return changed > 0

    async def close_display(self, activity_id: int, now: datetime) -> bool:
        changed = await self._execute(
            "UPDATE checkin_displays SET closed_at = ? WHERE activity_id = ? AND closed_at IS NULL",
            (to_db_time(now), activity_id),
        )
        return changed > 0

    async def open_displays(self) -> list[CheckinDisplay]:
        rows = await self._db.fetch_all(
            "SELECT * FROM checkin_displays WHERE closed_at IS NULL ORDER BY activity_id"
        )
        return [_to_display(row) for row in rows]

    # -- people ----------------------------------------------------------------------------------

    async def volunteer_id_of(self, telegram_id: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT volunteer_id FROM volunteers WHERE telegram_id = ? AND deleted_at IS NULL",
            (telegram_id,),
        )
        return row["volunteer_id"] if row is not None else None

    async def find_volunteer(
        self,
        *,
        phone: str | None = None,
        username: str | None = None,
        volunteer_id: int | None = None,
    ) -> int | None:
        """A live volunteer by mobile number (E.164), @username or volunteer number."""
        if phone is not None:
            sql, key = "v.phone = ?", phone
        elif username is not None:
            sql, key = "lower(u.username) = lower(?)", username
        elif volunteer_id is not None:
            sql, key = "v.volunteer_id = ?", str(volunteer_id)
        else:
            return None
        row = await self._db.fetch_one(
            "SELECT v.volunteer_id FROM volunteers v "
            "LEFT JOIN users u ON u.telegram_id = v.telegram_id "
            f"WHERE {sql} AND v.deleted_at IS NULL ORDER BY v.volunteer_id LIMIT 1",
            (int(key) if volunteer_id is not None else key,),
        )
        return row["volunteer_id"] if row is not None else None

    # -- attendance ------------------------------------------------------------------------------

    async def entries(self, activity_id: int) -> list[AttendanceEntry]:
        rows = await self._db.fetch_all(_ENTRIES + _ENTRIES_ORDER, (activity_id,) * 4)
        return [_to_entry(row) for row in rows]

    async def entry(self, activity_id: int, volunteer_id: int) -> AttendanceEntry | None:
        rows = await self._db.fetch_all(
            _ENTRIES + " WHERE p.volunteer_id = ?", (activity_id,) * 4 + (volunteer_id,)
        )
        return _to_entry(rows[0]) if rows else None

    async def counts(self, activity_id: int) -> tuple[int, int]:
        """(checked in, checked out) so far."""
        row = await self._db.fetch_one(
            "SELECT COUNT(checked_in_at) AS ins, COUNT(checked_out_at) AS outs "
            "FROM attendance WHERE activity_id = ? AND mark IN ('present', 'late')",
            (activity_id,),
        )
        return (row["ins"], row["outs"]) if row is not None else (0, 0)

    async def arrival(self, activity_id: int, volunteer_id: int) -> Arrival:
        """Whether this volunteer was expected at the activity (a confirmed sign-up, or a
        "coming" answer to the mobilization behind it) and by when; one round trip."""
        row = await self._db.fetch_one(
            "SELECT EXISTS (SELECT 1 FROM signups s WHERE s.activity_id = ? "
            "AND s.volunteer_id = ? AND s.status = 'confirmed') AS signed_up, "
            "m.mobilization_id, al.answered_at, al.eta_minutes "
            "FROM (SELECT 1 AS one) AS single "
            "LEFT JOIN mobilizations m ON m.activity_id = ? "
            "LEFT JOIN mobilization_alerts al ON al.mobilization_id = m.mobilization_id "
            "AND al.volunteer_id = ? AND al.answer = 'coming'",
            (activity_id, volunteer_id, activity_id, volunteer_id),
        )
        if row is None:
            return Arrival()
        promised = None
        if row["answered_at"] is not None and row["eta_minutes"] is not None:
            promised = from_db_time(row["answered_at"]) + timedelta(minutes=row["eta_minutes"])
        return Arrival(
            signed_up=bool(row["signed_up"]),
            mobilization=row["mobilization_id"] is not None,
            promised_at=promised,
        )

    async def check_in(
        self,
        activity_id: int,
        volunteer_id: int,
        method: CheckMethod,
        *,
        late: bool,
        walk_in: bool,
        now: datetime,
    ) -> tuple[bool, datetime | None]:
        """Check in; (True, at) the first time, (False, earlier time) when already checked in.

        An absent/excused hand mark is overridden by the person actually checking in."""
        stamp = to_db_time(now)
        mark = AttendanceMark.LATE if late else AttendanceMark.PRESENT
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT checked_in_at FROM attendance WHERE activity_id = ? AND volunteer_id = ?",
                (activity_id, volunteer_id),
            )
            if row is not None and row["checked_in_at"] is not None:
                return False, from_db_time(row["checked_in_at"])
            changed = await tx.execute(
                "INSERT INTO attendance (activity_id, volunteer_id, mark, walk_in, checked_in_at, "
                "in_method, updated_at) SELECT ?, ?, ?, ?, ?, ?, ? WHERE " + _UNCONFIRMED + " "
                "ON CONFLICT (activity_id, volunteer_id) DO UPDATE SET mark = excluded.mark, "
                "checked_in_at = excluded.checked_in_at, in_method = excluded.in_method, "
                "updated_at = excluded.updated_at WHERE attendance.checked_in_at IS NULL",
                (
                    activity_id,
                    volunteer_id,
                    mark.value,
                    int(walk_in),
                    stamp,
                    method.value,
                    stamp,
                    activity_id,
                ),
            )
        return changed > 0, now if changed else None

    async def record_distance(self, activity_id: int, volunteer_id: int, metres: int) -> bool:
        changed = await self._execute(
            "UPDATE attendance SET distance_m = ? WHERE activity_id = ? AND volunteer_id = ? "
            "AND checked_in_at IS NOT NULL",
            (metres, activity_id, volunteer_id),
        )
        return changed > 0

    async def check_out(
        self, activity_id: int, volunteer_id: int, method: CheckMethod, now: datetime
    ) -> tuple[bool, bool]:
        """(checked out now, was checked in at all)."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "SELECT checked_in_at, checked_out_at FROM attendance "
                "WHERE activity_id = ? AND volunteer_id = ?",
                (activity_id, volunteer_id),
            )
            if row is None or row["checked_in_at"] is None:
                return False, False
            changed = await tx.execute(
                "UPDATE attendance SET checked_out_at = ?, out_method = ?, updated_at = ? "
                "WHERE activity_id = ? AND volunteer_id = ? AND checked_out_at IS NULL "
                "AND checked_in_at <= ? AND " + _UNCONFIRMED,
                (stamp, method.value, stamp, activity_id, volunteer_id, stamp, activity_id),
            )
        return changed > 0, True

    async def all_out(self, activity_id: int, at: datetime, by: int, now: datetime) -> int:
        """Everyone checked in and not out is checked out at ``at``; one audit row."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE attendance SET checked_out_at = ?, out_method = 'all', updated_at = ? "
                "WHERE activity_id = ? AND checked_in_at IS NOT NULL AND checked_out_at IS NULL "
                "AND checked_in_at <= ? AND " + _UNCONFIRMED,
                (to_db_time(at), to_db_time(now), activity_id, to_db_time(at), activity_id),
            )
            if changed:
                await _audit(
                    tx, activity_id, None, by, now, "all_out", None, to_db_time(at), str(changed)
                )
        return changed

    async def mark(
        self,
        activity_id: int,
        volunteer_id: int,
        mark: AttendanceMark,
        *,
        walk_in: bool,
        by: int,
        reason: str,
        now: datetime,
        arrived_at: datetime | None = None,
    ) -> bool:
        """A hand mark (present / late / absent / excused) or a walk-in, with its audit row.

        ``arrived_at`` (a walk-in added on site) is their check-in time unless they have one."""
        stamp = to_db_time(now)
        arrived = to_db_time(arrived_at) if arrived_at is not None else None
        async with self._db.transaction() as tx:
            old = await tx.fetch_one(
                "SELECT mark, walk_in FROM attendance WHERE activity_id = ? AND volunteer_id = ?",
                (activity_id, volunteer_id),
            )
            changed = await tx.execute(
                "INSERT INTO attendance (activity_id, volunteer_id, mark, walk_in, checked_in_at, "
                "in_method, updated_at) SELECT ?, ?, ?, ?, ?, ?, ? WHERE " + _UNCONFIRMED + " "
                "ON CONFLICT (activity_id, volunteer_id) DO UPDATE SET mark = excluded.mark, "
                "walk_in = CASE WHEN excluded.walk_in = 1 THEN 1 ELSE attendance.walk_in END, "
                "checked_in_at = COALESCE(attendance.checked_in_at, excluded.checked_in_at), "
                "in_method = COALESCE(attendance.in_method, excluded.in_method), "
                "updated_at = excluded.updated_at",
                (
                    activity_id,
                    volunteer_id,
                    mark.value,
                    int(walk_in),
                    arrived,
                    "organizer" if arrived is not None else None,
                    stamp,
                    activity_id,
                ),
            )
            if changed:
                await _audit(
                    tx,
                    activity_id,
                    volunteer_id,
                    by,
                    now,
                    "walk_in" if walk_in else "mark",
                    old["mark"] if old is not None else None,
                    mark.value,
                    reason,
                )
        return changed > 0

    async def set_minutes(
        self,
        activity_id: int,
        volunteer_id: int,
        minutes: int,
        old_minutes: int,
        *,
        by: int,
        reason: str,
        now: datetime,
    ) -> bool:
        """Hours set by hand for one volunteer before confirmation (with the reason)."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "INSERT INTO attendance (activity_id, volunteer_id, mark, minutes_override, "
                "override_reason, updated_at) SELECT ?, ?, 'present', ?, ?, ? WHERE "
                + _UNCONFIRMED
                + " ON CONFLICT (activity_id, volunteer_id) DO UPDATE SET "
                "minutes_override = excluded.minutes_override, "
                "override_reason = excluded.override_reason, updated_at = excluded.updated_at",
                (activity_id, volunteer_id, minutes, reason, stamp, activity_id),
            )
            if changed:
                await _audit(
                    tx,
                    activity_id,
                    volunteer_id,
                    by,
                    now,
                    "hours",
                    str(old_minutes),
                    str(minutes),
                    reason,
                )
        return changed > 0

    async def changes(self, activity_id: int, limit: int = 50) -> list[AttendanceChange]:
        """The audit trail, newest first, with the names of who changed what."""
        rows = await self._db.fetch_all(
            "SELECT c.*, v.real_name AS volunteer_name, u.first_name AS changed_by_name "
            "FROM attendance_changes c "
            "LEFT JOIN volunteers v ON v.volunteer_id = c.volunteer_id "
            "LEFT JOIN users u ON u.telegram_id = c.changed_by "
            "WHERE c.activity_id = ? ORDER BY c.changed_at DESC, c.change_id DESC LIMIT ?",
            (activity_id, limit),
        )
        return [
            AttendanceChange(
                changed_at=from_db_time(row["changed_at"]),
                action=row["action"],
                volunteer_name=row["volunteer_name"],
                changed_by_name=row["changed_by_name"],
                old_value=row["old_value"],
                new_value=row["new_value"],
                reason=row["reason"],
            )
            for row in rows
        ]

    async def no_show_counts(self, volunteer_ids: list[int], since: datetime) -> dict[int, int]:
        """No-shows of each of ``volunteer_ids`` since ``since`` (absent ones: none)."""
        if not volunteer_ids:
            return {}
        marks = ", ".join("?" * len(volunteer_ids))
        rows = await self._db.fetch_all(
            "SELECT s.volunteer_id, COUNT(*) AS n FROM signups s "
            "JOIN activities a ON a.activity_id = s.activity_id "
            "LEFT JOIN attendance t ON t.activity_id = s.activity_id "
            "AND t.volunteer_id = s.volunteer_id "
            f"WHERE s.volunteer_id IN ({marks}) AND s.status = 'confirmed' "
            "AND a.hours_confirmed_at IS NOT NULL AND a.starts_at >= ? "
            "AND (t.mark IS NULL OR t.mark = 'absent') GROUP BY s.volunteer_id",
            (*volunteer_ids, to_db_time(since)),
        )
        return {row["volunteer_id"]: row["n"] for row in rows}

    async def no_shows(self, volunteer_id: int, since: datetime) -> int:
        """Confirmed sign-ups of activities whose hours are confirmed, with no check-in and
        not excused, since ``since``."""
        return (await self.no_show_counts([volunteer_id], since)).get(volunteer_id, 0)


async def _audit(
    tx: Transaction,
    activity_id: int,
    volunteer_id: int | None,
    by: int,
    now: datetime,
    action: str,
    old: str | None,
    new: str | None,
    reason: str | None,
) -> None:
    await tx.execute(
        "INSERT INTO attendance_changes (activity_id, volunteer_id, changed_by, changed_at, "
        "action, old_value, new_value, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (activity_id, volunteer_id, by, to_db_time(now), action, old, new, reason),
    )


audit_in = _audit
