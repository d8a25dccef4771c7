"""Activities: publishing, the menu's lists and cards (tables of migration 0004).

Every list query selects activity rows first, then loads the required skills and people served
of exactly those rows in one more query (never one query per activity). "Upcoming" means
published and not started yet; whether sign-up is still open is decided by the domain
(:meth:`bot.domain.activities.Activity.is_open_for_signup`), so the menu can show "closed".
"""

from __future__ import annotations

import functools
import time
import weakref
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from bot.domain.activities import (
    Activity,
    ActivityStatus,
    NewActivity,
    Page,
    PeopleServed,
    QualificationRef,
    clamp_page,
)
from bot.domain.search import search_variants
from storage.db import Database, Params, Row, Transaction
from storage.timeutil import from_db_time, to_db_time

if TYPE_CHECKING:  # annotations only: not loaded with the staff service on a first /start
    from bot.domain.geo import BoundingBox
    from bot.domain.volunteers import VolunteerProfile

__all__ = ["MAX_SEARCH_WORDS", "ActivitiesRepository", "activities_changed", "load_activities"]

MAX_SEARCH_WORDS = 5

_Fetch = Callable[[str, Params], Awaitable[list[Row]]]

ACTIVITY_COLUMNS = (
    "a.activity_id, a.organization_id, o.name AS organization_name, a.title, a.category_code, "
    "a.description, a.starts_at, a.ends_at, a.place, a.area_code, a.latitude, a.longitude, "
    "a.capacity, a.training_required, a.adults_only, a.signup_deadline, a.signups_closed_at, "
    "a.key_date, a.leader_name, a.status, a.cancel_reason, a.confirmed_count, a.offered_count, "
    "a.waitlist_count, a.created_at, a.updated_at, a.is_volunteering, "
    "a.grants_qualification_id, gq.name AS grants_name, "
    "a.requires_qualification_id, rq.name AS requires_name"
)
# The qualifications an activity grants or requires (migration 0019) come with it: a card
# names them, and the joins on primary keys change no count.
ACTIVITY_FROM = (
    "activities a JOIN organizations o ON o.organization_id = a.organization_id "
    "LEFT JOIN qualifications gq ON gq.qualification_id = a.grants_qualification_id "
    "LEFT JOIN qualifications rq ON rq.qualification_id = a.requires_qualification_id"
)

_UPCOMING = "a.status = 'published' AND a.starts_at > ?"


def _time(value: str | None) -> datetime | None:
    return from_db_time(value) if value is not None else None


def _qualification(row: Row | _Values, column: str, name: str) -> QualificationRef | None:
    if row[column] is None or row[name] is None:
        return None
    return QualificationRef(qualification_id=row[column], name=row[name])


# Turning rows into models was most of "For you"'s time (200 candidates a call, six timestamps
# parsed and ~30 fields validated each; bench.menu). The model is frozen and the key holds every
# column read, the skills and the people served, so an activity changed in any way (its counters,
# its status, an edit) is a different key: there is nothing to invalidate, only old entries that
# age out. 4,096 models are a few MB.
@functools.lru_cache(maxsize=4096)
def _cached_activity(
    columns: tuple[str, ...],
    values: tuple[Any, ...],
    skills: tuple[str, ...],
    people: tuple[str, ...],
) -> Activity:
    return _to_activity(_Values(columns, values), skills, people)


class _Values:
    """A row's values by column name, for the cache above (which keeps plain tuples)."""

    __slots__ = ("_columns", "_values")

    def __init__(self, columns: tuple[str, ...], values: tuple[Any, ...]) -> None:
        self._columns = dict(zip(columns, range(len(columns)), strict=True))
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[self._columns[key]]


