"""Evaluation (民政部令第67号 Art. 10): the volunteer's rating of an activity and the organizer's
rating of a volunteer's service. Models and the rules that need no storage.

Both are 1–5 stars with an optional comment. Who may see what:

- the volunteer's rating of an activity feeds averages for organizers and reports; a low one
  (≤ :data:`LOW_RATING`) is told to the organization's managers without the volunteer's name,
  so an honest answer never puts a volunteer at odds with the people who rate their service;
- the organizer's rating of a volunteer's service is private to the organizers of that
  organization and to administrators. It is not shown to the volunteer, not even in their data
  export: Art. 10 makes evaluation the organization's own assessment (it may draw on what the
  people served said, in confidence), and Art. 16 limits disclosure to those who need it. What
  the volunteer is entitled to see and correct (Art. 12–13) is the record of service (Art. 7:
  activity, date, place, content, hours, organizer), which ``/hours`` and the export carry.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from pydantic import BaseModel, ConfigDict

from bot.domain.validation import clean_free_text

STARS: Final = range(1, 6)
#: A rating at or below this tells the organization's managers.
LOW_RATING: Final = 2
COMMENT_MAX: Final = 300
#: A volunteer may rate an activity, and change the rating, this long after the hours were
#: confirmed (when the request went out); later presses of an old request are refused.
RATING_WINDOW: Final = timedelta(days=7)
#: Volunteers per page of the organizer's list.
PAGE_SIZE: Final = 8


def clean_comment(text: str) -> str:
    """A comment of 1–300 characters, several lines allowed (raises ``InvalidInput``)."""
    return clean_free_text(text, min_length=1, max_length=COMMENT_MAX, multiline=True)


def stars(rating: int) -> str:
    """``★★★★☆`` for 4."""
    return "★" * rating + "☆" * (max(STARS) - rating)


class ServedRecord(BaseModel):
    """A volunteer's service record for one activity, as ratings need it."""

    model_config = ConfigDict(frozen=True)

    activity_id: int
    volunteer_id: int
    organization_id: int | None
    activity_title: str
    service_date: date
    recorded_at: datetime

    def rating_open(self, now: datetime, window: timedelta = RATING_WINDOW) -> bool:
        return now <= self.recorded_at + window


class Rating(BaseModel):
    """One rating: of an activity by a volunteer, or of a volunteer's service by an organizer."""

    model_config = ConfigDict(frozen=True)

    activity_id: int
    volunteer_id: int
    rating: int
    comment: str | None
    rated_at: datetime


class RatingSummary(BaseModel):
    """The volunteers' ratings of an activity or of all an organization's activities."""

    model_config = ConfigDict(frozen=True)

    count: int
    average: float | None  # None when nobody rated


class ServedVolunteer(BaseModel):
    """A volunteer with a record for the activity, and the organizer's rating if any."""

    model_config = ConfigDict(frozen=True)

    volunteer_id: int
    name: str | None  # None: the account was deleted
    rating: int | None
    comment: str | None = None
