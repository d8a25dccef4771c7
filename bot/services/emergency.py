"""Emergency mobilization: the on-call pool, who may mobilize, starting one, waves, answers, the
live headcount, updates and the stand-down.

```mermaid
flowchart TD
    pool[Volunteer: on call, from /profile] --> stored[(emergency_pool)]
    admin[Administrator: allows an organization] --> orgs[(emergency_organizations)]
    coord[/mobilize: admin or organizer of an allowed organization/] --> draft[Draft]
    draft -->|Start, stamped with the draft's version| start{still the draft seen?}
    start -->|yes| active[Active: activity created, wave 1 queued, urgent]
    start -->|no| refused[Refused: look again]
    active -->|wave job while short| wave[Wave n+1: wider radius, claimed by number]
    active -->|alert| answer{I can come 15/30/60 · Can't}
    answer -->|counted towards the shortest need| tally[(answers_version + 1)]
    tally -->|claim_edit, at most one per interval| headcount[Coordinator's message edited]
    active -->|update| coming[Everyone coming]
    active -->|stand down| down[Coming + unanswered told; unsent alerts dropped]
    active -->|check-in at the rally point| records[Check-in, attendance, hours]
```

**Who may mobilize.** Administrators allow an organization (``emergency_organizations``, from
``/mobilize`` → 🔑). Its organizers may then start mobilizations for it; administrators may start
one for any allowed organization. Coordinating a running one (headcount, updates, stand-down,
check-in, hours) is for the staff of its organization and administrators
(:class:`~bot.services.staff.StaffService`), re-checked on every press.

**Records.** Starting a mobilization creates a published activity of the organization that
starts at once, with sign-up closed (people answer the alert instead) and a pin at the rally
point. Its check-in display, attendance list and hours review are the service records' own
(:mod:`bot.services.attendance`, :mod:`bot.services.service_records`): volunteers check in at
the rally point by scanning or typing the code (those who answered "coming" are expected, due
by their answer plus their ETA — :class:`bot.domain.hours.Arrival`; others are walk-ins), and the
coordinator confirms the hours, which become service records of that organization.

**Urgent delivery.** Alerts, updates and stand-downs are time-critical notification kinds: they
pass quiet hours, need no opt-in beyond being on call, and are paced by the outbox like every
other row. Alerts are queued due a day in the past so that they go ahead of any backlog (the
outbox serves the earliest due first), nearest first within a wave.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config import Settings
from bot.domain.activities import NewActivity
from bot.domain.emergency import (
    ETA_CHOICES,
    MAX_NEED,
    RALLY_CHOICES,
    RALLY_TEXT_MAX,
    TITLE_MAX,
    TRAVEL_CHOICES,
    UPDATE_MAX,
    Answer,
    Availability,
    Candidate,
    EmergencyRefusal,
    EmergencyRefused,
    EmergencySkill,
    Headcount,
    Mobilization,
    MobilizationStatus,
    NeedSkill,
    PlannedAlert,
    PoolEntry,
    WavePlan,
    WavePolicy,
    counted_skill,
    headcount,
    plan_wave,
    shortfall,
)
from bot.domain.geo import Point, distance_km
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.validation import clean_free_text
from bot.services.staff import StaffService
from storage.catalog import CatalogRepository
from storage.emergency import AlertRow, EmergencyRepository
from storage.outbox import OutboxRepository

log = logging.getLogger(__name__)

#: Urgent rows are queued this far in the past: the outbox serves the earliest due first, so
#: they overtake a broadcast or a campaign being drained (see the module's docstring).
URGENT_HEAD_START = timedelta(days=1)
#: Category of the activities mobilizations create (救灾援助, seeded by migration 0003).
EMERGENCY_CATEGORY = "disaster"
ORGANIZATION_MATCHES = 8


def batch_key(mobilization_id: int) -> str:
    """Groups a mobilization's alerts in the outbox (the stand-down drops the unsent ones)."""
    return f"em:{mobilization_id}"


@dataclass(frozen=True)
class Started:
    mobilization: Mobilization
    alerted: int


@dataclass(frozen=True)
class WaveSent:
    mobilization_id: int
    wave: int
    alerted: int
    radius_km: float


@dataclass(frozen=True)
class Answered:
    mobilization: Mobilization
    alert: AlertRow
    #: The answer before this one was "I can come" (only a change of estimate, then).
    was_coming: bool = False


