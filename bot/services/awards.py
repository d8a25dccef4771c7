"""Awards (民政部令第67号 Art. 9): entering one, and reading a volunteer's.

Who may enter an award for whom, re-checked on every step and again when it is saved:

- an organizer of an approved organization, for a volunteer with a service record of that
  organization (the award carries the organization);
- an administrator, for any volunteer (found by @username or volunteer number), with or
  without an organization.

Saving stores the award and queues the volunteer's notice in one transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, tzinfo
from enum import StrEnum

from bot.clock import Clock
from bot.domain.activities import Organization
from bot.domain.awards import (
    PAGE_SIZE,
    Award,
    NewAward,
    VolunteerBrief,
    clean_issuer,
    clean_title,
    parse_award_date,
)
from bot.domain.refusals import Refused
from bot.services.staff import StaffRefusal, StaffRefused, StaffService
from storage.awards import AwardsRepository

__all__ = ["AwardRefusal", "AwardRefused", "AwardService", "VolunteerPage"]

log = logging.getLogger(__name__)

_USERNAME = re.compile(r"@?([A-Za-z][A-Za-z0-9_]{3,31})")
_NUMBER = re.compile(r"(?:No\.?|#|编号)?\s*([0-9]{1,12})", re.IGNORECASE)


class AwardRefusal(StrEnum):
    NOT_SERVED = "not_served"  # the volunteer has no record with the organization
    NO_VOLUNTEER = "no_volunteer"  # deleted, or never existed


class AwardRefused(Refused):
    def __init__(self, reason: AwardRefusal) -> None:
        super().__init__(reason)
        self.reason: AwardRefusal = reason


@dataclass(frozen=True)
class VolunteerPage:
    organization: Organization
    volunteers: list[VolunteerBrief]
    page: int
    pages: int
    total: int


class AwardService:
    def __init__(
        self, repo: AwardsRepository, staff: StaffService, clock: Clock, tz: tzinfo
    ) -> None:
        self._repo = repo
        self._staff = staff
        self._clock = clock
        self._tz = tz

    def today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    async def is_admin(self, telegram_id: int) -> bool:
        return await self._staff.is_admin(telegram_id)

    async def organizations_of(self, telegram_id: int) -> list[Organization]:
        """The approved organizations this user may enter awards for."""
        return [org for org, _role in await self._staff.organizations_of(telegram_id)]

    async def organization(self, telegram_id: int, organization_id: int) -> Organization:
        return await self._staff.organization_for(telegram_id, organization_id)

    async def volunteers(self, telegram_id: int, organization_id: int, page: int) -> VolunteerPage:
        """The organization's volunteers with a service record, paged by name."""
        organization = await self._staff.organization_for(telegram_id, organization_id)
        found, total = await self._repo.served_with_page(organization_id, max(page, 0), PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        if page >= pages:
            page = pages - 1
            found, total = await self._repo.served_with_page(organization_id, page, PAGE_SIZE)
        return VolunteerPage(organization, found, max(page, 0), pages, total)

    async def find(self, telegram_id: int, text: str) -> VolunteerBrief | None:
        """Administrators only: a volunteer by @username or volunteer number (``None``: no
        such volunteer)."""
        await self._staff.require_admin(telegram_id)
        cleaned = text.strip()
        number = _NUMBER.fullmatch(cleaned)
        if number is not None:
            return await self._repo.volunteer(int(number.group(1)))
        username = _USERNAME.fullmatch(cleaned)
        if username is not None:
            return await self._repo.volunteer_by_username(username.group(1))
        return None

    async def recipient(
        self, telegram_id: int, organization_id: int | None, volunteer_id: int
    ) -> tuple[Organization | None, VolunteerBrief]:
        """The organization and volunteer of an award this user may enter, or a refusal."""
        admin = await self._staff.is_admin(telegram_id)
        organization: Organization | None = None
        if organization_id is not None:
            organization = await self._staff.organization_for(telegram_id, organization_id)
        elif not admin:
            log.warning("award refused: user %s without an organization", telegram_id)
            raise StaffRefused(StaffRefusal.NOT_ALLOWED)
        volunteer = await self._repo.volunteer(volunteer_id)
        if volunteer is None:
            raise AwardRefused(AwardRefusal.NO_VOLUNTEER)
        # Organizers: only volunteers who served with them. Administrators: anyone.
        if (
            not admin
            and organization_id is not None
            and not await self._repo.served_with(volunteer_id, organization_id)
        ):
            log.warning("award refused: user %s, volunteer %s never served with org %s",
                        telegram_id, volunteer_id, organization_id)  # fmt: skip
            raise AwardRefused(AwardRefusal.NOT_SERVED)
        return organization, volunteer

    # Typed fields: the rules live in bot.domain.awards; these raise ``InvalidInput``.
    @staticmethod
    def clean_title(text: str) -> str:
        return clean_title(text)

    @staticmethod
    def clean_issuer(text: str) -> str:
        return clean_issuer(text)

    def parse_date(self, text: str) -> date:
        return parse_award_date(text, self.today())

    async def enter(
        self,
        telegram_id: int,
        organization_id: int | None,
        volunteer_id: int,
        title: str,
        issuer: str,
        awarded_on: date,
    ) -> Award:
        """Save the award (every field checked again) and tell the volunteer."""
        _org, volunteer = await self.recipient(telegram_id, organization_id, volunteer_id)
        new = NewAward(
            volunteer_id=volunteer.volunteer_id,
            title=clean_title(title),
            issuer=clean_issuer(issuer),
            awarded_on=parse_award_date(awarded_on.isoformat(), self.today()),
            organization_id=organization_id,
        )
        award = await self._repo.add(new, telegram_id, volunteer.telegram_id, self._clock())
        log.info("award %s entered by %s for volunteer %s", award.award_id, telegram_id,
                 volunteer.volunteer_id)  # fmt: skip
        return award

    async def awards_of(self, volunteer_id: int) -> list[Award]:
        """A volunteer's awards, latest first (for ``/hours`` and the export)."""
        return await self._repo.awards_of(volunteer_id)

    async def award_for(self, telegram_id: int, award_id: int) -> Award | None:
        """For the volunteer's notice: the award, if it is still theirs."""
        award = await self._repo.get(award_id)
        if award is None:
            return None
        volunteer = await self._repo.volunteer(award.volunteer_id)
        if volunteer is None or volunteer.telegram_id != telegram_id:
            return None
        return award
