"""Service-menu benchmark (issue #4): the category page, a detail card, "For you" and "My
sign-ups" on a city-sized SQLite database, each measured as the bot calls it (service layer,
repositories, aiosqlite and SQLite together).

    python -m bench.menu [--volunteers 100000 --activities 10000 --signups 300000]
                         [--database PATH] [--repeat 200] [--seed 1] [--no-analyze] [--explain]

The data set is written with bulk ``INSERT``s (a few big transactions, not the per-row
repositories), then ``ANALYZE`` is run so SQLite's planner knows the table and index sizes.
With ``--database PATH`` the file is kept, and a later run that finds data in it measures that
data instead of building again. ``--no-analyze`` drops the statistics before measuring (to see
what a database that never ran ``ANALYZE`` does); ``--explain`` prints every read statement of
one call per scenario with its own time and ``EXPLAIN QUERY PLAN``.

The figures are printed, never asserted: a median above the 20 ms target prints FAIL and the
exit status stays 0. The sign-up write path is measured too and its rows are removed afterwards,
so the data set stays the same from one run to the next.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import math
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import OrganizationType, PeopleServed
from bot.domain.geo import Point
from bot.domain.volunteers import VolunteerGroup
from bot.services.signups import SignupPolicy, SignupRefused, SignupService
from storage.activities import ActivitiesRepository
from storage.backends import open_database
from storage.db import Database, SqliteDatabase
from storage.migrate import migrate
from storage.outbox import OutboxRepository
from storage.signups import SignupsRepository
from storage.timeutil import to_db_time
from storage.volunteers import VolunteersRepository

#: The benchmark's "now" (the clock of every service call): Monday 2026-11-23 10:00 in Shanghai.
#: Fixed, so that a kept database stays "upcoming" however much later it is measured again.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")
TARGET_MS = 20.0
FIRST_TELEGRAM_ID = 10_000_001
WARMUP_CALLS = 10

# Relative popularity of areas, service categories and skills (codes missing here weigh 3).
AREA_WEIGHTS = {
    "furong": 14, "tianxin": 12, "yuelu": 16, "kaifu": 12, "yuhua": 16, "wangcheng": 8,
    "changsha_county": 10, "liuyang": 6, "ningxiang": 6,
}  # fmt: skip
# Rough centres of the districts (WGS-84), for activities with a map pin.
AREA_CENTRES = {
    "furong": (28.19, 113.00), "tianxin": (28.11, 112.99), "yuelu": (28.21, 112.89),
    "kaifu": (28.26, 112.99), "yuhua": (28.13, 113.04), "wangcheng": (28.35, 112.82),
    "changsha_county": (28.25, 113.08), "liuyang": (28.16, 113.64),
    "ningxiang": (28.28, 112.55),
}  # fmt: skip
CHANGSHA = (28.2, 112.9)
CATEGORY_WEIGHTS = {
    "elderly_children": 14, "community": 12, "neighbourhood": 10, "education": 10,
    "environment": 9, "health": 8, "culture": 7, "traffic": 6, "public_safety": 5,
    "disability": 5, "poverty": 4, "sports": 4, "science": 3, "counselling": 3, "legal_aid": 2,
    "disaster": 2,
}  # fmt: skip
SKILL_WEIGHTS = {
    "first_aid": 12, "teaching": 12, "photography": 9, "it": 8, "translation": 6,
    "medical": 5, "elderly_care": 6, "driving": 7, "arts": 6, "psychology": 4, "legal": 3,
    "sign_language": 2,
}  # fmt: skip
CAPACITIES = (5, 8, 10, 15, 20, 30, 40, 50, 60, 80, 100, 150, 200)
CAPACITY_WEIGHTS = (2, 3, 6, 9, 13, 14, 12, 11, 9, 8, 7, 4, 2)  # ~70 % of spots taken
GATED_CAPACITIES = (4, 6, 8, 10, 12, 15, 20)  # skill-gated activities are small
START_TIMES = (
    wall_time(8, 30), wall_time(9), wall_time(9, 30), wall_time(10), wall_time(14),
    wall_time(14, 30), wall_time(15), wall_time(19),
)  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂玉华红建国晓婷鑫宇浩然子涵欣怡"
PLACES = ("社区服务中心", "街道党群服务中心", "文化广场", "图书馆", "敬老院", "中心小学",
          "湘江风光带", "公园东门", "地铁站出口", "体育馆", "福利院", "卫生服务站")  # fmt: skip
DESCRIPTION = (
    "活动内容：协助工作人员开展现场服务，引导群众有序参与，做好秩序维护与物资整理。"
    "请提前十五分钟到达集合点签到，穿着志愿者马甲，注意防暑防寒，服从现场负责人安排。"
    "活动结束后统一签退，服务时长按实际记录。"
)


# -- building the data set ------------------------------------------------------------------------


def _weights(codes: Sequence[str], table: dict[str, int]) -> list[int]:
    return [table.get(code, 3) for code in codes]


def _distinct(
    rng: random.Random, codes: Sequence[str], weights: Sequence[int], k: int
) -> list[str]:
    """``k`` distinct codes, drawn by weight."""
    k = min(k, len(codes))
    chosen: dict[str, None] = {}
    while len(chosen) < k:
        chosen[rng.choices(codes, weights)[0]] = None
    return list(chosen)


def _stamp(moment: datetime) -> str:
    return to_db_time(moment)


@dataclass
class Catalog:
    areas: list[str]
    area_names: dict[str, str]
    categories: list[str]
    category_names: dict[str, str]
    skills: list[str]


async def _catalog(db: Database) -> Catalog:
    areas = await db.fetch_all(
        "SELECT code, name_zh FROM areas WHERE is_active = 1 ORDER BY sort_order"
    )
    categories = await db.fetch_all(
        "SELECT code, name_zh FROM service_categories WHERE is_active = 1 ORDER BY sort_order"
    )
    skills = await db.fetch_all("SELECT code FROM skills WHERE is_active = 1 ORDER BY sort_order")
    return Catalog(
        areas=[row["code"] for row in areas],
        area_names={row["code"]: row["name_zh"] for row in areas},
        categories=[row["code"] for row in categories],
        category_names={row["code"]: row["name_zh"] for row in categories},
        skills=[row["code"] for row in skills],
    )


@dataclass
class Volunteers:
    """What the sign-up generator needs to know about the generated volunteers."""

    minor: list[bool] = field(default_factory=list)
    skills: list[frozenset[str]] = field(default_factory=list)
    holders: dict[str, list[int]] = field(default_factory=dict)  # skill -> volunteer ids
    ids: list[int] = field(default_factory=list)  # those who ever sign up
    cumulative: list[float] = field(default_factory=list)  # their cumulative weights


async def _build_volunteers(
    db: Database, rng: random.Random, catalog: Catalog, count: int
) -> Volunteers:
    area_weights = _weights(catalog.areas, AREA_WEIGHTS)
    category_weights = _weights(catalog.categories, CATEGORY_WEIGHTS)
    skill_weights = _weights(catalog.skills, SKILL_WEIGHTS)
    groups = [group.value for group in VolunteerGroup]
    today = NOW.astimezone(TZ).date()
    users: list[tuple[Any, ...]] = []
    volunteers: list[tuple[Any, ...]] = []
    memberships: dict[str, list[tuple[int, str]]] = {"skill": [], "category": [], "group": []}
    info = Volunteers(minor=[False], skills=[frozenset()])  # index 0 unused: ids start at 1
    weights: list[float] = []
    for volunteer_id in range(1, count + 1):
        telegram_id = FIRST_TELEGRAM_ID + volunteer_id - 1
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        registered = NOW - timedelta(days=rng.uniform(60, 3 * 365))
        seen = NOW - timedelta(hours=rng.uniform(0, 24 * 60))
        language = rng.choices(("zh-hans", "zh", "en", None), (70, 15, 10, 5))[0]
        users.append(
            (telegram_id, name, None, None, language, "volunteer", _stamp(registered), _stamp(seen))
        )
        minor = rng.random() < 0.06
        birth = (
            date(rng.randint(2010, 2012), rng.randint(1, 12), rng.randint(1, 28))
            if minor
            else date(rng.randint(1955, 2007), rng.randint(1, 12), rng.randint(1, 28))
        )
        paused = (today + timedelta(days=rng.randint(1, 30))).isoformat()
        volunteers.append(
            (
                volunteer_id,
                telegram_id,
                name,
                f"+86138{telegram_id % 100_000_000:08d}",
                rng.choices(("female", "male", "undisclosed"), (52, 44, 4))[0],
                birth.isoformat(),
                int(minor),
                _stamp(registered) if minor else None,
                rng.choices(catalog.areas, area_weights)[0],
                rng.randrange(1, 64),  # availability: at least one free slot
                "2026-01",
                _stamp(registered),
                _stamp(registered),
                _stamp(registered + timedelta(days=rng.uniform(0, 30))),
                paused if rng.random() < 0.02 else None,
            )
        )
        categories = _distinct(rng, catalog.categories, category_weights, rng.choice((1, 2, 2, 3)))
        memberships["category"].extend((volunteer_id, code) for code in categories)
        held: list[str] = []
        if rng.random() < 0.55:
            held = _distinct(rng, catalog.skills, skill_weights, rng.choice((1, 1, 2, 3)))
            memberships["skill"].extend((volunteer_id, code) for code in held)
            for code in held:
                info.holders.setdefault(code, []).append(volunteer_id)
        if rng.random() < 0.5:
            memberships["group"].append((volunteer_id, rng.choice(groups)))
        info.minor.append(minor)
        info.skills.append(frozenset(held))
        # How often this volunteer signs up: 30 % never, the rest heavy-tailed (a few very
        # active people with dozens of sign-ups, most with one or two).
        if rng.random() >= 0.3:
            info.ids.append(volunteer_id)
            weights.append(min(30.0, rng.paretovariate(1.2)))
    if not info.ids:  # a tiny data set where nobody was drawn as active
        info.ids, weights = list(range(1, count + 1)), [1.0] * count
    info.cumulative = list(itertools.accumulate(weights))

    async with db.transaction() as tx:
        await tx.execute_many(
            "INSERT INTO users (telegram_id, first_name, last_name, username, "
            "telegram_language_code, role, created_at, last_seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            users,
        )
        await tx.execute_many(
            "INSERT INTO volunteers (volunteer_id, telegram_id, real_name, phone, gender, "
            "birth_date, is_minor, guardian_consent_at, area_code, availability, "
            "consent_version, consent_at, registered_at, updated_at, paused_until) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            volunteers,
        )
        await tx.execute_many(
            "INSERT INTO volunteer_categories (volunteer_id, category_code) VALUES (?, ?)",
            memberships["category"],
        )
        await tx.execute_many(
            "INSERT INTO volunteer_skills (volunteer_id, skill_code) VALUES (?, ?)",
            memberships["skill"],
        )
        await tx.execute_many(
            "INSERT INTO volunteer_groups (volunteer_id, group_code) VALUES (?, ?)",
            memberships["group"],
        )
    return info


@dataclass
class PlannedActivity:
    activity_id: int
    capacity: int
    starts_at: datetime
    published_at: datetime
    adults_only: bool
    skills: tuple[str, ...]
    confirmed: int = 0
    waitlisted: int = 0
    cancelled: int = 0


def _plan_counts(rng: random.Random, plans: list[PlannedActivity], target: int, people: int) -> int:
    """Spread ``target`` sign-up rows over the activities: confirmed up to capacity, a waitlist
    (at most a third of capacity) only on full activities, a few cancelled rows on the others;
    never more rows on one activity than ``people``. Returns the number of rows planned (less
    than ``target`` only if they cannot fit)."""
    if not plans:
        return 0
    room = [min(people, plan.capacity + max(2, plan.capacity // 3)) for plan in plans]
    if sum(room) < target:
        print(f"  note: only {sum(room)} sign-ups fit these capacities; planning that many")
        target = sum(room)
    demand = [plan.capacity * rng.lognormvariate(-0.45, 0.55) for plan in plans]
    scale = target / sum(demand)
    wanted = [min(limit, round(d * scale)) for d, limit in zip(demand, room, strict=True)]
    missing = target - sum(wanted)
    while missing:
        i = rng.randrange(len(plans))
        if missing > 0 and wanted[i] < room[i]:
            wanted[i] += 1
            missing -= 1
        elif missing < 0 and wanted[i] > 0:
            wanted[i] -= 1
            missing += 1
    for plan, n in zip(plans, wanted, strict=True):
        plan.confirmed = min(n, plan.capacity)
        plan.waitlisted = n - plan.confirmed
        if plan.waitlisted == 0 and plan.confirmed >= 4 and rng.random() < 0.35:
            plan.cancelled = rng.randint(1, max(1, plan.confirmed // 6))
            plan.confirmed -= plan.cancelled
    return target


async def _build_activities(
    db: Database,
    rng: random.Random,
    catalog: Catalog,
    volunteers: Volunteers,
    *,
    organizations: int,
    activities: int,
    signups: int,
) -> None:
    area_weights = _weights(catalog.areas, AREA_WEIGHTS)
    category_weights = _weights(catalog.categories, CATEGORY_WEIGHTS)
    skill_weights = _weights(catalog.skills, SKILL_WEIGHTS)
    org_types = [kind.value for kind in OrganizationType]
    people = [code.value for code in PeopleServed]
    local_today = NOW.astimezone(TZ).date()
    managers = min(organizations, len(volunteers.minor) - 1)

    org_rows: list[tuple[Any, ...]] = []
    org_area: list[str] = []
    for organization_id in range(1, organizations + 1):
        area = rng.choices(catalog.areas, area_weights)[0]
        created = NOW - timedelta(days=rng.uniform(90, 700))
        org_area.append(area)
        org_rows.append(
            (
                organization_id,
                f"{catalog.area_names[area]}志愿服务队{organization_id}",
                rng.choice(org_types),
                area,
                "李老师",
                f"+86139{organization_id:08d}",
                "approved",
                _stamp(created + timedelta(days=2)),
                _stamp(created),
                _stamp(created),
            )
        )

    plans: list[PlannedActivity] = []
    activity_rows: list[list[Any]] = []
    skill_rows: list[tuple[int, str]] = []
    people_rows: list[tuple[int, str]] = []
    for activity_id in range(1, activities + 1):
        organization_id = rng.randint(1, organizations)
        category = rng.choices(catalog.categories, category_weights)[0]
        area = (
            org_area[organization_id - 1]
            if rng.random() < 0.7
            else rng.choices(catalog.areas, area_weights)[0]
        )
        day = local_today + timedelta(days=rng.randrange(0, 59))
        starts = datetime.combine(day, rng.choice(START_TIMES), tzinfo=TZ).astimezone(UTC)
        if starts <= NOW + timedelta(hours=2):
            starts += timedelta(days=1)
        ends = starts + timedelta(hours=rng.choice((1.5, 2, 2, 3, 3, 4)))
        published = NOW - timedelta(days=rng.uniform(0.5, 30))
        required: tuple[str, ...] = ()
        if rng.random() < 0.15:
            required = tuple(_distinct(rng, catalog.skills, skill_weights, rng.choice((1, 1, 2))))
        capacity = (
            rng.choice(GATED_CAPACITIES)
            if required
            else rng.choices(CAPACITIES, CAPACITY_WEIGHTS)[0]
        )
        adults_only = rng.random() < 0.1
        latitude: float | None = None
        longitude: float | None = None
        if rng.random() < 0.55:
            centre = AREA_CENTRES.get(area, CHANGSHA)
            latitude = round(centre[0] + rng.gauss(0, 0.03), 6)
            longitude = round(centre[1] + rng.gauss(0, 0.03), 6)
        deadline = starts - timedelta(days=1) if rng.random() < 0.25 else None
        closed = NOW - timedelta(hours=3) if rng.random() < 0.01 else None
        place = f"{catalog.area_names[area]}{rng.choice(PLACES)}"
        title = f"{catalog.category_names[category]}志愿服务（{place}）"
        plans.append(
            PlannedActivity(activity_id, capacity, starts, published, adults_only, required)
        )
        activity_rows.append(
            [
                activity_id,
                organization_id,
                title,
                category,
                DESCRIPTION,
                _stamp(starts),
                _stamp(ends),
                place,
                area,
                latitude,
                longitude,
                capacity,
                int(bool(required) and rng.random() < 0.5),
                int(adults_only),
                _stamp(deadline) if deadline else None,
                _stamp(closed) if closed else None,
                f"{rng.choice(SURNAMES)}老师" if rng.random() < 0.6 else None,
                FIRST_TELEGRAM_ID + (organization_id - 1) % max(1, managers),
                _stamp(published),
                _stamp(published),
                _stamp(published),
            ]
        )
        skill_rows.extend((activity_id, code) for code in required)
        if rng.random() < 0.4:
            people_rows.extend(
                (activity_id, code) for code in rng.sample(people, rng.choice((1, 1, 2)))
            )

    adults = sum(not volunteers.minor[v] for v in volunteers.ids)
    planned = _plan_counts(rng, plans, signups, max(1, adults * 9 // 10))
    signup_rows = _plan_signups(rng, plans, volunteers)
    # The counters are written with the activity: they agree with the rows by construction.
    for row, plan in zip(activity_rows, plans, strict=True):
        row.extend((plan.confirmed, plan.waitlisted))

    async with db.transaction() as tx:
        await tx.execute_many(
            "UPDATE users SET role = 'organizer' WHERE telegram_id = ?",
            [(FIRST_TELEGRAM_ID + i,) for i in range(managers)],
        )
        await tx.execute_many(
            "INSERT INTO organizations (organization_id, name, org_type, area_code, "
            "contact_name, contact_phone, status, decided_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            org_rows,
        )
        await tx.execute_many(
            "INSERT INTO organization_members (organization_id, telegram_id, member_role, "
            "added_at) VALUES (?, ?, 'manager', ?)",
            [
                (organization_id, FIRST_TELEGRAM_ID + (organization_id - 1) % managers, row[9])
                for organization_id, row in enumerate(org_rows, start=1)
                if organization_id <= managers
            ],
        )
        await tx.execute_many(
            "INSERT INTO activities (activity_id, organization_id, title, category_code, "
            "description, starts_at, ends_at, place, area_code, latitude, longitude, capacity, "
            "training_required, adults_only, signup_deadline, signups_closed_at, leader_name, "
            "created_by, created_at, updated_at, published_at, status, confirmed_count, "
            "waitlist_count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'published', "
            "?, ?)",
            activity_rows,
        )
        await tx.execute_many(
            "INSERT INTO activity_skills (activity_id, skill_code) VALUES (?, ?)", skill_rows
        )
        await tx.execute_many(
            "INSERT INTO activity_people_served (activity_id, people_code) VALUES (?, ?)",
            people_rows,
        )
    async with db.transaction() as tx:
        await tx.execute_many(
            "INSERT INTO signups (activity_id, volunteer_id, status, created_at, status_at, "
            "queued_at, ended_at, end_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            signup_rows,
        )
    assert len(signup_rows) == planned


def _plan_signups(
    rng: random.Random, plans: list[PlannedActivity], volunteers: Volunteers
) -> list[tuple[Any, ...]]:
    """The sign-up rows of every activity (distinct volunteers; no minors on adults-only
    activities; skill-gated ones only by holders of the skills), oldest first."""
    rows: list[tuple[Any, ...]] = []
    eligible_cache: dict[tuple[str, ...], list[int]] = {}
    total_weight = volunteers.cumulative[-1] if volunteers.cumulative else 0.0
    for plan in plans:
        need = plan.confirmed + plan.waitlisted + plan.cancelled
        if need == 0:
            continue
        pool: list[int] | None = None
        if plan.skills:
            if plan.skills not in eligible_cache:
                first = volunteers.holders.get(plan.skills[0], [])
                eligible_cache[plan.skills] = [
                    v for v in first if set(plan.skills) <= volunteers.skills[v]
                ]
            pool = [v for v in eligible_cache[plan.skills] if not volunteers.minor[v]]
            if len(pool) < need:
                pool = None  # a tiny data set: fall back to anyone
        chosen: dict[int, None] = {}
        while len(chosen) < need:
            if pool is not None:
                picks = rng.sample(pool, need - len(chosen))
            else:
                picks = [
                    volunteers.ids[
                        min(
                            len(volunteers.ids) - 1,
                            bisect.bisect(volunteers.cumulative, rng.random() * total_weight),
                        )
                    ]
                    for _ in range(need - len(chosen))
                ]
            for volunteer_id in picks:
                if not (plan.adults_only and volunteers.minor[volunteer_id]):
                    chosen[volunteer_id] = None
        # Sign-up moments between publication and now; the first ones got the spots.
        span = (NOW - plan.published_at).total_seconds()
        moments = sorted(
            plan.published_at + timedelta(seconds=rng.uniform(0, span)) for _ in range(need)
        )
        statuses = ["confirmed"] * plan.confirmed + ["cancelled"] * plan.cancelled
        rng.shuffle(statuses)
        statuses += ["waitlisted"] * plan.waitlisted
        for volunteer_id, moment, status in zip(chosen, moments, statuses, strict=True):
            created = _stamp(moment)
            if status == "cancelled":
                ended = _stamp(moment + (NOW - moment) * rng.random())
                rows.append((plan.activity_id, volunteer_id, status, created, ended, None, ended,
                             "volunteer"))  # fmt: skip
            else:
                queued = created if status == "waitlisted" else None
                rows.append(
                    (plan.activity_id, volunteer_id, status, created, created, queued, None, None)
                )
    rows.sort(key=lambda row: row[3])  # signup_id order is creation order, as in real life
    return rows


async def build(db: Database, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    catalog = await _catalog(db)
    started = time.perf_counter()
    volunteers = await _build_volunteers(db, rng, catalog, args.volunteers)
    print(f"  users and volunteers: {time.perf_counter() - started:6.1f} s")
    step = time.perf_counter()
    await _build_activities(
        db,
        rng,
        catalog,
        volunteers,
        organizations=args.organizations,
        activities=args.activities,
        signups=args.signups,
    )
    print(f"  organizations, activities and sign-ups: {time.perf_counter() - step:6.1f} s")
    print(f"  built in {time.perf_counter() - started:.1f} s")


async def _scalar(db: Database, sql: str, params: Sequence[Any] = ()) -> int:
    row = await db.fetch_one(sql, params)
    return int(row[0]) if row is not None and row[0] is not None else 0


async def describe(db: Database) -> None:
    counts = {
        table: await _scalar(db, f"SELECT COUNT(*) FROM {table}")
        for table in ("volunteers", "organizations", "activities", "signups")
    }
    by_status = await db.fetch_all("SELECT status, COUNT(*) AS n FROM signups GROUP BY status")
    full = await _scalar(
        db, "SELECT COUNT(*) FROM activities WHERE confirmed_count + offered_count >= capacity"
    )
    heaviest = await _scalar(
        db, "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM signups GROUP BY volunteer_id)"
    )
    print(
        "  "
        + ", ".join(f"{n:,} {table}" for table, n in counts.items())
        + " ("
        + ", ".join(f"{row['n']:,} {row['status']}" for row in by_status)
        + f"); {full:,} activities full; at most {heaviest} sign-ups per volunteer"
    )
    # The counters must agree with the rows, and nothing may be over capacity.
    wrong = await _scalar(
        db,
        "SELECT COUNT(*) FROM activities a LEFT JOIN (SELECT activity_id, "
        "SUM(status = 'confirmed') AS c, SUM(status = 'waitlisted') AS w, "
        "SUM(status = 'offered') AS o FROM signups GROUP BY activity_id) s "
        "ON s.activity_id = a.activity_id "
        "WHERE a.confirmed_count <> COALESCE(s.c, 0) OR a.waitlist_count <> COALESCE(s.w, 0) "
        "OR a.offered_count <> COALESCE(s.o, 0) OR a.confirmed_count + a.offered_count > capacity",
    )
    print(
        f"  counters consistent with the sign-up rows: {'yes' if wrong == 0 else f'NO ({wrong})'}"
    )


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    samples: list[float]  # milliseconds
    note: str = ""
    target: bool = True  # compared with the 20 ms target

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


async def _time_calls(
    name: str, calls: Sequence[Callable[[], Awaitable[object]]], *, note: str = ""
) -> Result:
    """Run each call once, timing it; the first few are run once more before, untimed."""
    for call in calls[:WARMUP_CALLS]:
        await call()
    samples: list[float] = []
    for call in calls:
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return Result(name, samples, note)


@dataclass
class Inputs:
    telegram_ids: list[int]  # live volunteers, uniformly
    signed_up: list[tuple[int, int]]  # (telegram_id, activity_id) of existing sign-ups
    activity_ids: list[int]
    heaviest: int  # telegram_id of the volunteer with the most sign-ups
    categories: list[str]


async def _inputs(db: Database, rng: random.Random, repeat: int) -> Inputs:
    ids = [
        int(row[0])
        for row in await db.fetch_all(
            "SELECT telegram_id FROM volunteers WHERE telegram_id IS NOT NULL "
            "AND deleted_at IS NULL ORDER BY volunteer_id"
        )
    ]
    activity_ids = [
        int(row[0])
        for row in await db.fetch_all(
            "SELECT activity_id FROM activities WHERE status = 'published' AND starts_at > ? "
            "ORDER BY activity_id",
            (to_db_time(NOW),),
        )
    ]
    top = await _scalar(db, "SELECT MAX(signup_id) FROM signups")
    picks = [rng.randint(1, max(1, top)) for _ in range(repeat + WARMUP_CALLS)]
    signed_up = [
        (int(row["telegram_id"]), int(row["activity_id"]))
        for row in await db.fetch_all(
            "SELECT v.telegram_id, s.activity_id FROM signups s "
            "JOIN volunteers v ON v.volunteer_id = s.volunteer_id "
            f"WHERE v.telegram_id IS NOT NULL AND s.signup_id IN ({', '.join('?' * len(picks))}) "
            "ORDER BY s.signup_id",
            picks,
        )
    ]
    rng.shuffle(signed_up)
    heaviest = await _scalar(
        db,
        "SELECT v.telegram_id FROM signups s JOIN volunteers v ON v.volunteer_id = s.volunteer_id "
        "WHERE v.telegram_id IS NOT NULL AND s.status IN ('confirmed', 'waitlisted', 'offered') "
        "GROUP BY s.volunteer_id ORDER BY COUNT(*) DESC, s.volunteer_id LIMIT 1",
    )
    categories = [
        row[0]
        for row in await db.fetch_all(
            "SELECT code FROM service_categories WHERE is_active = 1 ORDER BY sort_order"
        )
    ]
    if not ids or not activity_ids or not signed_up:
        raise SystemExit("the database holds no volunteers, open activities or sign-ups")
    return Inputs(ids, signed_up, activity_ids, heaviest, categories)


def _near_changsha(rng: random.Random) -> Point:
    return Point(
        round(CHANGSHA[0] + rng.gauss(0, 0.08), 6), round(CHANGSHA[1] + rng.gauss(0, 0.1), 6)
    )


def _page_number(rng: random.Random) -> int:
    """Most people look at the first pages; some page far down (clamped to the last page)."""
    roll = rng.random()
    if roll < 0.6:
        return 0
    if roll < 0.85:
        return rng.randint(1, 3)
    return rng.randint(4, 120)


def services(db: Database) -> tuple[ActivitiesRepository, SignupService]:
    activities = ActivitiesRepository(db)
    service = SignupService(
        db,
        VolunteersRepository(db),
        activities,
        SignupsRepository(db),
        OutboxRepository(db),
        ManualClock(NOW),
        TZ,
        SignupPolicy(),
    )
    return activities, service


def _read_scenarios(
    db: Database, rng: random.Random, inputs: Inputs, count: int
) -> list[tuple[str, list[Callable[[], Awaitable[object]]]]]:
    """The read paths as the handlers call them, ``count`` varied calls each."""
    activities, service = services(db)

    def category_page(category: str, page: int) -> Callable[[], Awaitable[object]]:
        async def call() -> object:
            await activities.category_counts(NOW)
            return await activities.upcoming(NOW, category=category, page=page)

        return call

    def detail_card(telegram_id: int, activity_id: int) -> Callable[[], Awaitable[object]]:
        async def call() -> object:
            activity = await activities.get(activity_id)
            assert activity is not None
            return await service.viewer(telegram_id, activity)

        return call

    def for_you(telegram_id: int, location: Point | None) -> Callable[[], Awaitable[object]]:
        async def call() -> object:
            return await service.for_you(telegram_id, location=location)

        return call

    def my_signups(telegram_id: int) -> Callable[[], Awaitable[object]]:
        async def call() -> object:
            return await service.my_signups(telegram_id, upcoming=True, limit=10)

        return call

    def detail_input(i: int) -> tuple[int, int]:
        # Half the cards are looked at by someone signed up for the activity (which adds the
        # sign-up and, when waiting, the waitlist position), half by anyone.
        if i % 2 == 0:
            return inputs.signed_up[i % len(inputs.signed_up)]
        return rng.choice(inputs.telegram_ids), rng.choice(inputs.activity_ids)

    return [
        (
            "category page",
            [category_page(rng.choice(inputs.categories), _page_number(rng)) for _ in range(count)],
        ),
        ("detail card", [detail_card(*detail_input(i)) for i in range(count)]),
        ("For you", [for_you(rng.choice(inputs.telegram_ids), None) for _ in range(count)]),
        (
            "For you + location",
            [for_you(rng.choice(inputs.telegram_ids), _near_changsha(rng)) for _ in range(count)],
        ),
        (
            "My sign-ups",
            [my_signups(inputs.signed_up[i % len(inputs.signed_up)][0]) for i in range(count)],
        ),
        ("My sign-ups, busiest", [my_signups(inputs.heaviest) for _ in range(count)]),
    ]


async def measure_reads(
    db: Database, rng: random.Random, inputs: Inputs, repeat: int
) -> list[Result]:
    notes = {
        "category page": "category_counts + upcoming(category, page)",
        "detail card": "get + viewer",
        "For you": "for_you(telegram_id)",
        "For you + location": "for_you(telegram_id, location=Point)",
        "My sign-ups": "my_signups(upcoming, limit=10)",
        "My sign-ups, busiest": "the volunteer with the most sign-ups",
    }
    results: list[Result] = []
    for name, calls in _read_scenarios(db, rng, inputs, repeat):
        results.append(await _time_calls(name, calls, note=notes[name]))
    return results


async def measure_sign_up(db: Database, rng: random.Random, inputs: Inputs, repeat: int) -> Result:
    """``SignupService.sign_up`` by random volunteers for random open activities with free
    spots; the rows it adds are removed again afterwards (counters included)."""
    _, service = services(db)
    open_ids = [
        int(row[0])
        for row in await db.fetch_all(
            "SELECT activity_id FROM activities WHERE status = 'published' AND starts_at > ? "
            "AND waitlist_count = 0 AND confirmed_count + offered_count < capacity "
            "ORDER BY activity_id",
            (to_db_time(NOW),),
        )
    ]
    first_new = await _scalar(db, "SELECT COALESCE(MAX(signup_id), 0) FROM signups") + 1
    outcomes: dict[str, int] = {}
    samples: list[float] = []
    try:
        for _ in range(repeat):
            # A pair without a row yet (untimed check): a fresh sign-up, never a re-activated
            # cancelled row, which the clean-up below could not put back (tiny data sets may
            # run out of fresh pairs: then a repeated press is measured).
            for _attempt in range(100):
                telegram_id, activity_id = rng.choice(inputs.telegram_ids), rng.choice(open_ids)
                if not await _scalar(
                    db,
                    "SELECT COUNT(*) FROM signups s JOIN volunteers v "
                    "ON v.volunteer_id = s.volunteer_id "
                    "WHERE s.activity_id = ? AND v.telegram_id = ?",
                    (activity_id, telegram_id),
                ):
                    break
            started = time.perf_counter()
            try:
                result = await service.sign_up(telegram_id, activity_id)
                outcome = result.outcome.value
            except SignupRefused as refused:
                outcome = f"refused: {refused.reason.value}"
            samples.append((time.perf_counter() - started) * 1000)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    finally:
        await _undo_signups(db, first_new)
    note = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
    return Result("sign-up (write)", samples, note)


async def _undo_signups(db: Database, first_new: int) -> None:
    async with db.transaction() as tx:
        for row in await tx.fetch_all(
            "SELECT activity_id, status, COUNT(*) AS n FROM signups WHERE signup_id >= ? "
            "GROUP BY activity_id, status",
            (first_new,),
        ):
            counter = {"confirmed": "confirmed_count", "waitlisted": "waitlist_count"}.get(
                row["status"], "offered_count"
            )
            await tx.execute(
                f"UPDATE activities SET {counter} = {counter} - ? WHERE activity_id = ?",
                (row["n"], row["activity_id"]),
            )
        await tx.execute("DELETE FROM signups WHERE signup_id >= ?", (first_new,))


def print_table(results: Sequence[Result]) -> None:
    header = (
        f"{'scenario':<22} {'calls':>5} {'median':>8} {'p95':>8} {'max':>8} "
        f"{'target':>7}  {'result':<6} what"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        verdict = ("PASS" if result.median < TARGET_MS else "FAIL") if result.target else "(info)"
        print(
            f"{result.name:<22} {len(result.samples):>5} {result.median:>6.2f}ms "
            f"{result.p95:>6.2f}ms {max(result.samples):>6.2f}ms "
            f"{f'{TARGET_MS:.0f}ms' if result.target else '-':>7}  "
            f"{verdict:<6} {result.note}"
        )


# -- query plans --------------------------------------------------------------------------------


async def explain(db: Database, rng: random.Random, inputs: Inputs, path: Path) -> None:
    """Each read statement of one call per scenario, with the values it was run with: its time
    alone on a separate connection (median of 20 runs) and its query plan."""
    seen: list[str] = []
    recording = False

    def trace(statement: str) -> None:
        if recording and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    # Diagnostics only: the trace hook goes on the database's private read connection (it
    # receives each statement with its parameters filled in).
    assert isinstance(db, SqliteDatabase)  # EXPLAIN QUERY PLAN: this benchmark is SQLite's
    await db._reader.set_trace_callback(trace)
    plain = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for name, calls in _read_scenarios(db, rng, inputs, 1):
            seen.clear()
            recording = True
            try:
                await calls[0]()
            finally:
                recording = False
            print(f"\n== {name} ==")
            for statement in seen:
                timings = []
                for _ in range(20):
                    started = time.perf_counter()
                    plain.execute(statement).fetchall()
                    timings.append((time.perf_counter() - started) * 1000)
                text = " ".join(statement.split())
                print(
                    f"{statistics.median(timings):7.3f} ms  {text[:150]}{'…' * (len(text) > 150)}"
                )
                for row in plain.execute(f"EXPLAIN QUERY PLAN {statement}"):
                    print(f"{'':12}{row[3]}")
    finally:
        plain.close()


# -- main ---------------------------------------------------------------------------------------


async def _open(path: Path) -> Database:
    # With the page cache `zhiyuan run` gives its connections (SQLITE_CACHE_MB's default).
    db = await open_database(path, sqlite_cache_mb=Settings.model_fields["sqlite_cache_mb"].default)
    await migrate(db)
    return db


async def _statistics(db: Database, path: Path, *, analyze: bool) -> tuple[Database, str]:
    """Make the planner statistics as asked; reopen so both connections load them."""
    has_stats = await _scalar(
        db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    )
    if analyze and not has_stats:
        started = time.perf_counter()
        # The app should run ANALYZE too (it does not yet, nor PRAGMA optimize): without
        # statistics the planner guesses, and "My sign-ups" and the category counts scan
        # every upcoming activity (see bench/README.md). Statistics are loaded when a
        # connection opens: an already open read connection keeps planning without them,
        # hence the reopen below.
        async with db.transaction() as tx:
            await tx.execute("ANALYZE")
        state = f"ANALYZE run now ({time.perf_counter() - started:.1f} s)"
    elif analyze:
        state = "ANALYZE statistics present"
    else:
        async with db.transaction() as tx:
            for table in ("sqlite_stat1", "sqlite_stat4"):
                await tx.execute(f"DROP TABLE IF EXISTS {table}")
        state = "no statistics (--no-analyze: sqlite_stat1 dropped)"
    await db.close()
    return await _open(path), state


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="zhiyuan-bench-") as scratch:
        path = Path(args.database) if args.database else Path(scratch) / "bench.sqlite3"
        print(
            f"Zhiyuan menu benchmark: Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}, {os.cpu_count()} CPUs, database {path}"
        )
        db = await _open(path)
        try:
            if await _scalar(db, "SELECT COUNT(*) FROM activities"):
                print("Reusing the data already in the database (delete the file to rebuild):")
            else:
                print(
                    f"Building {args.volunteers:,} volunteers, {args.activities:,} activities, "
                    f"{args.signups:,} sign-ups (seed {args.seed}):"
                )
                await build(db, args)
            db, state = await _statistics(db, path, analyze=not args.no_analyze)
            await describe(db)
            print(f"  planner statistics: {state}")
            inputs = await _inputs(db, rng, args.repeat)
            print(
                f"\nService time per call, {args.repeat} varied calls per scenario after "
                f"{WARMUP_CALLS} warm-up calls (clock fixed at {NOW.isoformat()}):\n"
            )
            results = await measure_reads(db, rng, inputs, args.repeat)
            results.append(await measure_sign_up(db, rng, inputs, args.repeat))
            results[-1].target = False
            print_table(results)
            failed = [r.name for r in results if r.target and r.median >= TARGET_MS]
            print(
                f"\n{'All medians under' if not failed else 'Over'} the {TARGET_MS:.0f} ms target"
                + (f": {', '.join(failed)}" if failed else "")
                + " (figures are printed, not asserted)."
            )
            if args.explain:
                await explain(db, rng, inputs, path)
        finally:
            await db.close()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.menu", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--signups", type=int, default=300_000)
    parser.add_argument("--organizations", type=int, default=200)
    parser.add_argument(
        "--database", help="SQLite file to build and keep (reused when it already has data)"
    )
    parser.add_argument("--repeat", type=int, default=200, help="timed calls per scenario")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-analyze", action="store_true", help="drop the planner statistics before measuring"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print each read statement's time and query plan"
    )
    args = parser.parse_args(argv)
    for name in ("volunteers", "activities", "organizations", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.signups < 1:
        parser.error("--signups must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    asyncio.run(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
