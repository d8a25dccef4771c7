"""Managing published activities: lists, rosters, cancelling, closing sign-up early,
duplicating to another date and messaging the participants.

Every method first asks :class:`~bot.services.staff.StaffService` whether the user may act for
the organization or activity (``StaffRefused`` otherwise: a stale or forged press changes
nothing), then checks the activity's state inside the transaction that changes it.

```mermaid
stateDiagram-v2
    [*] --> open: published
    open --> closed: close sign-up early
    closed --> open: reopen (before the start)
    open --> cancelled: cancel with a reason → every sign-up ends, everyone is told
    closed --> cancelled: cancel with a reason
    open --> finished: the end passes
    closed --> finished: the end passes
    open --> copy: duplicate to another date (a new published activity, no sign-ups)
    finished --> copy
    cancelled --> copy
```

Which actions an activity offers (:func:`actions`) follows from that state: a finished or
cancelled activity keeps its roster and exports (and may be copied), nothing else.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.activities import (
    Activity,
    ActivityStatus,
    ActivityTab,
    EndReason,
    ManageDraft,
    NewActivity,
    Page,
    SignupStatus,
)
from bot.domain.dateparse import ParsedWhen, WhenError, check_range
from bot.domain.exports import RosterEntry, RosterPage
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.refusals import Refused
from bot.domain.validation import clean_free_text
from bot.i18n import N_
from bot.services.staff import StaffService
from storage.db import Database
from storage.outbox import OutboxRepository
from storage.rosters import EndedSignup, RostersRepository
from storage.signups import SignupsRepository

__all__ = [
    "Action",
    "ActivityManagementService",
    "Audience",
    "ManageRefusal",
    "ManageRefused",
    "actions",
    "clean_cancel_reason",
    "clean_message",
    "draft_stamp",
    "shown_cancel_reason",
]

log = logging.getLogger(__name__)

CANCEL_REASON_MIN = 4
CANCEL_REASON_MAX = 300
MESSAGE_MIN = 2
MESSAGE_MAX = 1000
LIST_PAGE_SIZE = 8
#: Rounds of "read the active sign-ups, end each from the state read" when cancelling an
#: activity; each round ends every row no other process changed meanwhile.
RACE_ROUNDS = 3
ROSTER_PAGE_SIZE = 20


class Action(StrEnum):
    EDIT = "edit"
    RECRUIT = "recruit"
    ROSTER = "roster"
    MESSAGE = "message"
    EXPORT = "export"
    DUPLICATE = "duplicate"
    CLOSE = "close"
    REOPEN = "reopen"
    CANCEL = "cancel"


class Audience(StrEnum):
    CONFIRMED = "confirmed"  # those holding a spot (confirmed, or offered one)
    EVERYONE = "everyone"  # and the waitlist


class ManageRefusal(StrEnum):
    NOT_NOW = "not_now"  # the activity's state does not allow it (any more)
    NOBODY = "nobody"  # a message with no one to receive it
    NO_DRAFT = "no_draft"  # the typed step is gone (sent already, or another step began)


class ManageRefused(Refused):
    def __init__(self, reason: ManageRefusal, activity: Activity | None = None) -> None:
        super().__init__(reason)
        self.reason: ManageRefusal = reason
        self.activity = activity


@dataclass(frozen=True)
class CancelReport:
    activity: Activity
    notified: int  # people told (deleted accounts have no one to tell)
    ended: int  # sign-ups ended


@dataclass(frozen=True)
class MessageReport:
    message_id: int
    queued: int
    batch_key: str


def actions(activity: Activity, now: datetime) -> list[Action]:
    """What the management card offers for this activity now."""
    found = [Action.ROSTER, Action.EXPORT, Action.DUPLICATE]
    if activity.status is not ActivityStatus.PUBLISHED or now >= activity.starts_at:
        return found  # cancelled, running or finished: the record, and a copy for next time
    found = [Action.EDIT, Action.RECRUIT, *found, Action.MESSAGE]
    if activity.signups_closed_at is not None:
        found.append(Action.REOPEN)
    elif now < activity.signup_closes_at:
        found.append(Action.CLOSE)
    found.append(Action.CANCEL)
    return found


def clean_cancel_reason(text: str) -> str:
    """A typed cancellation reason (one line, told to every participant)."""
    return clean_free_text(text, min_length=CANCEL_REASON_MIN, max_length=CANCEL_REASON_MAX)


def clean_message(text: str) -> str:
    """An organizer's message to participants (several lines allowed)."""
    return clean_free_text(text, min_length=MESSAGE_MIN, max_length=MESSAGE_MAX, multiline=True)


