"""Key-date campaigns and the weekly digest: who hears what, and when.

A repeating job (``handlers.campaigns``) calls :meth:`CampaignService.plan` every few minutes.
Each call works out which *stages* are due now (pure: :func:`due_stages`) and plans each one as
a *run* of outbox rows sharing a ``batch_key``:

====================  ==============================  ===========================================
stage                 when (local time)                who
====================  ==============================  ===========================================
KEY_DATE_HEADS_UP     ``KEY_DATE_HEADS_UP`` (14 d)     members of approved organizations
                      before the day, CAMPAIGN_TIME
CAMPAIGN              each ``CAMPAIGN_OFFSETS``        volunteers with campaigns on, not paused,
                      (7 d, 1 d) before, CAMPAIGN_TIME reachable, not deleted
KEY_DATE_GREETING     on the day, CAMPAIGN_TIME        the same volunteers
DIGEST                ``DIGEST_WEEKDAY`` at            volunteers with the digest on, for whom
                      ``DIGEST_TIME``                  something new matches
====================  ==============================  ===========================================

A stage stays plannable for a day after its time (a bot that was down catches up) but never past
the key date, so a late start does not send the 7-day and the 1-day message together.

Idempotence: the run row (``campaign_runs``) remembers how far planning got (a cursor over the
audience, one short transaction per chunk of :data:`CHUNK_SIZE` recipients) and when it finished;
each outbox row's dedup key is (kind, recipient, run key), so a repeated chunk stores nothing new.

What a message lists is decided when it is sent (:meth:`campaign_matches`,
:meth:`digest_matches`), in the recipient's language, from the activities open *then*; when
nothing is left to list, the renderer drops the row (stale) and the volunteer gets nothing. A
campaign stage with no candidate activity at all is not planned (re-checked on every tick while
the stage is due, so an activity published that day is still announced). Non-critical kinds wait
out the recipient's quiet hours in delivery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import Settings
from bot.domain.activities import Activity
from bot.domain.keydates import KeyDate, upcoming
from bot.domain.matching import Match, ReasonKind, can_join, score
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.volunteers import VolunteerProfile
from storage.campaigns import CampaignsRepository, Recipient
from storage.db import Database, Transaction
from storage.keydates import KeyDatesRepository
from storage.outbox import OutboxRepository
from storage.volunteers import VolunteersRepository

__all__ = [
    "CHUNK_SIZE",
    "CampaignPolicy",
    "CampaignService",
    "PlanReport",
    "Stage",
    "StageKind",
    "due_stages",
]

log = logging.getLogger(__name__)

CHUNK_SIZE = 500
NEAR_DAYS = 3  # activities starting this many days either side of a key date are "for it"
CAMPAIGN_LIST_LIMIT = 5
DIGEST_LIST_LIMIT = 8
DIGEST_SPAN = timedelta(days=7)
CATCH_UP = timedelta(days=1)  # how long after its time a stage may still be planned


class StageKind(StrEnum):
    HEADS_UP = "hu"
    CAMPAIGN = "cp"
    GREETING = "gr"
    DIGEST = "dg"


_KINDS = {
    StageKind.HEADS_UP: NotificationKind.KEY_DATE_HEADS_UP,
    StageKind.CAMPAIGN: NotificationKind.CAMPAIGN,
    StageKind.GREETING: NotificationKind.KEY_DATE_GREETING,
    StageKind.DIGEST: NotificationKind.DIGEST,
}


@dataclass(frozen=True)
class CampaignPolicy:
    tz: ZoneInfo
    heads_up: timedelta = timedelta(days=14)
    offsets: tuple[timedelta, ...] = (timedelta(days=7), timedelta(days=1))
    campaign_time: time = time(10, 0)
    digest_weekday: int = 5  # ISO: 1 = Monday
    digest_time: time = time(19, 0)

    @classmethod
    def from_settings(cls, settings: Settings) -> CampaignPolicy:
        return cls(
            tz=settings.tz,
            heads_up=settings.key_date_heads_up,
            offsets=tuple(settings.campaign_offsets),
            campaign_time=time.fromisoformat(settings.campaign_time),
            digest_weekday=settings.digest_weekday,
            digest_time=time.fromisoformat(settings.digest_time),
        )


@dataclass(frozen=True)
class Stage:
    """One mass sending that is due: its run key doubles as batch key and outbox subject."""

    kind: StageKind
    run_key: str
    due_at: datetime  # UTC
    key_date: str | None = None
    occurs_on: date | None = None
    since: datetime | None = None  # digest: activities published since … until due_at

    @property
    def notification_kind(self) -> NotificationKind:
        return _KINDS[self.kind]

    def payload(self) -> dict[str, int | str]:
        if self.kind is StageKind.DIGEST:
            assert self.since is not None
            return {"since": self.since.isoformat(), "until": self.due_at.isoformat()}
        assert self.key_date is not None and self.occurs_on is not None
        return {"key_date": self.key_date, "date": self.occurs_on.isoformat()}


@dataclass
class PlanReport:
    stages: int = 0
    planned: int = 0


def _at(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz)


def _offset_label(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds}s"


def due_stages(key_dates: list[KeyDate], policy: CampaignPolicy, now: datetime) -> list[Stage]:
    """The stages whose time has come and whose catch-up window is still open at ``now``."""
    tz = policy.tz
    today = now.astimezone(tz).date()
    longest = max((policy.heads_up, *policy.offsets))
    horizon = today + timedelta(days=longest.days + 2)
    stages: list[Stage] = []

    def consider(stage: Stage, closes: datetime) -> None:
        if stage.due_at <= now < min(stage.due_at + CATCH_UP, closes):
            stages.append(stage)

    for key_date, day in upcoming(key_dates, today, horizon):
        moment = _at(day, policy.campaign_time, tz)
        day_starts = _at(day, time(0), tz)
        code = key_date.code
        consider(
            Stage(StageKind.HEADS_UP, f"hu:{code}:{day}", moment - policy.heads_up, code, day),
            day_starts,
        )
        for offset in policy.offsets:
            consider(
                Stage(
                    StageKind.CAMPAIGN,
                    f"cp:{code}:{day}:{_offset_label(offset)}",
                    moment - offset,
                    code,
                    day,
                ),
                day_starts,
            )
        consider(
            Stage(StageKind.GREETING, f"gr:{code}:{day}", moment, code, day),
            _at(day + timedelta(days=1), time(0), tz),
        )
    if today.isoweekday() == policy.digest_weekday:
        due = _at(today, policy.digest_time, tz)
        stage = Stage(StageKind.DIGEST, f"dg:{today}", due, since=due - DIGEST_SPAN)
        consider(stage, _at(today + timedelta(days=1), time(0), tz))
    return stages


def near_window(occurs_on: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Activities starting in this span are "near" the key date (±:data:`NEAR_DAYS` days)."""
    return (
        _at(occurs_on - timedelta(days=NEAR_DAYS), time(0), tz),
        _at(occurs_on + timedelta(days=NEAR_DAYS + 1), time(0), tz),
    )


