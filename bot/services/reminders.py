"""Event reminders: planned as outbox rows when a sign-up is confirmed, checked again at send time.

```mermaid
stateDiagram-v2
    [*] --> planned: sign-up confirmed (one outbox row per offset still ahead)
    planned --> sent: due, sign-up still confirmed, same start time, not started, opted in
    planned --> dropped: stale at send time (cancelled, moved, started, opted out)
    sent --> asked: longest offset → "Still coming?" (still_coming_asked_at)
    asked --> yes: ✅ Yes
    asked --> no: 🙅 No → sign-up cancelled, spot offered to the waitlist
    asked --> no_answer: nothing pressed (the roster flags it)
```

Planning (:meth:`ReminderService.plan_signup`) runs inside the transaction that confirms a
sign-up (:class:`bot.services.signups.SignupService`): one ``REMINDER`` row per configured offset
(``REMINDER_OFFSETS``, longest first) whose due time ``starts_at - offset`` is still ahead, so a
late sign-up gets only the reminders still to come. The row's subject is
``signup:<id>:<offset seconds>s:<start time>``: planning twice stores nothing new, and a new
start time (:meth:`ReminderService.replan_activity`, called when an activity is moved) gives new
rows while the old ones are dropped as stale when they come due (their payload names the old
start time).

The volunteer's ``notify_reminders`` opt-out is decided at **send time**, not at planning: a
volunteer who switches reminders off (or back on) after signing up is obeyed for reminders
already planned, and no row needs rewriting when the setting changes.

Reminders are time-critical (:attr:`NotificationKind.is_time_critical`): they ignore quiet hours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.clock import Clock
from bot.domain.activities import ActivityStatus, SignupStatus
from bot.domain.notifications import Notification, NotificationKind, OutboxItem
from storage.db import Transaction
from storage.outbox import OutboxRepository
from storage.reminders import RemindersRepository, RosterAnswer

log = logging.getLogger(__name__)

__all__ = [
    "DueReminder",
    "ReminderService",
    "StillComing",
    "reminder_subject",
    "still_coming_state",
]


class StillComing(StrEnum):
    """What the roster shows for a confirmed sign-up."""

    YES = "yes"
    NO = "no"  # answered No after the cancel cut-off: still confirmed, but not coming
    NO_ANSWER = "no_answer"  # asked, nothing pressed
    NOT_ASKED = "not_asked"  # the question has not gone out (yet), or signed up after it


def still_coming_state(answer: str | None, asked_at: datetime | None) -> StillComing:
    if answer == "yes":
        return StillComing.YES
    if answer == "no":
        return StillComing.NO
    return StillComing.NO_ANSWER if asked_at is not None else StillComing.NOT_ASKED


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def reminder_subject(signup_id: int, offset: timedelta, starts_at: datetime) -> str:
    """The dedup subject: one reminder per sign-up, offset and start time."""
    return f"signup:{signup_id}:{int(offset.total_seconds())}s:{_stamp(starts_at)}"


@dataclass(frozen=True)
class DueReminder:
    """A reminder that is still worth sending."""

    signup_id: int
    activity_id: int
    offset: timedelta
    asks: bool  # the longest offset's reminder asks "Still coming?"


class ReminderService:
    def __init__(
        self,
        reminders: RemindersRepository,
        outbox: OutboxRepository,
        clock: Clock,
        offsets: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2)),
    ) -> None:
        if not offsets or any(offset <= timedelta(0) for offset in offsets):
            raise ValueError("reminder offsets must be positive")
        self._repo = reminders
        self._outbox = outbox
        self._clock = clock
        self.offsets = tuple(sorted(set(offsets), reverse=True))

    # -- planning (inside the caller's transaction) ----------------------------------------------

    async def plan_signup(self, tx: Transaction, signup_id: int, now: datetime) -> int:
        """Queue the reminders still ahead for one confirmed sign-up; returns how many new rows
        were stored (0 when already planned, not confirmed, or all due times passed)."""
        target = await self._repo.target_in(tx, signup_id)
        if (
            target is None
            or target.status is not SignupStatus.CONFIRMED
            or target.telegram_id is None
            or target.activity_status is not ActivityStatus.PUBLISHED
        ):
            return 0
        planned = 0
        for index, offset in enumerate(self.offsets):
            due_at = target.starts_at - offset
            if due_at <= now:
                continue  # a late sign-up gets only the reminders still ahead
            stored = await self._outbox.enqueue(
                tx,
                Notification(
                    kind=NotificationKind.REMINDER,
                    telegram_id=target.telegram_id,
                    subject=reminder_subject(signup_id, offset, target.starts_at),
                    payload={
                        "signup_id": signup_id,
                        "activity_id": target.activity_id,
                        "offset": int(offset.total_seconds()),
                        "starts_at": _stamp(target.starts_at),
                        "ask": int(index == 0),
                    },
                    due_at=due_at,
                ),
                now,
            )
            planned += int(stored)
        return planned

    async def replan_activity(self, tx: Transaction, activity_id: int, now: datetime) -> int:
        """Plan the reminders of every confirmed sign-up for the activity's current start time
        (after a time change); returns how many new rows were stored. Rows for an older start
        time stay and are dropped as stale at send time. Every confirmed sign-up has its
        "Still coming?" answer reset, even when no reminder is still ahead: the answer was about
        the old time. Callers call this only when the start time really changed."""
        total = 0
        for signup_id in await self._repo.confirmed_signup_ids(tx, activity_id):
            total += await self.plan_signup(tx, signup_id, now)
            await self._repo.reset_answer(tx, signup_id)
        if total:
            log.info("re-planned %s reminders for activity %s", total, activity_id)
        return total

    @staticmethod
    async def record_answer(tx: Transaction, signup_id: int, coming: bool) -> bool:
        """``False`` when the sign-up is no longer confirmed (the answer is not recorded)."""
        return await RemindersRepository.set_answer(tx, signup_id, "yes" if coming else "no")

    @staticmethod
    async def reset_answer(tx: Transaction, signup_id: int) -> None:
        await RemindersRepository.reset_answer(tx, signup_id)

    # -- sending ---------------------------------------------------------------------------------

    async def due(self, item: OutboxItem) -> DueReminder | None:
        """The reminder behind an outbox row if it is still worth sending, else ``None`` (the
        sign-up is no longer confirmed, the activity was cancelled, moved or has started, the
        account is gone, or the volunteer switched reminders off)."""
        payload = item.payload
        signup_id, offset, starts = (
            payload.get("signup_id"),
            payload.get("offset"),
            payload.get("starts_at"),
        )
        if not isinstance(signup_id, int) or not isinstance(offset, int):
            return None
        if not isinstance(starts, str):
            return None
        try:
            planned_start = datetime.fromisoformat(starts)
        except ValueError:
            return None
        target = await self._repo.target(signup_id)
        now = self._clock()
        if (
            target is None
            or target.telegram_id != item.telegram_id
            or target.status is not SignupStatus.CONFIRMED
            or target.activity_status is not ActivityStatus.PUBLISHED
            or now >= target.starts_at
            or target.starts_at != planned_start
        ):
            return None
        if not target.notify_reminders:
            log.debug("reminder for sign-up %s not sent: reminders switched off", signup_id)
            return None
        return DueReminder(
            signup_id=signup_id,
            activity_id=target.activity_id,
            offset=timedelta(seconds=offset),
            asks=bool(payload.get("ask")),
        )

    async def mark_asked(self, signup_id: int) -> None:
        """ "Still coming?" is going out now (the roster's "no answer" counts from here)."""
        await self._repo.mark_asked(signup_id, self._clock())

    # -- the roster ------------------------------------------------------------------------------

    async def roster_answers(self, activity_id: int) -> dict[int, StillComing]:
        """Per confirmed sign-up id of the activity: yes / no / no answer / not asked."""
        answers: list[RosterAnswer] = await self._repo.roster_answers(activity_id)
        return {
            answer.signup_id: still_coming_state(answer.still_coming, answer.asked_at)
            for answer in answers
        }
