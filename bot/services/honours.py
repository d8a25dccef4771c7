"""Monthly honours: the top volunteers of a month per organization and per district, listed
only for those who opted in (a profile toggle, off by default: being named is a choice,
民政部令第67号 Art. 16)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.honours import Honoured, Month
from storage.honours import HonoursRepository
from storage.volunteers import VolunteersRepository

__all__ = ["HONOURS_LIMIT", "HonoursService", "Month", "month_range"]

HONOURS_LIMIT = 10
ORGANIZATION_BUTTONS = 4


def month_range(month: Month) -> tuple[date, date]:
    return month.first, month.after


class HonoursService:
    def __init__(
        self,
        honours: HonoursRepository,
        volunteers: VolunteersRepository,
        clock: Clock,
        tz: ZoneInfo,
    ) -> None:
        self._honours = honours
        self._volunteers = volunteers
        self._clock = clock
        self._tz = tz

    def this_month(self) -> Month:
        today = self._clock().astimezone(self._tz).date()
        return Month(today.year, today.month)

    async def opted_in(self, volunteer_id: int) -> bool:
        return await self._honours.opted_in(volunteer_id)

    async def toggle(self, telegram_id: int) -> bool | None:
        """Switch the opt-in; the new state, ``None`` for someone with no profile."""
        profile = await self._volunteers.get_profile(telegram_id)
        if profile is None:
            return None
        on = not await self._honours.opted_in(profile.volunteer_id)
        await self._honours.set_opt_in(profile.volunteer_id, on, self._clock())
        return on

    async def of_organization(self, organization_id: int, month: Month) -> list[Honoured]:
        return await self._honours.top(
            month.first, month.after, HONOURS_LIMIT, organization_id=organization_id
        )

    async def of_area(self, area_code: str, month: Month) -> list[Honoured]:
        return await self._honours.top(month.first, month.after, HONOURS_LIMIT, area_code=area_code)

    async def organizations_served(self, volunteer_id: int) -> list[tuple[int, str]]:
        return await self._honours.organizations_served(volunteer_id, ORGANIZATION_BUTTONS)

    async def organization_name(self, organization_id: int) -> str | None:
        return await self._honours.organization_name(organization_id)
