"""Evaluations (tables ``activity_ratings`` and ``service_evaluations`` of migration 0019).

The volunteer's rating of an activity and the organizer's rating of a volunteer's service, both
keyed by activity and volunteer and both allowed only where a ``service_records`` row says the
volunteer served there (the service checks; these reads return what it needs).
:meth:`EvaluationsRepository.queue_rating_requests_in` runs inside the transaction that
confirms an activity's hours, so the requests exist exactly when the records do.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.activities import MemberRole
from bot.domain.evaluations import Rating, RatingSummary, ServedRecord, ServedVolunteer
from bot.domain.notifications import Notification, NotificationKind
from storage.db import Database, Row, Transaction
from storage.outbox import OutboxRepository
from storage.timeutil import from_db_time, to_db_time

__all__ = ["EvaluationsRepository", "rating_request_subject"]


def rating_request_subject(activity_id: int, volunteer_id: int) -> str:
    """The outbox subject of a rating request: one per activity and volunteer."""
    return f"activity:{activity_id}:volunteer:{volunteer_id}"


def _to_rating(row: Row) -> Rating:
    return Rating(
        activity_id=row["activity_id"],
        volunteer_id=row["volunteer_id"],
        rating=row["rating"],
        comment=row["comment"],
        rated_at=from_db_time(row["rated_at"]),
    )


def _summary(row: Row | None) -> RatingSummary:
    count = int(row["n"]) if row is not None else 0
    average = float(row["average"]) if row is not None and row["average"] is not None else None
    return RatingSummary(count=count, average=average)


class EvaluationsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- the rating requests -----------------------------------------------------------------

    @staticmethod
    async def queue_rating_requests_in(tx: Transaction, activity_id: int, now: datetime) -> int:
        """Queue "How was it?" for every volunteer with a record for the activity, inside the
        caller's transaction (confirming the hours). Idempotent: one request per activity and
        volunteer, whatever the number of calls. Returns how many were newly queued."""
        rows = await tx.fetch_all(
            "SELECT r.volunteer_id, v.telegram_id FROM service_records r "
            "JOIN volunteers v ON v.volunteer_id = r.volunteer_id "
            "WHERE r.activity_id = ? AND v.telegram_id IS NOT NULL AND v.deleted_at IS NULL "
            "ORDER BY r.volunteer_id",
            (activity_id,),
        )
        return await OutboxRepository.enqueue_many(
            tx,
            (
                Notification(
                    kind=NotificationKind.RATING_REQUEST,
                    telegram_id=row["telegram_id"],
                    subject=rating_request_subject(activity_id, row["volunteer_id"]),
                    payload={"activity_id": activity_id},
                    due_at=now,
                )
                for row in rows
            ),
            now,
        )

    # -- who served where --------------------------------------------------------------------

    async def volunteer_id_of(self, telegram_id: int) -> int | None:
        """The presser's volunteer id (``None``: no profile, or deleted)."""
        row = await self._db.fetch_one(
            "SELECT volunteer_id FROM volunteers WHERE telegram_id = ? AND deleted_at IS NULL",
            (telegram_id,),
        )
        return int(row["volunteer_id"]) if row is not None else None

    async def record(self, activity_id: int, volunteer_id: int) -> ServedRecord | None:
        row = await self._db.fetch_one(
            "SELECT activity_id, volunteer_id, organization_id, activity_title, service_date, "
            "recorded_at FROM service_records WHERE activity_id = ? AND volunteer_id = ?",
            (activity_id, volunteer_id),
        )
        if row is None:
            return None
        return ServedRecord(
            activity_id=row["activity_id"],
            volunteer_id=row["volunteer_id"],
            organization_id=row["organization_id"],
            activity_title=row["activity_title"],
            service_date=date.fromisoformat(row["service_date"]),
            recorded_at=from_db_time(row["recorded_at"]),
        )

    # -- the volunteer rates the activity ----------------------------------------------------

    async def activity_rating(self, activity_id: int, volunteer_id: int) -> Rating | None:
        row = await self._db.fetch_one(
            "SELECT activity_id, volunteer_id, rating, comment, rated_at FROM activity_ratings "
            "WHERE activity_id = ? AND volunteer_id = ?",
            (activity_id, volunteer_id),
        )
        return _to_rating(row) if row is not None else None

    @staticmethod
    async def rate_activity_in(
        tx: Transaction, activity_id: int, volunteer_id: int, rating: int, now: datetime
    ) -> int | None:
        """Store or change the rating (a comment already given stays); returns the rating it
        replaced, ``None`` for a first one."""
        before = await tx.fetch_one(
            "SELECT rating FROM activity_ratings WHERE activity_id = ? AND volunteer_id = ?",
            (activity_id, volunteer_id),
        )
        await tx.execute(
            "INSERT INTO activity_ratings (activity_id, volunteer_id, rating, rated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (activity_id, volunteer_id) DO UPDATE SET "
            "rating = excluded.rating, rated_at = excluded.rated_at",
            (activity_id, volunteer_id, rating, to_db_time(now)),
        )
        return int(before["rating"]) if before is not None else None

    async def comment_activity(
        self, activity_id: int, volunteer_id: int, comment: str, now: datetime
    ) -> bool:
        """Add the comment to an existing rating; ``False`` when there is none."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE activity_ratings SET comment = ?, rated_at = ? "
                "WHERE activity_id = ? AND volunteer_id = ?",
                (comment, to_db_time(now), activity_id, volunteer_id),
            )
        return changed > 0

    @staticmethod
    async def managers_in(tx: Transaction, organization_id: int) -> list[int]:
        """The organization's managers (who hear of a low rating)."""
        rows = await tx.fetch_all(
            "SELECT telegram_id FROM organization_members WHERE organization_id = ? "
            "AND member_role = ? ORDER BY telegram_id",
            (organization_id, MemberRole.MANAGER.value),
        )
        return [int(row["telegram_id"]) for row in rows]

    async def average_rating(self, activity_id: int) -> RatingSummary:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n, AVG(rating) AS average FROM activity_ratings "
            "WHERE activity_id = ?",
            (activity_id,),
        )
        return _summary(row)

    async def organization_average(self, organization_id: int) -> RatingSummary:
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS n, AVG(r.rating) AS average FROM activity_ratings r "
            "JOIN activities a ON a.activity_id = r.activity_id WHERE a.organization_id = ?",
            (organization_id,),
        )
        return _summary(row)

    # -- the organizer rates the volunteer's service -----------------------------------------

    async def served_page(
        self, activity_id: int, page: int, page_size: int
    ) -> tuple[list[ServedVolunteer], int]:
        """The activity's volunteers with a record, by name, and the organizer's rating of
        each; plus how many there are in all."""
        total = await self._db.fetch_one(
            "SELECT COUNT(*) AS n FROM service_records WHERE activity_id = ?", (activity_id,)
        )
        rows = await self._db.fetch_all(
            "SELECT r.volunteer_id, v.real_name, e.rating, e.comment FROM service_records r "
            "JOIN volunteers v ON v.volunteer_id = r.volunteer_id "
            "LEFT JOIN service_evaluations e "
            "ON e.activity_id = r.activity_id AND e.volunteer_id = r.volunteer_id "
            "WHERE r.activity_id = ? ORDER BY v.real_name, r.volunteer_id LIMIT ? OFFSET ?",
            (activity_id, page_size, page * page_size),
        )
        items = [
            ServedVolunteer(
                volunteer_id=row["volunteer_id"],
                name=row["real_name"],
                rating=row["rating"],
                comment=row["comment"],
            )
            for row in rows
        ]
        return items, int(total["n"]) if total is not None else 0

    async def served_volunteer(self, activity_id: int, volunteer_id: int) -> ServedVolunteer | None:
        """The volunteer, if they have a record for the activity, with the current rating."""
        row = await self._db.fetch_one(
            "SELECT r.volunteer_id, v.real_name, e.rating, e.comment FROM service_records r "
            "JOIN volunteers v ON v.volunteer_id = r.volunteer_id "
            "LEFT JOIN service_evaluations e "
            "ON e.activity_id = r.activity_id AND e.volunteer_id = r.volunteer_id "
            "WHERE r.activity_id = ? AND r.volunteer_id = ?",
            (activity_id, volunteer_id),
        )
        if row is None:
            return None
        return ServedVolunteer(
            volunteer_id=row["volunteer_id"],
            name=row["real_name"],
            rating=row["rating"],
            comment=row["comment"],
        )

    async def evaluation(self, activity_id: int, volunteer_id: int) -> Rating | None:
        row = await self._db.fetch_one(
            "SELECT activity_id, volunteer_id, rating, comment, rated_at "
            "FROM service_evaluations WHERE activity_id = ? AND volunteer_id = ?",
            (activity_id, volunteer_id),
        )
        return _to_rating(row) if row is not None else None

    async def evaluate(
        self, activity_id: int, volunteer_id: int, rating: int, rated_by: int, now: datetime
    ) -> None:
        """Store or change the organizer's rating (a comment already given stays)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO service_evaluations (activity_id, volunteer_id, rating, rated_by, "
                "rated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (activity_id, volunteer_id) "
                "DO UPDATE SET rating = excluded.rating, rated_by = excluded.rated_by, "
                "rated_at = excluded.rated_at",
                (activity_id, volunteer_id, rating, rated_by, to_db_time(now)),
            )

    async def comment_evaluation(
        self, activity_id: int, volunteer_id: int, comment: str, rated_by: int, now: datetime
    ) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE service_evaluations SET comment = ?, rated_by = ?, rated_at = ? "
                "WHERE activity_id = ? AND volunteer_id = ?",
                (comment, rated_by, to_db_time(now), activity_id, volunteer_id),
            )
        return changed > 0
