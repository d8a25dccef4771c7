"""Recording within 10 working days (民政部令第67号 Art. 11): reminders to the organizers, and
the administrators' list of activities that are late.

An activity is *unrecorded* while it is published volunteer service (``is_volunteering``), has
ended, and nobody confirmed its hours (``hours_confirmed_at IS NULL``, migration 0019). Its
working days are counted from its local end date in the calendar of
:mod:`bot.services.workdays` (the first working day after the end date is day 1).

```mermaid
flowchart LR
    J[job, every few minutes] -->|today is a working day| P[plan]
    P -->|day n reached 3, 7 or 9, n ≤ 10: the latest| O[RECORDING_DUE to each staff]
    O -->|still unconfirmed, still the latest, still staff| S[reminder, card button]
    O -->|confirmed meanwhile, or a later reminder is due| X[dropped]
    L[administrators: late list] -->|n > 10| A[activities past the deadline, paged]
```

Idempotence: each reminder is one outbox row keyed by kind, recipient, activity and reminder day
(``recording_due:<telegram_id>:<activity_id>:<day>``), so planning again — after a restart, or in
a second process — stores nothing new. Only the latest reminder day reached is planned, and a
row whose day has been superseded by the time it is sent is dropped: a reminder missed while the
bot was down goes out once, late, never two or three at once. Nothing is planned on a day off
(a weekend or a holiday): the late one goes out on the next working day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.workdays import WorkdayCalendar, latest_due_day
from bot.services.staff import StaffService
from bot.services.workdays import WorkdayService
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.recording_deadlines import RecordingDeadlinesRepository, Unrecorded

__all__ = [
    "DeadlinePolicy",
    "DueReminder",
    "LateActivity",
    "LatePage",
    "RecordingDeadlineService",
]

log = logging.getLogger(__name__)

LATE_PAGE_SIZE = 10


@dataclass(frozen=True)
class DeadlinePolicy:
    reminder_days: tuple[int, ...] = (3, 7, 9)
    deadline_days: int = 10
    reminder_time: time = time(9, 0)

    def __post_init__(self) -> None:
        if self.deadline_days < 1 or any(
            not 1 <= day <= self.deadline_days for day in self.reminder_days
        ):
            raise ValueError("reminder days must be between 1 and the deadline")


@dataclass(frozen=True)
class DueReminder:
    """A reminder that is still worth sending, as the renderer needs it."""

    activity_id: int
    title: str
    organization_name: str
    working_day: int  # today's working-day number
    days_left: int
    deadline: date


@dataclass(frozen=True)
class LateActivity:
    activity: Unrecorded
    ended_on: date
    deadline: date
    days_overdue: int  # working days past the deadline


@dataclass(frozen=True)
class LatePage:
    items: list[LateActivity]
    total: int
    page: int
    pages: int


class RecordingDeadlineService:
    def __init__(
        self,
        db: Database,
        repo: RecordingDeadlinesRepository,
        workdays: WorkdayService,
        staff: StaffService,
        outbox: OutboxRepository,
        clock: Clock,
        tz: ZoneInfo,
        policy: DeadlinePolicy,
    ) -> None:
        self._db = db
        self._repo = repo
        self._workdays = workdays
        self._staff = staff
        self._outbox = outbox
        self._clock = clock
        self.tz = tz
        self.policy = policy

    def _local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.tz).astimezone(UTC)

    def _end_date(self, activity: Unrecorded) -> date:
        return activity.ends_at.astimezone(self.tz).date()

    # -- planning ---------------------------------------------------------------------------

    async def plan(self) -> int:
        """Queue today's reminders (the job); returns how many rows were stored."""
        now = self._clock()
        today = now.astimezone(self.tz).date()
        calendar = await self._workdays.calendar()
        if not calendar.is_workday(today):
            return 0
        policy = self.policy
        earliest = calendar.first_end_date_within(today, policy.deadline_days)
        activities = await self._repo.ended_between(self._local_midnight(earliest), now)
        due: list[tuple[Unrecorded, int]] = []
        for activity in activities:
            number = calendar.working_day_number(self._end_date(activity), today)
            day = latest_due_day(number, policy.reminder_days, policy.deadline_days)
            if day is not None:
                due.append((activity, day))
        if not due:
            return 0
        staff = await self._repo.staff_of({activity.organization_id for activity, _ in due})
        send_at = max(now, datetime.combine(today, policy.reminder_time, self.tz).astimezone(UTC))
        stored = 0
        async with self._db.transaction() as tx:
            for activity, day in due:
                for telegram_id in staff.get(activity.organization_id, []):
                    stored += await self._outbox.enqueue(
                        tx,
                        Notification(
                            kind=NotificationKind.RECORDING_DUE,
                            telegram_id=telegram_id,
                            subject=f"{activity.activity_id}:{day}",
                            payload={"activity_id": activity.activity_id, "day": day},
                            due_at=send_at,
                        ),
                        now,
                    )
        if stored:
            log.info("recording reminders: %s queued", stored)
        return stored

    async def still_due(self, activity_id: int, day: int, telegram_id: int) -> DueReminder | None:
        """At send time: the reminder for working day ``day`` is still the one to send (hours
        still unconfirmed, no later reminder due, deadline not passed, recipient still staff)."""
        activity = await self._repo.get(activity_id)
        if activity is None or not await self._repo.is_member(
            activity.organization_id, telegram_id
        ):
            return None
        calendar = await self._workdays.calendar()
        today = self._clock().astimezone(self.tz).date()
        ended_on = self._end_date(activity)
        number = calendar.working_day_number(ended_on, today)
        policy = self.policy
        if latest_due_day(number, policy.reminder_days, policy.deadline_days) != day:
            return None
        return DueReminder(
            activity_id=activity.activity_id,
            title=activity.title,
            organization_name=activity.organization_name,
            working_day=number,
            days_left=policy.deadline_days - number,
            deadline=calendar.nth_working_day_after(ended_on, policy.deadline_days),
        )

    # -- administrators ---------------------------------------------------------------------

    async def late(self, actor: int, page: int = 0) -> LatePage:
        """Activities past the deadline without confirmed hours, longest overdue first."""
        await self._staff.require_admin(actor)
        calendar = await self._workdays.calendar()
        today = self._clock().astimezone(self.tz).date()
        deadline_days = self.policy.deadline_days
        before = self._local_midnight(calendar.first_end_date_within(today, deadline_days))
        total = await self._repo.count_ended_before(before)
        pages = max(1, -(-total // LATE_PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        rows = await self._repo.ended_before(before, LATE_PAGE_SIZE, page * LATE_PAGE_SIZE)
        return LatePage(
            items=[self._late(calendar, today, activity) for activity in rows],
            total=total,
            page=page,
            pages=pages,
        )

    def _late(self, calendar: WorkdayCalendar, today: date, activity: Unrecorded) -> LateActivity:
        ended_on = self._end_date(activity)
        deadline_days = self.policy.deadline_days
        return LateActivity(
            activity=activity,
            ended_on=ended_on,
            deadline=calendar.nth_working_day_after(ended_on, deadline_days),
            days_overdue=calendar.working_day_number(ended_on, today) - deadline_days,
        )
