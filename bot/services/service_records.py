"""Hours and records: the organizer's review and confirmation, the volunteer's ``/hours``, and
corrections (民政部令第67号 Art. 7, 11–13).

```mermaid
flowchart LR
    att[Attendance: check-ins, hand marks] --> review[Review: minutes per person, by the rules]
    review -->|edit one: hours + reason| review
    review -->|extend the end| review
    review -->|"Confirm (stamp of what was shown)"| records[(service_records)]
    records -->|outbox| told[Volunteers told their hours]
    records --> hours[/hours: totals, records, trainings, awards/]
    hours -->|request correction: hours + reason| pending[(correction pending)]
    pending -->|outbox| managers[Organizers: approve / reject + reason]
    managers -->|approve| records
    managers -->|outbox| decided[Volunteer told]
```

A confirmation carries the :func:`~bot.domain.service_records.review_stamp` of the list the
organizer saw; if anything changed since (a late check-in, another organizer's edit) it is
refused and the current list is shown. Records are written once (a guarded UPDATE takes the
confirmation); afterwards they change only through an approved correction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Settings
from bot.domain.hours import MAX_RECORD_MINUTES, credited_minutes
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.service_records import (
    AttendanceChange,
    AttendanceEntry,
    ConfirmReport,
    Correction,
    HoursSummary,
    RecordingActivity,
    RecordsRefusal,
    RecordsRefused,
    ReviewLine,
    ServiceRecord,
    review_stamp,
)
from bot.domain.validation import clean_free_text
from bot.services.staff import StaffService
from storage.attendance import AttendanceRepository
from storage.service_records import NewRecord, ServiceRecordsRepository

log = logging.getLogger(__name__)

REASON_MIN = 2
REASON_MAX = 200
RECORDS_PAGE_SIZE = 8


class RecordsService:
    def __init__(
        self,
        records: ServiceRecordsRepository,
        attendance: AttendanceRepository,
        staff: StaffService,
        clock: Clock,
        settings: Settings,
        *,
        recognise: Callable[[Collection[int]], Awaitable[object]] | None = None,
    ) -> None:
        self._records = records
        self._attendance = attendance
        self._staff = staff
        self._clock = clock
        self._settings = settings
        # Points and star levels for volunteers whose hours just changed (wired to
        # PointsService.settle + StarService.after_hours_changed). Run after the change
        # committed so the volunteer sees them at once; the periodic sweep stays as the
        # backstop for a crash in between, and both are idempotent.
        self._recognise = recognise

    @property
    def tz(self) -> ZoneInfo:
        return self._settings.tz

    def now(self) -> datetime:
        return self._clock()

    # -- the organizer's review ------------------------------------------------------------------

    async def _activity(self, telegram_id: int, activity_id: int) -> RecordingActivity:
        await self._staff.activity_for(telegram_id, activity_id)
        activity = await self._attendance.recording_activity(activity_id)
        if activity is None:  # pragma: no cover - the staff check read it a moment ago
            raise RecordsRefused(RecordsRefusal.CANCELLED)
        if activity.cancelled:
            raise RecordsRefused(RecordsRefusal.CANCELLED)
        return activity

    def lines_for(
        self, activity: RecordingActivity, entries: list[AttendanceEntry]
    ) -> list[ReviewLine]:
        lines = []
        for entry in entries:
            minutes = 0
            if entry.mark is not None and entry.mark.served:
                minutes = credited_minutes(
                    activity.schedule,
                    entry.checked_in_at,
                    entry.checked_out_at,
                    rule=self._settings.hours_rounding,
                    max_minutes_per_day=self._settings.max_hours_per_day * 60,
                    tz=self.tz,
                )
            lines.append(ReviewLine(entry, minutes))
        return lines

    async def review(
        self, telegram_id: int, activity_id: int
    ) -> tuple[RecordingActivity, list[ReviewLine]]:
        activity = await self._activity(telegram_id, activity_id)
        if self.now() < activity.starts_at:
            raise RecordsRefused(RecordsRefusal.NOT_STARTED, when=activity.starts_at)
        entries = await self._attendance.entries(activity_id)
        return activity, self.lines_for(activity, entries)

    async def set_minutes(
        self, telegram_id: int, activity_id: int, volunteer_id: int, minutes: int, reason: str
    ) -> ReviewLine:
        activity, lines = await self.review(telegram_id, activity_id)
        if activity.hours_confirmed_at is not None:
            raise RecordsRefused(RecordsRefusal.ALREADY_CONFIRMED)
        line = next((x for x in lines if x.entry.volunteer_id == volunteer_id), None)
        if line is None:
            raise RecordsRefused(RecordsRefusal.NOT_YOURS)
        if not 0 <= minutes <= MAX_RECORD_MINUTES:
            raise RecordsRefused(RecordsRefusal.SAME_HOURS)
        reason = clean_free_text(reason, min_length=REASON_MIN, max_length=REASON_MAX)
        if not await self._attendance.set_minutes(
            activity_id,
            volunteer_id,
            minutes,
            line.minutes,
            by=telegram_id,
            reason=reason,
            now=self.now(),
        ):
            raise RecordsRefused(RecordsRefusal.ALREADY_CONFIRMED)
        _activity, lines = await self.review(telegram_id, activity_id)
        return next(x for x in lines if x.entry.volunteer_id == volunteer_id)

    async def extend(
        self, telegram_id: int, activity_id: int, until: datetime
    ) -> RecordingActivity:
        """Credit time past the scheduled end (overtime), up to the daily maximum."""
        activity = await self._activity(telegram_id, activity_id)
        if activity.hours_confirmed_at is not None:
            raise RecordsRefused(RecordsRefusal.ALREADY_CONFIRMED)
        if until <= activity.ends_at:
            raise RecordsRefused(RecordsRefusal.SAME_HOURS)
        old = activity.credit_until or activity.ends_at
        if not await self._attendance.extend(activity_id, until, telegram_id, old, self.now()):
            raise RecordsRefused(RecordsRefusal.ALREADY_CONFIRMED)
        return await self._activity(telegram_id, activity_id)

    async def confirm(self, telegram_id: int, activity_id: int, stamp: int) -> ConfirmReport:
        activity, lines = await self.review(telegram_id, activity_id)
        if activity.hours_confirmed_at is not None:
            raise RecordsRefused(RecordsRefusal.ALREADY_CONFIRMED)
        now = self.now()
        if now < activity.ends_at:
            raise RecordsRefused(RecordsRefusal.NOT_STARTED, when=activity.ends_at)
        if review_stamp(lines) != stamp:
            raise RecordsRefused(RecordsRefusal.CHANGED)
        served = [line for line in lines if line.minutes > 0]
        records = [NewRecord(line.entry.volunteer_id, line.minutes) for line in served]
        notify = []
        if activity.is_volunteering:
            notify = [
                Notification(
                    kind=NotificationKind.HOURS_RECORDED,
                    telegram_id=line.entry.telegram_id,
                    subject=f"hours:{activity_id}",
                    payload={"activity": activity_id, "volunteer": line.entry.volunteer_id},
                    due_at=now,
                )
                for line in served
                if line.entry.telegram_id is not None
            ]
        service_date: date = activity.starts_at.astimezone(self.tz).date()
        taken, written, granted = await self._records.confirm(
            activity, service_date, records, by=telegram_id, now=now, notify=notify
        )
        if not taken:
            raise RecordsRefused(RecordsRefusal.ALREADY_CONFIRMED)
        log.info(
            "hours of activity %s confirmed by %s: %d records, %d qualifications",
            activity_id,
            telegram_id,
            written,
            granted,
        )
        report = ConfirmReport(
            activity_id=activity_id,
            records=written,
            total_minutes=sum(record.minutes for record in records),
            no_shows=sum(1 for line in lines if line.no_show),
            qualifications_granted=granted,
        )
        await self._recognised([record.volunteer_id for record in records])
        return report

    async def changes(self, telegram_id: int, activity_id: int) -> list[AttendanceChange]:
        await self._activity(telegram_id, activity_id)
        return await self._attendance.changes(activity_id)

    # -- the volunteer ---------------------------------------------------------------------------

    async def volunteer_id(self, telegram_id: int) -> int:
        volunteer_id = await self._attendance.volunteer_id_of(telegram_id)
        if volunteer_id is None:
            raise RecordsRefused(RecordsRefusal.NOT_VOLUNTEER)
        return volunteer_id

    async def my_hours(
        self, telegram_id: int, page: int
    ) -> tuple[HoursSummary, list[ServiceRecord], int]:
        """(totals, the page's records, the page actually shown)."""
        volunteer_id = await self.volunteer_id(telegram_id)
        year = self.now().astimezone(self.tz).year
        summary = await self._records.summary(volunteer_id, year)
        pages = max(1, -(-summary.records // RECORDS_PAGE_SIZE))
        page = min(max(page, 0), pages - 1)
        records = await self._records.records_of(
            volunteer_id, page * RECORDS_PAGE_SIZE, RECORDS_PAGE_SIZE
        )
        return summary, records, page

    async def trainings_and_awards(
        self, telegram_id: int
    ) -> tuple[list[tuple[str, str, datetime]], list[tuple[str, str, date]]]:
        volunteer_id = await self.volunteer_id(telegram_id)
        return (
            await self._records.qualifications_of(volunteer_id),
            await self._records.awards_of(volunteer_id),
        )

    async def my_record(self, telegram_id: int, record_id: int) -> ServiceRecord:
        volunteer_id = await self.volunteer_id(telegram_id)
        record = await self._records.record(record_id)
        if record is None or record.volunteer_id != volunteer_id:
            raise RecordsRefused(RecordsRefusal.NOT_YOURS)
        return record

    async def my_corrections(self, telegram_id: int) -> list[Correction]:
        return await self._records.corrections_of(await self.volunteer_id(telegram_id))

    async def request_correction(
        self, telegram_id: int, record_id: int, proposed_minutes: int, reason: str
    ) -> int:
        record = await self.my_record(telegram_id, record_id)
        if record.pending_correction:
            raise RecordsRefused(RecordsRefusal.PENDING)
        if proposed_minutes == record.minutes:
            raise RecordsRefused(RecordsRefusal.SAME_HOURS)
        reason = clean_free_text(reason, min_length=REASON_MIN, max_length=REASON_MAX)
        now = self.now()
        notify = []
        if record.organization_id is not None:
            notify = [
                Notification(
                    kind=NotificationKind.CORRECTION_REQUESTED,
                    telegram_id=manager,
                    subject=f"correction:{record.record_id}:{now.timestamp():.0f}",
                    payload={"record": record.record_id},
                    due_at=now,
                )
                for manager in await self._records.managers(record.organization_id)
            ]
        correction_id = await self._records.request_correction(
            record, telegram_id, proposed_minutes, reason, now, notify
        )
        if correction_id is None:
            raise RecordsRefused(RecordsRefusal.PENDING)
        log.info("correction %s requested on record %s", correction_id, record_id)
        return correction_id

    # -- deciding corrections --------------------------------------------------------------------

    async def correction_for(self, telegram_id: int, correction_id: int) -> Correction:
        """The correction, if this user may decide it (organizer of the recording unit)."""
        correction = await self._records.correction(correction_id)
        if correction is None or correction.organization_id is None:
            raise RecordsRefused(RecordsRefusal.NOT_YOURS)
        await self._staff.organization_for(telegram_id, correction.organization_id)
        return correction

    async def pending_corrections(self, telegram_id: int, organization_id: int) -> list[Correction]:
        await self._staff.organization_for(telegram_id, organization_id)
        return await self._records.pending_corrections(organization_id)

    async def decide(
        self, telegram_id: int, correction_id: int, approve: bool, reason: str | None
    ) -> Correction:
        correction = await self.correction_for(telegram_id, correction_id)
        if correction.status.value != "pending":
            raise RecordsRefused(RecordsRefusal.DECIDED)
        if reason is not None:
            reason = clean_free_text(reason, min_length=REASON_MIN, max_length=REASON_MAX)
        now = self.now()
        notify = []
        if correction.requested_by is not None:
            notify.append(
                Notification(
                    kind=NotificationKind.CORRECTION_DECIDED,
                    telegram_id=correction.requested_by,
                    subject=f"correction:{correction_id}",
                    payload={"correction": correction_id},
                    due_at=now,
                )
            )
        if not await self._records.decide(correction, approve, telegram_id, reason, now, notify):
            raise RecordsRefused(RecordsRefusal.DECIDED)
        log.info(
            "correction %s %s by %s",
            correction_id,
            "approved" if approve else "rejected",
            telegram_id,
        )
        decided = await self._records.correction(correction_id)
        assert decided is not None
        if approve:
            record = await self._records.record(decided.record_id)
            if record is not None:
                await self._recognised([record.volunteer_id])
        return decided

    async def _recognised(self, volunteer_ids: Collection[int]) -> None:
        if self._recognise is None or not volunteer_ids:
            return
        try:
            await self._recognise(volunteer_ids)
        except Exception:  # the hours are committed; the sweep settles what failed here
            log.warning(
                "points and stars for %d volunteers left to the sweep",
                len(volunteer_ids),
                exc_info=True,
            )

    async def correction(self, correction_id: int) -> Correction | None:
        """For rendering notifications (the recipient was decided when it was queued)."""
        return await self._records.correction(correction_id)

    async def record(self, record_id: int) -> ServiceRecord | None:
        return await self._records.record(record_id)

    async def record_of(self, activity_id: int, volunteer_id: int) -> ServiceRecord | None:
        return await self._records.record_of(activity_id, volunteer_id)
