"""Evaluation (民政部令第67号 Art. 10): volunteers rate activities, organizers rate service.

Every action is re-authorized here, since button data is client input:

- a volunteer rates only an activity they have a service record for, as themselves (the press
  names the activity, never the volunteer), and only within :data:`RATING_WINDOW` after the
  hours were confirmed;
- an organizer rates only volunteers with a record for an activity of an organization they
  belong to (administrators: any), through :meth:`StaffService.activity_for`.

Who may see the organizer's rating, and why the volunteer does not: :mod:`bot.domain.evaluations`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.clock import Clock
from bot.domain.activities import Activity
from bot.domain.evaluations import (
    LOW_RATING,
    PAGE_SIZE,
    RATING_WINDOW,
    STARS,
    Rating,
    RatingSummary,
    ServedRecord,
    ServedVolunteer,
    clean_comment,
)
from bot.domain.notifications import Notification, NotificationKind
from bot.domain.refusals import Refused
from bot.services.staff import StaffRefused, StaffService
from storage.db import Database
from storage.evaluations import EvaluationsRepository, rating_request_subject
from storage.outbox import OutboxRepository

__all__ = [
    "EvaluationRefusal",
    "EvaluationRefused",
    "EvaluationService",
    "LowRating",
    "RatingAsk",
    "ServedPage",
]

log = logging.getLogger(__name__)


class EvaluationRefusal(StrEnum):
    NOT_SERVED = "not_served"  # no service record of this volunteer for this activity
    CLOSED = "closed"  # the rating window is over
    BAD_RATING = "bad_rating"  # not 1–5 (forged)
    NOT_RATED = "not_rated"  # a comment without a rating (stale)


class EvaluationRefused(Refused):
    def __init__(self, reason: EvaluationRefusal) -> None:
        super().__init__(reason)
        self.reason: EvaluationRefusal = reason


@dataclass(frozen=True)
class RatingAsk:
    """What a rating request shows: the record and the volunteer's rating so far."""

    record: ServedRecord
    rating: Rating | None


@dataclass(frozen=True)
class LowRating:
    record: ServedRecord
    rating: Rating


@dataclass(frozen=True)
class ServedPage:
    activity: Activity
    volunteers: list[ServedVolunteer]
    page: int
    pages: int
    total: int


def _check_stars(rating: int) -> None:
    if rating not in STARS:
        raise EvaluationRefused(EvaluationRefusal.BAD_RATING)