def _ranked(
    activities: list[Activity],
    profile: VolunteerProfile,
    exclude: frozenset[int],
    now: datetime,
    tz: ZoneInfo,
) -> list[Match]:
    matches = [
        score(activity, profile, now=now, tz=tz)
        for activity in activities
        if activity.activity_id not in exclude and can_join(activity, profile, now)
    ]
    matches.sort(key=lambda m: (-m.score, m.activity.starts_at, m.activity.activity_id))
    return matches


class CampaignService:
    def __init__(
        self,
        db: Database,
        key_dates: KeyDatesRepository,
        campaigns: CampaignsRepository,
        volunteers: VolunteersRepository,
        clock: Clock,
        policy: CampaignPolicy,
        *,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._db = db
        self._key_dates = key_dates
        self._campaigns = campaigns
        self._volunteers = volunteers
        self._clock = clock
        self.policy = policy
        self._chunk_size = chunk_size

    def today(self) -> date:
        return self._clock().astimezone(self.policy.tz).date()

    # -- planning --------------------------------------------------------------------------------

    async def plan(self) -> PlanReport:
        """Plan every stage that is due (the repeating job; safe to run any number of times)."""
        now = self._clock()
        report = PlanReport()
        for stage in due_stages(await self._key_dates.enabled(), self.policy, now):
            existing = await self._campaigns.get_run(stage.run_key)
            if existing is not None and existing.finished_at is not None:
                continue
            if existing is None and not await self._worth_planning(stage, now):
                continue
            report.stages += 1
            report.planned += await self._plan_stage(stage, now)
        return report

    async def _worth_planning(self, stage: Stage, now: datetime) -> bool:
        if stage.kind is StageKind.CAMPAIGN:
            assert stage.key_date is not None and stage.occurs_on is not None
            near_from, near_until = near_window(stage.occurs_on, self.policy.tz)
            return await self._campaigns.has_campaign_candidates(
                stage.key_date, near_from, near_until, now
            )
        return True

    async def _plan_stage(self, stage: Stage, now: datetime) -> int:
        run = await self._campaigns.start_run(
            stage.run_key, stage.kind.value, stage.key_date, stage.occurs_on, stage.due_at, now
        )
        cursor, planned = run.cursor, 0
        today = now.astimezone(self.policy.tz).date()
        payload = stage.payload()
        while True:
            # One short transaction per chunk: the outbox rows and the cursor move together.
            async with self._db.transaction() as tx:
                recipients = await self._audience(tx, stage, today, now, cursor)
                stored_here = 0
                for recipient in recipients:
                    stored = await OutboxRepository.enqueue(
                        tx,
                        Notification(
                            kind=stage.notification_kind,
                            telegram_id=recipient.telegram_id,
                            subject=stage.run_key,
                            payload=payload,
                            due_at=stage.due_at,
                            batch_key=stage.run_key,
                        ),
                        now,
                    )
                    stored_here += int(stored)
                done = len(recipients) < self._chunk_size
                if recipients:
                    cursor = recipients[-1].cursor
                await self._campaigns.advance(
                    tx, stage.run_key, cursor, stored_here, now if done else None
                )
            planned += stored_here
            if done:
                break
        log.info("planned %s: %s notifications", stage.run_key, planned)
        return planned

    async def _audience(
        self, tx: Transaction, stage: Stage, today: date, now: datetime, after: int
    ) -> list[Recipient]:
        size = self._chunk_size
        if stage.kind is StageKind.HEADS_UP:
            return await self._campaigns.organizers(tx, after, size)
        if stage.kind is StageKind.DIGEST:
            assert stage.since is not None
            return await self._campaigns.digest_volunteers(
                tx, today, stage.since, stage.due_at, now, after, size
            )
        return await self._campaigns.campaign_volunteers(tx, today, after, size)

    async def opt_out(self, telegram_id: int, *, campaigns: bool, digest: bool) -> bool:
        """Turn campaign messages and/or the digest off (a button under them); ``False``
        without a profile."""
        profile = await self._volunteers.get_profile(telegram_id)
        if profile is None:
            return False
        current = profile.notifications
        changed = current.model_copy(
            update={
                "campaigns": current.campaigns and not campaigns,
                "digest": current.digest and not digest,
            }
        )
        await self._volunteers.set_notifications(telegram_id, changed, self._clock())
        return True

    # -- what a message says (called by the renderers at send time) -----------------------------

    async def key_date_ahead(self, code: object, day: object) -> tuple[KeyDate, date] | None:
        """The enabled key date and its day from a payload, if that day has not passed."""
        key_date = await self._key_date_on(code, day)
        if key_date is None or key_date[1] < self.today():
            return None
        return key_date

    async def _key_date_on(self, code: object, day: object) -> tuple[KeyDate, date] | None:
        if not isinstance(code, str) or not isinstance(day, str):
            return None
        try:
            occurs_on = date.fromisoformat(day)
        except ValueError:
            return None
        key_date = await self._key_dates.get(code)
        if key_date is None or not key_date.is_enabled:
            return None  # disabled meanwhile: the campaign is off
        return key_date, occurs_on

    async def _campaign_profile(self, telegram_id: int) -> VolunteerProfile | None:
        """The volunteer, if campaigns may still reach them (they may have opted out, paused or
        left since planning)."""
        profile = await self._volunteers.get_profile(telegram_id)
        if (
            profile is None
            or not profile.notifications.campaigns
            or profile.is_paused_on(self.today())
        ):
            return None
        return profile

    async def campaign_matches(
        self, telegram_id: int, code: object, day: object
    ) -> tuple[KeyDate, date, list[Match]] | None:
        """What a CAMPAIGN lists for this volunteer now, best first; ``None`` when stale."""
        found = await self.key_date_ahead(code, day)
        profile = await self._campaign_profile(telegram_id)
        if found is None or profile is None:
            return None
        key_date, occurs_on = found
        now = self._clock()
        near_from, near_until = near_window(occurs_on, self.policy.tz)
        candidates = await self._campaigns.campaign_candidates(
            key_date.code, near_from, near_until, now
        )
        exclude = await self._campaigns.active_activity_ids(profile.volunteer_id)
        matches = _ranked(candidates, profile, exclude, now, self.policy.tz)
        if not matches:
            return None
        return key_date, occurs_on, matches[:CAMPAIGN_LIST_LIMIT]

    async def greeting(self, telegram_id: int, code: object, day: object) -> KeyDate | None:
        """The key date to greet for, if it is still that day and the volunteer opted in."""
        found = await self._key_date_on(code, day)
        if found is None or found[1] != self.today():
            return None
        if await self._campaign_profile(telegram_id) is None:
            return None
        return found[0]

    async def digest_matches(self, telegram_id: int, since: object, until: object) -> list[Match]:
        """New activities for a DIGEST: published in the span, in one of the volunteer's
        categories or their area, still joinable; best first. Empty when stale."""
        if not isinstance(since, str) or not isinstance(until, str):
            return []
        profile = await self._volunteers.get_profile(telegram_id)
        if (
            profile is None
            or not profile.notifications.digest
            or profile.is_paused_on(self.today())
        ):
            return []
        now = self._clock()
        if now - datetime.fromisoformat(until) > CATCH_UP:
            return []  # a digest that waited (quiet hours, retries) over a day is old news
        published = await self._campaigns.published_between(
            datetime.fromisoformat(since), datetime.fromisoformat(until), now
        )
        exclude = await self._campaigns.active_activity_ids(profile.volunteer_id)
        wanted = {ReasonKind.INTEREST, ReasonKind.AREA}
        matches = [
            match
            for match in _ranked(published, profile, exclude, now, self.policy.tz)
            if any(reason.kind in wanted for reason in match.reasons)
        ]
        return matches[:DIGEST_LIST_LIMIT]