def _to_activity(row: Row | _Values, skills: Sequence[str], people: Sequence[str]) -> Activity:
    return Activity(
        activity_id=row["activity_id"],
        organization_id=row["organization_id"],
        organization_name=row["organization_name"],
        title=row["title"],
        category_code=row["category_code"],
        description=row["description"],
        starts_at=from_db_time(row["starts_at"]),
        ends_at=from_db_time(row["ends_at"]),
        place=row["place"],
        area_code=row["area_code"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        capacity=row["capacity"],
        required_skills=tuple(skills),
        training_required=bool(row["training_required"]),
        adults_only=bool(row["adults_only"]),
        people_served=tuple(PeopleServed(code) for code in people),
        signup_deadline=_time(row["signup_deadline"]),
        signups_closed_at=_time(row["signups_closed_at"]),
        key_date=row["key_date"],
        leader_name=row["leader_name"],
        status=ActivityStatus(row["status"]),
        cancel_reason=row["cancel_reason"],
        confirmed_count=row["confirmed_count"],
        offered_count=row["offered_count"],
        waitlist_count=row["waitlist_count"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        is_volunteering=bool(row["is_volunteering"]),
        grants_qualification=_qualification(row, "grants_qualification_id", "grants_name"),
        requires_qualification=_qualification(row, "requires_qualification_id", "requires_name"),
    )


#: At most how long the service menu's counts per category are used again (per database). In
#: this process they are counted again as soon as an activity is created, edited or cancelled
#: (:func:`activities_changed`), and never used once the earliest activity they counted has
#: started; other instances on the same PostgreSQL database see a change within this time.
COUNTS_KEPT_FOR: Final = 10.0

#: How many times an activity was created, edited or cancelled in this process (after commit).
_changes = 0


def activities_changed() -> None:
    """After the commit of a transaction that created an activity or changed its status, start
    or category (``tx.after_commit``): the menu's counts are counted again."""
    global _changes
    _changes += 1


@dataclass(frozen=True)
class _KeptCounts:
    changes: int  # ``_changes`` when counted
    counted_at: float  # ``time.monotonic()``
    counted_for: datetime  # the ``now`` they were counted for
    first_start: datetime | None  # the earliest start among the activities counted
    counts: dict[str, int]

    def still_right(self, now: datetime) -> bool:
        # Time going on only takes away activities (as they start), and none has started
        # before ``first_start``.
        return (
            self.changes == _changes
            and time.monotonic() - self.counted_at < COUNTS_KEPT_FOR
            and self.counted_for <= now
            and (self.first_start is None or now < self.first_start)
        )


# One per Database object, so every repository on it (each handler's, a test's) shares them.
_KEPT_COUNTS: weakref.WeakKeyDictionary[Database, _KeptCounts] = weakref.WeakKeyDictionary()


def _placeholders(count: int) -> str:
    return ", ".join("?" for _ in range(count))


async def _attach(fetch: _Fetch, rows: list[Row]) -> list[Activity]:
    """Turn activity rows into models, loading their skills and people served in bulk."""
    if not rows:
        return []
    ids = [row["activity_id"] for row in rows]
    marks = _placeholders(len(ids))
    skills: dict[int, list[str]] = defaultdict(list)
    people: dict[int, list[str]] = defaultdict(list)
    # Both lists in one query (one round trip less for every list screen, #14): skills in the
    # catalogue's order, people served by code; ``kind`` sorts first and says which is which.
    for found in await fetch(
        "SELECT s.activity_id, 's' AS kind, k.sort_order AS position, s.skill_code AS code "
        "FROM activity_skills s JOIN skills k ON k.code = s.skill_code "
        f"WHERE s.activity_id IN ({marks}) "
        "UNION ALL "
        "SELECT activity_id, 'p' AS kind, 0 AS position, people_code AS code "
        f"FROM activity_people_served WHERE activity_id IN ({marks}) "
        "ORDER BY 2, 3, 4",
        [*ids, *ids],
    ):
        found_in = skills if found["kind"] == "s" else people
        found_in[found["activity_id"]].append(found["code"])
    columns = tuple(rows[0].keys())
    return [
        _cached_activity(
            columns,
            tuple(row),
            tuple(skills[row["activity_id"]]),
            tuple(people[row["activity_id"]]),
        )
        for row in rows
    ]


async def load_activities(fetch: _Fetch, ids: Sequence[int]) -> dict[int, Activity]:
    """Activities by id (missing ids are absent from the result)."""
    if not ids:
        return {}
    rows = await fetch(
        f"SELECT {ACTIVITY_COLUMNS} FROM {ACTIVITY_FROM} "
        f"WHERE a.activity_id IN ({_placeholders(len(ids))})",
        list(ids),
    )
    return {activity.activity_id: activity for activity in await _attach(fetch, rows)}


def _folded(column: str) -> str:
    """``column`` lower-cased with spaces removed, as :func:`bot.domain.search.fold` does."""
    return f"REPLACE(LOWER({column}), ' ', '')"


# One search word matches an activity when it is in its title, description, place or
# organization, or in the name (either language) of its category or of a skill it needs — so
# "elderly" finds 扶老爱幼 activities whose titles are Chinese. LIKE with ESCAPE and LOWER are
# portable SQL; the ``?`` are the word's LIKE pattern, repeated.
_MATCHES_WORD = (
    "("
    + " OR ".join(
        f"{_folded(column)} LIKE ? ESCAPE '\\'"
        for column in ("a.title", "a.description", "a.place", "o.name")
    )
    + " OR EXISTS (SELECT 1 FROM service_categories c WHERE c.code = a.category_code AND "
    f"({_folded('c.name_zh')} LIKE ? ESCAPE '\\' OR {_folded('c.name_en')} LIKE ? ESCAPE '\\'))"
    " OR EXISTS (SELECT 1 FROM activity_skills s JOIN skills k ON k.code = s.skill_code "
    "WHERE s.activity_id = a.activity_id AND "
    f"({_folded('k.name_zh')} LIKE ? ESCAPE '\\' OR {_folded('k.name_en')} LIKE ? ESCAPE '\\'))"
    ")"
)


def _like_pattern(word: str) -> str:
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ActivitiesRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- writing ---------------------------------------------------------------------------------

    async def create(self, new: NewActivity, now: datetime) -> Activity:
        async with self._db.transaction() as tx:
            activity_id = await self.insert(tx, new, now)
            found = await load_activities(tx.fetch_all, [activity_id])
        return found[activity_id]

    @staticmethod
    async def insert(tx: Transaction, new: NewActivity, now: datetime) -> int:
        if not new.title.strip() or not new.place.strip():
            raise ValueError("an activity needs a title and a place")
        if new.ends_at <= new.starts_at:
            raise ValueError("an activity must end after it starts")
        stamp = to_db_time(now)
        row = await tx.fetch_one(
            "INSERT INTO activities (organization_id, title, category_code, description, "
            "starts_at, ends_at, place, area_code, latitude, longitude, capacity, "
            "training_required, adults_only, signup_deadline, key_date, leader_name, status, "
            "created_by, created_at, updated_at, published_at, is_volunteering, "
            "grants_qualification_id, requires_qualification_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING activity_id",
            (
                new.organization_id,
                new.title.strip(),
                new.category_code,
                new.description,
                to_db_time(new.starts_at),
                to_db_time(new.ends_at),
                new.place.strip(),
                new.area_code,
                new.latitude,
                new.longitude,
                new.capacity,
                int(new.training_required),
                int(new.adults_only),
                to_db_time(new.signup_deadline) if new.signup_deadline else None,
                new.key_date,
                new.leader_name,
                new.status.value,
                new.created_by,
                stamp,
                stamp,
                stamp if new.status is ActivityStatus.PUBLISHED else None,
                int(new.is_volunteering),
                new.grants_qualification_id,
                new.requires_qualification_id,
            ),
        )
        assert row is not None
        activity_id = int(row["activity_id"])
        await tx.execute_many(
            "INSERT INTO activity_skills (activity_id, skill_code) VALUES (?, ?)",
            [(activity_id, code) for code in dict.fromkeys(new.required_skills)],
        )
        await tx.execute_many(
            "INSERT INTO activity_people_served (activity_id, people_code) VALUES (?, ?)",
            [(activity_id, PeopleServed(code).value) for code in dict.fromkeys(new.people_served)],
        )
        tx.after_commit(activities_changed)
        return activity_id

    # -- reading ---------------------------------------------------------------------------------

    async def get(self, activity_id: int) -> Activity | None:
        return (await load_activities(self._db.fetch_all, [activity_id])).get(activity_id)

    async def get_many(self, ids: Sequence[int]) -> dict[int, Activity]:
        return await load_activities(self._db.fetch_all, ids)

    async def category_counts(self, now: datetime) -> dict[str, int]:
        """Upcoming published activities per service category.

        The service menu and every category page show them, and counting walks the index
        entries of every upcoming activity (≈ 8,000 at city size, ≈ 0.8 ms): they are kept
        briefly (:data:`COUNTS_KEPT_FOR`, issue #14)."""
        kept = _KEPT_COUNTS.get(self._db)
        if kept is not None and kept.still_right(now):
            return dict(kept.counts)
        changes = _changes  # before reading: a change committed meanwhile makes them stale
        rows = await self._db.fetch_all(
            "SELECT a.category_code, COUNT(*) AS n, MIN(a.starts_at) AS first_start "
            f"FROM activities a WHERE {_UPCOMING} GROUP BY a.category_code",
            (to_db_time(now),),
        )
        counts = {row["category_code"]: row["n"] for row in rows}
        starts = [from_db_time(row["first_start"]) for row in rows]
        _KEPT_COUNTS[self._db] = _KeptCounts(
            changes, time.monotonic(), now, min(starts) if starts else None, counts
        )
        return dict(counts)

    async def upcoming(
        self,
        now: datetime,
        *,
        category: str | None = None,
        starts_before: datetime | None = None,
        starts_from: datetime | None = None,
        page: int = 0,
        page_size: int = 8,
    ) -> Page:
        """Upcoming activities by start time, optionally of one category or in a window."""
        where = [_UPCOMING]
        params: list[object] = [to_db_time(now)]
        if category is not None:
            where.append("a.category_code = ?")
            params.append(category)
        if starts_from is not None:
            where.append("a.starts_at >= ?")
            params.append(to_db_time(starts_from))
        if starts_before is not None:
            where.append("a.starts_at < ?")
            params.append(to_db_time(starts_before))
        return await self._page(" AND ".join(where), params, page, page_size)

    async def search(
        self, now: datetime, words: Sequence[str], *, page: int = 0, page_size: int = 8
    ) -> Page:
        """Upcoming activities whose title, description, place or organization contain every
        word (case-insensitive for Latin letters; LOWER and LIKE are portable SQL)."""
        where = [_UPCOMING]
        params: list[object] = [to_db_time(now)]
        for word in list(words)[:MAX_SEARCH_WORDS]:
            variants = [_like_pattern(form) for form in search_variants(word) if form]
            if not variants:
                continue
            where.append("(" + " OR ".join([_MATCHES_WORD] * len(variants)) + ")")
            for pattern in variants:
                params.extend([pattern] * _MATCHES_WORD.count("?"))
        return await self._page(
            " AND ".join(where), params, page, page_size, count_from=ACTIVITY_FROM
        )

    async def upcoming_in_box(self, now: datetime, box: BoundingBox, limit: int) -> list[Activity]:
        """Upcoming activities with a map pin inside ``box`` (the caller sorts by distance)."""
        rows = await self._db.fetch_all(
            f"SELECT {ACTIVITY_COLUMNS} FROM {ACTIVITY_FROM} WHERE {_UPCOMING} "
            "AND a.latitude BETWEEN ? AND ? AND a.longitude BETWEEN ? AND ? "
            "ORDER BY a.starts_at, a.activity_id LIMIT ?",
            (
                to_db_time(now),
                box.min_latitude,
                box.max_latitude,
                box.min_longitude,
                box.max_longitude,
                limit,
            ),
        )
        return await _attach(self._db.fetch_all, rows)

    async def candidates(
        self,
        now: datetime,
        *,
        horizon: datetime,
        volunteer: VolunteerProfile,
        box: BoundingBox | None,
        limit: int,
    ) -> list[Activity]:
        """Pre-filter for matching: upcoming activities before ``horizon`` that share at least
        something with the volunteer (a category, a required skill, the area or the
        neighbourhood of a shared location), soonest first. Matching then scores them.

        What the volunteer could not join is left out here already, so that ``limit`` rows
        are all worth scoring (issue #14: fewer rows to turn into models, one query less):
        sign-up closed or past its deadline, a required skill they lack, adults only for a
        minor, and their own active sign-ups. ``bot.domain.matching.can_join`` still decides;
        this only never keeps out what it would accept."""
        categories, skills = volunteer.categories, volunteer.skills
        stamp = to_db_time(now)
        any_of: list[str] = []
        params: list[object] = [stamp, to_db_time(horizon)]
        if categories:
            any_of.append(f"a.category_code IN ({_placeholders(len(categories))})")
            params.extend(categories)
        if skills:
            any_of.append(
                "a.activity_id IN (SELECT activity_id FROM activity_skills "
                f"WHERE skill_code IN ({_placeholders(len(skills))}))"
            )
            params.extend(skills)
        if volunteer.area_code is not None:
            any_of.append("a.area_code = ?")
            params.append(volunteer.area_code)
        if box is not None:
            any_of.append("(a.latitude BETWEEN ? AND ? AND a.longitude BETWEEN ? AND ?)")
            params.extend(
                [box.min_latitude, box.max_latitude, box.min_longitude, box.max_longitude]
            )
        if not any_of:
            return []
        joinable = [
            "(a.signup_deadline IS NULL OR a.signup_deadline > ?)",
            "(a.signups_closed_at IS NULL OR a.signups_closed_at > ?)",
            "NOT EXISTS (SELECT 1 FROM signups s WHERE s.activity_id = a.activity_id "
            "AND s.volunteer_id = ? AND s.status IN ('confirmed', 'waitlisted', 'offered'))",
        ]
        params.extend([stamp, stamp, volunteer.volunteer_id])
        lacking = "SELECT 1 FROM activity_skills r WHERE r.activity_id = a.activity_id"
        if skills:
            lacking += f" AND r.skill_code NOT IN ({_placeholders(len(skills))})"
            params.extend(skills)
        joinable.append(f"NOT EXISTS ({lacking})")
        if volunteer.is_minor:
            joinable.append("a.adults_only = 0")
        params.append(limit)
        rows = await self._db.fetch_all(
            f"SELECT {ACTIVITY_COLUMNS} FROM {ACTIVITY_FROM} "
            f"WHERE {_UPCOMING} AND a.starts_at < ? AND ({' OR '.join(any_of)}) "
            f"AND {' AND '.join(joinable)} "
            "ORDER BY a.starts_at, a.activity_id LIMIT ?",
            params,
        )
        return await _attach(self._db.fetch_all, rows)

    async def _page(
        self,
        where: str,
        params: list[object],
        page: int,
        page_size: int,
        *,
        count_from: str = "activities a",
    ) -> Page:
        # Counted without the organizations join unless the condition reads it (a search by
        # organization name): every activity has one (NOT NULL foreign key), so the join
        # changes no count, only the plan (the index on activities no longer covers it).
        count = await self._db.fetch_one(
            f"SELECT COUNT(*) AS n FROM {count_from} WHERE {where}", params
        )
        total = int(count["n"]) if count is not None else 0
        page = clamp_page(page, total, page_size)
        rows = await self._db.fetch_all(
            f"SELECT {ACTIVITY_COLUMNS} FROM {ACTIVITY_FROM} WHERE {where} "
            "ORDER BY a.starts_at, a.activity_id LIMIT ? OFFSET ?",
            [*params, page_size, page * page_size],
        )
        items = await _attach(self._db.fetch_all, rows)
        return Page(items=tuple(items), page=page, page_size=page_size, total=total)
