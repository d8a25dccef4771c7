"""Reports: the figures organizers record after an activity, the statistics table
(活动开展情况统计表) for an organization, a district or the federation, ``/stats`` and the charts'
numbers, campaign periods and the Friday report.

```mermaid
flowchart LR
    confirm[Hours confirmed] -->|job: once| due[REPORT_FIGURES_DUE to who confirmed]
    due --> figures[Figures: people served, money and materials, media]
    figures --> table[(statistics table)]
    job[job, every few minutes] -->|period: the day before| missing[REPORT_FIGURES_MISSING]
    missing --> figures
    job -->|period: REPORT_WEEKDAY from REPORT_TIME| weekly[REPORT_WEEKLY]
    weekly --> managers[managers: their table] & admins[administrators: the roll-up]
    table --> weekly
```

Every call names its actor and is re-authorized: figures by the staff of the activity's
organization (:meth:`StaffService.activity_for`), an organization's table by its members, a
district's or the federation's by administrators only.

Idempotence: the Friday report is one outbox row per recipient, period, week and scope
(``report_weekly:<telegram_id>:<key date>:<year>:<day>:<scope>``), the day-before reminder one
per recipient, organization and week, and the "record your figures" reminder one per recipient
and activity; planning again (a restart, a second process) stores nothing new. All of them are
rendered at send time from the figures as they are then, and dropped when they went stale.
"""

from __future__ import annotations

import logging
from collections.abc import Set
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.activities import Activity, ActivityStatus, Organization, PeopleServed
from bot.domain.keydates import KeyDate, occurrences_between
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.refusals import Refused
from bot.domain.reports import (
    MAX_ORGANIZATIONS,
    MAX_READS,
    MAX_SERVED,
    ActivityFigures,
    Breakdown,
    CampaignPeriod,
    MediaKind,
    PeriodKind,
    PeriodSpan,
    ScopeKind,
    Stats,
    StatTable,
    parse_period_range,
    period_on,
)
from bot.domain.users import Role
from bot.domain.validation import clean_free_text
from bot.services.staff import StaffService
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.reports import ActivityAttendance, FiguresDue, ReportsRepository, Scope
from storage.users import UsersRepository

__all__ = [
    "ReportPolicy",
    "ReportService",
    "ReportsRefusal",
    "ReportsRefused",
    "Scope",
    "WeeklyReport",
]

log = logging.getLogger(__name__)

#: How long after the hours were confirmed the "record your figures" reminder is still planned.
FIGURES_DUE_WINDOW = timedelta(days=7)
MEDIA_TITLE_MAX = 100
ACTIVE_DAYS = 30


class ReportsRefusal(StrEnum):
    NOT_STARTED = "not_started"  # figures are recorded once the activity has started
    CANCELLED = "cancelled"
    TOO_MANY_MEDIA = "too_many_media"
    NO_MEDIA = "no_media"  # the report was deleted meanwhile
    NO_PERIOD = "no_period"  # no campaign period now or this year


class ReportsRefused(Refused):
    def __init__(self, reason: ReportsRefusal, *, when: datetime | None = None) -> None:
        super().__init__(reason)
        self.reason: ReportsRefusal = reason
        self.when = when


@dataclass(frozen=True)
class ReportPolicy:
    weekday: int = 5  # ISO: 5 = Friday
    send_time: time = time(10, 0)
    population: int | None = None


@dataclass(frozen=True)
class WeeklyReport:
    """What a Friday report shows, read at send time."""

    scope: Scope
    organization: Organization | None
    span: PeriodSpan
    key_date: KeyDate | None
    table: StatTable


