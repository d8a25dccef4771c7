"""Recruiting, the organizer's side of matching: find volunteers who fit an activity, invite the
best of them, and alert organizers when an activity is short of people.

```mermaid
stateDiagram-v2
    [*] --> invited: organizer presses "Invite" (top N of the ranking)
    invited --> signed_up: the volunteer signs up or joins the waitlist (their own tap)
    invited --> declined: "Not interested" (remembered: never invited to it again)
    invited --> invited: no answer, invited again after the cool-down
```

Ranking reuses :func:`bot.domain.matching.score` (interest, skills, availability, area), so an
organizer sees the same reasons a volunteer would. Who can be invited (the storage query applies
these, :func:`rank_volunteers` re-checks what it can): registered, reachable, not paused,
invitations not switched off, not invited to anything during ``invite_cooldown`` (7 days),
never answered an invitation to this activity, not signed up for it, not busy at that time,
adult for adults-only activities, holding every required skill, and matching on at least one
personal reason the index can find (category, required skill or district: someone whose only
link is being free at that hour is not searched for).

Voluntariness: nothing here signs anyone up. An invitation is a message with the activity
card; only the volunteer's own tap on "Sign up" (the ordinary sign-up path) takes a spot.

Limits: one press invites at most ``invite_batch_size`` (20); an activity gets at most
``invite_daily_cap`` (200) invitations per local day. Invitations are not time-critical: they
wait out the recipient's quiet hours.

Under-staffed alert: a repeating check finds published activities starting within
``understaffed_lead`` (48 h) whose confirmed sign-ups are below ``understaffed_threshold``
(50 %) of capacity, and tells each member of the owning organization once per activity and start
time (a moved activity is checked anew).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.activities import Activity
from bot.domain.matching import (
    AREA_POINTS,
    AVAILABILITY_POINTS,
    INTEREST_POINTS,
    PERSONAL_REASONS,
    Reason,
    can_join,
    score,
    slot_of,
)
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.volunteers import VolunteerProfile
from storage.activities import load_activities
from storage.db import Database, Params
from storage.outbox import OutboxRepository
from storage.recruiting import Invitation, InvitationCounts, PreRank, RecruitingRepository
from storage.timeutil import to_db_time

__all__ = [
    "DeclineOutcome",
    "FoundVolunteers",
    "InviteOutcome",
    "InviteResult",
    "RecruitingPolicy",
    "RecruitingService",
    "VolunteerMatch",
    "is_understaffed",
    "local_day_start",
    "rank_volunteers",
]

log = logging.getLogger(__name__)

# A reader of rows: the database's (outside a transaction) or an open transaction's.
_FetchAll = Callable[[str, Params], Awaitable[list[Any]]]

RESPONSE_DECLINED = "declined"
RESPONSE_SIGNED_UP = "signed_up"


@dataclass(frozen=True)
class RecruitingPolicy:
    batch_size: int = 20
    daily_cap: int = 200
    cooldown: timedelta = timedelta(days=7)
    understaffed_lead: timedelta = timedelta(hours=48)
    understaffed_threshold: float = 0.5
    find_limit: int = 50  # how many the organizer's list shows (5 pages of 10)


@dataclass(frozen=True)
class VolunteerMatch:
    """One volunteer who fits, as an organizer may see them: no phone, no birth date."""

    volunteer_id: int
    telegram_id: int
    name: str
    area_code: str | None
    score: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class FoundVolunteers:
    activity: Activity
    matches: tuple[VolunteerMatch, ...]
    counts: InvitationCounts
    open: bool  # sign-up is open (otherwise nobody can be invited)


class InviteOutcome(StrEnum):
    SENT = "sent"
    NOBODY = "nobody"  # no one fits (any more)
    DAILY_CAP = "daily_cap"  # the activity's invitations for today are used up
    CLOSED = "closed"  # cancelled, started or sign-up closed
    STALE = "stale"  # the confirm button was pressed twice, or after someone else invited


@dataclass(frozen=True)
class InviteResult:
    outcome: InviteOutcome
    invited: int = 0
    today: int = 0  # invitations for this activity today, after this press
    batch_key: str | None = None


class DeclineOutcome(StrEnum):
    DECLINED = "declined"  # remembered now
    ALREADY_DECLINED = "already_declined"
    SIGNED_UP = "signed_up"  # they signed up meanwhile: nothing to decline
    NOT_INVITED = "not_invited"  # a forged or stale press: nothing changes


def prerank_weights(activity: Activity, tz: ZoneInfo) -> PreRank:
    """The matching weights that differ between volunteers for this activity, for SQL."""
    return PreRank(
        interest=INTEREST_POINTS,
        availability=AVAILABILITY_POINTS,
        area=AREA_POINTS,
        slot=int(slot_of(activity.starts_at, tz)),
    )


def local_day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """Midnight of the local day ``now`` falls in (the daily cap counts from here)."""
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def rank_volunteers(
    activity: Activity,
    profiles: Iterable[VolunteerProfile],
    *,
    now: datetime,
    tz: ZoneInfo,
    limit: int,
) -> list[VolunteerMatch]:
    """Score volunteers for an activity with :func:`bot.domain.matching.score`, best first.

    Re-checks what the profile tells (can join, not paused, invitations on); a volunteer with no
    personal reason is left out. Ties go to the lower volunteer id (the order SQL uses too).
    """
    found: list[VolunteerMatch] = []
    for profile in profiles:
        if (
            not can_join(activity, profile, now)
            or profile.is_paused_on(now.astimezone(tz).date())
            or not profile.notifications.invitations
        ):
            continue
        match = score(activity, profile, now=now, tz=tz)
        # "Needs people soon" and the full-activity penalty describe the activity, the same for
        # every volunteer: they neither change the order nor belong in the organizer's view.
        reasons = tuple(r for r in match.reasons if r.kind in PERSONAL_REASONS)
        if not reasons:
            continue
        found.append(
            VolunteerMatch(
                volunteer_id=profile.volunteer_id,
                telegram_id=profile.telegram_id,
                name=profile.real_name,
                area_code=profile.area_code,
                score=sum(reason.points for reason in reasons),
                reasons=reasons,
            )
        )
    found.sort(key=lambda m: (-m.score, m.volunteer_id))
    return found[:limit]


def is_understaffed(activity: Activity, threshold: float) -> bool:
    """Confirmed sign-ups below ``threshold`` of capacity (held offers do not count yet)."""
    return activity.confirmed_count < threshold * activity.capacity


def invitation_subject(activity_id: int, invited_at: datetime) -> str:
    # The time makes a later re-invitation (after the cool-down) a new notification.
    return f"activity:{activity_id}:{to_db_time(invited_at)}"


class RecruitingService:
    def __init__(
        self,
        db: Database,
        repository: RecruitingRepository,
        clock: Clock,
        tz: ZoneInfo,
        policy: RecruitingPolicy | None = None,
    ) -> None:
        self._db = db
        self._repo = repository
        self._clock = clock
        self._tz = tz
        self.policy = policy or RecruitingPolicy()

    def now(self) -> datetime:
        return self._clock()

    # -- organizers ------------------------------------------------------------------------------

    async def find(self, activity: Activity) -> FoundVolunteers:
        """The ranked volunteers who could be invited to ``activity`` (authorized by the caller
        with :meth:`bot.services.staff.StaffService.activity_for`)."""
        now = self.now()
        await self._repo.sync_signed_up(activity.activity_id, now)
        counts = await self._repo.counts_now(activity.activity_id, local_day_start(now, self._tz))
        if not activity.is_open_for_signup(now):
            return FoundVolunteers(activity, (), counts, open=False)
        matches = await self._matches(self._db.fetch_all, activity, now, self.policy.find_limit)
        return FoundVolunteers(activity, tuple(matches), counts, open=True)

    async def invite(
        self, activity: Activity, invited_by: int, *, expected_total: int
    ) -> InviteResult:
        """Invite the top of the ranking, in one transaction with their notifications.

        ``expected_total`` is the activity's invitation count the confirm screen showed: if it
        changed (a second press of the same button, or a co-organizer invited meanwhile), nothing
        is sent and the organizer sees the fresh list instead.
        """
        now = self.now()
        aid = activity.activity_id
        day_start = local_day_start(now, self._tz)
        batch_key = f"invite:{aid}:{to_db_time(now)}"
        async with self._db.transaction() as tx:
            await RecruitingRepository.lock_activity(tx, aid)
            fresh = await self._repo_activity(tx.fetch_all, aid)
            if fresh is None or not fresh.is_open_for_signup(now):
                return InviteResult(InviteOutcome.CLOSED)
            counts = await RecruitingRepository.counts(tx.fetch_all, aid, day_start)
            if counts.total != expected_total:
                return InviteResult(InviteOutcome.STALE, today=counts.today)
            room = min(self.policy.batch_size, self.policy.daily_cap - counts.today)
            if room <= 0:
                return InviteResult(InviteOutcome.DAILY_CAP, today=counts.today)
            # Chosen inside the transaction, so two organizers cannot break the cool-down.
            matches = await self._matches(tx.fetch_all, fresh, now, room)
            if not matches:
                return InviteResult(InviteOutcome.NOBODY, today=counts.today)
            invited = await RecruitingRepository.invite(
                tx, aid, [m.volunteer_id for m in matches], invited_by, now
            )
            for telegram_id in invited.values():
                await OutboxRepository.enqueue(
                    tx,
                    Notification(
                        kind=NotificationKind.INVITATION,
                        telegram_id=telegram_id,
                        subject=invitation_subject(aid, now),
                        payload={"activity_id": aid},
                        due_at=now,
                        batch_key=batch_key,
                    ),
                    now,
                )
        log.info("user %s invited %s volunteers to activity %s", invited_by, len(invited), aid)
        return InviteResult(
            InviteOutcome.SENT,
            invited=len(invited),
            today=counts.today + len(invited),
            batch_key=batch_key,
        )

    async def counts(self, activity_id: int) -> InvitationCounts:
        return await self._repo.counts_now(activity_id, local_day_start(self.now(), self._tz))

    # -- volunteers ------------------------------------------------------------------------------

    async def invitation_of(self, telegram_id: int, activity_id: int) -> Invitation | None:
        volunteer_id = await self._repo.volunteer_id_of(telegram_id)
        if volunteer_id is None:
            return None
        return await self._repo.get(activity_id, volunteer_id)

    async def decline(self, telegram_id: int, activity_id: int) -> DeclineOutcome:
        """ "Not interested": remembered, if this volunteer was really invited to it."""
        volunteer_id = await self._repo.volunteer_id_of(telegram_id)
        invitation = (
            await self._repo.get(activity_id, volunteer_id) if volunteer_id is not None else None
        )
        if volunteer_id is None or invitation is None:
            log.warning(
                "user %s pressed 'not interested' for activity %s without an invitation",
                telegram_id,
                activity_id,
            )
            return DeclineOutcome.NOT_INVITED
        if invitation.response == RESPONSE_DECLINED:
            return DeclineOutcome.ALREADY_DECLINED
        await self._repo.sync_signed_up(activity_id, self.now())
        answered = await self._repo.respond(
            activity_id, volunteer_id, RESPONSE_DECLINED, self.now()
        )
        if answered is not None and answered.response == RESPONSE_SIGNED_UP:
            return DeclineOutcome.SIGNED_UP
        return DeclineOutcome.DECLINED

    async def note_signed_up(self, activity_id: int) -> int:
        """Mark invitations of volunteers who signed up for the activity as answered."""
        return await self._repo.sync_signed_up(activity_id, self.now())

    # -- under-staffed alert ---------------------------------------------------------------------

    async def alert_understaffed(self) -> int:
        """Queue one UNDERSTAFFED notification per under-staffed activity and organizer;
        returns how many activities were alerted."""
        now = self.now()
        policy = self.policy
        alerted = 0
        for activity in await self._repo.starting_unalerted(now, now + policy.understaffed_lead):
            if not is_understaffed(activity, policy.understaffed_threshold):
                continue
            async with self._db.transaction() as tx:
                if not await RecruitingRepository.record_alert(
                    tx, activity.activity_id, activity.starts_at, now
                ):
                    continue
                for telegram_id in await RecruitingRepository.organizers_of(
                    tx, activity.organization_id
                ):
                    await OutboxRepository.enqueue(
                        tx,
                        Notification(
                            kind=NotificationKind.UNDERSTAFFED,
                            telegram_id=telegram_id,
                            subject=f"activity:{activity.activity_id}:"
                            f"{to_db_time(activity.starts_at)}",
                            payload={"activity_id": activity.activity_id},
                            due_at=now,
                        ),
                        now,
                    )
            alerted += 1
        if alerted:
            log.info("under-staffed alerts queued for %s activities", alerted)
        return alerted

    # -- internals -------------------------------------------------------------------------------

    async def _matches(
        self, fetch: _FetchAll, activity: Activity, now: datetime, limit: int
    ) -> list[VolunteerMatch]:
        ids = await RecruitingRepository.candidates(
            fetch,
            activity,
            today=now.astimezone(self._tz).date(),
            cooldown_since=now - self.policy.cooldown,
            weights=prerank_weights(activity, self._tz),
            limit=limit,
        )
        profiles = await RecruitingRepository.profiles(fetch, ids)
        return rank_volunteers(
            activity, (profiles[i] for i in ids if i in profiles), now=now, tz=self._tz,
            limit=limit,
        )  # fmt: skip

    @staticmethod
    async def _repo_activity(fetch: _FetchAll, activity_id: int) -> Activity | None:
        return (await load_activities(fetch, [activity_id])).get(activity_id)
