"""Reports (migration 0023): the figures organizers record after an activity, campaign periods,
the statistics table and the numbers of ``/stats`` and the charts.

The table is three statements whatever its size: the activities of the period with their records
summed (``LEFT JOIN service_records`` grouped per activity, answered from the covering index
``service_records_activity_sum_idx``), then the people counts and the media reports of the same
activities. Every filter is a parameter; dates are computed by the caller (no SQL date
functions), so the SQL runs on PostgreSQL as it is.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.activities import PeopleServed
from bot.domain.keydates import KeyDate
from bot.domain.reports import (
    MAX_MEDIA_PER_ACTIVITY,
    PEOPLE_CODES,
    ActivityFigures,
    CampaignPeriod,
    MediaKind,
    MediaReport,
    MediaRow,
    ScopeKind,
    StatRow,
    StatTable,
)
from storage.db import Database, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

__all__ = ["ActivityAttendance", "FiguresDue", "ReportsRepository", "Scope"]


@dataclass(frozen=True)
class Scope:
    """Whose numbers: one organization, one district (the activity's, else its host's), or all."""

    kind: ScopeKind
    organization_id: int | None = None
    area_code: str | None = None

    def activities(self) -> tuple[str, tuple[object, ...]]:
        """A condition on ``a`` (activities) joined with ``o`` (organizations)."""
        if self.kind is ScopeKind.ORGANIZATION:
            return " AND a.organization_id = ?", (self.organization_id,)
        if self.kind is ScopeKind.AREA:
            return " AND COALESCE(a.area_code, o.area_code) = ?", (self.area_code,)
        return "", ()


@dataclass(frozen=True)
class FiguresDue:
    activity_id: int
    organization_id: int
    title: str


@dataclass(frozen=True)
class ActivityAttendance:
    starts_at: datetime
    signups: int
    attended: int


_PUBLISHED = "a.status = 'published' AND a.is_volunteering = 1"
_ATTENDED = "('present', 'late')"


def _in(ids: Collection[int]) -> str:
    return ", ".join("?" * len(ids))


class ReportsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- figures ---------------------------------------------------------------------------------

    async def figures(self, activity_id: int) -> ActivityFigures:
        row = await self._db.fetch_one(
            "SELECT organizations, funds_fen FROM activity_figures WHERE activity_id = ?",
            (activity_id,),
        )
        people = await self._db.fetch_all(
            "SELECT people_code, served FROM activity_people_counts WHERE activity_id = ? "
            "ORDER BY people_code",
            (activity_id,),
        )
        media = await self._db.fetch_all(
            "SELECT * FROM media_reports WHERE activity_id = ? ORDER BY media_id", (activity_id,)
        )
        served = {
            PeopleServed(r["people_code"]): r["served"]
            for r in people
            if r["people_code"] in PEOPLE_CODES
        }
        return ActivityFigures(
            activity_id=activity_id,
            recorded=row is not None,
            organizations=row["organizations"] if row is not None else 1,
            funds_fen=row["funds_fen"] if row is not None else 0,
            served=dict(sorted(served.items(), key=lambda item: list(PeopleServed).index(item[0]))),
            media=tuple(_to_media(r) for r in media),
        )

    @staticmethod
    async def _touch(tx: Transaction, activity_id: int, by: int, now: datetime) -> None:
        stamp = to_db_time(now)
        await tx.execute(
            "INSERT INTO activity_figures (activity_id, recorded_by, recorded_at, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (activity_id) DO UPDATE SET "
            "recorded_by = excluded.recorded_by, updated_at = excluded.updated_at",
            (activity_id, by, stamp, stamp),
        )

    async def mark_recorded(self, activity_id: int, by: int, now: datetime) -> None:
        async with self._db.transaction() as tx:
            await self._touch(tx, activity_id, by, now)

    async def set_people(
        self, activity_id: int, kind: PeopleServed, served: int, by: int, now: datetime
    ) -> None:
        """``served`` people of ``kind``; 0 removes the kind."""
        async with self._db.transaction() as tx:
            await self._touch(tx, activity_id, by, now)
            if served == 0:
                await tx.execute(
                    "DELETE FROM activity_people_counts WHERE activity_id = ? AND people_code = ?",
                    (activity_id, kind.value),
                )
                return
            await tx.execute(
                "INSERT INTO activity_people_counts (activity_id, people_code, served) "
                "VALUES (?, ?, ?) ON CONFLICT (activity_id, people_code) DO UPDATE SET "
                "served = excluded.served",
                (activity_id, kind.value, served),
            )

    async def set_funds(self, activity_id: int, fen: int, by: int, now: datetime) -> None:
        async with self._db.transaction() as tx:
            await self._touch(tx, activity_id, by, now)
            await tx.execute(
                "UPDATE activity_figures SET funds_fen = ? WHERE activity_id = ?",
                (fen, activity_id),
            )

    async def set_organizations(self, activity_id: int, count: int, by: int, now: datetime) -> None:
        async with self._db.transaction() as tx:
            await self._touch(tx, activity_id, by, now)
            await tx.execute(
                "UPDATE activity_figures SET organizations = ? WHERE activity_id = ?",
                (count, activity_id),
            )

    async def add_media(
        self,
        activity_id: int,
        kind: MediaKind,
        *,
        title: str | None,
        url: str | None,
        reads: int | None,
        by: int,
        now: datetime,
    ) -> bool:
        """Add a report unless the activity has :data:`MAX_MEDIA_PER_ACTIVITY`. The figures row
        is written first: PostgreSQL locks it until commit, so two presses at once count each
        other's reports and cannot pass the limit together (SQLite has one writer anyway)."""
        async with self._db.transaction() as tx:
            await self._touch(tx, activity_id, by, now)
            row = await tx.fetch_one(
                "SELECT COUNT(*) AS n FROM media_reports WHERE activity_id = ?", (activity_id,)
            )
            if row is not None and int(row["n"]) >= MAX_MEDIA_PER_ACTIVITY:
                return False
            await tx.execute(
                "INSERT INTO media_reports (activity_id, kind, title, url, reads, added_by, "
                "added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (activity_id, kind.value, title, url, reads, by, to_db_time(now)),
            )
        return True

    async def delete_media(self, activity_id: int, media_id: int) -> bool:
        async with self._db.transaction() as tx:
            removed = await tx.execute(
                "DELETE FROM media_reports WHERE media_id = ? AND activity_id = ?",
                (media_id, activity_id),
            )
        return removed > 0

    # -- the statistics table --------------------------------------------------------------------

    async def table(self, start: datetime, end: datetime, scope: Scope) -> StatTable:
        """Activities starting in [start, end) in ``scope``, oldest first, with their records."""
        condition, params = scope.activities()
        where = f"WHERE {_PUBLISHED} AND a.starts_at >= ? AND a.starts_at < ?{condition}"
        args = (to_db_time(start), to_db_time(end), *params)
        # Records summed per activity by correlated subqueries: each is a range of the covering
        # index (activity_id, kind, minutes), and no GROUP BY sorts a million joined rows.
        records = (
            "FROM service_records r WHERE r.activity_id = a.activity_id AND r.kind = "
            "'service' AND r.minutes > 0"
        )
        rows = await self._db.fetch_all(
            "SELECT a.activity_id, a.title, o.name AS organization_name, a.starts_at, "
            f"(SELECT COUNT(*) {records}) AS volunteers, "
            f"(SELECT COALESCE(SUM(r.minutes), 0) {records}) AS minutes, "
            "f.organizations, f.funds_fen "
            "FROM activities a JOIN organizations o ON o.organization_id = a.organization_id "
            "LEFT JOIN activity_figures f ON f.activity_id = a.activity_id "
            f"{where} ORDER BY a.starts_at, a.activity_id",
            args,
        )
        served: dict[int, dict[str, int]] = {}
        for row in await self._db.fetch_all(
            "SELECT p.activity_id, p.people_code, p.served FROM activity_people_counts p "
            "JOIN activities a ON a.activity_id = p.activity_id "
            f"JOIN organizations o ON o.organization_id = a.organization_id {where}",
            args,
        ):
            served.setdefault(row["activity_id"], {})[row["people_code"]] = row["served"]
        planned: dict[int, list[str]] = {}
        for row in await self._db.fetch_all(
            "SELECT p.activity_id, p.people_code FROM activity_people_served p "
            "JOIN activities a ON a.activity_id = p.activity_id "
            f"JOIN organizations o ON o.organization_id = a.organization_id {where}",
            args,
        ):
            planned.setdefault(row["activity_id"], []).append(row["people_code"])
        media: dict[int, list[Row]] = {}
        for row in await self._db.fetch_all(
            "SELECT m.* FROM media_reports m JOIN activities a ON a.activity_id = m.activity_id "
            f"JOIN organizations o ON o.organization_id = a.organization_id {where} "
            "ORDER BY m.media_id",
            args,
        ):
            media.setdefault(row["activity_id"], []).append(row)
        order = list(PeopleServed)
        stat_rows = []
        media_rows = []
        for row in rows:
            aid = row["activity_id"]
            counts = served.get(aid, {})
            codes = list(counts) or planned.get(aid, [])
            kinds = sorted(
                (PeopleServed(c) for c in set(codes) if c in PEOPLE_CODES),
                key=order.index,
            )
            stat_rows.append(
                StatRow(
                    activity_id=aid,
                    title=row["title"],
                    organization_name=row["organization_name"],
                    starts_at=from_db_time(row["starts_at"]),
                    volunteers=row["volunteers"],
                    organizations=row["organizations"] if row["organizations"] is not None else 1,
                    people_kinds=tuple(kinds),
                    people_served=sum(counts.values()),
                    minutes=row["minutes"],
                    funds_fen=row["funds_fen"] or 0,
                    recorded=row["organizations"] is not None,
                )
            )
            reports = media.get(aid)
            if reports:
                media_rows.append(
                    MediaRow(
                        activity_id=aid,
                        title=row["title"],
                        organization_name=row["organization_name"],
                        paper=sum(1 for m in reports if m["kind"] == MediaKind.PAPER.value),
                        online=sum(1 for m in reports if m["kind"] != MediaKind.PAPER.value),
                        links=tuple(m["url"] for m in reports if m["url"]),
                        reads=sum(m["reads"] or 0 for m in reports),
                    )
                )
        return StatTable(rows=tuple(stat_rows), media=tuple(media_rows))

    # -- reminders -------------------------------------------------------------------------------

    async def confirmed_without_figures(
        self, since: datetime, until: datetime
    ) -> list[tuple[FiguresDue, int | None]]:
        """Activities whose hours were confirmed in [since, until) and have no figures yet, with
        who confirmed them."""
        rows = await self._db.fetch_all(
            "SELECT a.activity_id, a.organization_id, a.title, a.hours_confirmed_by "
            "FROM activities a "
            f"WHERE {_PUBLISHED} AND a.hours_confirmed_at >= ? AND a.hours_confirmed_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM activity_figures f WHERE f.activity_id = a.activity_id) "
            "ORDER BY a.activity_id",
            (to_db_time(since), to_db_time(until)),
        )
        return [
            (
                FiguresDue(r["activity_id"], r["organization_id"], r["title"]),
                r["hours_confirmed_by"],
            )
            for r in rows
        ]

    async def ended_without_figures(
        self, start: datetime, end: datetime, organization_id: int | None = None
    ) -> list[FiguresDue]:
        """Activities that started in [start, end), ended before ``end`` and have no figures."""
        extra = " AND a.organization_id = ?" if organization_id is not None else ""
        rows = await self._db.fetch_all(
            "SELECT a.activity_id, a.organization_id, a.title FROM activities a "
            f"WHERE {_PUBLISHED} AND a.starts_at >= ? AND a.starts_at < ? AND a.ends_at <= ?"
            f"{extra} AND NOT EXISTS (SELECT 1 FROM activity_figures f "
            "WHERE f.activity_id = a.activity_id) ORDER BY a.starts_at, a.activity_id",
            (
                to_db_time(start),
                to_db_time(end),
                to_db_time(end),
                *((organization_id,) if organization_id is not None else ()),
            ),
        )
        return [FiguresDue(r["activity_id"], r["organization_id"], r["title"]) for r in rows]

    async def organizations_with_activities(self, start: datetime, end: datetime) -> list[int]:
        """Approved organizations with an activity starting in [start, end)."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT a.organization_id FROM activities a "
            "JOIN organizations o ON o.organization_id = a.organization_id "
            f"WHERE {_PUBLISHED} AND o.status = 'approved' AND a.starts_at >= ? "
            "AND a.starts_at < ? ORDER BY a.organization_id",
            (to_db_time(start), to_db_time(end)),
        )
        return [row["organization_id"] for row in rows]

    async def staff_of(
        self, organization_ids: Collection[int], *, managers_only: bool
    ) -> dict[int, list[int]]:
        ids = sorted(set(organization_ids))
        if not ids:
            return {}
        role = " AND member_role = 'manager'" if managers_only else ""
        rows = await self._db.fetch_all(
            "SELECT organization_id, telegram_id FROM organization_members "
            f"WHERE organization_id IN ({_in(ids)}){role} ORDER BY organization_id, telegram_id",
            tuple(ids),
        )
        found: dict[int, list[int]] = {}
        for row in rows:
            found.setdefault(row["organization_id"], []).append(row["telegram_id"])
        return found

    async def is_member(self, organization_id: int, telegram_id: int, *, manager: bool) -> bool:
        role = " AND member_role = 'manager'" if manager else ""
        row = await self._db.fetch_one(
            "SELECT 1 FROM organization_members WHERE organization_id = ? AND telegram_id = ?"
            + role,
            (organization_id, telegram_id),
        )
        return row is not None

    # -- campaign periods ------------------------------------------------------------------------

    async def periods(self) -> list[tuple[KeyDate, CampaignPeriod | None]]:
        """Every key date with its campaign period (``None``: no period)."""
        rows = await self._db.fetch_all(
            "SELECT k.*, p.days_before, p.days_after, p.is_enabled AS period_enabled "
            "FROM key_dates k LEFT JOIN campaign_periods p ON p.key_date_code = k.code "
            "ORDER BY k.month, k.day, k.code"
        )
        found: list[tuple[KeyDate, CampaignPeriod | None]] = []
        for row in rows:
            key_date = KeyDate(
                code=row["code"],
                name_zh=row["name_zh"],
                name_en=row["name_en"],
                month=row["month"],
                day=row["day"],
                is_lunar=row["is_lunar"] == 1,
                is_enabled=row["is_enabled"] == 1,
                builtin=row["builtin"] == 1,
            )
            period = None
            if row["days_before"] is not None:
                period = CampaignPeriod(
                    key_date_code=row["code"],
                    days_before=row["days_before"],
                    days_after=row["days_after"],
                    is_enabled=row["period_enabled"] == 1 and key_date.is_enabled,
                )
            found.append((key_date, period))
        return found

    async def set_period(
        self, code: str, days_before: int, days_after: int, by: int, now: datetime
    ) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "INSERT INTO campaign_periods (key_date_code, days_before, days_after, "
                "is_enabled, updated_by, updated_at) VALUES (?, ?, ?, 1, ?, ?) "
                "ON CONFLICT (key_date_code) DO UPDATE SET "
                "days_before = excluded.days_before, days_after = excluded.days_after, "
                "is_enabled = 1, updated_by = excluded.updated_by, "
                "updated_at = excluded.updated_at",
                (code, days_before, days_after, by, to_db_time(now)),
            )
        return changed > 0

    async def set_period_enabled(self, code: str, enabled: bool, by: int, now: datetime) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE campaign_periods SET is_enabled = ?, updated_by = ?, updated_at = ? "
                "WHERE key_date_code = ?",
                (1 if enabled else 0, by, to_db_time(now), code),
            )
        return changed > 0

    # -- /stats ----------------------------------------------------------------------------------

    def _records_scope(self, scope: Scope) -> tuple[str, str, tuple[object, ...]]:
        """(join, condition, params) restricting ``r`` (service_records) to ``scope``."""
        if scope.kind is ScopeKind.ORGANIZATION:
            return "", " AND r.organization_id = ?", (scope.organization_id,)
        if scope.kind is ScopeKind.AREA:
            return (
                "JOIN activities a ON a.activity_id = r.activity_id "
                "JOIN organizations o ON o.organization_id = a.organization_id ",
                " AND COALESCE(a.area_code, o.area_code) = ?",
                (scope.area_code,),
            )
        return "", "", ()

    async def registered(self, scope: Scope) -> int:
        """Registered volunteers: live profiles (a district: living there); for an organization,
        the volunteers it has records for."""
        if scope.kind is ScopeKind.ORGANIZATION:
            row = await self._db.fetch_one(
                "SELECT COUNT(DISTINCT r.volunteer_id) AS n FROM service_records r "
                "WHERE r.organization_id = ?",
                (scope.organization_id,),
            )
        elif scope.kind is ScopeKind.AREA:
            row = await self._db.fetch_one(
                "SELECT COUNT(*) AS n FROM volunteers WHERE deleted_at IS NULL AND area_code = ?",
                (scope.area_code,),
            )
        else:
            row = await self._db.fetch_one(
                "SELECT COUNT(*) AS n FROM volunteers WHERE deleted_at IS NULL"
            )
        return int(row["n"]) if row is not None else 0

    async def record_totals(self, since: date, scope: Scope) -> tuple[int, int]:
        """(distinct volunteers with service, minutes) on records from ``since`` on."""
        join, condition, params = self._records_scope(scope)
        row = await self._db.fetch_one(
            "SELECT COUNT(DISTINCT r.volunteer_id) AS people, COALESCE(SUM(r.minutes), 0) AS "
            f"minutes FROM service_records r {join}WHERE r.kind = 'service' AND r.minutes > 0 "
            f"AND r.service_date >= ?{condition}",
            (since.isoformat(), *params),
        )
        return (int(row["people"]), int(row["minutes"])) if row is not None else (0, 0)

    async def activity_count(self, start: datetime, end: datetime, scope: Scope) -> int:
        condition, params = scope.activities()
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n FROM activities a "
            "JOIN organizations o ON o.organization_id = a.organization_id "
            f"WHERE {_PUBLISHED} AND a.starts_at >= ? AND a.starts_at < ?{condition}",
            (to_db_time(start), to_db_time(end), *params),
        )
        return int(row["n"]) if row is not None else 0

    async def attendance(self, start: datetime, end: datetime, scope: Scope) -> tuple[int, int]:
        """(confirmed sign-ups, of them checked in or marked present/late) over activities in
        [start, end) whose hours were confirmed."""
        condition, params = scope.activities()
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS signups, COALESCE(SUM(CASE WHEN t.mark IN "
            f"{_ATTENDED} THEN 1 ELSE 0 END), 0) AS attended FROM signups s "
            "JOIN activities a ON a.activity_id = s.activity_id "
            "JOIN organizations o ON o.organization_id = a.organization_id "
            "LEFT JOIN attendance t ON t.activity_id = s.activity_id "
            "AND t.volunteer_id = s.volunteer_id "
            f"WHERE {_PUBLISHED} AND s.status = 'confirmed' AND a.hours_confirmed_at IS NOT NULL "
            f"AND a.starts_at >= ? AND a.starts_at < ?{condition}",
            (to_db_time(start), to_db_time(end), *params),
        )
        return (int(row["signups"]), int(row["attended"])) if row is not None else (0, 0)

    async def rating(self, start: datetime, end: datetime, scope: Scope) -> tuple[float, int]:
        """(average stars, ratings) of activities in [start, end)."""
        condition, params = scope.activities()
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n, COALESCE(SUM(g.rating), 0) AS total FROM activity_ratings g "
            "JOIN activities a ON a.activity_id = g.activity_id "
            "JOIN organizations o ON o.organization_id = a.organization_id "
            f"WHERE a.starts_at >= ? AND a.starts_at < ?{condition}",
            (to_db_time(start), to_db_time(end), *params),
        )
        if row is None or not row["n"]:
            return 0.0, 0
        return int(row["total"]) / int(row["n"]), int(row["n"])

    async def by_category(self, since: date, scope: Scope) -> list[tuple[str, int, int]]:
        """(category code, volunteers 人次, minutes) on records from ``since``, most hours first."""
        join, condition, params = self._records_scope(scope)
        rows = await self._db.fetch_all(
            "SELECT COALESCE(r.category_code, '') AS code, COUNT(*) AS people, "
            f"SUM(r.minutes) AS minutes FROM service_records r {join}"
            f"WHERE r.kind = 'service' AND r.minutes > 0 AND r.service_date >= ?{condition} "
            "GROUP BY COALESCE(r.category_code, '') ORDER BY minutes DESC, code",
            (since.isoformat(), *params),
        )
        return [(r["code"], int(r["people"]), int(r["minutes"])) for r in rows]

    async def by_area(self, since: date, scope: Scope) -> list[tuple[str, int, int]]:
        """(district code, volunteers 人次, minutes) on records from ``since``, by the activity's
        district (else its host's)."""
        _join, condition, params = self._records_scope(scope)
        rows = await self._db.fetch_all(
            "SELECT COALESCE(a.area_code, o.area_code, '') AS code, COUNT(*) AS people, "
            "SUM(r.minutes) AS minutes FROM service_records r "
            "JOIN activities a ON a.activity_id = r.activity_id "
            "JOIN organizations o ON o.organization_id = a.organization_id "
            f"WHERE r.kind = 'service' AND r.minutes > 0 AND r.service_date >= ?{condition} "
            "GROUP BY COALESCE(a.area_code, o.area_code, '') ORDER BY minutes DESC, code",
            (since.isoformat(), *params),
        )
        return [(r["code"], int(r["people"]), int(r["minutes"])) for r in rows]

    async def registered_by_area(self) -> dict[str, int]:
        rows = await self._db.fetch_all(
            "SELECT COALESCE(area_code, '') AS code, COUNT(*) AS n FROM volunteers "
            "WHERE deleted_at IS NULL GROUP BY COALESCE(area_code, '')"
        )
        return {r["code"]: int(r["n"]) for r in rows}

    async def monthly(self, since: date, scope: Scope) -> list[tuple[str, int, int]]:
        """('YYYY-MM', minutes, active volunteers) per month of records from ``since``."""
        join, condition, params = self._records_scope(scope)
        rows = await self._db.fetch_all(
            "SELECT SUBSTR(r.service_date, 1, 7) AS month, SUM(r.minutes) AS minutes, "
            f"COUNT(DISTINCT r.volunteer_id) AS people FROM service_records r {join}"
            f"WHERE r.kind = 'service' AND r.minutes > 0 AND r.service_date >= ?{condition} "
            "GROUP BY SUBSTR(r.service_date, 1, 7) ORDER BY month",
            (since.isoformat(), *params),
        )
        return [(r["month"], int(r["minutes"]), int(r["people"])) for r in rows]

    async def activity_attendance(
        self, start: datetime, end: datetime, scope: Scope
    ) -> list[ActivityAttendance]:
        """Per recorded activity in [start, end): confirmed sign-ups and those who came."""
        condition, params = scope.activities()
        rows = await self._db.fetch_all(
            "SELECT a.activity_id, a.starts_at, COUNT(s.signup_id) AS signups, "
            f"COALESCE(SUM(CASE WHEN t.mark IN {_ATTENDED} THEN 1 ELSE 0 END), 0) AS attended "
            "FROM activities a JOIN organizations o ON o.organization_id = a.organization_id "
            "LEFT JOIN signups s ON s.activity_id = a.activity_id AND s.status = 'confirmed' "
            "LEFT JOIN attendance t ON t.activity_id = s.activity_id "
            "AND t.volunteer_id = s.volunteer_id "
            f"WHERE {_PUBLISHED} AND a.hours_confirmed_at IS NOT NULL "
            f"AND a.starts_at >= ? AND a.starts_at < ?{condition} "
            "GROUP BY a.activity_id, a.starts_at",
            (to_db_time(start), to_db_time(end), *params),
        )
        return [
            ActivityAttendance(from_db_time(r["starts_at"]), int(r["signups"]), int(r["attended"]))
            for r in rows
        ]


def _to_media(row: Row) -> MediaReport:
    return MediaReport(
        media_id=row["media_id"],
        activity_id=row["activity_id"],
        kind=MediaKind(row["kind"]),
        title=row["title"],
        url=row["url"],
        reads=row["reads"],
    )
