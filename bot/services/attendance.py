"""Check-in and check-out, hand marks and walk-ins: who came to an activity.

```mermaid
flowchart LR
    org[Organizer: 📲 Check-in] -->|open_display| display[Code + QR, rotates every 30 s]
    display -->|typed code / scanned link| checkin{window open? code fresh?}
    checkin -->|yes| present[attendance: present or late]
    checkin -->|old code| expired[Refused: expired]
    present -->|optional location| distance[distance to the pin stored]
    display -->|switch to check-out| out[Check-out codes]
    out -->|typed / scanned| checkedout[checked out]
    org -->|"All out at 11:00"| checkedout
    org -->|hand mark + reason / walk-in| present
```

Every organizer action is re-authorized here (organizer of the activity's organization, or an
administrator, through :class:`~bot.services.staff.StaffService`); volunteers are identified by
their own Telegram id, never by anything in a button. Codes carry no state (see
:mod:`bot.domain.checkin`), so any process can check them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.config import Settings
from bot.domain.checkin import (
    CheckinWindow,
    CheckMethod,
    CheckMode,
    CodeMatch,
    match_code,
    match_link_token,
    new_secret,
)
from bot.domain.geo import Point, distance_km
from bot.domain.hours import AttendanceMark
from bot.domain.service_records import (
    AttendanceEntry,
    CheckinDisplay,
    RecordingActivity,
    RecordsRefusal,
    RecordsRefused,
)
from bot.domain.validation import InvalidInput, clean_free_text, normalize_phone
from bot.services.staff import StaffService
from storage.attendance import AttendanceRepository

log = logging.getLogger(__name__)

REASON_MAX = 100
#: Hand marks' quick reasons (the stored reason is the code; shown translated).
MARK_REASONS = ("no_phone", "code_failed", "seen_on_site", "told_us", "did_not_come")


@dataclass(frozen=True)
class CheckResult:
    activity: RecordingActivity
    mode: CheckMode
    first_time: bool  # False: already checked in/out (the earlier time stands)
    at: datetime | None
    walk_in: bool = False
    late: bool = False


class AttendanceService:
    def __init__(
        self,
        attendance: AttendanceRepository,
        staff: StaffService,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._attendance = attendance
        self._staff = staff
        self._clock = clock
        self._settings = settings

    def now(self) -> datetime:
        return self._clock()

    def window(self, activity: RecordingActivity) -> CheckinWindow:
        return CheckinWindow.around(
            activity.starts_at,
            activity.ends_at,
            before=self._settings.checkin_opens_before,
            after=self._settings.checkin_closes_after,
            credit_until=activity.credit_until,
        )

    # -- organizers ------------------------------------------------------------------------------

    async def activity_for(self, telegram_id: int, activity_id: int) -> RecordingActivity:
        """The activity, if this user may manage it (raises ``StaffRefused``)."""
        await self._staff.activity_for(telegram_id, activity_id)
        activity = await self._attendance.recording_activity(activity_id)
        if activity is None:  # pragma: no cover - the staff check read it a moment ago
            raise RecordsRefused(RecordsRefusal.CANCELLED)
        return activity

    async def open_display(
        self, telegram_id: int, activity_id: int, mode: CheckMode
    ) -> tuple[RecordingActivity, CheckinDisplay]:
        activity = await self.activity_for(telegram_id, activity_id)
        self._check_window(activity)
        existing = await self._attendance.display(activity_id)
        secret = existing.secret if existing is not None else new_secret()
        display = await self._attendance.open_display(
            activity_id, mode, secret, telegram_id, self.now()
        )
        log.info("check-in display %s opened (%s) by %s", activity_id, mode, telegram_id)
        return activity, display

    async def place_display(
        self, activity_id: int, chat_id: int, message_id: int, step: int
    ) -> None:
        await self._attendance.place_display(activity_id, chat_id, message_id, step)

    async def close_display(self, telegram_id: int, activity_id: int) -> RecordingActivity:
        activity = await self.activity_for(telegram_id, activity_id)
        await self._attendance.close_display(activity_id, self.now())
        return activity

    async def display(self, activity_id: int) -> CheckinDisplay | None:
        return await self._attendance.display(activity_id)

    async def open_displays(self) -> list[CheckinDisplay]:
        return await self._attendance.open_displays()

    async def claim_rotation(self, activity_id: int, step: int) -> bool:
        return await self._attendance.claim_rotation(activity_id, step)

    async def expire_display(self, activity_id: int) -> None:
        await self._attendance.close_display(activity_id, self.now())

    async def recording_activity(self, activity_id: int) -> RecordingActivity | None:
        return await self._attendance.recording_activity(activity_id)

    async def counts(self, activity_id: int) -> tuple[int, int]:
        return await self._attendance.counts(activity_id)

    async def entries(
        self, telegram_id: int, activity_id: int
    ) -> tuple[RecordingActivity, list[AttendanceEntry]]:
        activity = await self.activity_for(telegram_id, activity_id)
        return activity, await self._attendance.entries(activity_id)

    async def no_show_counts(self, entries: list[AttendanceEntry]) -> dict[int, int]:
        """Recent no-shows of the people listed, for the organizer (a signal, not a ban)."""
        since = self.now() - self._settings.no_show_window
        return await self._attendance.no_show_counts([e.volunteer_id for e in entries], since)

    async def entry(
        self, telegram_id: int, activity_id: int, volunteer_id: int
    ) -> tuple[RecordingActivity, AttendanceEntry]:
        activity = await self.activity_for(telegram_id, activity_id)
        entry = await self._attendance.entry(activity_id, volunteer_id)
        if entry is None:
            # Not on this activity's list: a forged or very stale press.
            raise RecordsRefused(RecordsRefusal.NOT_YOURS)
        return activity, entry

    async def mark(
        self,
        telegram_id: int,
        activity_id: int,
        volunteer_id: int,
        mark: AttendanceMark,
        reason: str,
    ) -> AttendanceEntry:
        activity, _entry = await self.entry(telegram_id, activity_id, volunteer_id)
        self._check_changeable(activity)
        reason = clean_free_text(reason, min_length=1, max_length=REASON_MAX)
        if not await self._attendance.mark(
            activity_id,
            volunteer_id,
            mark,
            walk_in=False,
            by=telegram_id,
            reason=reason,
            now=self.now(),
        ):
            raise RecordsRefused(RecordsRefusal.ALREADY_CONFIRMED)
        entry = await self._attendance.entry(activity_id, volunteer_id)
        assert entry is not None
        return entry

    async def find_volunteer(self, text: str) -> int | None:
        """``13800138000`` / ``+86 138…`` (mobile), ``@name`` or ``#12`` (volunteer number)."""
        text = text.strip()
        if text.startswith("@") and 2 <= len(text) <= 33:
            return await self._attendance.find_volunteer(username=text[1:])
        if text.startswith("#") and text[1:].isdigit() and len(text) <= 12:
            return await self._attendance.find_volunteer(volunteer_id=int(text[1:]))
        try:
            phone = normalize_phone(text)
        except InvalidInput:
            return None
        return await self._attendance.find_volunteer(phone=phone)

    async def add_walk_in(
        self, telegram_id: int, activity_id: int, who: str, reason: str
    ) -> AttendanceEntry:
        """A registered volunteer who came without signing up, found by mobile number,
        @username or volunteer number."""
        activity = await self.activity_for(telegram_id, activity_id)
        self._check_changeable(activity)
        volunteer_id = await self.find_volunteer(who)
        if volunteer_id is None:
            raise RecordsRefused(RecordsRefusal.NO_SUCH_VOLUNTEER)
        now = self.now()
        await self._attendance.mark(
            activity_id,
            volunteer_id,
            AttendanceMark.PRESENT,
            walk_in=True,
            by=telegram_id,
            reason=reason,
            now=now,
            # Added on site: they arrived now (or at the start, if added before it).
            arrived_at=max(now, activity.starts_at),
        )
        entry = await self._attendance.entry(activity_id, volunteer_id)
        assert entry is not None
        return entry

    async def all_out(self, telegram_id: int, activity_id: int, at: datetime) -> int:
        activity = await self.activity_for(telegram_id, activity_id)
        self._check_changeable(activity)
        return await self._attendance.all_out(activity_id, at, telegram_id, self.now())

    # -- volunteers ------------------------------------------------------------------------------

    async def check_by_link(self, telegram_id: int, activity_id: int, token: str) -> CheckResult:
        display = await self._attendance.display(activity_id)
        if display is None or display.closed_at is not None:
            raise RecordsRefused(RecordsRefusal.NO_CHECKIN)
        now = self.now()
        for mode in (display.mode, *(m for m in CheckMode if m is not display.mode)):
            found = match_link_token(display.secret, mode, token, now)
            if found is CodeMatch.VALID and mode is display.mode:
                return await self._check(telegram_id, activity_id, mode, CheckMethod.LINK)
            if found is not CodeMatch.WRONG:
                raise RecordsRefused(RecordsRefusal.EXPIRED_CODE)
        raise RecordsRefused(RecordsRefusal.WRONG_CODE)

    async def check_by_code(self, telegram_id: int, code: str) -> CheckResult:
        """A typed code: which open display shows it now? (Few are open at once.)"""
        now = self.now()
        expired = False
        for display in await self._attendance.open_displays():
            found = match_code(display.secret, display.mode, code, now)
            if found is CodeMatch.VALID:
                return await self._check(
                    telegram_id, display.activity_id, display.mode, CheckMethod.CODE
                )
            expired = expired or found is CodeMatch.EXPIRED
        raise RecordsRefused(RecordsRefusal.EXPIRED_CODE if expired else RecordsRefusal.WRONG_CODE)

    async def _check(
        self, telegram_id: int, activity_id: int, mode: CheckMode, method: CheckMethod
    ) -> CheckResult:
        volunteer_id = await self._attendance.volunteer_id_of(telegram_id)
        if volunteer_id is None:
            raise RecordsRefused(RecordsRefusal.NOT_VOLUNTEER)
        activity = await self._attendance.recording_activity(activity_id)
        if activity is None or activity.cancelled:
            raise RecordsRefused(RecordsRefusal.CANCELLED)
        self._check_window(activity)
        self._check_changeable(activity)
        now = self.now()
        if mode is CheckMode.IN:
            arrival = await self._attendance.arrival(activity_id, volunteer_id)
            late = arrival.late(now, activity.starts_at)
            first, at = await self._attendance.check_in(
                activity_id, volunteer_id, method, late=late, walk_in=arrival.walk_in, now=now
            )
            log.info(
                "check-in %s volunteer %s (%s, first=%s)", activity_id, volunteer_id, method, first
            )
            return CheckResult(activity, mode, first, at, walk_in=arrival.walk_in, late=late)
        first, was_in = await self._attendance.check_out(activity_id, volunteer_id, method, now)
        if not was_in:
            raise RecordsRefused(RecordsRefusal.NOT_CHECKED_IN)
        entry = await self._attendance.entry(activity_id, volunteer_id)
        at = entry.checked_out_at if entry is not None else None
        return CheckResult(activity, mode, first, at)

    async def share_location(
        self, telegram_id: int, activity_id: int, where: Point
    ) -> tuple[int, bool] | None:
        """Store the distance to the pin; (metres, far?) or ``None`` when the activity has no
        pin or the volunteer is not checked in."""
        volunteer_id = await self._attendance.volunteer_id_of(telegram_id)
        activity = await self._attendance.recording_activity(activity_id)
        if volunteer_id is None or activity is None:
            return None
        if activity.latitude is None or activity.longitude is None:
            return None
        metres = round(distance_km(where, Point(activity.latitude, activity.longitude)) * 1000)
        if not await self._attendance.record_distance(activity_id, volunteer_id, metres):
            return None
        return metres, metres > self._settings.checkin_far_metres

    # -- rules -----------------------------------------------------------------------------------

    def _check_window(self, activity: RecordingActivity) -> None:
        if activity.cancelled:
            raise RecordsRefused(RecordsRefusal.CANCELLED)
        window = self.window(activity)
        now = self.now()
        if now < window.opens:
            raise RecordsRefused(RecordsRefusal.WINDOW_NOT_OPEN, when=window.opens)
        if now > window.closes:
            raise RecordsRefused(RecordsRefusal.WINDOW_CLOSED, when=window.closes)

    @staticmethod
    def _check_changeable(activity: RecordingActivity) -> None:
        if activity.hours_confirmed_at is not None:
            raise RecordsRefused(RecordsRefusal.ALREADY_CONFIRMED)
