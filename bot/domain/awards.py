"""Awards (民政部令第67号 Art. 9: 表彰奖励): entered by an organizer for a volunteer who served
with their organization, or by an administrator for anyone; the volunteer is told.

Rules that need no storage: the title, the issuer and the date as typed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from pydantic import BaseModel, ConfigDict

from bot.domain.dateparse import WhenError, parse_day
from bot.domain.validation import InvalidInput, clean_free_text
from bot.i18n import N_

TITLE_MAX: Final = 60
ISSUER_MAX: Final = 60
#: Older award dates are typing mistakes more likely than history worth entering.
OLDEST: Final = timedelta(days=366 * 50)
#: Volunteers per page of the organization's list.
PAGE_SIZE: Final = 8

DATE_UNREADABLE: Final = N_(
    "I could not read that date. Please type it like 2026-12-05, 12月5日 or today."
)
DATE_IMPOSSIBLE: Final = N_("That date does not exist. Please check the month and the day.")
DATE_FUTURE: Final = N_("That date is in the future. Please enter an award once it has been given.")
DATE_TOO_OLD: Final = N_("That date is too long ago. Please check the year.")


def clean_title(text: str) -> str:
    """The award's title, one line of 2–60 characters (raises ``InvalidInput``)."""
    return clean_free_text(text, min_length=2, max_length=TITLE_MAX)


def clean_issuer(text: str) -> str:
    """Who gave it, one line of 2–60 characters (raises ``InvalidInput``)."""
    return clean_free_text(text, min_length=2, max_length=ISSUER_MAX)


def parse_award_date(text: str, today: date) -> date:
    """The day it was given: ``2026-12-05``, ``12月5日`` (the latest 5 December so far),
    ``today``; never in the future (raises ``InvalidInput``)."""
    found = parse_day(text, today, latest=True)
    if isinstance(found, WhenError):
        raise InvalidInput(
            DATE_IMPOSSIBLE if found is WhenError.IMPOSSIBLE_DATE else DATE_UNREADABLE
        )
    if found > today:
        raise InvalidInput(DATE_FUTURE)
    if found < today - OLDEST:
        raise InvalidInput(DATE_TOO_OLD)
    return found


class Award(BaseModel):
    model_config = ConfigDict(frozen=True)

    award_id: int
    volunteer_id: int
    title: str
    issuer: str
    awarded_on: date
    organization_id: int | None
    entered_by: int | None
    entered_at: datetime


class NewAward(BaseModel):
    model_config = ConfigDict(frozen=True)

    volunteer_id: int
    title: str
    issuer: str
    awarded_on: date
    organization_id: int | None  # None: entered by an administrator outside any organization


class VolunteerBrief(BaseModel):
    """Whom an award is for: enough to show and to tell them."""

    model_config = ConfigDict(frozen=True)

    volunteer_id: int
    name: str
    telegram_id: int | None