class EvaluationService:
    def __init__(
        self,
        db: Database,
        repo: EvaluationsRepository,
        staff: StaffService,
        clock: Clock,
        window: timedelta = RATING_WINDOW,
    ) -> None:
        self._db = db
        self._repo = repo
        self._staff = staff
        self._clock = clock
        self.window = window

    # -- the volunteer rates the activity ----------------------------------------------------

    async def _own_record(self, telegram_id: int, activity_id: int) -> ServedRecord:
        volunteer_id = await self._repo.volunteer_id_of(telegram_id)
        record = (
            await self._repo.record(activity_id, volunteer_id) if volunteer_id is not None else None
        )
        if record is None:
            log.warning("rating refused: user %s has no record of activity %s", telegram_id,
                        activity_id)  # fmt: skip
            raise EvaluationRefused(EvaluationRefusal.NOT_SERVED)
        if not record.rating_open(self._clock(), self.window):
            raise EvaluationRefused(EvaluationRefusal.CLOSED)
        return record

    async def rate_activity(self, telegram_id: int, activity_id: int, rating: int) -> RatingAsk:
        """Store (or change) the presser's rating of the activity. A first rating at or below
        :data:`LOW_RATING`, or a change down to it, tells the organization's managers (once
        per volunteer and activity: the outbox key)."""
        _check_stars(rating)
        record = await self._own_record(telegram_id, activity_id)
        now = self._clock()
        async with self._db.transaction() as tx:
            before = await EvaluationsRepository.rate_activity_in(
                tx, activity_id, record.volunteer_id, rating, now
            )
            newly_low = rating <= LOW_RATING and (before is None or before > LOW_RATING)
            if newly_low and record.organization_id is not None:
                for manager in await EvaluationsRepository.managers_in(tx, record.organization_id):
                    await OutboxRepository.enqueue(
                        tx,
                        Notification(
                            kind=NotificationKind.LOW_ACTIVITY_RATING,
                            telegram_id=manager,
                            subject=rating_request_subject(activity_id, record.volunteer_id),
                            payload={
                                "activity_id": activity_id,
                                "volunteer_id": record.volunteer_id,
                            },
                            due_at=now,
                        ),
                        now,
                    )
        return RatingAsk(record, await self._repo.activity_rating(activity_id, record.volunteer_id))

    async def comment_activity(self, telegram_id: int, activity_id: int, text: str) -> RatingAsk:
        """Add the typed comment to the presser's rating (raises ``InvalidInput`` first)."""
        comment = clean_comment(text)
        record = await self._own_record(telegram_id, activity_id)
        if not await self._repo.comment_activity(
            activity_id, record.volunteer_id, comment, self._clock()
        ):
            raise EvaluationRefused(EvaluationRefusal.NOT_RATED)
        return RatingAsk(record, await self._repo.activity_rating(activity_id, record.volunteer_id))

    async def rating_request(self, telegram_id: int, activity_id: int) -> RatingAsk | None:
        """For the request's renderer: ``None`` once it has gone stale (window over, record
        gone, account deleted)."""
        try:
            record = await self._own_record(telegram_id, activity_id)
        except EvaluationRefused:
            return None
        return RatingAsk(record, await self._repo.activity_rating(activity_id, record.volunteer_id))

    async def low_rating(
        self, manager: int, activity_id: int, volunteer_id: int
    ) -> LowRating | None:
        """For the managers' notice: ``None`` when the rating went up again meanwhile or the
        recipient no longer acts for the organization."""
        try:
            await self._staff.activity_for(manager, activity_id)
        except StaffRefused:
            return None
        record = await self._repo.record(activity_id, volunteer_id)
        rating = await self._repo.activity_rating(activity_id, volunteer_id)
        if record is None or rating is None or rating.rating > LOW_RATING:
            return None
        return LowRating(record, rating)

    async def average_rating(self, activity_id: int) -> RatingSummary:
        """The volunteers' ratings of one activity (for the management card and reports)."""
        return await self._repo.average_rating(activity_id)

    async def organization_average(self, organization_id: int) -> RatingSummary:
        """The volunteers' ratings of all the organization's activities (for reports)."""
        return await self._repo.organization_average(organization_id)

    # -- the organizer rates the volunteer's service -----------------------------------------

    async def served(self, telegram_id: int, activity_id: int, page: int) -> ServedPage:
        """The activity's volunteers with a record and the organizer's rating of each."""
        activity = await self._staff.activity_for(telegram_id, activity_id)
        volunteers, total = await self._repo.served_page(activity_id, max(page, 0), PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        if page >= pages:  # the list shrank (a record corrected away): show the last page
            page = pages - 1
            volunteers, total = await self._repo.served_page(activity_id, page, PAGE_SIZE)
        return ServedPage(activity, volunteers, max(page, 0), pages, total)

    async def served_volunteer(
        self, telegram_id: int, activity_id: int, volunteer_id: int
    ) -> tuple[Activity, ServedVolunteer]:
        activity = await self._staff.activity_for(telegram_id, activity_id)
        found = await self._repo.served_volunteer(activity_id, volunteer_id)
        if found is None:
            log.warning("evaluation refused: user %s, volunteer %s has no record of activity %s",
                        telegram_id, volunteer_id, activity_id)  # fmt: skip
            raise EvaluationRefused(EvaluationRefusal.NOT_SERVED)
        return activity, found

    async def evaluate(
        self, telegram_id: int, activity_id: int, volunteer_id: int, rating: int
    ) -> tuple[Activity, ServedVolunteer]:
        """Store (or change) the organizer's rating of the volunteer's service."""
        _check_stars(rating)
        await self.served_volunteer(telegram_id, activity_id, volunteer_id)
        await self._repo.evaluate(activity_id, volunteer_id, rating, telegram_id, self._clock())
        return await self.served_volunteer(telegram_id, activity_id, volunteer_id)

    async def comment_evaluation(
        self, telegram_id: int, activity_id: int, volunteer_id: int, text: str
    ) -> tuple[Activity, ServedVolunteer]:
        comment = clean_comment(text)
        await self.served_volunteer(telegram_id, activity_id, volunteer_id)
        if not await self._repo.comment_evaluation(
            activity_id, volunteer_id, comment, telegram_id, self._clock()
        ):
            raise EvaluationRefused(EvaluationRefusal.NOT_RATED)
        return await self.served_volunteer(telegram_id, activity_id, volunteer_id)