#: Preset cancellation reasons. The stored reason is the English message id, so that each
#: reader sees it in their own language (:func:`shown_cancel_reason`); a typed reason is stored
#: and shown as typed.
CANCEL_PRESETS: dict[str, str] = {
    "weather": N_("Bad weather"),
    "venue": N_("The venue is not available"),
    "few": N_("Too few volunteers signed up"),
    "host": N_("The host organization asked us to postpone"),
}
_PRESET_REASONS = frozenset(CANCEL_PRESETS.values())


def shown_cancel_reason(reason: str, gettext: Callable[[str], str]) -> str:
    """The stored cancellation reason in the reader's language (presets are translated)."""
    return gettext(reason) if reason in _PRESET_REASONS else reason


def draft_stamp(body: str | None, audience: str | None = None) -> int:
    """A fingerprint of typed text (and its audience), carried by the buttons drawn for it: a
    press from an older screen (the text was typed again since) no longer matches, so it is
    refused instead of acting on the newer text; the same text typed again still matches."""
    return zlib.crc32(f"{audience or ''}\n{body or ''}".encode())


def duplicate_times(
    source: Activity, parsed: ParsedWhen, now: datetime
) -> tuple[datetime, datetime] | WhenError:
    """The copy's start and end: as typed, or the source's duration when only a start was."""
    ends_at = parsed.ends_at or parsed.starts_at + (source.ends_at - source.starts_at)
    error = check_range(parsed.starts_at, ends_at, now)
    return error if error is not None else (parsed.starts_at, ends_at)