class ReportService:
    def __init__(
        self,
        db: Database,
        repo: ReportsRepository,
        staff: StaffService,
        users: UsersRepository,
        outbox: OutboxRepository,
        clock: Clock,
        tz: ZoneInfo,
        admin_ids: Set[int],
        policy: ReportPolicy,
    ) -> None:
        self._db = db
        self._repo = repo
        self._staff = staff
        self._users = users
        self._outbox = outbox
        self._clock = clock
        self.tz = tz
        self._admin_ids = admin_ids
        self.policy = policy

    def now(self) -> datetime:
        return self._clock()

    def today(self) -> date:
        return self._clock().astimezone(self.tz).date()

    def midnight(self, day: date) -> datetime:
        """The start of local ``day`` in UTC."""
        return datetime.combine(day, time(0), self.tz).astimezone(UTC)

    # -- figures ---------------------------------------------------------------------------------

    async def _recordable(self, actor: int, activity_id: int) -> Activity:
        activity = await self._staff.activity_for(actor, activity_id)
        if activity.status is ActivityStatus.CANCELLED:
            raise ReportsRefused(ReportsRefusal.CANCELLED)
        if activity.status is not ActivityStatus.PUBLISHED or self.now() < activity.starts_at:
            raise ReportsRefused(ReportsRefusal.NOT_STARTED, when=activity.starts_at)
        return activity

    async def figures(self, actor: int, activity_id: int) -> tuple[Activity, ActivityFigures]:
        activity = await self._recordable(actor, activity_id)
        return activity, await self._repo.figures(activity_id)

    async def set_people(
        self, actor: int, activity_id: int, kind: PeopleServed, served: int
    ) -> ActivityFigures:
        await self._recordable(actor, activity_id)
        if not 0 <= served <= MAX_SERVED:
            raise ValueError("served out of range")  # the handler parsed it within bounds
        await self._repo.set_people(activity_id, kind, served, actor, self.now())
        return await self._repo.figures(activity_id)

    async def set_funds(self, actor: int, activity_id: int, fen: int) -> ActivityFigures:
        await self._recordable(actor, activity_id)
        await self._repo.set_funds(activity_id, fen, actor, self.now())
        return await self._repo.figures(activity_id)

    async def set_organizations(self, actor: int, activity_id: int, count: int) -> ActivityFigures:
        await self._recordable(actor, activity_id)
        if not 1 <= count <= MAX_ORGANIZATIONS:
            raise ValueError("organizations out of range")
        await self._repo.set_organizations(activity_id, count, actor, self.now())
        return await self._repo.figures(activity_id)

    async def mark_recorded(self, actor: int, activity_id: int) -> ActivityFigures:
        """ "Nothing (more) to record": the figures count as recorded (no more reminders)."""
        await self._recordable(actor, activity_id)
        await self._repo.mark_recorded(activity_id, actor, self.now())
        return await self._repo.figures(activity_id)

    async def add_media(
        self,
        actor: int,
        activity_id: int,
        kind: MediaKind,
        *,
        title: str | None,
        url: str | None,
        reads: int | None,
    ) -> ActivityFigures:
        await self._recordable(actor, activity_id)
        if title is not None:
            title = clean_free_text(title, min_length=2, max_length=MEDIA_TITLE_MAX)
        if reads is not None and not 0 <= reads <= MAX_READS:
            raise ValueError("reads out of range")
        if url is None and (title is None or not kind.is_paper):
            raise ValueError("an online report needs its link")
        if not await self._repo.add_media(
            activity_id, kind, title=title, url=url, reads=reads, by=actor, now=self.now()
        ):
            raise ReportsRefused(ReportsRefusal.TOO_MANY_MEDIA)
        return await self._repo.figures(activity_id)

    async def delete_media(self, actor: int, activity_id: int, media_id: int) -> ActivityFigures:
        await self._recordable(actor, activity_id)
        if not await self._repo.delete_media(activity_id, media_id):
            raise ReportsRefused(ReportsRefusal.NO_MEDIA)
        return await self._repo.figures(activity_id)

    # -- scopes and periods ----------------------------------------------------------------------

    async def authorize(self, actor: int, scope: Scope) -> Organization | None:
        """The organization of an organization's scope (its members and administrators); the
        districts and the federation are for administrators only."""
        if scope.kind is ScopeKind.ORGANIZATION and scope.organization_id is not None:
            return await self._staff.organization_for(actor, scope.organization_id)
        await self._staff.require_admin(actor)
        return None

    async def scopes_for(self, actor: int) -> tuple[bool, list[Organization]]:
        """(is an administrator, the organizations this user acts for)."""
        admin = await self._staff.is_admin(actor)
        organizations = [org for org, _role in await self._staff.organizations_of(actor)]
        return admin, organizations

    async def _periods_around(self, day: date) -> list[tuple[CampaignPeriod, list[date]]]:
        found = []
        for key_date, period in await self._repo.periods():
            if period is None:
                continue
            days = occurrences_between(
                key_date, date(day.year - 1, 1, 1), date(day.year + 1, 12, 31)
            )
            found.append((period, days))
        return found

    async def campaign_on(self, day: date) -> PeriodSpan | None:
        return period_on(await self._periods_around(day), day)

    async def span(self, kind: PeriodKind, today: date | None = None) -> PeriodSpan:
        today = today or self.today()
        if kind is PeriodKind.YEAR:
            return PeriodSpan(date(today.year, 1, 1), date(today.year, 12, 31))
        if kind is PeriodKind.MONTH:
            first = today.replace(day=1)
            following = (first + timedelta(days=32)).replace(day=1)
            return PeriodSpan(first, following - timedelta(days=1))
        current = await self.campaign_on(today)
        if current is not None:
            return current
        # Otherwise the latest period that ended within the last year.
        latest: PeriodSpan | None = None
        for period, days in await self._periods_around(today):
            if not period.is_enabled:
                continue
            for key_day in days:
                span = period.around(key_day)
                recent = span.end < today and (today - span.end).days <= 365
                if recent and (latest is None or span.end > latest.end):
                    latest = span
        if latest is None:
            raise ReportsRefused(ReportsRefusal.NO_PERIOD)
        return latest

    async def key_date(self, code: str | None) -> KeyDate | None:
        if code is None:
            return None
        for key_date, _period in await self._repo.periods():
            if key_date.code == code:
                return key_date
        return None

    def _bounds(self, span: PeriodSpan) -> tuple[datetime, datetime]:
        """UTC bounds of the activities counted: the span's days, but nothing after now."""
        return self.midnight(span.start), min(
            self.midnight(span.end + timedelta(days=1)), self.now()
        )

    async def table(self, actor: int, scope: Scope, span: PeriodSpan) -> StatTable:
        await self.authorize(actor, scope)
        return await self._repo.table(*self._bounds(span), scope)

    async def table_unchecked(self, scope: Scope, span: PeriodSpan) -> StatTable:
        """For the Friday report (its recipient is checked by :meth:`weekly_for`) and benchmarks."""
        return await self._repo.table(*self._bounds(span), scope)

    # -- campaign periods (administrators) -------------------------------------------------------

    async def periods(self, actor: int) -> list[tuple[KeyDate, CampaignPeriod | None, date]]:
        """Every key date, its period and its next (or today's) day."""
        await self._staff.require_admin(actor)
        today = self.today()
        found = []
        for key_date, period in await self._repo.periods():
            days = occurrences_between(
                key_date, today - timedelta(days=180), today + timedelta(366)
            )
            upcoming = [d for d in days if period is None or period.around(d).end >= today]
            found.append((key_date, period, upcoming[0] if upcoming else today))
        return found

    async def set_period(self, actor: int, code: str, text: str) -> tuple[int, int]:
        """Set a key date's period from typed first and last days (:class:`InvalidInput`)."""
        await self._staff.require_admin(actor)
        for key_date, _period, key_day in await self.periods(actor):
            if key_date.code == code:
                before, after = parse_period_range(text, key_day)
                await self._repo.set_period(code, before, after, actor, self.now())
                log.info("campaign period of %s set by %s: -%s/+%s", code, actor, before, after)
                return before, after
        raise ReportsRefused(ReportsRefusal.NO_PERIOD)

    async def set_period_enabled(self, actor: int, code: str, enabled: bool) -> bool:
        await self._staff.require_admin(actor)
        return await self._repo.set_period_enabled(code, enabled, actor, self.now())

    # -- /stats and charts -----------------------------------------------------------------------

    async def stats(self, actor: int, scope: Scope) -> Stats:
        await self.authorize(actor, scope)
        today = self.today()
        year_start = date(today.year, 1, 1)
        start, end = self.midnight(year_start), self.now()
        registered = await self._repo.registered(scope)
        active, _ = await self._repo.record_totals(today - timedelta(days=ACTIVE_DAYS), scope)
        _, minutes = await self._repo.record_totals(year_start, scope)
        signups, attended = await self._repo.attendance(start, end, scope)
        average, ratings = await self._repo.rating(start, end, scope)
        by_area: tuple[Breakdown, ...] = ()
        if scope.kind is ScopeKind.ALL:
            living = await self._repo.registered_by_area()
            served = {
                code: (people, mins)
                for code, people, mins in await self._repo.by_area(year_start, scope)
            }
            codes = sorted(set(living) | set(served), key=lambda c: (-served.get(c, (0, 0))[1], c))
            by_area = tuple(
                Breakdown(
                    code,
                    served.get(code, (0, 0))[0],
                    served.get(code, (0, 0))[1],
                    living.get(code, 0),
                )
                for code in codes
            )
        by_category = tuple(
            Breakdown(code, people, mins)
            for code, people, mins in await self._repo.by_category(year_start, scope)
        )
        return Stats(
            registered=registered,
            active_30_days=active,
            minutes_this_year=minutes,
            activities_this_year=await self._repo.activity_count(start, end, scope),
            signups=signups,
            attended=attended,
            rating_total=average,
            ratings=ratings,
            population=self.policy.population if scope.kind is ScopeKind.ALL else None,
            by_area=by_area,
            by_category=by_category,
        )

    async def monthly(self, actor: int, scope: Scope, since: date) -> list[tuple[str, int, int]]:
        await self.authorize(actor, scope)
        return await self._repo.monthly(since, scope)

    async def attendance_by_activity(
        self, actor: int, scope: Scope, since: date
    ) -> list[ActivityAttendance]:
        await self.authorize(actor, scope)
        return await self._repo.activity_attendance(self.midnight(since), self.now(), scope)

    async def breakdown(
        self, actor: int, scope: Scope, since: date, *, by_area: bool
    ) -> list[tuple[str, int, int]]:
        await self.authorize(actor, scope)
        if by_area:
            return await self._repo.by_area(since, scope)
        return await self._repo.by_category(since, scope)

    # -- the Friday report and reminders (the job) -----------------------------------------------

    async def admin_ids(self) -> list[int]:
        appointed = {user.telegram_id for user in await self._users.list_by_role(Role.ADMIN)}
        return sorted(set(self._admin_ids) | appointed)

    async def plan(self) -> int:
        """Queue what is due now; returns how many rows were stored (the job)."""
        now = self.now()
        notifications = await self._figures_due(now)
        local = now.astimezone(self.tz)
        today = local.date()
        send_at = datetime.combine(today, self.policy.send_time, self.tz).astimezone(UTC)
        if now >= send_at:
            if today.isoweekday() == self.policy.weekday:
                notifications += await self._weekly(today, send_at)
            tomorrow = today + timedelta(days=1)
            if tomorrow.isoweekday() == self.policy.weekday:
                notifications += await self._missing(tomorrow, send_at)
        if not notifications:
            return 0
        async with self._db.transaction() as tx:
            stored = await self._outbox.enqueue_many(tx, notifications, now)
        if stored:
            log.info("reports: %s notifications queued", stored)
        return stored

    async def _figures_due(self, now: datetime) -> list[Notification]:
        found = await self._repo.confirmed_without_figures(now - FIGURES_DUE_WINDOW, now)
        if not found:
            return []
        managers = await self._repo.staff_of(
            {due.organization_id for due, by in found if by is None}, managers_only=True
        )
        notifications = []
        for due, by in found:
            for telegram_id in [by] if by is not None else managers.get(due.organization_id, []):
                notifications.append(
                    Notification(
                        kind=NotificationKind.REPORT_FIGURES_DUE,
                        telegram_id=telegram_id,
                        subject=str(due.activity_id),
                        payload={"activity_id": due.activity_id},
                        due_at=now,
                    )
                )
        return notifications

    async def _weekly(self, today: date, send_at: datetime) -> list[Notification]:
        span = await self.campaign_on(today)
        if span is None or span.key_day is None:
            return []
        base = f"{span.key_date_code}:{span.key_day.year}:{today.isoformat()}"
        payload: dict[str, int | str] = {
            "code": span.key_date_code or "",
            "start": span.start.isoformat(),
            "end": span.end.isoformat(),
            "key_day": span.key_day.isoformat(),
        }
        organizations = await self._repo.organizations_with_activities(
            self.midnight(span.start), self.now()
        )
        managers = await self._repo.staff_of(organizations, managers_only=True)
        notifications = [
            Notification(
                kind=NotificationKind.REPORT_WEEKLY,
                telegram_id=telegram_id,
                subject=f"{base}:o{organization_id}",
                payload={**payload, "scope": ScopeKind.ORGANIZATION.value, "org": organization_id},
                due_at=send_at,
            )
            for organization_id in organizations
            for telegram_id in managers.get(organization_id, [])
        ]
        notifications += [
            Notification(
                kind=NotificationKind.REPORT_WEEKLY,
                telegram_id=telegram_id,
                subject=f"{base}:all",
                payload={**payload, "scope": ScopeKind.ALL.value, "org": 0},
                due_at=send_at,
            )
            for telegram_id in await self.admin_ids()
        ]
        return notifications

    async def _missing(self, report_day: date, send_at: datetime) -> list[Notification]:
        span = await self.campaign_on(report_day)
        if span is None or span.key_day is None:
            return []
        missing = await self._repo.ended_without_figures(self.midnight(span.start), self.now())
        organizations = {due.organization_id for due in missing}
        staff = await self._repo.staff_of(organizations, managers_only=False)
        return [
            Notification(
                kind=NotificationKind.REPORT_FIGURES_MISSING,
                telegram_id=telegram_id,
                subject=f"{span.key_date_code}:{report_day.isoformat()}:{organization_id}",
                payload={
                    "org": organization_id,
                    "start": span.start.isoformat(),
                    "day": report_day.isoformat(),
                },
                due_at=send_at,
            )
            for organization_id in sorted(organizations)
            for telegram_id in staff.get(organization_id, [])
        ]

    # -- at send time ----------------------------------------------------------------------------

    async def figures_still_due(self, activity_id: int, telegram_id: int) -> Activity | None:
        """The activity, if its figures are still missing and the recipient still acts for it."""
        figures = await self._repo.figures(activity_id)
        if figures.recorded:
            return None
        try:
            return await self._recordable(telegram_id, activity_id)
        except Refused:
            return None

    async def missing_for(
        self, organization_id: int, start: date, telegram_id: int
    ) -> list[FiguresDue]:
        """The organization's activities still without figures (empty: nothing to remind)."""
        if not await self._repo.is_member(organization_id, telegram_id, manager=False):
            return []
        return await self._repo.ended_without_figures(
            self.midnight(start), self.now(), organization_id
        )

    async def weekly_for(
        self, telegram_id: int, payload: dict[str, int | str]
    ) -> WeeklyReport | None:
        """What a REPORT_WEEKLY row shows its recipient now; ``None`` when they may no longer
        see it (no longer a manager or an administrator) or the row is malformed."""
        try:
            span = PeriodSpan(
                date.fromisoformat(str(payload["start"])),
                date.fromisoformat(str(payload["end"])),
                str(payload["code"]) or None,
                date.fromisoformat(str(payload["key_day"])),
            )
            kind = ScopeKind(str(payload["scope"]))
        except (KeyError, ValueError):
            return None
        organization = None
        if kind is ScopeKind.ORGANIZATION:
            org_id = payload.get("org")
            if not isinstance(org_id, int) or not await self._repo.is_member(
                org_id, telegram_id, manager=True
            ):
                return None
            scope = Scope(kind, organization_id=org_id)
            try:
                organization = await self._staff.organization_for(telegram_id, org_id)
            except Refused:  # suspended meanwhile
                return None
        elif telegram_id in await self.admin_ids():
            scope = Scope(ScopeKind.ALL)
        else:
            return None
        return WeeklyReport(
            scope=scope,
            organization=organization,
            span=span,
            key_date=await self.key_date(span.key_date_code),
            table=await self.table_unchecked(scope, span),
        )
