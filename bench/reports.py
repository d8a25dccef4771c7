"""Reports benchmark (issue #18): the statistics table at city size, measured as the bot reads
it (:class:`storage.reports.ReportsRepository` through aiosqlite and SQLite).

    python -m bench.reports [--volunteers 100000] [--activities 10000] [--signups 300000]
                            [--records 1000000] [--repeat 5] [--database PATH]

The data set: ``--volunteers`` volunteers in 9 districts, 100 organizations, ``--activities``
activities spread over 2027 (one organization in a hundred has a hundredth of them), the
sign-ups and the service records spread evenly over the activities (each record a distinct
volunteer of its activity), figures (people served, money) for half the activities and a media
report for a tenth. It is written with bare ``sqlite3`` (the bench measures reading, not
loading), then ``ANALYZE`` runs as the bot's start-up does.

Figures, each the median of ``--repeat`` runs, printed beside a **baseline**: the bare SQL
aggregate a hand-written report would run at least (records summed per activity of the scope,
with ``sqlite3``), which is the floor. Targets (printed, never asserted): the federation's yearly
roll-up under 2 s, an organization's yearly table under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.reports import ScopeKind
from storage.backends import open_database
from storage.migrate import migrate
from storage.reports import ReportsRepository, Scope
from storage.timeutil import to_db_time

YEAR_START = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 1 January 2027, 00:00 in Shanghai
YEAR_END = datetime(2027, 12, 31, 16, 0, tzinfo=UTC)
ORGANIZATIONS = 100
AREAS = ("furong", "tianxin", "yuelu", "kaifu", "yuhua", "wangcheng", "changsha_county")
CATEGORIES = ("health", "environment", "education", "elderly_children", "traffic", "culture")
PEOPLE = ("elderly_children", "disabled", "empty_nest_elderly", "left_behind_children")
FEDERATION_TARGET_MS = 2000.0
ORGANIZATION_TARGET_MS = 200.0


def build(path: Path, volunteers: int, activities: int, signups: int, records: int) -> int:
    """Fill the migrated database at ``path``; returns the organization to measure."""
    rng = random.Random(18)
    stamp = to_db_time(YEAR_START)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    with conn:
        conn.executemany(
            "INSERT INTO organizations (organization_id, name, org_type, area_code, "
            "contact_name, contact_phone, status, created_at, updated_at) "
            "VALUES (?, ?, 'volunteer_team', ?, '联系人', '0731-0000000', 'approved', ?, ?)",
            [
                (n, f"志愿服务组织{n}", AREAS[n % len(AREAS)], stamp, stamp)
                for n in range(1, ORGANIZATIONS + 1)
            ],
        )
        conn.executemany(
            "INSERT INTO volunteers (volunteer_id, real_name, phone, is_minor, area_code, "
            "registered_at, updated_at, birth_date, consent_version, consent_at) "
            "VALUES (?, ?, ?, 0, ?, ?, ?, '1990-01-01', 'bench', ?)",
            (
                (n, f"志愿者{n}", f"+86139{n:08d}", AREAS[n % len(AREAS)], stamp, stamp, stamp)
                for n in range(1, volunteers + 1)
            ),
        )
        year_seconds = (YEAR_END - YEAR_START).total_seconds()
        rows = []
        for n in range(1, activities + 1):
            start = YEAR_START + timedelta(seconds=year_seconds * (n - 0.5) / activities)
            start = start.replace(minute=0, second=0, microsecond=0)
            rows.append(
                (
                    n,
                    n % ORGANIZATIONS + 1,
                    f"活动{n}",
                    CATEGORIES[n % len(CATEGORIES)],
                    to_db_time(start),
                    to_db_time(start + timedelta(hours=3)),
                    AREAS[n % len(AREAS)],
                    to_db_time(start + timedelta(hours=5)),
                    stamp,
                    stamp,
                )
            )
        conn.executemany(
            "INSERT INTO activities (activity_id, organization_id, title, category_code, "
            "starts_at, ends_at, place, area_code, capacity, status, hours_confirmed_at, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '社区', ?, 10000, 'published', "
            "?, ?, ?)",
            rows,
        )
        per_activity = max(1, records // activities)
        signups_per = max(1, signups // activities)

        def members(activity: int, count: int) -> list[int]:
            first = (activity * 7919) % volunteers
            return [(first + k) % volunteers + 1 for k in range(count)]

        conn.executemany(
            "INSERT INTO signups (activity_id, volunteer_id, status, created_at, status_at) "
            "VALUES (?, ?, 'confirmed', ?, ?)",
            (
                (a, v, stamp, stamp)
                for a in range(1, activities + 1)
                for v in members(a, signups_per)
            ),
        )
        conn.executemany(
            "INSERT INTO service_records (volunteer_id, activity_id, organization_id, kind, "
            "activity_title, service_date, place, category_code, content, organization_name, "
            "minutes, recorded_at, updated_at) "
            "VALUES (?, ?, ?, 'service', ?, ?, '社区', ?, '服务', ?, ?, ?, ?)",
            (
                (
                    v,
                    a,
                    a % ORGANIZATIONS + 1,
                    f"活动{a}",
                    rows[a - 1][4][:10],
                    CATEGORIES[a % len(CATEGORIES)],
                    f"志愿服务组织{a % ORGANIZATIONS + 1}",
                    rng.choice((60, 90, 120, 180)),
                    stamp,
                    stamp,
                )
                for a in range(1, activities + 1)
                for v in members(a, per_activity)
            ),
        )
        conn.executemany(
            "INSERT INTO activity_figures (activity_id, organizations, funds_fen, recorded_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?)",
            ((a, 1 + a % 3, 10_000 * (a % 50), stamp, stamp) for a in range(1, activities, 2)),
        )
        conn.executemany(
            "INSERT INTO activity_people_counts (activity_id, people_code, served) "
            "VALUES (?, ?, ?)",
            ((a, PEOPLE[a % len(PEOPLE)], 10 + a % 90) for a in range(1, activities, 2)),
        )
        conn.executemany(
            "INSERT INTO media_reports (activity_id, kind, url, reads, added_at) "
            "VALUES (?, 'wechat', ?, ?, ?)",
            (
                (a, f"https://mp.weixin.qq.com/s/{a}", 100 + a, stamp)
                for a in range(1, activities, 10)
            ),
        )
    conn.close()
    return 1


def _bare(path: Path, organization_id: int | None) -> Callable[[], object]:
    """The floor: records summed per activity of the scope and year, nothing else."""
    condition = " AND a.organization_id = ?" if organization_id is not None else ""
    params: tuple[object, ...] = (to_db_time(YEAR_START), to_db_time(YEAR_END))
    if organization_id is not None:
        params += (organization_id,)
    conn = sqlite3.connect(path)

    def run() -> object:
        return conn.execute(
            "SELECT a.activity_id, COUNT(r.volunteer_id), SUM(r.minutes) FROM activities a "
            "LEFT JOIN service_records r ON r.activity_id = a.activity_id "
            f"WHERE a.starts_at >= ? AND a.starts_at < ?{condition} GROUP BY a.activity_id",
            params,
        ).fetchall()

    return run


async def _median_ms(run: Callable[[], Awaitable[object]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _median_sync_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        db = await open_database(path)
        await migrate(db)
        await db.close()
        started = time.perf_counter()
        organization_id = build(path, args.volunteers, args.activities, args.signups, args.records)
        print(
            f"built {args.volunteers:,} volunteers, {args.activities:,} activities, "
            f"{args.signups:,} sign-ups, {args.records:,} records "
            f"in {time.perf_counter() - started:.1f} s"
        )
        db = await open_database(path)
        await db.analyze()
        repo = ReportsRepository(db)
        federation = Scope(ScopeKind.ALL)
        organization = Scope(ScopeKind.ORGANIZATION, organization_id=organization_id)
        table = await repo.table(YEAR_START, YEAR_END, federation)
        own = await repo.table(YEAR_START, YEAR_END, organization)
        print(
            f"federation: {len(table.rows):,} activities, {table.volunteers:,} 人次, "
            f"{table.minutes / 60:,.0f} h; organization {organization_id}: {len(own.rows)} "
            f"activities, {own.volunteers:,} 人次"
        )
        figures = [
            (
                "federation yearly roll-up",
                await _median_ms(lambda: repo.table(YEAR_START, YEAR_END, federation), args.repeat),
                _median_sync_ms(_bare(path, None), args.repeat),
                FEDERATION_TARGET_MS,
            ),
            (
                "one organization's yearly table",
                await _median_ms(
                    lambda: repo.table(YEAR_START, YEAR_END, organization), args.repeat
                ),
                _median_sync_ms(_bare(path, organization_id), args.repeat),
                ORGANIZATION_TARGET_MS,
            ),
        ]
        await db.close()
    print(f"\n{'what':<34} {'median':>10} {'bare SQL':>10} {'ratio':>7} {'target':>9}")
    for name, measured, bare, target in figures:
        verdict = "ok" if measured <= target else "OVER"
        print(
            f"{name:<34} {measured:>8.0f}ms {bare:>8.0f}ms {measured / bare:>6.1f}x "
            f"{target:>7.0f}ms {verdict}"
        )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--signups", type=int, default=300_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", type=Path, help="build once into this file, reuse after")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
