"""Recruiting: candidate volunteers for an activity, invitations and under-staffed alerts
(tables of migration 0011).

Finding volunteers must stay fast with 100,000 of them. :meth:`RecruitingRepository.candidates`
therefore starts from an index (holders of the first required skill; otherwise the volunteers
interested in the activity's category plus those living in its district), applies every
exclusion in the same statement, orders by a pre-rank whose weights the domain passes in (the
matching weights, so SQL and :func:`bot.domain.matching.score` agree on the order) and stops at
``LIMIT``. Only those few rows become profiles, loaded in one statement.

The repository decides nothing about the business: who is excluded and why is
:mod:`bot.services.recruiting`'s concern; these are its queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.activities import Activity
from bot.domain.volunteers import VolunteerProfile
from storage.activities import ACTIVITY_COLUMNS, ACTIVITY_FROM, load_activities
from storage.audiences import VOLUNTEER_USERS, reachable_volunteer
from storage.db import Database, Params, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

# The profile row shape and its mapping are the volunteers repository's; reusing them keeps
# one definition of a profile (this module only loads many at once).
from storage.volunteers import _PROFILE_COLUMNS, _to_profile

__all__ = ["Invitation", "InvitationCounts", "PreRank", "RecruitingRepository"]

_Fetch = Callable[[str, Params], Awaitable[list[Row]]]

_ACTIVE_SIGNUP = "('confirmed', 'waitlisted', 'offered')"


@dataclass(frozen=True)
class PreRank:
    """Points for the parts of a match that differ between volunteers for one activity (the
    domain passes :mod:`bot.domain.matching`'s weights); the slot is an availability bit."""

    interest: int
    availability: int
    area: int
    slot: int


@dataclass(frozen=True)
class Invitation:
    invitation_id: int
    activity_id: int
    volunteer_id: int
    invited_by: int | None
    invited_at: datetime
    response: str | None
    responded_at: datetime | None


@dataclass(frozen=True)
class InvitationCounts:
    total: int  # invitations for the activity, ever
    today: int  # sent since the start of the local day (the daily cap)
    declined: int
    signed_up: int


def _placeholders(count: int) -> str:
    return ", ".join("?" for _ in range(count))


def _to_invitation(row: Row) -> Invitation:
    return Invitation(
        invitation_id=row["invitation_id"],
        activity_id=row["activity_id"],
        volunteer_id=row["volunteer_id"],
        invited_by=row["invited_by"],
        invited_at=from_db_time(row["invited_at"]),
        response=row["response"],
        responded_at=(
            from_db_time(row["responded_at"]) if row["responded_at"] is not None else None
        ),
    )


_INVITATION_COLUMNS = (
    "invitation_id, activity_id, volunteer_id, invited_by, invited_at, response, responded_at"
)


class RecruitingRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- finding volunteers ----------------------------------------------------------------------

    @staticmethod
    async def candidates(
        fetch: _Fetch,
        activity: Activity,
        *,
        today: date,
        cooldown_since: datetime,
        weights: PreRank,
        limit: int,
    ) -> list[int]:
        """Ids of volunteers who may be invited to ``activity``, best pre-rank first.

        Left out: deleted, unreachable, paused (``paused_until`` after ``today``), invitations
        switched off, anyone invited to anything since ``cooldown_since``, anyone who already
        answered an invitation to this activity, anyone with an active sign-up for it or a
        confirmed one overlapping it, minors for adults-only activities and anyone missing a
        required skill.
        """
        aid = activity.activity_id
        params: list[object] = []
        skills = list(dict.fromkeys(activity.required_skills))
        # Where the scan starts (each branch is an index range).
        if skills:
            source = "SELECT volunteer_id FROM volunteer_skills WHERE skill_code = ?"
            params.append(skills[0])
        else:
            source = "SELECT volunteer_id FROM volunteer_categories WHERE category_code = ?"
            params.append(activity.category_code)
            if activity.area_code is not None:
                source += " UNION SELECT volunteer_id FROM volunteers WHERE area_code = ?"
                params.append(activity.area_code)
        prerank = (
            "(CASE WHEN EXISTS (SELECT 1 FROM volunteer_categories vc "
            "WHERE vc.volunteer_id = v.volunteer_id AND vc.category_code = ?) THEN ? ELSE 0 END)"
            " + (CASE WHEN (v.availability & ?) <> 0 THEN ? ELSE 0 END)"
            " + (CASE WHEN v.area_code = ? THEN ? ELSE 0 END)"
        )
        prerank_params: list[object] = [
            activity.category_code,
            weights.interest,
            weights.slot,
            weights.availability,
            activity.area_code if activity.area_code is not None else "",
            weights.area,
        ]
        where = [reachable_volunteer(respect_pause=True), "v.notify_invitations = 1"]
        where_params: list[object] = [today.isoformat()]
        if activity.adults_only:
            where.append("v.is_minor = 0")
        if activity.requires_qualification is not None:
            # Only holders of the required training could sign up (Art. 8).
            where.append(
                "EXISTS (SELECT 1 FROM volunteer_qualifications vq "
                "WHERE vq.volunteer_id = v.volunteer_id AND vq.qualification_id = ?)"
            )
            where_params.append(activity.requires_qualification.qualification_id)
        for code in skills[1:]:
            where.append(
                "EXISTS (SELECT 1 FROM volunteer_skills vs "
                "WHERE vs.volunteer_id = v.volunteer_id AND vs.skill_code = ?)"
            )
            where_params.append(code)
        where += [
            # Already signed up, waiting or offered a spot.
            "NOT EXISTS (SELECT 1 FROM signups s WHERE s.activity_id = ? "
            f"AND s.volunteer_id = v.volunteer_id AND s.status IN {_ACTIVE_SIGNUP})",
            # Answered an invitation to this activity (a decline is remembered).
            "NOT EXISTS (SELECT 1 FROM invitations i WHERE i.activity_id = ? "
            "AND i.volunteer_id = v.volunteer_id AND i.response IS NOT NULL)",
            # Invited to anything during the cool-down.
            "NOT EXISTS (SELECT 1 FROM invitations i WHERE i.volunteer_id = v.volunteer_id "
            "AND i.invited_at > ?)",
            # Busy at that time (the sign-up would be refused as a clash). CROSS JOIN keeps
            # SQLite starting from the volunteer's few sign-ups, not from every activity; the
            # join condition sits in WHERE because PostgreSQL allows no ON after CROSS JOIN.
            "NOT EXISTS (SELECT 1 FROM signups s CROSS JOIN activities o "
            "WHERE o.activity_id = s.activity_id AND s.volunteer_id = v.volunteer_id "
            "AND s.status = 'confirmed' AND o.status = 'published' AND o.activity_id <> ? "
            "AND o.starts_at < ? AND o.ends_at > ?)",
        ]
        where_params += [
            aid,
            aid,
            to_db_time(cooldown_since),
            aid,
            to_db_time(activity.ends_at),
            to_db_time(activity.starts_at),
        ]
        sql = (
            f"SELECT v.volunteer_id, {prerank} AS prerank FROM {VOLUNTEER_USERS} "
            f"WHERE v.volunteer_id IN ({source}) AND {' AND '.join(where)} "
            "ORDER BY prerank DESC, v.volunteer_id LIMIT ?"
        )
        rows = await fetch(sql, [*prerank_params, *params, *where_params, limit])
        return [row["volunteer_id"] for row in rows]

    @staticmethod
    async def profiles(fetch: _Fetch, ids: Sequence[int]) -> dict[int, VolunteerProfile]:
        """Live profiles by id, with their skills, categories and groups, in one statement."""
        if not ids:
            return {}
        marks = _placeholders(len(ids))
        rows = await fetch(
            f"SELECT {_PROFILE_COLUMNS}, m.kind AS member_kind, m.code AS member_code "
            "FROM volunteers v LEFT JOIN ("
            "  SELECT volunteer_id, 'skill' AS kind, skill_code AS code FROM volunteer_skills "
            f"  WHERE volunteer_id IN ({marks})"
            "  UNION ALL SELECT volunteer_id, 'category', category_code "
            f"  FROM volunteer_categories WHERE volunteer_id IN ({marks})"
            "  UNION ALL SELECT volunteer_id, 'group', group_code FROM volunteer_groups "
            f"  WHERE volunteer_id IN ({marks})"
            ") m ON m.volunteer_id = v.volunteer_id "
            f"WHERE v.volunteer_id IN ({marks}) AND v.deleted_at IS NULL "
            "AND v.telegram_id IS NOT NULL ORDER BY v.volunteer_id, m.kind, m.code",
            [*ids, *ids, *ids, *ids],
        )
        grouped: dict[int, list[Row]] = defaultdict(list)
        for row in rows:
            grouped[row["volunteer_id"]].append(row)
        found: dict[int, VolunteerProfile] = {}
        for volunteer_id, group in grouped.items():
            profile = _to_profile(group)
            if profile is not None:
                found[volunteer_id] = profile
        return found

    async def volunteer_id_of(self, telegram_id: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT volunteer_id FROM volunteers WHERE telegram_id = ? AND deleted_at IS NULL",
            (telegram_id,),
        )
        return int(row["volunteer_id"]) if row is not None else None

    # -- invitations -----------------------------------------------------------------------------

    @staticmethod
    async def lock_activity(tx: Transaction, activity_id: int) -> None:
        """Update the activity's row to nothing new before counting its invitations.

        The daily cap and the cool-down are rules over many ``invitations`` rows, which a
        conditional INSERT cannot protect in PostgreSQL (two organizers would each count the
        rows before either commits). The update takes the activity's row lock until commit, so
        a second invite of the same activity waits, and its counts (new statements, new
        snapshots) include the first one's invitations. In SQLite ``BEGIN IMMEDIATE`` already
        serializes them."""
        await tx.execute(
            "UPDATE activities SET updated_at = updated_at WHERE activity_id = ?", (activity_id,)
        )

    @staticmethod
    async def counts(fetch: _Fetch, activity_id: int, day_start: datetime) -> InvitationCounts:
        rows = await fetch(
            "SELECT COUNT(*) AS total, "
            "COALESCE(SUM(CASE WHEN invited_at >= ? THEN 1 ELSE 0 END), 0) AS today, "
            "COALESCE(SUM(CASE WHEN response = 'declined' THEN 1 ELSE 0 END), 0) AS declined, "
            "COALESCE(SUM(CASE WHEN response = 'signed_up' THEN 1 ELSE 0 END), 0) AS signed_up "
            "FROM invitations WHERE activity_id = ?",
            (to_db_time(day_start), activity_id),
        )
        row = rows[0]
        return InvitationCounts(
            total=int(row["total"]),
            today=int(row["today"]),
            declined=int(row["declined"]),
            signed_up=int(row["signed_up"]),
        )

    async def counts_now(self, activity_id: int, day_start: datetime) -> InvitationCounts:
        return await self.counts(self._db.fetch_all, activity_id, day_start)

    @staticmethod
    async def invite(
        tx: Transaction,
        activity_id: int,
        volunteer_ids: Sequence[int],
        invited_by: int,
        now: datetime,
    ) -> dict[int, int]:
        """Record invitations (a volunteer who never answered is invited again in place);
        returns ``{volunteer_id: telegram_id}`` of those recorded now."""
        stamp = to_db_time(now)
        invited: dict[int, int] = {}
        for volunteer_id in volunteer_ids:
            row = await tx.fetch_one(
                "INSERT INTO invitations (activity_id, volunteer_id, invited_by, invited_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (activity_id, volunteer_id) DO UPDATE SET "
                "invited_by = excluded.invited_by, invited_at = excluded.invited_at "
                "WHERE invitations.response IS NULL "
                "RETURNING volunteer_id, "
                "(SELECT telegram_id FROM volunteers WHERE volunteer_id = ?) AS telegram_id",
                (activity_id, volunteer_id, invited_by, stamp, volunteer_id),
            )
            if row is not None and row["telegram_id"] is not None:
                invited[int(row["volunteer_id"])] = int(row["telegram_id"])
        return invited

    async def get(self, activity_id: int, volunteer_id: int) -> Invitation | None:
        row = await self._db.fetch_one(
            f"SELECT {_INVITATION_COLUMNS} FROM invitations "
            "WHERE activity_id = ? AND volunteer_id = ?",
            (activity_id, volunteer_id),
        )
        return _to_invitation(row) if row is not None else None

    async def respond(
        self, activity_id: int, volunteer_id: int, response: str, now: datetime
    ) -> Invitation | None:
        """Record the first answer to an invitation; returns the row as it is afterwards
        (``None`` when this volunteer was never invited to this activity)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE invitations SET response = ?, responded_at = ? "
                "WHERE activity_id = ? AND volunteer_id = ? AND response IS NULL",
                (response, to_db_time(now), activity_id, volunteer_id),
            )
            row = await tx.fetch_one(
                f"SELECT {_INVITATION_COLUMNS} FROM invitations "
                "WHERE activity_id = ? AND volunteer_id = ?",
                (activity_id, volunteer_id),
            )
        return _to_invitation(row) if row is not None else None

    async def sync_signed_up(self, activity_id: int, now: datetime) -> int:
        """Mark unanswered invitations of volunteers who signed up meanwhile (by any path:
        the invitation's button, the menu, a deep link) as ``signed_up``."""
        async with self._db.transaction() as tx:
            return await tx.execute(
                "UPDATE invitations SET response = 'signed_up', responded_at = ? "
                "WHERE activity_id = ? AND response IS NULL AND EXISTS ("
                "  SELECT 1 FROM signups s WHERE s.activity_id = invitations.activity_id "
                "  AND s.volunteer_id = invitations.volunteer_id "
                f"  AND s.status IN {_ACTIVE_SIGNUP})",
                (to_db_time(now), activity_id),
            )

    # -- under-staffed alerts --------------------------------------------------------------------

    async def starting_unalerted(self, now: datetime, until: datetime) -> list[Activity]:
        """Published activities starting in ``(now, until]`` with no alert for their current
        start time yet (the domain decides which of them are under-staffed)."""
        rows = await self._db.fetch_all(
            f"SELECT {ACTIVITY_COLUMNS} FROM {ACTIVITY_FROM} "
            "WHERE a.status = 'published' AND a.starts_at > ? AND a.starts_at <= ? "
            "AND NOT EXISTS (SELECT 1 FROM understaffed_alerts ua "
            "WHERE ua.activity_id = a.activity_id AND ua.starts_at = a.starts_at) "
            "ORDER BY a.starts_at, a.activity_id",
            (to_db_time(now), to_db_time(until)),
        )
        ids = [row["activity_id"] for row in rows]
        found = await load_activities(self._db.fetch_all, ids)
        return [found[i] for i in ids if i in found]

    @staticmethod
    async def organizers_of(tx: Transaction, organization_id: int) -> list[int]:
        """Telegram ids of the members of an approved organization."""
        rows = await tx.fetch_all(
            "SELECT m.telegram_id FROM organization_members m "
            "JOIN organizations o ON o.organization_id = m.organization_id "
            "WHERE m.organization_id = ? AND o.status = 'approved' ORDER BY m.telegram_id",
            (organization_id,),
        )
        return [int(row["telegram_id"]) for row in rows]

    @staticmethod
    async def record_alert(
        tx: Transaction, activity_id: int, starts_at: datetime, now: datetime
    ) -> bool:
        """``True`` if this is the first alert for the activity at this start time."""
        changed = await tx.execute(
            "INSERT INTO understaffed_alerts (activity_id, starts_at, alerted_at) "
            "VALUES (?, ?, ?) ON CONFLICT (activity_id, starts_at) DO NOTHING",
            (activity_id, to_db_time(starts_at), to_db_time(now)),
        )
        return changed > 0
