"""Star levels (星级认定): thresholds, a volunteer's standing, applications with a publicity
period, and the sweep that congratulates.

```mermaid
flowchart LR
    H[confirmed hours · service_records] --> L{level from thresholds}
    A[administrator edits thresholds · /stars] --> L
    L -->|read: /profile| P[level and hours to the next]
    L -->|sweep, new level| M{STAR_APPLICATION}
    M -->|off| R[granted · STAR_REACHED 🎉]
    M -->|on| E[eligible · STAR_ELIGIBLE: apply]
    E -->|volunteer applies| PUB[publicised N days · STAR_PUBLICITY to administrators]
    PUB -->|administrator objects| O[objected · STAR_OBJECTED; may apply again]
    PUB -->|days over, sweep| G[granted · STAR_GRANTED 🎉]
```

The sweep runs periodically (:mod:`handlers.stars`) and is idempotent: a row per level and
volunteer is its key, so several processes and restarts congratulate once per level.
:meth:`StarService.after_hours_changed` runs the same for some volunteers at once (after
a confirmation).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import timedelta
from enum import StrEnum

from bot.clock import Clock
from bot.config import Settings
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.stars import (
    Standing,
    StarRefusal,
    StarRefused,
    Thresholds,
    parse_thresholds,
    standing,
)
from bot.domain.users import Role
from bot.domain.volunteers import VolunteerProfile
from bot.services.staff import StaffService
from storage.stars import Publicity, StarsRepository
from storage.users import UsersRepository
from storage.volunteers import VolunteersRepository

__all__ = ["ObjectionReason", "StarService"]

log = logging.getLogger(__name__)

PUBLICITY_LIST_LIMIT = 30


class ObjectionReason(StrEnum):
    """Why an administrator objects during the publicity (a button each, no typing)."""

    HOURS = "hours"  # the hours are disputed
    CONDUCT = "conduct"  # conduct does not fit the honour
    OTHER = "other"


class StarService:
    def __init__(
        self,
        stars: StarsRepository,
        volunteers: VolunteersRepository,
        users: UsersRepository,
        staff: StaffService,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._stars = stars
        self._volunteers = volunteers
        self._users = users
        self._staff = staff
        self._clock = clock
        self._settings = settings

    @property
    def application(self) -> bool:
        return self._settings.star_application

    @property
    def publicity_days(self) -> int:
        return self._settings.star_publicity_days

    # -- thresholds -----------------------------------------------------------------------------

    async def thresholds(self) -> Thresholds:
        return await self._stars.thresholds()

    async def set_thresholds(self, actor: int, text: str) -> Thresholds:
        """An administrator's five numbers; raises ``InvalidInput`` (localized reason)."""
        await self._staff.require_admin(actor)
        thresholds = parse_thresholds(text)
        await self._stars.set_thresholds(thresholds, actor, self._clock())
        log.info("star thresholds set by %s: %s", actor, thresholds.hours)
        return thresholds

    async def set_preset(self, actor: int, hours: tuple[int, ...]) -> Thresholds:
        await self._staff.require_admin(actor)
        thresholds = Thresholds(hours)
        await self._stars.set_thresholds(thresholds, actor, self._clock())
        log.info("star thresholds set by %s: %s", actor, thresholds.hours)
        return thresholds

    # -- a volunteer ----------------------------------------------------------------------------

    async def standing_of(self, volunteer_id: int) -> Standing:
        """Derived now from the hours and the current thresholds (never cached)."""
        minutes = await self._stars.minutes_of(volunteer_id)
        rows = await self._stars.rows_of(volunteer_id) if self.application else []
        return standing(minutes, await self._stars.thresholds(), rows, application=self.application)

    async def standing(self, telegram_id: int) -> tuple[VolunteerProfile, Standing] | None:
        profile = await self._volunteers.get_profile(telegram_id)
        if profile is None:
            return None
        return profile, await self.standing_of(profile.volunteer_id)

    async def apply(self, telegram_id: int, level: int) -> Standing:
        """Apply for ``level``: it must be the one the hours reach and not granted yet."""
        if not self.application:
            raise StarRefused(StarRefusal.APPLICATIONS_OFF)
        found = await self.standing(telegram_id)
        if found is None:
            raise StarRefused(StarRefusal.NOT_REGISTERED)
        profile, current = found
        if current.can_apply != level:
            raise StarRefused(StarRefusal.NOT_ELIGIBLE)
        now = self._clock()
        ends = now + timedelta(days=self.publicity_days)
        notify = [
            Notification(
                kind=NotificationKind.STAR_PUBLICITY,
                telegram_id=admin,
                subject=f"{profile.volunteer_id}:{level}:{now.isoformat()}",
                payload={"volunteer": profile.volunteer_id, "level": level},
                due_at=now,
            )
            for admin in await self.admin_ids()
        ]
        if not await self._stars.apply(profile.volunteer_id, level, now, ends, notify):
            raise StarRefused(StarRefusal.NOT_ELIGIBLE)
        log.info("volunteer %s applied for %s stars", profile.volunteer_id, level)
        return await self.standing_of(profile.volunteer_id)

    # -- administrators -------------------------------------------------------------------------

    async def admin_ids(self) -> list[int]:
        appointed = {user.telegram_id for user in await self._users.list_by_role(Role.ADMIN)}
        return sorted(set(self._settings.admin_ids) | appointed)

    async def publicity(self, actor: int) -> list[Publicity]:
        await self._staff.require_admin(actor)
        return await self._stars.publicity(self._clock(), PUBLICITY_LIST_LIMIT)

    async def publicised(self, volunteer_id: int, level: int) -> Publicity | None:
        """The publicity of this level if it is still running (renderers drop stale ones)."""
        for item in await self._stars.publicity(self._clock(), PUBLICITY_LIST_LIMIT * 10):
            if item.volunteer_id == volunteer_id and item.level == level:
                return item
        return None

    async def object(
        self, actor: int, volunteer_id: int, level: int, reason: ObjectionReason
    ) -> None:
        await self._staff.require_admin(actor)
        profile = await self._volunteers.get_profile_by_id(volunteer_id)
        now = self._clock()
        notify = (
            [
                Notification(
                    kind=NotificationKind.STAR_OBJECTED,
                    telegram_id=profile.telegram_id,
                    subject=f"level:{level}:{now.isoformat()}",
                    payload={"level": level, "reason": reason.value},
                    due_at=now,
                )
            ]
            if profile is not None
            else []
        )
        if not await self._stars.object(volunteer_id, level, actor, reason.value, now, notify):
            raise StarRefused(StarRefusal.NOT_PUBLICISED)
        log.info("administrator %s objected to %s stars of %s", actor, level, volunteer_id)

    # -- the sweep ------------------------------------------------------------------------------

    async def sweep(self, volunteer_ids: Collection[int] | None = None) -> int:
        """Newly reached levels congratulated, publicities that ended granted; how many
        notifications were queued (idempotent)."""
        return await self._stars.sweep(
            await self._stars.thresholds(),
            application=self.application,
            now=self._clock(),
            volunteer_ids=volunteer_ids,
        )

    async def after_hours_changed(self, volunteer_ids: Collection[int]) -> int:
        """For the confirm step: congratulate these volunteers now rather than at the next
        sweep (call after the confirming transaction committed)."""
        return await self.sweep(volunteer_ids)
