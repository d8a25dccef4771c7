"""Signing up for activities: the rules, the waitlist and its offers.

Every action is one database transaction: the sign-up row, the activity's counters and the
notifications it causes (a waitlist offer) are committed together or not at all. Capacity is
taken with one conditional ``UPDATE`` (see :mod:`storage.signups`), so concurrent presses for
the last spot never overbook, and a repeated press is answered from the stored state.

```mermaid
stateDiagram-v2
    [*] --> confirmed: sign up (spot free)
    [*] --> waitlisted: join waitlist (full)
    waitlisted --> offered: a spot frees (first in line)
    offered --> confirmed: accept before the deadline
    offered --> cancelled: decline / deadline passes → next in line is offered
    confirmed --> cancelled: cancel (until the cut-off) → next in line is offered
    confirmed --> cancelled: "Still coming?" No (until the cut-off) → next in line is offered
    waitlisted --> cancelled: leave the waitlist
    cancelled --> confirmed: sign up again
    cancelled --> waitlisted: join again
```

The rules, in the order they are checked:

1. A volunteer profile is required, and a paused volunteer resumes first.
2. The activity exists and is published, not cancelled, not started, and sign-up has not
   closed (organizer deadline or early close).
3. Skill- and training-gated activities need every required skill; an activity requiring a
   qualification (民政部令第67号 Art. 8, 先培训再上岗) admits only its holders, and the refusal
   names the training and its next session; adults-only ones refuse minors.
4. No time clash with another confirmed sign-up of the volunteer.
5. A free spot is taken atomically; when none is free (or others are already waiting, who come
   first), the volunteer may join the waitlist instead.

Waitlist offers: when a spot frees, it is held for the first in line who holds what the
activity requires (someone who joined the waitlist before a training was required waits, but is
never offered a spot), who gets an offer with a
deadline of ``offer_window`` (12 h by default), or half the time left before sign-up closes when
that is sooner. Declining, or letting the deadline pass, hands the spot to the next in line.

Reminders: every path that confirms a sign-up (signing up, accepting an offer) plans its
reminders in the same transaction (:class:`bot.services.reminders.ReminderService`).

Several processes: the checks read inside a transaction give the answer a volunteer sees, but
the decision is the guarded statement that follows (see :mod:`storage.signups`). When one of
them finds that another process changed the row first, the transaction is rolled back and the
action runs again from a fresh read (:class:`_Raced`, at most :data:`RACE_ATTEMPTS` times), so
the volunteer is answered from the state that won, never from the one that lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.activities import (
    Activity,
    ActivityStatus,
    EndReason,
    MySignup,
    QualificationRef,
    Signup,
    SignupStatus,
)
from bot.domain.geo import Point, bounding_box
from bot.domain.matching import Match, missing_skills, rank
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.refusals import Refused
from bot.domain.volunteers import VolunteerProfile
from bot.services.reminders import ReminderService
from storage.activities import ActivitiesRepository
from storage.attendance import AttendanceRepository
from storage.db import Database, Transaction
from storage.outbox import OutboxRepository
from storage.qualifications import QualificationsRepository
from storage.signups import SignupsRepository
from storage.volunteers import VolunteersRepository

log = logging.getLogger(__name__)

MAX_CANCEL_NOTE_LENGTH = 200

#: Fresh reads an action gets after losing a race to another process (see :class:`_Raced`).
#: Each loss means another transaction committed a change to the same sign-up or activity, so a
#: few rounds settle any realistic contention; after the last one the action is refused.
RACE_ATTEMPTS = 3

_T = TypeVar("_T")


@dataclass(frozen=True)
class SignupPolicy:
    cancel_cutoff: timedelta = timedelta(hours=2)
    offer_window: timedelta = timedelta(hours=12)
    # "For you": how far ahead to look, and how many candidates to score.
    match_horizon: timedelta = timedelta(days=60)
    # Scoring is Python: 120 candidates, all joinable (the query leaves out the rest), keep
    # "For you" near 4 ms at city size (bench.menu; 200 unfiltered took 8 ms).
    match_candidates: int = 120
    near_radius_km: float = 10.0
    # No-shows (signed up, never came, not excused) within the window after which each new
    # sign-up needs an explicit "I will come" — gentler than blocking (issue #16).
    no_show_limit: int = 3
    no_show_window: timedelta = timedelta(days=90)


class Refusal(StrEnum):
    NO_PROFILE = "no_profile"
    PAUSED = "paused"
    NOT_FOUND = "not_found"  # no such activity, or not published (a draft)
    CANCELLED = "cancelled"
    STARTED = "started"
    CLOSED = "closed"  # organizer's deadline passed or sign-up closed early
    MISSING_SKILLS = "missing_skills"
    ADULTS_ONLY = "adults_only"
    CLASH = "clash"
    FULL = "full"
    NOT_SIGNED_UP = "not_signed_up"
    CANCEL_CUTOFF = "cancel_cutoff"
    OFFER_GONE = "offer_gone"  # answered, expired or never made
    NOT_YOURS = "not_yours"  # a forged press on someone else's sign-up
    NO_QUALIFICATION = "no_qualification"  # requires a training the volunteer has not done
    PROMISE_NEEDED = "promise_needed"  # several no-shows lately: confirm you will come


class SignupRefused(Refused):
    def __init__(
        self,
        reason: Refusal,
        *,
        activity: Activity | None = None,
        other: Activity | None = None,
        missing: tuple[str, ...] = (),
        qualification: QualificationRef | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason: Refusal = reason
        self.activity = activity
        self.other = other  # the clashing activity
        self.missing = missing  # required skills the volunteer lacks
        self.qualification = qualification  # the required one the volunteer lacks
        #: The next session of that training (filled after the transaction), if one is planned.
        self.next_session: Activity | None = None
        #: No-shows in the policy's window (``PROMISE_NEEDED``).
        self.no_shows = 0


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    ALREADY_CONFIRMED = "already_confirmed"
    ALREADY_WAITLISTED = "already_waitlisted"
    ALREADY_OFFERED = "already_offered"


@dataclass(frozen=True)
class SignupResult:
    outcome: Outcome
    signup: Signup
    activity: Activity
    position: int | None = None  # on the waitlist


class StillComingOutcome(StrEnum):
    COMING = "coming"  # Yes: recorded
    CANCELLED = "cancelled"  # No: sign-up cancelled, the spot offered to the waitlist
    TOO_LATE = "too_late"  # No past the cancel cut-off: recorded, sign-up kept


@dataclass(frozen=True)
class StillComingResult:
    outcome: StillComingOutcome
    signup: Signup
    activity: Activity


@dataclass(frozen=True)
class Cancelled:
    previous: SignupStatus  # what was cancelled: a sign-up, a waitlist place or an offer
    signup: Signup


@dataclass(frozen=True)
class Viewer:
    """What the detail card needs to know about the person looking at it."""

    profile: VolunteerProfile | None
    signup: Signup | None = None
    position: int | None = None
    missing_skills: tuple[str, ...] = ()
    too_young: bool = False
    paused: bool = False
    #: The qualification the activity requires and this viewer does not hold (Art. 8).
    missing_qualification: QualificationRef | None = None
    #: The next session of the required training, for a viewer who does not hold it.
    next_training: Activity | None = None

    @property
    def active_signup(self) -> Signup | None:
        return self.signup if self.signup is not None and self.signup.is_active else None


@dataclass
class SweepReport:
    expired: int = 0
    offered: int = 0


class _Raced(Exception):
    """A guarded statement changed nothing: another transaction changed the row first.

    Raised inside the transaction, so everything it did is rolled back; the action then runs
    again from a fresh read. ``refusal`` is what the volunteer hears if it keeps losing."""

    def __init__(self, refusal: Refusal, activity: Activity | None = None) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal
        self.activity = activity


async def _settled(db: Database, action: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``action`` (one transaction) again while it loses races, at most
    :data:`RACE_ATTEMPTS` times; each try is also run again when PostgreSQL aborts it for a
    deadlock or serialization conflict (:meth:`storage.db.Database.retrying`)."""
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            return await db.retrying(action)
        except _Raced as raced:
            if attempt == RACE_ATTEMPTS:
                raise SignupRefused(raced.refusal, activity=raced.activity) from None
            log.info("sign-up action lost a race (%s); reading again", raced.refusal.value)
    raise AssertionError("unreachable")  # pragma: no cover