class EmergencyService:
    def __init__(
        self,
        repo: EmergencyRepository,
        staff: StaffService,
        catalog: CatalogRepository,
        outbox: OutboxRepository,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._repo = repo
        self._staff = staff
        self._catalog = catalog
        self._outbox = outbox
        self._clock = clock
        self._settings = settings
        self.policy = WavePolicy(max_radius_km=float(settings.emergency_max_radius_km))

    def now(self) -> datetime:
        return self._clock()

    # -- the pool --------------------------------------------------------------------------------

    async def _volunteer(self, telegram_id: int) -> int:
        volunteer_id = await self._repo.volunteer_id_of(telegram_id)
        if volunteer_id is None:
            raise EmergencyRefused(EmergencyRefusal.NOT_VOLUNTEER)
        return volunteer_id

    async def pool(self, telegram_id: int) -> PoolEntry:
        """The volunteer's on-call answers; someone who never joined sees their district from
        the profile and the defaults (stored only when they change something)."""
        volunteer_id = await self._volunteer(telegram_id)
        entry = await self._repo.pool_entry(volunteer_id)
        if entry is not None:
            return entry
        return PoolEntry(
            volunteer_id=volunteer_id,
            on_call=False,
            skills=frozenset(),
            area_code=await self._repo.volunteer_area(volunteer_id),
            availability=Availability.ANY,
            max_km=10,
            latitude=None,
            longitude=None,
        )

    async def _save(self, entry: PoolEntry) -> PoolEntry:
        await self._repo.save_pool(entry, self.now())
        return entry

    async def set_on_call(self, telegram_id: int, on_call: bool) -> PoolEntry:
        entry = await self.pool(telegram_id)
        return await self._save(replace(entry, on_call=on_call))

    async def toggle_skill(self, telegram_id: int, skill: EmergencySkill) -> PoolEntry:
        entry = await self.pool(telegram_id)
        return await self._save(replace(entry, skills=entry.skills ^ {skill}))

    async def set_area(self, telegram_id: int, area_code: str) -> PoolEntry:
        areas = {area.code for area in await self._catalog.areas()}
        if area_code not in areas:
            raise EmergencyRefused(EmergencyRefusal.NOT_FOUND)
        entry = await self.pool(telegram_id)
        return await self._save(replace(entry, area_code=area_code))

    async def set_availability(self, telegram_id: int, availability: Availability) -> PoolEntry:
        entry = await self.pool(telegram_id)
        return await self._save(replace(entry, availability=availability))

    async def set_max_km(self, telegram_id: int, km: int) -> PoolEntry:
        if km not in TRAVEL_CHOICES:
            raise EmergencyRefused(EmergencyRefusal.NOT_FOUND)
        entry = await self.pool(telegram_id)
        return await self._save(replace(entry, max_km=km))

    async def set_pin(self, telegram_id: int, where: Point | None) -> PoolEntry:
        entry = await self.pool(telegram_id)
        return await self._save(
            replace(
                entry,
                latitude=where.latitude if where else None,
                longitude=where.longitude if where else None,
            )
        )

    # -- who may mobilize ------------------------------------------------------------------------

    async def organizations_for(self, telegram_id: int) -> list[tuple[int, str]]:
        """Organizations this person may mobilize for: administrators any allowed one,
        organizers the allowed ones they act for."""
        allowed = await self._repo.authorized()
        if await self._staff.is_admin(telegram_id):
            return allowed
        mine = {
            org.organization_id for org, _role in await self._staff.organizations_of(telegram_id)
        }
        return [(oid, name) for oid, name in allowed if oid in mine]

    async def is_admin(self, telegram_id: int) -> bool:
        return await self._staff.is_admin(telegram_id)

    async def authorized(self, telegram_id: int) -> list[tuple[int, str]]:
        await self._staff.require_admin(telegram_id)
        return await self._repo.authorized()

    async def find_organizations(self, telegram_id: int, words: str) -> list[tuple[int, str]]:
        await self._staff.require_admin(telegram_id)
        words = clean_free_text(words, min_length=1, max_length=50)
        return await self._repo.find_organizations(words, ORGANIZATION_MATCHES)

    async def grant(self, telegram_id: int, organization_id: int) -> str:
        """Allow an organization to mobilize (administrators); its name."""
        organization = await self._staff.organization_for(telegram_id, organization_id)
        await self._staff.require_admin(telegram_id)
        await self._repo.grant(organization_id, telegram_id, self.now())
        log.info("organization %s may mobilize (granted by %s)", organization_id, telegram_id)
        return organization.name

    async def revoke(self, telegram_id: int, organization_id: int) -> None:
        await self._staff.require_admin(telegram_id)
        await self._repo.revoke(organization_id)
        log.info("organization %s may no longer mobilize (%s)", organization_id, telegram_id)

    # -- drafts ----------------------------------------------------------------------------------

    async def new_draft(self, telegram_id: int, organization_id: int) -> Mobilization:
        allowed = {oid for oid, _name in await self.organizations_for(telegram_id)}
        if organization_id not in allowed:
            raise EmergencyRefused(EmergencyRefusal.NOT_ALLOWED)
        mobilization_id = await self._repo.create_draft(organization_id, telegram_id, self.now())
        return await self._get(mobilization_id)

    async def latest_draft(self, telegram_id: int) -> Mobilization | None:
        found = await self._repo.latest_draft(telegram_id)
        return await self._repo.get(found) if found is not None else None

    async def _get(self, mobilization_id: int) -> Mobilization:
        mobilization = await self._repo.get(mobilization_id)
        if mobilization is None:
            raise EmergencyRefused(EmergencyRefusal.NOT_FOUND)
        return mobilization

    async def draft(self, telegram_id: int, mobilization_id: int) -> Mobilization:
        """A draft of this person's (drafts are personal until started)."""
        mobilization = await self._get(mobilization_id)
        if mobilization.created_by != telegram_id:
            log.warning("user %s pressed on draft %s of another", telegram_id, mobilization_id)
            raise EmergencyRefused(EmergencyRefusal.NOT_ALLOWED)
        if mobilization.status is not MobilizationStatus.DRAFT:
            raise EmergencyRefused(EmergencyRefusal.STARTED)
        return mobilization

    async def _change(
        self, telegram_id: int, mobilization_id: int, version: int | None, **fields: object
    ) -> Mobilization:
        await self.draft(telegram_id, mobilization_id)
        if not await self._repo.update_draft(mobilization_id, version, self.now(), **fields):
            raise EmergencyRefused(EmergencyRefusal.CHANGED)
        return await self._get(mobilization_id)

    async def set_title(self, telegram_id: int, mobilization_id: int, text: str) -> Mobilization:
        title = clean_free_text(text, min_length=2, max_length=TITLE_MAX)
        return await self._change(telegram_id, mobilization_id, None, title=title)

    async def set_place(self, telegram_id: int, mobilization_id: int, where: Point) -> Mobilization:
        return await self._change(
            telegram_id,
            mobilization_id,
            None,
            latitude=where.latitude,
            longitude=where.longitude,
        )

    async def set_rally_text(
        self, telegram_id: int, mobilization_id: int, text: str
    ) -> Mobilization:
        rally = clean_free_text(text, min_length=2, max_length=RALLY_TEXT_MAX)
        return await self._change(telegram_id, mobilization_id, None, rally_text=rally)

    async def set_rally_in(
        self, telegram_id: int, mobilization_id: int, version: int, minutes: int
    ) -> Mobilization:
        if minutes not in RALLY_CHOICES:
            raise EmergencyRefused(EmergencyRefusal.CHANGED)
        return await self._change(telegram_id, mobilization_id, version, rally_in_minutes=minutes)

    async def set_drill(
        self, telegram_id: int, mobilization_id: int, version: int, drill: bool
    ) -> Mobilization:
        return await self._change(telegram_id, mobilization_id, version, is_drill=int(drill))

    async def change_need(
        self, telegram_id: int, mobilization_id: int, version: int, skill: NeedSkill, delta: int
    ) -> Mobilization:
        mobilization = await self.draft(telegram_id, mobilization_id)
        needed = mobilization.needed.get(skill, 0) + delta
        if needed > MAX_NEED:
            raise EmergencyRefused(EmergencyRefusal.TOO_MANY)
        if not await self._repo.set_need(
            mobilization_id, version, skill, max(0, needed), self.now()
        ):
            raise EmergencyRefused(EmergencyRefusal.CHANGED)
        return await self._get(mobilization_id)

    # -- starting and waves ----------------------------------------------------------------------

    async def _candidates(self, mobilization: Mobilization, rally_at: datetime) -> list[Candidate]:
        assert mobilization.latitude is not None and mobilization.longitude is not None
        rally = Point(mobilization.latitude, mobilization.longitude)
        tz = self._settings.tz
        local = rally_at.astimezone(tz)
        members = await self._repo.on_call(self.now().astimezone(tz).date())
        return [
            Candidate(
                volunteer_id=member.volunteer_id,
                skills=member.skills,
                distance_km=(
                    distance_km(Point(member.latitude, member.longitude), rally)
                    if member.latitude is not None and member.longitude is not None
                    else None
                ),
                max_km=member.max_km,
            )
            for member in members
            if member.availability.allows(local.time())
        ]

    async def _telegram_ids(self) -> dict[int, int]:
        members = await self._repo.on_call(self.now().astimezone(self._settings.tz).date())
        return {member.volunteer_id: member.telegram_id for member in members}

    def _alert_rows(
        self, mobilization_id: int, alerts: Sequence[PlannedAlert], telegram_ids: dict[int, int]
    ) -> list[Notification]:
        due = self.now() - URGENT_HEAD_START
        return [
            Notification(
                kind=NotificationKind.EMERGENCY_ALERT,
                telegram_id=telegram_ids[alert.volunteer_id],
                subject=f"em:{mobilization_id}",
                payload={"mobilization_id": mobilization_id, "volunteer_id": alert.volunteer_id},
                due_at=due,
                batch_key=batch_key(mobilization_id),
            )
            for alert in alerts
            if alert.volunteer_id in telegram_ids
        ]

    async def start(
        self, telegram_id: int, mobilization_id: int, version: int, activity_title: str
    ) -> Started:
        """Start the draft this person saw (``version``): its activity, and wave 1 at once."""
        mobilization = await self.draft(telegram_id, mobilization_id)
        if mobilization.version != version:
            raise EmergencyRefused(EmergencyRefusal.CHANGED)
        if mobilization.missing:
            raise EmergencyRefused(EmergencyRefusal.INCOMPLETE)
        allowed = {oid for oid, _name in await self.organizations_for(telegram_id)}
        if mobilization.organization_id not in allowed:
            raise EmergencyRefused(EmergencyRefusal.NOT_ALLOWED)
        assert mobilization.latitude is not None and mobilization.longitude is not None
        now = self.now()
        rally_at = now + timedelta(minutes=mobilization.rally_in_minutes)
        plan = plan_wave(
            await self._candidates(mobilization, rally_at),
            mobilization.needed,
            {},
            set(),
            wave=1,
            previous_radius_km=0.0,
            policy=self.policy,
        )
        total = sum(mobilization.needed.values())
        activity = NewActivity(
            organization_id=mobilization.organization_id,
            title=activity_title[: TITLE_MAX + 20],
            category_code=EMERGENCY_CATEGORY,
            description=mobilization.rally_text,
            # It starts now (not at the rally time): a future start would list it in the menu
            # and draw under-staffing alerts; hours still count from each person's check-in.
            starts_at=now,
            ends_at=rally_at + self._settings.emergency_duration,
            place=mobilization.rally_text,
            latitude=mobilization.latitude,
            longitude=mobilization.longitude,
            capacity=max(1, min(10_000, total)),
            created_by=telegram_id,
        )
        await self._repo.start(
            mobilization_id,
            version,
            activity,
            rally_at=rally_at,
            radius_km=plan.radius_km,
            waves_done=plan.exhausted,
            next_wave_at=now + self._settings.emergency_wave_interval,
            alerts=plan.alerts,
            notifications=self._alert_rows(
                mobilization_id, plan.alerts, await self._telegram_ids()
            ),
            now=now,
        )
        log.info(
            "mobilization %s started by %s: wave 1 alerts %s (radius %.1f km, drill=%s)",
            mobilization_id,
            telegram_id,
            len(plan.alerts),
            plan.radius_km,
            mobilization.is_drill,
        )
        return Started(await self._get(mobilization_id), len(plan.alerts))

    async def run_waves(self) -> list[WaveSent]:
        """The wave job: for each active mobilization whose next wave is due, send it if some
        need is still short (claimed by wave number, so several processes send it once)."""
        sent: list[WaveSent] = []
        now = self.now()
        for mobilization_id in await self._repo.due_for_wave(now):
            mobilization = await self._repo.get(mobilization_id)
            if mobilization is None or mobilization.rally_at is None:
                continue
            done = await self._next_wave(mobilization, now)
            if done is not None:
                sent.append(done)
        return sent

    async def _next_wave(self, mobilization: Mobilization, now: datetime) -> WaveSent | None:
        assert mobilization.rally_at is not None
        mid = mobilization.mobilization_id
        next_at = now + self._settings.emergency_wave_interval
        over = now >= mobilization.rally_at + self._settings.emergency_duration
        tally = await self._repo.tally(mid)
        if not over and not shortfall(mobilization.needed, tally.coming_by_skill):
            # Enough people are coming: no wave. Looked at again later, in case some drop out.
            await self._repo.postpone_wave(mid, mobilization.wave, next_at)
            return None
        plan = (
            WavePlan((), mobilization.radius_km, exhausted=True)
            if over
            else plan_wave(
                await self._candidates(mobilization, mobilization.rally_at),
                mobilization.needed,
                tally.coming_by_skill,
                await self._repo.alerted_ids(mid),
                wave=mobilization.wave + 1,
                previous_radius_km=mobilization.radius_km,
                policy=self.policy,
            )
        )
        wave = mobilization.wave + 1
        if not await self._repo.send_wave(
            mid,
            wave,
            radius_km=plan.radius_km,
            waves_done=plan.exhausted,
            next_wave_at=next_at,
            alerts=plan.alerts,
            notifications=self._alert_rows(mid, plan.alerts, await self._telegram_ids()),
            now=now,
        ):
            return None  # another process sent this wave
        log.info(
            "mobilization %s wave %s: %s alerts within %.1f km%s",
            mid,
            wave,
            len(plan.alerts),
            plan.radius_km,
            " (no one left)" if plan.exhausted else "",
        )
        return WaveSent(mid, wave, len(plan.alerts), plan.radius_km)

    # -- answers ---------------------------------------------------------------------------------

    async def alert_for(self, mobilization_id: int, volunteer_id: int) -> Answered | None:
        """What an alert's renderer shows (``None``: gone)."""
        mobilization = await self._repo.get(mobilization_id)
        alert = await self._repo.alert(mobilization_id, volunteer_id)
        if mobilization is None or alert is None:
            return None
        return Answered(mobilization, alert)

    async def delivered(self, mobilization_id: int, volunteer_id: int) -> None:
        await self._repo.mark_delivered(mobilization_id, volunteer_id, self.now())

    async def answer(
        self, telegram_id: int, mobilization_id: int, eta_minutes: int | None
    ) -> Answered:
        """I can come (``eta_minutes``) or can't (``None``). Only the volunteer alerted answers
        (they are known by their own Telegram id, never by the button), only while it runs."""
        volunteer_id = await self._volunteer(telegram_id)
        alert = await self._repo.alert(mobilization_id, volunteer_id)
        mobilization = await self._repo.get(mobilization_id)
        if alert is None or mobilization is None:
            log.warning("user %s answered mobilization %s unalerted", telegram_id, mobilization_id)
            raise EmergencyRefused(EmergencyRefusal.NOT_ALERTED)
        if mobilization.status is not MobilizationStatus.ACTIVE:
            raise EmergencyRefused(EmergencyRefusal.STOOD_DOWN)
        if eta_minutes is None:
            answer, skill = Answer.CANNOT, None
        else:
            if eta_minutes not in ETA_CHOICES:
                raise EmergencyRefused(EmergencyRefusal.CHANGED)
            tally = await self._repo.tally(mobilization_id)
            coming = dict(tally.coming_by_skill)
            if alert.answer is Answer.COMING and alert.counted_skill is not None:
                coming[alert.counted_skill] -= 1  # changing the estimate: not counted twice
            entry = await self._repo.pool_entry(volunteer_id)
            skills = entry.skills if entry is not None else frozenset()
            answer = Answer.COMING
            skill = counted_skill(skills, alert.skill, mobilization.needed, coming)
        if not await self._repo.answer(
            mobilization_id, volunteer_id, answer, eta_minutes, skill, self.now()
        ):
            raise EmergencyRefused(EmergencyRefusal.STOOD_DOWN)
        log.info(
            "mobilization %s: volunteer %s answers %s (%s)",
            mobilization_id,
            volunteer_id,
            answer,
            eta_minutes,
        )
        updated = await self._repo.alert(mobilization_id, volunteer_id)
        assert updated is not None
        return Answered(mobilization, updated, was_coming=alert.answer is Answer.COMING)

    # -- coordinating ----------------------------------------------------------------------------

    async def coordinate(self, telegram_id: int, mobilization_id: int) -> Mobilization:
        """A started mobilization, if this person may coordinate it (staff of its organization
        or an administrator; raises ``StaffRefused`` otherwise)."""
        mobilization = await self._get(mobilization_id)
        if mobilization.status is MobilizationStatus.DRAFT:
            raise EmergencyRefused(EmergencyRefusal.NOT_FOUND)
        await self._staff.organization_for(telegram_id, mobilization.organization_id)
        return mobilization

    async def mobilization(self, mobilization_id: int) -> Mobilization | None:
        return await self._repo.get(mobilization_id)

    async def active_for(self, telegram_id: int) -> list[Mobilization]:
        """Running mobilizations this person may coordinate."""
        if await self._staff.is_admin(telegram_id):
            ids = await self._repo.active_of(None)
        else:
            orgs = {
                org.organization_id for org, _ in await self._staff.organizations_of(telegram_id)
            }
            ids = await self._repo.active_of(orgs)
        found = [await self._repo.get(mid) for mid in ids]
        return [m for m in found if m is not None]

    async def headcount(self, mobilization: Mobilization) -> Headcount:
        tally = await self._repo.tally(mobilization.mobilization_id)
        return headcount(
            mobilization.needs,
            tally.coming_by_skill,
            alerted=tally.alerted,
            cannot=tally.cannot,
            by_eta=tally.by_eta,
        )

    async def alerts(self, mobilization_id: int) -> list[AlertRow]:
        return await self._repo.alerts(mobilization_id)

    async def place_message(self, mobilization_id: int, chat_id: int, message_id: int) -> None:
        await self._repo.place_message(mobilization_id, chat_id, message_id, self.now())

    async def claim_edit(self, mobilization_id: int) -> bool:
        """Whether this process should edit the coordinator's message now (coalesced: at most
        one edit per ``EMERGENCY_EDIT_SECONDS``; the job catches what was held back)."""
        now = self.now()
        gap = timedelta(seconds=self._settings.emergency_edit_seconds)
        return await self._repo.claim_edit(mobilization_id, now, now - gap)

    async def stale_messages(self) -> list[int]:
        return await self._repo.stale_messages()

    async def forget_message(self, mobilization_id: int) -> None:
        await self._repo.forget_message(mobilization_id)

    async def stand_down(self, telegram_id: int, mobilization_id: int) -> int:
        """End it: those coming and those alerted who have not answered are told; alerts not
        sent yet are dropped. How many are told."""
        await self.coordinate(telegram_id, mobilization_id)
        now = self.now()

        def rows(recipients: Sequence[int]) -> list[Notification]:
            return [
                Notification(
                    kind=NotificationKind.EMERGENCY_STAND_DOWN,
                    telegram_id=recipient,
                    subject=f"em:{mobilization_id}",
                    payload={"mobilization_id": mobilization_id},
                    due_at=now - URGENT_HEAD_START,
                )
                for recipient in recipients
            ]

        told = await self._repo.stand_down(mobilization_id, now, rows)
        if told is None:
            raise EmergencyRefused(EmergencyRefusal.STOOD_DOWN)
        dropped = await self._outbox.drop_pending_batch(
            batch_key(mobilization_id), now, "stood down"
        )
        log.info(
            "mobilization %s stood down by %s: %s told, %s unsent alerts dropped",
            mobilization_id,
            telegram_id,
            told,
            dropped,
        )
        return told

    async def send_update(self, telegram_id: int, mobilization_id: int, text: str) -> int:
        """The coordinator's update to everyone coming; how many."""
        await self.coordinate(telegram_id, mobilization_id)
        cleaned = clean_free_text(text, min_length=1, max_length=UPDATE_MAX, multiline=True)
        now = self.now()

        def rows(update_id: int, recipients: Sequence[int]) -> list[Notification]:
            return [
                Notification(
                    kind=NotificationKind.EMERGENCY_UPDATE,
                    telegram_id=recipient,
                    subject=f"em:{mobilization_id}:{update_id}",
                    payload={"mobilization_id": mobilization_id, "update_id": update_id},
                    due_at=now - URGENT_HEAD_START,
                )
                for recipient in recipients
            ]

        told = await self._repo.add_update(mobilization_id, cleaned, telegram_id, now, rows)
        if told is None:
            raise EmergencyRefused(EmergencyRefusal.STOOD_DOWN)
        return told

    async def update_text(self, mobilization_id: int, update_id: int) -> str | None:
        return await self._repo.update_text(mobilization_id, update_id)