class ActivityManagementService:
    def __init__(
        self,
        db: Database,
        staff: StaffService,
        rosters: RostersRepository,
        signups: SignupsRepository,
        outbox: OutboxRepository,
        clock: Clock,
        tz: ZoneInfo,
    ) -> None:
        self._db = db
        self._staff = staff
        self._rosters = rosters
        self._signups = signups
        self._outbox = outbox
        self._clock = clock
        self.tz = tz

    def now(self) -> datetime:
        return self._clock()

    # -- reading ---------------------------------------------------------------------------------

    async def activities_of(
        self, telegram_id: int, organization_id: int, tab: ActivityTab, page: int
    ) -> Page:
        await self._staff.organization_for(telegram_id, organization_id)
        return await self._rosters.organization_activities(
            organization_id, tab, self.now(), page, LIST_PAGE_SIZE
        )

    async def activity(self, telegram_id: int, activity_id: int) -> Activity:
        """The activity, if this user may manage it (raises ``StaffRefused``)."""
        return await self._staff.activity_for(telegram_id, activity_id)

    async def roster(
        self, telegram_id: int, activity_id: int, page: int
    ) -> tuple[Activity, RosterPage]:
        activity = await self._staff.activity_for(telegram_id, activity_id)
        return activity, await self._rosters.roster(activity_id, page, ROSTER_PAGE_SIZE)

    async def roster_all(
        self, telegram_id: int, activity_id: int
    ) -> tuple[Activity, list[RosterEntry]]:
        activity = await self._staff.activity_for(telegram_id, activity_id)
        entries = await self._rosters.roster_all(activity_id)
        log.info(
            "user %s exported the roster of activity %s (%s lines)",
            telegram_id,
            activity_id,
            len(entries),
        )
        return activity, entries

    # -- cancelling ------------------------------------------------------------------------------

    async def cancel(self, telegram_id: int, activity_id: int, reason: str) -> CancelReport:
        """Cancel the activity: every confirmed, offered and waiting sign-up ends, the
        counters go to zero with them, and each person is told (same transaction)."""
        await self._staff.activity_for(telegram_id, activity_id)
        reason = clean_cancel_reason(reason)
        now = self.now()
        async with self._db.transaction() as tx:
            activity = await self._rosters.activity(tx, activity_id)
            if activity is None or activity.status is not ActivityStatus.PUBLISHED:
                raise ManageRefused(ManageRefusal.NOT_NOW, activity)
            if now >= activity.starts_at:
                raise ManageRefused(ManageRefusal.NOT_NOW, activity)
            # Decided by the statement (still published, not started): a co-organizer's
            # cancel or time edit in another process may have landed since the read above.
            if not await self._rosters.mark_cancelled(tx, activity_id, reason, now):
                raise ManageRefused(ManageRefusal.NOT_NOW, activity)
            counts = dict.fromkeys(SignupStatus, 0)
            notified = 0
            ended: list[EndedSignup] = []
            # Each sign-up ends only from the state read (end_if), and is counted by the state
            # it really left. Once the activity is cancelled no sign-up can start (every spot
            # or waitlist statement requires 'published'), but one read may have raced an
            # answer to an offer: those rows are read again, for a bounded number of rounds.
            for _ in range(RACE_ROUNDS):
                pending = await self._rosters.active_signups(tx, activity_id)
                if not pending:
                    break
                for signup in pending:
                    if not await self._signups.end_if(
                        tx, signup.signup_id, signup.previous, EndReason.ACTIVITY_CANCELLED, now
                    ):
                        continue
                    ended.append(signup)
                    counts[signup.previous] += 1
                    if signup.telegram_id is None:
                        continue
                    await self._outbox.enqueue(
                        tx,
                        Notification(
                            kind=NotificationKind.ACTIVITY_CANCELLED,
                            telegram_id=signup.telegram_id,
                            subject=f"activity:{activity_id}",
                            payload={"activity_id": activity_id, "signup_id": signup.signup_id},
                            due_at=now,
                            batch_key=f"cancel:{activity_id}",
                        ),
                        now,
                    )
                    notified += 1
            await self._signups.adjust_counts(
                tx,
                activity_id,
                confirmed=-counts[SignupStatus.CONFIRMED],
                offered=-counts[SignupStatus.OFFERED],
                waitlist=-counts[SignupStatus.WAITLISTED],
            )
            await self._rosters.drop_draft_in(tx, telegram_id)
            cancelled = await self._rosters.activity(tx, activity_id)
        assert cancelled is not None
        log.info(
            "user %s cancelled activity %s: %s sign-ups ended, %s people told",
            telegram_id,
            activity_id,
            len(ended),
            notified,
        )
        return CancelReport(cancelled, notified=notified, ended=len(ended))

    # -- closing sign-up early -------------------------------------------------------------------

    async def close_signups(self, telegram_id: int, activity_id: int) -> Activity:
        return await self._set_closed(telegram_id, activity_id, close=True)

    async def reopen_signups(self, telegram_id: int, activity_id: int) -> Activity:
        """Reopen (before the start). A spot free while people wait is offered by the
        waitlist sweep on its next run, as after any other change."""
        return await self._set_closed(telegram_id, activity_id, close=False)

    async def _set_closed(self, telegram_id: int, activity_id: int, *, close: bool) -> Activity:
        await self._staff.activity_for(telegram_id, activity_id)
        now = self.now()
        async with self._db.transaction() as tx:
            activity = await self._rosters.activity(tx, activity_id)
            if activity is None:
                raise ManageRefused(ManageRefusal.NOT_NOW)
            wanted = Action.CLOSE if close else Action.REOPEN
            if wanted not in actions(activity, now):
                raise ManageRefused(ManageRefusal.NOT_NOW, activity)
            # The statement re-checks the state the actions were computed from.
            if not await self._rosters.set_closed(tx, activity_id, now if close else None, now):
                raise ManageRefused(ManageRefusal.NOT_NOW, activity)
            changed = await self._rosters.activity(tx, activity_id)
        assert changed is not None
        log.info(
            "user %s %s sign-up for activity %s",
            telegram_id,
            "closed" if close else "reopened",
            activity_id,
        )
        return changed

    # -- duplicating -----------------------------------------------------------------------------

    async def duplicate(
        self, telegram_id: int, activity_id: int, parsed: ParsedWhen
    ) -> Activity | WhenError:
        """A published copy at the new time (``parsed``, from :func:`parse_when`): the same
        fields, no sign-ups. A time that breaks the publishing rules is returned as the
        :class:`WhenError` to show."""
        source = await self._staff.activity_for(telegram_id, activity_id)
        now = self.now()
        times = duplicate_times(source, parsed, now)
        if isinstance(times, WhenError):
            return times
        starts_at, ends_at = times
        shift = starts_at - source.starts_at
        deadline = source.signup_deadline + shift if source.signup_deadline else None
        if deadline is not None and deadline <= now:
            deadline = None  # the source's deadline offset would already have passed
        new = NewActivity(
            organization_id=source.organization_id,
            title=source.title,
            category_code=source.category_code,
            description=source.description,
            starts_at=starts_at,
            ends_at=ends_at,
            place=source.place,
            area_code=source.area_code,
            latitude=source.latitude,
            longitude=source.longitude,
            capacity=source.capacity,
            required_skills=source.required_skills,
            training_required=source.training_required,
            adults_only=source.adults_only,
            people_served=source.people_served,
            signup_deadline=deadline,
            # A key-date tag belongs to a date: it is kept only when the copy falls on the
            # same day of the year (the next 12·5); otherwise the copy is untagged.
            key_date=source.key_date if _same_day(source, starts_at, self.tz) else None,
            leader_name=source.leader_name,
            status=ActivityStatus.PUBLISHED,
            created_by=telegram_id,
            is_volunteering=source.is_volunteering,
            grants_qualification_id=(
                source.grants_qualification.qualification_id
                if source.grants_qualification
                else None
            ),
            requires_qualification_id=(
                source.requires_qualification.qualification_id
                if source.requires_qualification
                else None
            ),
        )
        async with self._db.transaction() as tx:
            new_id = await self._rosters.copy(tx, new, now)
            await self._rosters.drop_draft_in(tx, telegram_id)
            copy = await self._rosters.activity(tx, new_id)
        assert copy is not None
        log.info("user %s duplicated activity %s as %s", telegram_id, activity_id, new_id)
        return copy

    # -- messaging participants ------------------------------------------------------------------

    async def audience_sizes(self, telegram_id: int, activity_id: int) -> dict[Audience, int]:
        await self._staff.activity_for(telegram_id, activity_id)
        return {
            Audience.CONFIRMED: await self._rosters.count_recipients(activity_id, waitlist=False),
            Audience.EVERYONE: await self._rosters.count_recipients(activity_id, waitlist=True),
        }

    async def send_message(
        self, telegram_id: int, activity_id: int, stamp: int | None = None
    ) -> MessageReport:
        """Send the message drafted for this activity to its audience (one outbox row each,
        one batch), and forget the draft. A second press finds no draft: nothing is sent
        twice. With ``stamp`` (:func:`draft_stamp` of the previewed text and audience), a
        draft rewritten since the preview is not sent either."""
        await self._staff.activity_for(telegram_id, activity_id)
        draft = await self._rosters.draft(telegram_id)
        if (
            draft is None
            or draft.action != "message"
            or draft.activity_id != activity_id
            or not draft.body
            or draft.audience is None
            or (stamp is not None and stamp != draft_stamp(draft.body, draft.audience))
        ):
            raise ManageRefused(ManageRefusal.NO_DRAFT)
        body = clean_message(draft.body)
        audience = Audience(draft.audience)
        now = self.now()
        async with self._db.transaction() as tx:
            activity = await self._rosters.activity(tx, activity_id)
            if activity is None or Action.MESSAGE not in actions(activity, now):
                raise ManageRefused(ManageRefusal.NOT_NOW, activity)
            recipients = await self._rosters.recipients(
                tx, activity_id, waitlist=audience is Audience.EVERYONE
            )
            if not recipients:
                raise ManageRefused(ManageRefusal.NOBODY, activity)
            message_id = await self._rosters.add_message(
                tx, activity_id, telegram_id, audience.value, body, len(recipients), now
            )
            batch = f"orgmsg:{activity_id}:{message_id}"
            for recipient in recipients:
                await self._outbox.enqueue(
                    tx,
                    Notification(
                        kind=NotificationKind.ORGANIZER_MESSAGE,
                        telegram_id=recipient,
                        subject=f"orgmsg:{message_id}",
                        payload={"message_id": message_id, "activity_id": activity_id},
                        due_at=now,
                        batch_key=batch,
                    ),
                    now,
                )
            await self._rosters.drop_draft_in(tx, telegram_id)
        log.info(
            "user %s messaged %s participants of activity %s (message %s)",
            telegram_id,
            len(recipients),
            activity_id,
            message_id,
        )
        return MessageReport(message_id, len(recipients), batch)

    async def message_for(self, telegram_id: int, message_id: int) -> tuple[Activity, str] | None:
        """What a participant receives, or ``None`` when stale: the message is gone or the
        recipient no longer has a sign-up for the activity."""
        found = await self._rosters.message(message_id)
        if found is None:
            return None
        activity_id, body = found
        if not await self._rosters.has_active_signup(activity_id, telegram_id):
            return None
        activity = await self._rosters.get_activity(activity_id)
        return (activity, body) if activity is not None else None

    # -- half-typed steps ------------------------------------------------------------------------

    async def begin(self, telegram_id: int, action: str, activity_id: int) -> Activity:
        """Start typing something for an activity (authorized); replaces any earlier step."""
        activity = await self._staff.activity_for(telegram_id, activity_id)
        await self._rosters.save_draft(
            ManageDraft(telegram_id, action, activity_id, None, None), self.now()
        )
        return activity

    async def draft(self, telegram_id: int) -> ManageDraft | None:
        return await self._rosters.draft(telegram_id)

    async def save_draft(self, draft: ManageDraft) -> None:
        await self._staff.activity_for(draft.telegram_id, draft.activity_id)
        await self._rosters.save_draft(draft, self.now())

    async def drop_draft(self, telegram_id: int) -> None:
        await self._rosters.drop_draft(telegram_id)


def _same_day(source: Activity, starts_at: datetime, tz: ZoneInfo) -> bool:
    before = source.starts_at.astimezone(tz)
    after = starts_at.astimezone(tz)
    return (before.month, before.day) == (after.month, after.day)