def offer_deadline(now: datetime, closes_at: datetime, window: timedelta) -> datetime:
    """Deadline of a waitlist offer: ``window`` from now, or half the time left before sign-up
    closes when that is sooner (an activity tomorrow morning cannot wait 12 hours)."""
    return min(now + window, now + (closes_at - now) / 2)


class SignupService:
    def __init__(
        self,
        db: Database,
        volunteers: VolunteersRepository,
        activities: ActivitiesRepository,
        signups: SignupsRepository,
        outbox: OutboxRepository,
        clock: Clock,
        tz: ZoneInfo,
        policy: SignupPolicy | None = None,
        *,
        reminders: ReminderService | None = None,
    ) -> None:
        self._db = db
        # Plans reminders on every confirmation, in the confirming transaction (None: tests
        # and tools that do not send reminders).
        self._reminders = reminders
        self._volunteers = volunteers
        self._activities = activities
        self._signups = signups
        self._outbox = outbox
        self._clock = clock
        self._tz = tz
        self.policy = policy or SignupPolicy()
        self._qualifications = QualificationsRepository(db)
        self._attendance = AttendanceRepository(db)

    def now(self) -> datetime:
        return self._clock()

    def today(self) -> date:
        return self.now().astimezone(self._tz).date()

    # -- volunteer actions -----------------------------------------------------------------------

    async def sign_up(
        self, telegram_id: int, activity_id: int, *, promised: bool = False
    ) -> SignupResult:
        """Take a free spot; raises :class:`SignupRefused` with ``FULL`` when there is none,
        and with ``PROMISE_NEEDED`` after several no-shows unless the volunteer ``promised``."""
        return await self._join(telegram_id, activity_id, waitlist=False, promised=promised)

    async def join_waitlist(
        self, telegram_id: int, activity_id: int, *, promised: bool = False
    ) -> SignupResult:
        """Join the waitlist (or take a spot, should one have freed up meanwhile)."""
        return await self._join(telegram_id, activity_id, waitlist=True, promised=promised)

    async def _signups_of(self, volunteer_id: int, activity_id: int) -> bool:
        """Whether the volunteer already holds an active sign-up (a press on an old card)."""
        async with self._db.transaction() as tx:
            found = await self._signups.find(tx, activity_id, volunteer_id)
        return found is not None and found.is_active

    async def no_shows(self, volunteer_id: int) -> int:
        """Sign-ups in the policy's window the volunteer neither came to nor cancelled."""
        since = self.now() - self.policy.no_show_window
        return await self._attendance.no_shows(volunteer_id, since)

    async def cancel(
        self, telegram_id: int, activity_id: int, note: str | None = None
    ) -> Cancelled:
        """Cancel a confirmed sign-up (until the cut-off), leave the waitlist, or decline an
        offer. A freed spot is offered to the next in line in the same transaction."""
        profile = await self._profile(telegram_id, allow_paused=True)
        now = self.now()
        note = (note or "").strip()[:MAX_CANCEL_NOTE_LENGTH] or None

        async def attempt() -> tuple[Signup, Signup]:
            async with self._db.transaction() as tx:
                # The activity's row first, as a join takes it (see lock_activity).
                await self._signups.lock_activity(tx, activity_id)
                activity = await self._activity(tx, activity_id)
                signup = await self._signups.find(tx, activity_id, profile.volunteer_id)
                if signup is None or not signup.is_active:
                    raise SignupRefused(Refusal.NOT_SIGNED_UP, activity=activity)
                if activity.status is ActivityStatus.CANCELLED:
                    raise SignupRefused(Refusal.CANCELLED, activity=activity)
                if now >= activity.starts_at:
                    raise SignupRefused(Refusal.STARTED, activity=activity)
                if signup.status is SignupStatus.CONFIRMED:
                    if now > activity.starts_at - self.policy.cancel_cutoff:
                        raise SignupRefused(Refusal.CANCEL_CUTOFF, activity=activity)
                    reason = EndReason.VOLUNTEER
                elif signup.status is SignupStatus.WAITLISTED:
                    reason = EndReason.VOLUNTEER
                else:
                    reason = EndReason.DECLINED_OFFER
                # Ended only from the state read: if another process moved it (an offer made,
                # or expired) the counters below would be the wrong ones; read again instead.
                ended = await self._signups.end_if(
                    tx, signup.signup_id, signup.status, reason, now, note
                )
                if ended is None:
                    raise _Raced(Refusal.NOT_SIGNED_UP, activity)
                await self._signups.release_counts(tx, activity_id, signup.status)
                await self._offer_free_spots(tx, activity_id, now)
            return signup, ended

        signup, ended = await _settled(self._db, attempt)
        log.info(
            "volunteer %s cancelled sign-up %s (%s) for activity %s",
            profile.volunteer_id,
            signup.signup_id,
            signup.status.value,
            activity_id,
        )
        return Cancelled(previous=signup.status, signup=ended)

    async def accept_offer(self, telegram_id: int, signup_id: int) -> SignupResult:
        profile = await self._profile(telegram_id, allow_paused=True)
        now = self.now()
        return await _settled(self._db, lambda: self._accept_offer(profile, signup_id, now))

    async def _accept_offer(
        self, profile: VolunteerProfile, signup_id: int, now: datetime
    ) -> SignupResult:
        async with self._db.transaction() as tx:
            signup = await self._own_signup(tx, signup_id, profile)
            await self._signups.lock_activity(tx, signup.activity_id)
            activity = await self._activity(tx, signup.activity_id)
            if signup.status is SignupStatus.CONFIRMED:
                return SignupResult(Outcome.ALREADY_CONFIRMED, signup, activity)
            if (
                signup.status is not SignupStatus.OFFERED
                or signup.offer_expires_at is None
                or now >= signup.offer_expires_at
            ):
                raise SignupRefused(Refusal.OFFER_GONE, activity=activity)
            # An offer is a spot already held for this person: it is honoured until its own
            # deadline even when the organizer closed sign-up meanwhile (closing stops new
            # sign-ups; otherwise the held spot would sit idle until the offer expired).
            self._check_state(activity, now, honour_offer=True)
            clash = await self._signups.clash(tx, profile.volunteer_id, activity)
            if clash is not None:
                raise SignupRefused(Refusal.CLASH, activity=activity, other=clash)
            # The offer is checked again in the statement (still offered, deadline not passed):
            # the sweep of another process may be expiring it right now.
            confirmed = await self._signups.accept_if_offered(tx, signup_id, now)
            if confirmed is None:
                raise _Raced(Refusal.OFFER_GONE, activity)
            await self._signups.adjust_counts(tx, activity.activity_id, confirmed=1, offered=-1)
            await self._plan_reminders(tx, signup_id, now)
            activity = await self._activity(tx, activity.activity_id)
        log.info("volunteer %s accepted offer %s", profile.volunteer_id, signup_id)
        return SignupResult(Outcome.CONFIRMED, confirmed, activity)

    async def decline_offer(self, telegram_id: int, signup_id: int) -> Signup:
        profile = await self._profile(telegram_id, allow_paused=True)
        now = self.now()

        async def attempt() -> Signup:
            async with self._db.transaction() as tx:
                signup = await self._own_signup(tx, signup_id, profile)
                await self._signups.lock_activity(tx, signup.activity_id)
                activity = await self._activity(tx, signup.activity_id)
                if signup.status is not SignupStatus.OFFERED:
                    raise SignupRefused(Refusal.OFFER_GONE, activity=activity)
                ended = await self._signups.end_if(
                    tx, signup_id, SignupStatus.OFFERED, EndReason.DECLINED_OFFER, now
                )
                if ended is None:
                    raise _Raced(Refusal.OFFER_GONE, activity)
                await self._signups.adjust_counts(tx, activity.activity_id, offered=-1)
                await self._offer_free_spots(tx, activity.activity_id, now)
            return ended

        ended = await _settled(self._db, attempt)
        log.info("volunteer %s declined offer %s", profile.volunteer_id, signup_id)
        return ended

    async def answer_still_coming(
        self, telegram_id: int, signup_id: int, *, coming: bool
    ) -> StillComingResult:
        """The "Still coming?" reminder's Yes / No. Yes is recorded. No cancels the sign-up by
        the rules of a volunteer's cancel and offers the spot to the waitlist in the same
        transaction; past the cancel cut-off the sign-up is kept (as a cancel would be
        refused) but the No is recorded, so the organizer's roster shows who is not coming."""
        profile = await self._profile(telegram_id, allow_paused=True)
        now = self.now()

        async def attempt() -> StillComingResult:
            async with self._db.transaction() as tx:
                signup = await self._own_signup(tx, signup_id, profile)
                await self._signups.lock_activity(tx, signup.activity_id)
                activity = await self._activity(tx, signup.activity_id)
                if signup.status is not SignupStatus.CONFIRMED:
                    raise SignupRefused(Refusal.NOT_SIGNED_UP, activity=activity)
                if activity.status is ActivityStatus.CANCELLED:
                    raise SignupRefused(Refusal.CANCELLED, activity=activity)
                if now >= activity.starts_at:
                    raise SignupRefused(Refusal.STARTED, activity=activity)
                # Recorded only while still confirmed (checked in the statement).
                if not await ReminderService.record_answer(tx, signup_id, coming):
                    raise _Raced(Refusal.NOT_SIGNED_UP, activity)
                if coming:
                    outcome = StillComingOutcome.COMING
                elif now > activity.starts_at - self.policy.cancel_cutoff:
                    outcome = StillComingOutcome.TOO_LATE
                else:
                    # The end reason is the volunteer's own cancel; still_coming = 'no' on the
                    # row says it came from the reminder.
                    ended = await self._signups.end_if(
                        tx, signup_id, SignupStatus.CONFIRMED, EndReason.VOLUNTEER, now
                    )
                    if ended is None:
                        raise _Raced(Refusal.NOT_SIGNED_UP, activity)
                    signup = ended
                    await self._signups.adjust_counts(tx, activity.activity_id, confirmed=-1)
                    await self._offer_free_spots(tx, activity.activity_id, now)
                    outcome = StillComingOutcome.CANCELLED
            return StillComingResult(outcome, signup, activity)

        result = await _settled(self._db, attempt)
        log.info(
            "volunteer %s answered Still coming? for sign-up %s: %s",
            profile.volunteer_id,
            signup_id,
            result.outcome.value,
        )
        return result

    # -- the scheduler's sweep -------------------------------------------------------------------

    async def sweep(self, *, limit: int = 200) -> SweepReport:
        """Expire offers whose deadline passed (handing the spot on), and offer any spot that
        is free while people wait (after an account deletion, or a capacity increase)."""
        now = self.now()
        report = SweepReport()
        async with self._db.transaction() as tx:
            for signup in await self._signups.expired_offers(tx, now, limit):
                # Expired only if still the offer read (another sweep, or its answer, may
                # have settled it meanwhile): then it is theirs to count, not ours.
                await self._signups.lock_activity(tx, signup.activity_id)
                if not await self._signups.end_if(
                    tx, signup.signup_id, SignupStatus.OFFERED, EndReason.OFFER_EXPIRED, now
                ):
                    continue
                await self._signups.adjust_counts(tx, signup.activity_id, offered=-1)
                recipient = await self._signups.recipient(tx, signup.volunteer_id)
                if recipient is not None:
                    await self._notify(tx, NotificationKind.OFFER_EXPIRED, recipient, signup, now)
                report.expired += 1
                report.offered += await self._offer_free_spots(tx, signup.activity_id, now)
            for activity_id in await self._signups.activities_with_free_spots_and_waitlist(
                tx, now, limit
            ):
                report.offered += await self._offer_free_spots(tx, activity_id, now)
        if report.expired or report.offered:
            log.info("waitlist sweep: %s offers expired, %s made", report.expired, report.offered)
        return report

    # -- reading ---------------------------------------------------------------------------------

    async def viewer(self, telegram_id: int, activity: Activity) -> Viewer:
        profile = await self._volunteers.get_profile(telegram_id)
        if profile is None:
            required = activity.requires_qualification
            return Viewer(
                profile=None,
                next_training=await self.next_session(required) if required else None,
            )
        signup = await self._signups.get(activity.activity_id, profile.volunteer_id)
        position = await self._signups.waitlist_position(signup) if signup is not None else None
        required = activity.requires_qualification
        lacking = None
        if required is not None and not await self._qualifications.holds(
            profile.volunteer_id, required.qualification_id
        ):
            lacking = required
        return Viewer(
            profile=profile,
            signup=signup,
            position=position,
            missing_skills=missing_skills(activity, profile.skills),
            too_young=activity.adults_only and profile.is_minor,
            paused=profile.is_paused_on(self.today()),
            missing_qualification=lacking,
            next_training=await self.next_session(lacking) if lacking is not None else None,
        )

    async def next_session(self, qualification: QualificationRef) -> Activity | None:
        """The next published session of the training granting ``qualification``."""
        return await self._qualifications.next_session(qualification.qualification_id, self.now())

    async def my_signups(self, telegram_id: int, *, upcoming: bool, limit: int) -> list[MySignup]:
        profile = await self._volunteers.get_profile(telegram_id)
        if profile is None:
            raise SignupRefused(Refusal.NO_PROFILE)
        return await self._signups.for_volunteer(
            profile.volunteer_id, self.now(), upcoming=upcoming, limit=limit
        )

    async def signup_by_id(self, telegram_id: int, signup_id: int) -> Signup:
        """A sign-up of this user (for offer buttons); refuses someone else's."""
        profile = await self._profile(telegram_id, allow_paused=True)
        signup = await self._signups.get_by_id(signup_id)
        if signup is None or signup.volunteer_id != profile.volunteer_id:
            raise SignupRefused(Refusal.NOT_YOURS)
        return signup

    async def for_you(
        self, telegram_id: int, *, location: Point | None = None, limit: int = 10
    ) -> list[Match]:
        """Ranked suggestions for a volunteer (see :mod:`bot.domain.matching`)."""
        profile = await self._volunteers.get_profile(telegram_id)
        if profile is None:
            raise SignupRefused(Refusal.NO_PROFILE)
        now = self.now()
        candidates = await self._activities.candidates(
            now,
            horizon=now + self.policy.match_horizon,
            volunteer=profile,
            box=bounding_box(location, self.policy.near_radius_km) if location else None,
            limit=self.policy.match_candidates,
        )
        # The volunteer's own sign-ups are left out by the query already. Activities requiring
        # a training this volunteer has not done would only be refused.
        exclude: frozenset[int] = frozenset()
        requiring = [a for a in candidates if a.requires_qualification is not None]
        if requiring:
            held = {
                q.qualification_id for q in await self._qualifications.held_by(profile.volunteer_id)
            }
            exclude = frozenset(
                a.activity_id
                for a in requiring
                if a.requires_qualification is not None
                and a.requires_qualification.qualification_id not in held
            )
        return rank(
            candidates,
            profile,
            now=now,
            tz=self._tz,
            location=location,
            exclude=exclude,
            limit=limit,
        )

    # -- internals -------------------------------------------------------------------------------

    async def _profile(self, telegram_id: int, *, allow_paused: bool) -> VolunteerProfile:
        profile = await self._volunteers.get_profile(telegram_id)
        if profile is None:
            raise SignupRefused(Refusal.NO_PROFILE)
        if not allow_paused and profile.is_paused_on(self.today()):
            raise SignupRefused(Refusal.PAUSED)
        return profile

    async def _activity(self, tx: Transaction, activity_id: int) -> Activity:
        activity = await self._signups.activity(tx, activity_id)
        if activity is None or activity.status is ActivityStatus.DRAFT:
            raise SignupRefused(Refusal.NOT_FOUND)
        return activity

    async def _own_signup(
        self, tx: Transaction, signup_id: int, profile: VolunteerProfile
    ) -> Signup:
        signup = await self._signups.find_by_id(tx, signup_id)
        if signup is None or signup.volunteer_id != profile.volunteer_id:
            log.warning(
                "volunteer %s pressed a button for sign-up %s that is not theirs",
                profile.volunteer_id,
                signup_id,
            )
            raise SignupRefused(Refusal.NOT_YOURS)
        return signup

    @staticmethod
    def _check_state(activity: Activity, now: datetime, *, honour_offer: bool = False) -> None:
        if activity.status is ActivityStatus.CANCELLED:
            raise SignupRefused(Refusal.CANCELLED, activity=activity)
        if now >= activity.starts_at:
            raise SignupRefused(Refusal.STARTED, activity=activity)
        if not honour_offer and now >= activity.signup_closes_at:
            raise SignupRefused(Refusal.CLOSED, activity=activity)

    async def _join(
        self, telegram_id: int, activity_id: int, *, waitlist: bool, promised: bool = False
    ) -> SignupResult:
        profile = await self._profile(telegram_id, allow_paused=False)
        now = self.now()
        if not promised:
            missed = await self.no_shows(profile.volunteer_id)
            if missed >= self.policy.no_show_limit:
                existing = await self._signups_of(profile.volunteer_id, activity_id)
                if not existing:
                    error = SignupRefused(
                        Refusal.PROMISE_NEEDED, activity=await self._activities.get(activity_id)
                    )
                    error.no_shows = missed
                    raise error
        try:
            return await _settled(
                self._db, lambda: self._join_once(profile, activity_id, now, waitlist=waitlist)
            )
        except SignupRefused as error:
            if error.reason is Refusal.NO_QUALIFICATION and error.qualification is not None:
                error.next_session = await self.next_session(error.qualification)
            raise

    async def _join_once(
        self, profile: VolunteerProfile, activity_id: int, now: datetime, *, waitlist: bool
    ) -> SignupResult:
        async with self._db.transaction() as tx:
            activity = await self._activity(tx, activity_id)
            existing = await self._signups.find(tx, activity_id, profile.volunteer_id)
            if existing is not None and existing.is_active:
                return await self._already(existing, activity)
            self._check_state(activity, now)
            missing = missing_skills(activity, profile.skills)
            if missing:
                raise SignupRefused(Refusal.MISSING_SKILLS, activity=activity, missing=missing)
            required = activity.requires_qualification
            if required is not None and not await QualificationsRepository.holds_in(
                tx, profile.volunteer_id, required.qualification_id
            ):
                raise SignupRefused(
                    Refusal.NO_QUALIFICATION, activity=activity, qualification=required
                )
            if activity.adults_only and profile.is_minor:
                raise SignupRefused(Refusal.ADULTS_ONLY, activity=activity)
            clash = await self._signups.clash(tx, profile.volunteer_id, activity)
            if clash is not None:
                raise SignupRefused(Refusal.CLASH, activity=activity, other=clash)
            # Those already waiting come first: a spot that is free while people wait is
            # theirs (the sweep offers it), not the newcomer's. Free spot, nobody waiting and
            # sign-up still open are all tested in the one UPDATE that takes the spot.
            taken = await self._signups.take_spot(tx, activity_id, open_at=now, nobody_waiting=True)
            # Those waiting may all lack the training (they joined before it was required):
            # they are never offered a spot, so they do not stand before a holder.
            if (
                not taken
                and required is not None
                and not await QualificationsRepository.anyone_eligible_waiting(tx, activity_id)
            ):
                taken = await self._signups.take_spot(tx, activity_id, open_at=now)
            if taken:
                joined = await self._signups.join(
                    tx, activity_id, profile.volunteer_id, SignupStatus.CONFIRMED, now
                )
                if joined is None:  # the same volunteer joined from another process
                    raise _Raced(Refusal.FULL, activity)
                signup, position = joined
                await self._plan_reminders(tx, signup.signup_id, now)
                outcome = Outcome.CONFIRMED
            elif waitlist:
                if not await self._signups.queue_up(tx, activity_id, now):
                    raise _Raced(Refusal.CLOSED, activity)
                # Strictly after everyone already waiting, even within one clock tick: a
                # re-joiner keeps their old (lower) row id, so ids cannot break ties fairly.
                # Read after queue_up: in PostgreSQL its UPDATE holds the activity's row lock,
                # so every other joiner's row is committed (and seen) or still behind us; and
                # join() only inserts if nobody waiting is queued at or after this moment.
                last = await self._signups.last_queued_at(tx, activity_id)
                queued_at = now if last is None or last < now else last + timedelta(microseconds=1)
                joined = await self._signups.join(
                    tx, activity_id, profile.volunteer_id, SignupStatus.WAITLISTED, now,
                    queued_at=queued_at,
                )  # fmt: skip
                if joined is None:
                    raise _Raced(Refusal.FULL, activity)
                signup, position = joined
                outcome = Outcome.WAITLISTED
            else:
                raise SignupRefused(Refusal.FULL, activity=activity)
            activity = await self._activity(tx, activity_id)
        log.info(
            "volunteer %s: %s for activity %s", profile.volunteer_id, outcome.value, activity_id
        )
        return SignupResult(outcome, signup, activity, position)

    async def _already(self, signup: Signup, activity: Activity) -> SignupResult:
        if signup.status is SignupStatus.CONFIRMED:
            return SignupResult(Outcome.ALREADY_CONFIRMED, signup, activity)
        if signup.status is SignupStatus.OFFERED:
            return SignupResult(Outcome.ALREADY_OFFERED, signup, activity)
        position = await self._signups.waitlist_position(signup)
        return SignupResult(Outcome.ALREADY_WAITLISTED, signup, activity, position)

    async def _plan_reminders(self, tx: Transaction, signup_id: int, now: datetime) -> None:
        if self._reminders is not None:
            await self._reminders.plan_signup(tx, signup_id, now)

    async def _notify(
        self,
        tx: Transaction,
        kind: NotificationKind,
        recipient: int,
        signup: Signup,
        now: datetime,
    ) -> None:
        """Queue a notification about a sign-up, in the caller's transaction. The subject
        includes the moment the sign-up entered its state, so a second offer of the same
        activity (after re-joining the waitlist) is a new notification, not a duplicate."""
        await self._outbox.enqueue(
            tx,
            Notification(
                kind=kind,
                telegram_id=recipient,
                subject=f"signup:{signup.signup_id}:{signup.status_at.isoformat()}",
                payload={"signup_id": signup.signup_id},
                due_at=now,
            ),
            now,
        )

    async def _offer_free_spots(self, tx: Transaction, activity_id: int, now: datetime) -> int:
        """Offer each free spot to the next in line; the offers go to the outbox."""
        activity = await self._signups.activity(tx, activity_id)
        if activity is None or not activity.is_open_for_signup(now):
            return 0
        made = 0
        deadline = offer_deadline(now, activity.signup_closes_at, self.policy.offer_window)
        # The hold re-checks free spot, someone waiting and sign-up open in its statement;
        # offer_head picks the first in line and changes them in one statement.
        while await self._signups.hold_spot_for_offer(tx, activity_id, open_at=now):
            offered: Signup | None = None
            for _ in range(RACE_ATTEMPTS):
                offered = await self._signups.offer_head(tx, activity_id, deadline, now)
                # None: the head left meanwhile (try the new head), or nobody waits at all.
                if offered is not None or not await self._signups.anyone_waiting(tx, activity_id):
                    break
            if offered is None and await self._signups.anyone_waiting(tx, activity_id):
                # Only volunteers lacking the required training wait: the spot stays free for a
                # holder (who may sign up directly once nobody eligible waits).
                await self._signups.adjust_counts(tx, activity_id, offered=-1, waitlist=1)
                if not await QualificationsRepository.anyone_eligible_waiting(tx, activity_id):
                    break
                log.error(
                    "activity %s: an eligible volunteer waits but was not offered", activity_id
                )
                break
            if offered is None:  # counters and rows disagree: undo the hold, and say so
                await self._signups.adjust_counts(tx, activity_id, offered=-1, waitlist=1)
                log.error("activity %s counts a waitlist but nobody could be offered", activity_id)
                break
            recipient = await self._signups.recipient(tx, offered.volunteer_id)
            if recipient is None:  # an anonymized (deleted) account: skip them
                await self._signups.end(tx, offered.signup_id, EndReason.VOLUNTEER, now)
                await self._signups.adjust_counts(tx, activity_id, offered=-1)
                continue
            await self._notify(tx, NotificationKind.WAITLIST_OFFER, recipient, offered, now)
            made += 1
            log.info(
                "offered a spot of activity %s to volunteer %s until %s",
                activity_id,
                offered.volunteer_id,
                deadline.isoformat(),
            )
        return made
