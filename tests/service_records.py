"""Service records for tests of what builds on them (ratings, evaluations, awards).

The records themselves are written by the lead's "confirm hours" step; until its repository is
on main, tests store the row the way that step does (one per volunteer and activity, the
activity's fields copied).
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.activities import Activity
from storage.db import Database
from storage.timeutil import to_db_time


async def add_record(
    db: Database, activity: Activity, volunteer_id: int, now: datetime, minutes: int = 180
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO service_records (volunteer_id, activity_id, organization_id, kind, "
            "activity_title, service_date, place, content, organization_name, minutes, "
            "recorded_at, updated_at) VALUES (?, ?, ?, 'service', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                volunteer_id,
                activity.activity_id,
                activity.organization_id,
                activity.title,
                activity.starts_at.date().isoformat(),
                activity.place,
                activity.description,
                activity.organization_name,
                minutes,
                to_db_time(now),
                to_db_time(now),
            ),
        )
