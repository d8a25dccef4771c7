"""The on-call pool, authorized organizations, mobilizations, alerts and answers (migration 0025).

Every decision two processes could both take is guarded in its statement:

* starting a draft is ``UPDATE … WHERE status = 'draft' AND version = ?`` (the version the
  coordinator saw), and the activity, the first wave's alerts and their outbox rows are written
  in the same transaction, so a refused start leaves nothing behind;
* a later wave is claimed by ``UPDATE … WHERE wave = ?``: one process sends wave *n*;
* an alert is unique per mobilization and volunteer (``ON CONFLICT DO NOTHING``), and so is its
  outbox row (the dedup key names the mobilization): nobody is alerted twice;
* an answer is accepted only while the mobilization is active, in the statement;
* an edit of the coordinator's message is claimed by ``UPDATE … WHERE shown_version <
  answers_version AND edited_at <= ?``: at most one edit per interval, by one process.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.activities import NewActivity
from bot.domain.emergency import (
    Answer,
    Availability,
    EmergencyRefusal,
    EmergencyRefused,
    EmergencySkill,
    Mobilization,
    MobilizationStatus,
    Need,
    NeedSkill,
    PlannedAlert,
    PoolEntry,
)
from bot.domain.notifications import Notification
from storage.activities import ActivitiesRepository
from storage.db import Database, Row, Transaction
from storage.outbox import OutboxRepository
from storage.timeutil import from_db_time, to_db_time

__all__ = ["AlertRow", "EmergencyRepository", "PoolMember", "Tally"]


@dataclass(frozen=True)
class PoolMember:
    """An on-call volunteer as a wave sees them: position (pin, else district centre)."""

    volunteer_id: int
    telegram_id: int
    skills: frozenset[EmergencySkill]
    availability: Availability
    max_km: int
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class AlertRow:
    mobilization_id: int
    volunteer_id: int
    telegram_id: int | None
    name: str | None
    wave: int
    skill: NeedSkill
    distance_km: float | None
    delivered: bool
    answer: Answer | None
    eta_minutes: int | None
    counted_skill: NeedSkill | None


@dataclass(frozen=True)
class Tally:
    alerted: int
    cannot: int
    coming_by_skill: dict[NeedSkill, int]
    by_eta: dict[int, int]


_MOBILIZATION = (
    "SELECT m.mobilization_id, m.organization_id, o.name AS organization_name, m.created_by, "
    "m.status, m.version, m.title, m.rally_text, m.latitude, m.longitude, m.rally_in_minutes, "
    "m.is_drill, m.activity_id, m.started_at, m.rally_at, m.ended_at, m.wave, m.radius_km, "
    "m.next_wave_at, m.waves_done, m.answers_version, m.shown_version, m.chat_id, m.message_id "
    "FROM mobilizations m JOIN organizations o ON o.organization_id = m.organization_id "
)


def _time(value: str | None) -> datetime | None:
    return from_db_time(value) if value is not None else None


def _to_mobilization(row: Row, needs: Sequence[Need]) -> Mobilization:
    return Mobilization(
        mobilization_id=row["mobilization_id"],
        organization_id=row["organization_id"],
        organization_name=row["organization_name"],
        created_by=row["created_by"],
        status=MobilizationStatus(row["status"]),
        version=row["version"],
        title=row["title"],
        rally_text=row["rally_text"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        rally_in_minutes=row["rally_in_minutes"],
        is_drill=row["is_drill"] == 1,
        needs=tuple(needs),
        activity_id=row["activity_id"],
        started_at=_time(row["started_at"]),
        rally_at=_time(row["rally_at"]),
        ended_at=_time(row["ended_at"]),
        wave=row["wave"],
        radius_km=row["radius_km"],
        next_wave_at=_time(row["next_wave_at"]),
        waves_done=row["waves_done"] == 1,
        answers_version=row["answers_version"],
        shown_version=row["shown_version"],
        chat_id=row["chat_id"],
        message_id=row["message_id"],
    )


def _to_alert(row: Row) -> AlertRow:
    return AlertRow(
        mobilization_id=row["mobilization_id"],
        volunteer_id=row["volunteer_id"],
        telegram_id=row["telegram_id"],
        name=row["real_name"],
        wave=row["wave"],
        skill=NeedSkill(row["skill"]),
        distance_km=row["distance_km"],
        delivered=row["delivered_at"] is not None,
        answer=Answer(row["answer"]) if row["answer"] is not None else None,
        eta_minutes=row["eta_minutes"],
        counted_skill=NeedSkill(row["counted_skill"]) if row["counted_skill"] else None,
    )


_ALERT = (
    "SELECT a.mobilization_id, a.volunteer_id, v.telegram_id, v.real_name, a.wave, a.skill, "
    "a.distance_km, a.delivered_at, a.answer, a.eta_minutes, a.counted_skill "
    "FROM mobilization_alerts a JOIN volunteers v ON v.volunteer_id = a.volunteer_id "
)


class EmergencyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- the pool --------------------------------------------------------------------------------

    async def volunteer_id_of(self, telegram_id: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT volunteer_id FROM volunteers WHERE telegram_id = ? AND deleted_at IS NULL",
            (telegram_id,),
        )
        return int(row["volunteer_id"]) if row is not None else None

    async def volunteer_area(self, volunteer_id: int) -> str | None:
        row = await self._db.fetch_one(
            "SELECT area_code FROM volunteers WHERE volunteer_id = ?", (volunteer_id,)
        )
        return row["area_code"] if row is not None else None

    async def pool_entry(self, volunteer_id: int) -> PoolEntry | None:
        row = await self._db.fetch_one(
            "SELECT volunteer_id, is_on_call, area_code, availability, max_km, latitude, "
            "longitude FROM emergency_pool WHERE volunteer_id = ?",
            (volunteer_id,),
        )
        if row is None:
            return None
        skills = await self._db.fetch_all(
            "SELECT skill FROM emergency_pool_skills WHERE volunteer_id = ?", (volunteer_id,)
        )
        return PoolEntry(
            volunteer_id=row["volunteer_id"],
            on_call=row["is_on_call"] == 1,
            skills=frozenset(EmergencySkill(s["skill"]) for s in skills),
            area_code=row["area_code"],
            availability=Availability(row["availability"]),
            max_km=row["max_km"],
            latitude=row["latitude"],
            longitude=row["longitude"],
        )

    async def save_pool(self, entry: PoolEntry, now: datetime) -> None:
        """Store a volunteer's on-call answers (all of them, skills included) at once."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO emergency_pool (volunteer_id, is_on_call, area_code, availability, "
                "max_km, latitude, longitude, joined_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (volunteer_id) DO UPDATE SET is_on_call = excluded.is_on_call, "
                "area_code = excluded.area_code, availability = excluded.availability, "
                "max_km = excluded.max_km, latitude = excluded.latitude, "
                "longitude = excluded.longitude, updated_at = excluded.updated_at",
                (
                    entry.volunteer_id,
                    int(entry.on_call),
                    entry.area_code,
                    entry.availability.value,
                    entry.max_km,
                    entry.latitude,
                    entry.longitude,
                    stamp,
                    stamp,
                ),
            )
            await tx.execute(
                "DELETE FROM emergency_pool_skills WHERE volunteer_id = ?", (entry.volunteer_id,)
            )
            await tx.execute_many(
                "INSERT INTO emergency_pool_skills (volunteer_id, skill) VALUES (?, ?)",
                [(entry.volunteer_id, skill.value) for skill in sorted(entry.skills)],
            )

    async def on_call(self, today: date) -> list[PoolMember]:
        """Everyone on call now: live, not paused, reachable by Telegram id; the position is
        the shared pin, else the centre of the district."""
        rows = await self._db.fetch_all(
            "SELECT p.volunteer_id, v.telegram_id, p.availability, p.max_km, "
            "COALESCE(p.latitude, c.latitude) AS latitude, "
            "COALESCE(p.longitude, c.longitude) AS longitude "
            "FROM emergency_pool p JOIN volunteers v ON v.volunteer_id = p.volunteer_id "
            "LEFT JOIN emergency_district_centres c ON c.area_code = p.area_code "
            "WHERE p.is_on_call = 1 AND v.deleted_at IS NULL AND v.telegram_id IS NOT NULL "
            "AND (v.paused_until IS NULL OR v.paused_until <= ?)",
            (today.isoformat(),),
        )
        skill_rows = await self._db.fetch_all(
            "SELECT s.volunteer_id, s.skill FROM emergency_pool_skills s "
            "JOIN emergency_pool p ON p.volunteer_id = s.volunteer_id WHERE p.is_on_call = 1"
        )
        skills: dict[int, set[EmergencySkill]] = defaultdict(set)
        for row in skill_rows:
            skills[row["volunteer_id"]].add(EmergencySkill(row["skill"]))
        return [
            PoolMember(
                volunteer_id=row["volunteer_id"],
                telegram_id=row["telegram_id"],
                skills=frozenset(skills.get(row["volunteer_id"], ())),
                availability=Availability(row["availability"]),
                max_km=row["max_km"],
                latitude=row["latitude"],
                longitude=row["longitude"],
            )
            for row in rows
        ]

    # -- who may mobilize ------------------------------------------------------------------------

    async def grant(self, organization_id: int, by: int, now: datetime) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "INSERT INTO emergency_organizations (organization_id, granted_by, granted_at) "
                "VALUES (?, ?, ?) ON CONFLICT (organization_id) DO NOTHING",
                (organization_id, by, to_db_time(now)),
            )
        return changed > 0

    async def revoke(self, organization_id: int) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "DELETE FROM emergency_organizations WHERE organization_id = ?",
                (organization_id,),
            )
        return changed > 0

    async def authorized(self) -> list[tuple[int, str]]:
        """Organizations allowed to mobilize (approved ones only), by name."""
        rows = await self._db.fetch_all(
            "SELECT o.organization_id, o.name FROM emergency_organizations e "
            "JOIN organizations o ON o.organization_id = e.organization_id "
            "WHERE o.status = 'approved' ORDER BY o.name, o.organization_id"
        )
        return [(row["organization_id"], row["name"]) for row in rows]

    async def is_authorized(self, organization_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 AS found FROM emergency_organizations WHERE organization_id = ?",
            (organization_id,),
        )
        return row is not None

    async def find_organizations(self, words: str, limit: int) -> list[tuple[int, str]]:
        """Approved organizations whose name contains ``words`` (for granting the right)."""
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await self._db.fetch_all(
            "SELECT organization_id, name FROM organizations WHERE status = 'approved' "
            "AND lower(name) LIKE lower(?) ESCAPE '\\' ORDER BY name, organization_id LIMIT ?",
            (pattern, limit),
        )
        return [(row["organization_id"], row["name"]) for row in rows]

    # -- drafts ----------------------------------------------------------------------------------

    async def create_draft(self, organization_id: int, by: int, now: datetime) -> int:
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO mobilizations (organization_id, created_by, status, created_at, "
                "updated_at) VALUES (?, ?, 'draft', ?, ?) RETURNING mobilization_id",
                (organization_id, by, stamp, stamp),
            )
        assert row is not None
        return int(row["mobilization_id"])

    async def get(self, mobilization_id: int) -> Mobilization | None:
        row = await self._db.fetch_one(
            _MOBILIZATION + "WHERE m.mobilization_id = ?", (mobilization_id,)
        )
        if row is None:
            return None
        needs = await self._db.fetch_all(
            "SELECT skill, needed FROM mobilization_needs WHERE mobilization_id = ?",
            (mobilization_id,),
        )
        return _to_mobilization(row, [Need(NeedSkill(n["skill"]), n["needed"]) for n in needs])

    async def latest_draft(self, created_by: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT mobilization_id FROM mobilizations WHERE created_by = ? AND status = 'draft' "
            "ORDER BY updated_at DESC, mobilization_id DESC LIMIT 1",
            (created_by,),
        )
        return int(row["mobilization_id"]) if row is not None else None

    async def active_of(self, organization_ids: Collection[int] | None) -> list[int]:
        """Active mobilizations of these organizations (``None``: of all), newest first."""
        if organization_ids is not None and not organization_ids:
            return []
        where = "status = 'active'"
        params: tuple[object, ...] = ()
        if organization_ids is not None:
            ids = sorted(organization_ids)
            where += f" AND organization_id IN ({', '.join('?' * len(ids))})"
            params = tuple(ids)
        rows = await self._db.fetch_all(
            f"SELECT mobilization_id FROM mobilizations WHERE {where} "
            "ORDER BY started_at DESC, mobilization_id DESC LIMIT 20",
            params,
        )
        return [int(row["mobilization_id"]) for row in rows]

    async def update_draft(
        self,
        mobilization_id: int,
        expected_version: int | None,
        now: datetime,
        **fields: object,
    ) -> bool:
        """Change a draft's fields (``title``, ``rally_text``, ``latitude`` …) and bump its
        version; ``expected_version`` (a button's stamp) must still be current."""
        allowed = {"title", "rally_text", "latitude", "longitude", "rally_in_minutes", "is_drill"}
        if not fields or not set(fields) <= allowed:
            raise ValueError(f"not draft fields: {sorted(fields)}")
        names = sorted(fields)
        sets = ", ".join(f"{name} = ?" for name in names)
        guard = " AND version = ?" if expected_version is not None else ""
        params: list[object] = [fields[name] for name in names]
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE mobilizations SET {sets}, version = version + 1, updated_at = ? "
                f"WHERE mobilization_id = ? AND status = 'draft'{guard}",
                (
                    *params,
                    to_db_time(now),
                    mobilization_id,
                    *((expected_version,) if expected_version is not None else ()),
                ),
            )
        return changed > 0

    async def set_need(
        self,
        mobilization_id: int,
        expected_version: int,
        skill: NeedSkill,
        needed: int,
        now: datetime,
    ) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE mobilizations SET version = version + 1, updated_at = ? "
                "WHERE mobilization_id = ? AND status = 'draft' AND version = ?",
                (to_db_time(now), mobilization_id, expected_version),
            )
            if not changed:
                return False
            if needed <= 0:
                await tx.execute(
                    "DELETE FROM mobilization_needs WHERE mobilization_id = ? AND skill = ?",
                    (mobilization_id, skill.value),
                )
            else:
                await tx.execute(
                    "INSERT INTO mobilization_needs (mobilization_id, skill, needed) "
                    "VALUES (?, ?, ?) ON CONFLICT (mobilization_id, skill) "
                    "DO UPDATE SET needed = excluded.needed",
                    (mobilization_id, skill.value, needed),
                )
        return True

    # -- starting and waves ----------------------------------------------------------------------

    async def start(
        self,
        mobilization_id: int,
        expected_version: int,
        activity: NewActivity,
        *,
        rally_at: datetime,
        radius_km: float,
        waves_done: bool,
        next_wave_at: datetime,
        alerts: Sequence[PlannedAlert],
        notifications: Iterable[Notification],
        now: datetime,
    ) -> int:
        """Start the draft the coordinator saw: the activity, the first wave's alerts and their
        outbox rows, in one transaction. Returns the activity id; refuses a stale draft."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE mobilizations SET status = 'active', started_at = ?, rally_at = ?, "
                "wave = 1, radius_km = ?, next_wave_at = ?, waves_done = ?, "
                "version = version + 1, updated_at = ? "
                "WHERE mobilization_id = ? AND status = 'draft' AND version = ?",
                (
                    stamp,
                    to_db_time(rally_at),
                    radius_km,
                    to_db_time(next_wave_at),
                    int(waves_done),
                    stamp,
                    mobilization_id,
                    expected_version,
                ),
            )
            if not changed:
                raise EmergencyRefused(EmergencyRefusal.CHANGED)
            activity_id = await ActivitiesRepository.insert(tx, activity, now)
            # Nobody signs up to it: people answer the alert instead (and check in on site).
            await tx.execute(
                "UPDATE activities SET signups_closed_at = ? WHERE activity_id = ?",
                (stamp, activity_id),
            )
            await tx.execute(
                "UPDATE mobilizations SET activity_id = ? WHERE mobilization_id = ?",
                (activity_id, mobilization_id),
            )
            await self._insert_alerts(tx, mobilization_id, 1, alerts, now)
            await OutboxRepository.enqueue_many(tx, notifications, now)
        return activity_id

    @staticmethod
    async def _insert_alerts(
        tx: Transaction,
        mobilization_id: int,
        wave: int,
        alerts: Sequence[PlannedAlert],
        now: datetime,
    ) -> int:
        return await tx.execute_many(
            "INSERT INTO mobilization_alerts (mobilization_id, volunteer_id, wave, wave_rank, "
            "skill, distance_km, alerted_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (mobilization_id, volunteer_id) DO NOTHING",
            [
                (
                    mobilization_id,
                    alert.volunteer_id,
                    wave,
                    rank,
                    alert.skill.value,
                    round(alert.distance_km, 3) if alert.distance_km is not None else None,
                    to_db_time(now),
                )
                for rank, alert in enumerate(alerts)
            ],
        )

    async def due_for_wave(self, now: datetime) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT mobilization_id FROM mobilizations WHERE status = 'active' "
            "AND waves_done = 0 AND next_wave_at <= ? ORDER BY next_wave_at, mobilization_id",
            (to_db_time(now),),
        )
        return [int(row["mobilization_id"]) for row in rows]

    async def send_wave(
        self,
        mobilization_id: int,
        wave: int,
        *,
        radius_km: float,
        waves_done: bool,
        next_wave_at: datetime,
        alerts: Sequence[PlannedAlert],
        notifications: Iterable[Notification],
        now: datetime,
    ) -> bool:
        """Send wave number ``wave`` unless another process did (or the mobilization ended);
        ``False`` then, and nothing is written."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE mobilizations SET wave = ?, radius_km = ?, next_wave_at = ?, "
                "waves_done = ?, updated_at = ? "
                "WHERE mobilization_id = ? AND status = 'active' AND wave = ?",
                (
                    wave,
                    radius_km,
                    to_db_time(next_wave_at),
                    int(waves_done),
                    to_db_time(now),
                    mobilization_id,
                    wave - 1,
                ),
            )
            if not changed:
                return False
            await self._insert_alerts(tx, mobilization_id, wave, alerts, now)
            await OutboxRepository.enqueue_many(tx, notifications, now)
        return True

    async def postpone_wave(self, mobilization_id: int, wave: int, next_wave_at: datetime) -> None:
        """Nothing to send now (the headcount is reached): look again later."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE mobilizations SET next_wave_at = ? "
                "WHERE mobilization_id = ? AND status = 'active' AND wave = ?",
                (to_db_time(next_wave_at), mobilization_id, wave),
            )

    async def alerted_ids(self, mobilization_id: int) -> set[int]:
        rows = await self._db.fetch_all(
            "SELECT volunteer_id FROM mobilization_alerts WHERE mobilization_id = ?",
            (mobilization_id,),
        )
        return {int(row["volunteer_id"]) for row in rows}

    # -- answers ---------------------------------------------------------------------------------

    async def alert(self, mobilization_id: int, volunteer_id: int) -> AlertRow | None:
        row = await self._db.fetch_one(
            _ALERT + "WHERE a.mobilization_id = ? AND a.volunteer_id = ?",
            (mobilization_id, volunteer_id),
        )
        return _to_alert(row) if row is not None else None

    async def alerts(self, mobilization_id: int) -> list[AlertRow]:
        rows = await self._db.fetch_all(
            _ALERT + "WHERE a.mobilization_id = ? ORDER BY a.wave, a.wave_rank",
            (mobilization_id,),
        )
        return [_to_alert(row) for row in rows]

    async def mark_delivered(self, mobilization_id: int, volunteer_id: int, now: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE mobilization_alerts SET delivered_at = ? "
                "WHERE mobilization_id = ? AND volunteer_id = ? AND delivered_at IS NULL",
                (to_db_time(now), mobilization_id, volunteer_id),
            )

    async def answer(
        self,
        mobilization_id: int,
        volunteer_id: int,
        answer: Answer,
        eta_minutes: int | None,
        counted_skill: NeedSkill | None,
        now: datetime,
    ) -> bool:
        """Record (or change) an answer while the mobilization is active, and bump the
        version the coordinator's message follows."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE mobilization_alerts SET answer = ?, eta_minutes = ?, counted_skill = ?, "
                "answered_at = ? WHERE mobilization_id = ? AND volunteer_id = ? "
                "AND EXISTS (SELECT 1 FROM mobilizations m "
                "WHERE m.mobilization_id = ? AND m.status = 'active')",
                (
                    answer.value,
                    eta_minutes,
                    counted_skill.value if counted_skill is not None else None,
                    to_db_time(now),
                    mobilization_id,
                    volunteer_id,
                    mobilization_id,
                ),
            )
            if changed:
                await tx.execute(
                    "UPDATE mobilizations SET answers_version = answers_version + 1 "
                    "WHERE mobilization_id = ?",
                    (mobilization_id,),
                )
        return changed > 0

    async def tally(self, mobilization_id: int) -> Tally:
        rows = await self._db.fetch_all(
            "SELECT answer, counted_skill, eta_minutes, COUNT(*) AS n FROM mobilization_alerts "
            "WHERE mobilization_id = ? GROUP BY answer, counted_skill, eta_minutes",
            (mobilization_id,),
        )
        alerted = cannot = 0
        coming: dict[NeedSkill, int] = defaultdict(int)
        by_eta: dict[int, int] = defaultdict(int)
        for row in rows:
            alerted += row["n"]
            if row["answer"] == Answer.CANNOT.value:
                cannot += row["n"]
            elif row["answer"] == Answer.COMING.value:
                coming[NeedSkill(row["counted_skill"])] += row["n"]
                by_eta[int(row["eta_minutes"])] += row["n"]
        return Tally(alerted, cannot, dict(coming), dict(by_eta))

    # -- the coordinator's message ---------------------------------------------------------------

    async def place_message(
        self, mobilization_id: int, chat_id: int, message_id: int, now: datetime
    ) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE mobilizations SET chat_id = ?, message_id = ?, edited_at = ?, "
                "shown_version = answers_version WHERE mobilization_id = ?",
                (chat_id, message_id, to_db_time(now), mobilization_id),
            )

    async def claim_edit(self, mobilization_id: int, now: datetime, not_since: datetime) -> bool:
        """Claim the next edit of the coordinator's message: something changed since it was
        drawn, and it was not edited after ``not_since``. One process wins."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE mobilizations SET shown_version = answers_version, edited_at = ? "
                "WHERE mobilization_id = ? AND message_id IS NOT NULL "
                "AND shown_version < answers_version "
                "AND (edited_at IS NULL OR edited_at <= ?)",
                (to_db_time(now), mobilization_id, to_db_time(not_since)),
            )
        return changed > 0

    async def stale_messages(self) -> list[int]:
        """Mobilizations whose coordinator's message is behind the answers."""
        rows = await self._db.fetch_all(
            "SELECT mobilization_id FROM mobilizations WHERE status IN ('active', 'stood_down') "
            "AND message_id IS NOT NULL AND shown_version < answers_version"
        )
        return [int(row["mobilization_id"]) for row in rows]

    async def forget_message(self, mobilization_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE mobilizations SET chat_id = NULL, message_id = NULL "
                "WHERE mobilization_id = ?",
                (mobilization_id,),
            )

    # -- stand-down and updates ------------------------------------------------------------------

    async def stand_down(
        self,
        mobilization_id: int,
        now: datetime,
        notify: Callable[[Sequence[int]], list[Notification]],
    ) -> int | None:
        """End an active mobilization; tell those coming and those alerted who have not
        answered (``notify`` builds the rows from their Telegram ids). ``None`` if it was not
        active (ended already)."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE mobilizations SET status = 'stood_down', ended_at = ?, updated_at = ?, "
                "answers_version = answers_version + 1 "
                "WHERE mobilization_id = ? AND status = 'active'",
                (stamp, stamp, mobilization_id),
            )
            if not changed:
                return None
            rows = await tx.fetch_all(
                "SELECT v.telegram_id FROM mobilization_alerts a "
                "JOIN volunteers v ON v.volunteer_id = a.volunteer_id "
                "WHERE a.mobilization_id = ? AND v.telegram_id IS NOT NULL "
                "AND (a.answer = 'coming' OR (a.answer IS NULL AND a.delivered_at IS NOT NULL)) "
                "ORDER BY a.wave, a.wave_rank",
                (mobilization_id,),
            )
            recipients = [int(row["telegram_id"]) for row in rows]
            await OutboxRepository.enqueue_many(tx, notify(recipients), now)
        return len(recipients)

    async def add_update(
        self,
        mobilization_id: int,
        text: str,
        by: int,
        now: datetime,
        notify: Callable[[int, Sequence[int]], list[Notification]],
    ) -> int | None:
        """Store an update and queue it to everyone coming; how many, or ``None`` when the
        mobilization is not active."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO mobilization_updates (mobilization_id, text, sent_by, created_at) "
                "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM mobilizations "
                "WHERE mobilization_id = ? AND status = 'active') RETURNING update_id",
                (mobilization_id, text, by, to_db_time(now), mobilization_id),
            )
            if row is None:
                return None
            update_id = int(row["update_id"])
            rows = await tx.fetch_all(
                "SELECT v.telegram_id FROM mobilization_alerts a "
                "JOIN volunteers v ON v.volunteer_id = a.volunteer_id "
                "WHERE a.mobilization_id = ? AND a.answer = 'coming' "
                "AND v.telegram_id IS NOT NULL ORDER BY a.wave, a.wave_rank",
                (mobilization_id,),
            )
            recipients = [int(r["telegram_id"]) for r in rows]
            await OutboxRepository.enqueue_many(tx, notify(update_id, recipients), now)
        return len(recipients)

    async def update_text(self, mobilization_id: int, update_id: int) -> str | None:
        row = await self._db.fetch_one(
            "SELECT text FROM mobilization_updates WHERE update_id = ? AND mobilization_id = ?",
            (update_id, mobilization_id),
        )
        return str(row["text"]) if row is not None else None
