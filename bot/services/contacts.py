"""Who sees a volunteer's phone number on a roster, and revealing one with a reason.

See :mod:`bot.domain.contacts` for the promise this keeps.
"""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.domain.activities import Activity
from bot.domain.contacts import REVEAL_NO_LINE, mask_phone, parse_reveal
from bot.domain.exports import RosterEntry
from bot.domain.validation import InvalidInput
from bot.services.staff import StaffService
from storage.contact_reveals import ContactRevealsRepository
from storage.organizations import OrganizationsRepository
from storage.rosters import RostersRepository

log = logging.getLogger(__name__)


class ContactService:
    def __init__(
        self,
        reveals: ContactRevealsRepository,
        organizations: OrganizationsRepository,
        rosters: RostersRepository,
        staff: StaffService,
        clock: Clock,
    ) -> None:
        self._reveals = reveals
        self._organizations = organizations
        self._rosters = rosters
        self._staff = staff
        self._clock = clock

    async def sees_contacts(self, telegram_id: int, organization_id: int) -> bool:
        """Members of the organization (its organizers) see full numbers; nobody else does,
        administrators of the federation included."""
        return await self._organizations.membership(organization_id, telegram_id) is not None

    async def shown(
        self, telegram_id: int, activity: Activity, entries: list[RosterEntry]
    ) -> list[RosterEntry]:
        """The entries as this viewer may see them: phone numbers masked unless they organize."""
        if await self.sees_contacts(telegram_id, activity.organization_id):
            return entries
        return [masked(entry) for entry in entries]

    async def reveal(self, telegram_id: int, activity_id: int, text: str) -> RosterEntry:
        """One number of the activity's roster (line numbers as on the whole roster), for
        ``"<line> <reason>"``. Re-authorized like the roster; the reason is recorded first.
        Raises :class:`InvalidInput` for a malformed request or a line that is not there."""
        line, reason = parse_reveal(text)
        await self._staff.activity_for(telegram_id, activity_id)
        entries = await self._rosters.roster_all(activity_id)
        if not 1 <= line <= len(entries):
            raise InvalidInput(REVEAL_NO_LINE, {"line": line, "count": len(entries)})
        entry = entries[line - 1]
        await self._reveals.record(
            telegram_id, entry.volunteer_id, activity_id, reason, self._clock()
        )
        log.info(
            "user %s revealed the phone number of volunteer %s on activity %s",
            telegram_id,
            entry.volunteer_id,
            activity_id,
        )
        return entry


def masked(entry: RosterEntry) -> RosterEntry:
    return entry.model_copy(update={"phone": mask_phone(entry.phone)})
