"""Who may act as staff: administrators and the organizers of approved organizations.

Callback data is client input, so every organizer or administrator action asks this service
again, on the server, whether the presser may act on that organization or activity. A refusal is
logged (someone pressed a button they should not have, or forged one) and nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Set
from enum import StrEnum

from bot.domain.activities import Activity, MemberRole, Organization, OrganizationStatus
from bot.domain.refusals import Refused
from bot.domain.users import is_administrator
from storage.activities import ActivitiesRepository
from storage.organizations import OrganizationsRepository
from storage.users import UsersRepository

__all__ = ["StaffRefusal", "StaffRefused", "StaffService"]

log = logging.getLogger(__name__)


class StaffRefusal(StrEnum):
    NOT_FOUND = "not_found"  # the organization or activity does not exist
    NOT_ALLOWED = "not_allowed"  # exists, but this user may not act on it
    NOT_ACTIVE = "not_active"  # the organization is pending, rejected or suspended


class StaffRefused(Refused):
    def __init__(self, reason: StaffRefusal) -> None:
        super().__init__(reason)
        self.reason: StaffRefusal = reason


class StaffService:
    def __init__(
        self,
        users: UsersRepository,
        organizations: OrganizationsRepository,
        activities: ActivitiesRepository,
        admin_ids: Set[int],
    ) -> None:
        self._users = users
        self._organizations = organizations
        self._activities = activities
        self._admin_ids = admin_ids

    async def is_admin(self, telegram_id: int) -> bool:
        """``ADMIN_IDS`` always; appointed administrators by their stored role."""
        if telegram_id in self._admin_ids:
            return True  # no row to read
        return is_administrator(telegram_id, await self._users.get(telegram_id), self._admin_ids)

    async def require_admin(self, telegram_id: int) -> None:
        """Raise :class:`StaffRefused` (and log) unless this user is an administrator."""
        if not await self.is_admin(telegram_id):
            raise self._refuse(telegram_id, StaffRefusal.NOT_ALLOWED, "admin panel")

    async def organizations_of(self, telegram_id: int) -> list[tuple[Organization, MemberRole]]:
        """The approved organizations this user acts for, with their role in each."""
        found: list[tuple[Organization, MemberRole]] = []
        for organization_id, role in await self._organizations.memberships(telegram_id):
            organization = await self._organizations.get(organization_id)
            if organization is not None and organization.status is OrganizationStatus.APPROVED:
                found.append((organization, role))
        return found

    async def organization_for(
        self, telegram_id: int, organization_id: int, *, manager: bool = False
    ) -> Organization:
        """The organization, if this user may act for it (as a manager when ``manager``).

        Administrators may act for any organization; members only for an approved one.
        """
        organization = await self._organizations.get(organization_id)
        if organization is None:
            raise self._refuse(telegram_id, StaffRefusal.NOT_FOUND, f"org {organization_id}")
        if await self.is_admin(telegram_id):
            return organization
        role = await self._organizations.membership(organization_id, telegram_id)
        if role is None or (manager and role is not MemberRole.MANAGER):
            raise self._refuse(telegram_id, StaffRefusal.NOT_ALLOWED, f"org {organization_id}")
        if organization.status is not OrganizationStatus.APPROVED:
            raise self._refuse(telegram_id, StaffRefusal.NOT_ACTIVE, f"org {organization_id}")
        return organization

    async def activity_for(self, telegram_id: int, activity_id: int) -> Activity:
        """The activity, if this user may manage it (organizer of its organization, or admin)."""
        activity = await self._activities.get(activity_id)
        if activity is None:
            raise self._refuse(telegram_id, StaffRefusal.NOT_FOUND, f"activity {activity_id}")
        await self.organization_for(telegram_id, activity.organization_id)
        return activity

    @staticmethod
    def _refuse(telegram_id: int, reason: StaffRefusal, subject: str) -> StaffRefused:
        # Staff buttons only reach staff; anything else is a stale button or a forged press.
        log.warning("staff action refused: user %s on %s (%s)", telegram_id, subject, reason)
        return StaffRefused(reason)
