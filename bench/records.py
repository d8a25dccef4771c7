"""Service-records benchmark (issue #16): confirming the hours of an activity with 500
volunteers, and ``/hours`` for a volunteer with 1,000 records, measured as the bot calls them
(services, repositories, aiosqlite and SQLite together).

    python -m bench.records [--volunteers 500] [--records 1000] [--repeat 5] [--reads 200]

Each figure is printed beside a **baseline**: the same rows written or read with bare
``sqlite3`` on the same file (one ``executemany`` in one transaction; one indexed ``SELECT``),
which is the floor any implementation pays. The ratio says what the layers above cost. Targets
(printed, never asserted): well under a second for both — confirming under 500 ms median and
``/hours`` under 20 ms median.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.config import Settings
from bot.domain.activities import (
    MemberRole,
    NewActivity,
    NewOrganization,
    OrganizationStatus,
    OrganizationType,
)
from bot.domain.service_records import review_stamp
from bot.domain.users import TelegramIdentity
from bot.services.service_records import RecordsService
from bot.services.staff import StaffService
from storage.activities import ActivitiesRepository
from storage.attendance import AttendanceRepository
from storage.backends import open_database
from storage.db import Database
from storage.migrate import migrate
from storage.organizations import OrganizationsRepository
from storage.service_records import ServiceRecordsRepository
from storage.timeutil import to_db_time
from storage.users import UsersRepository

NOW = datetime(2026, 12, 12, 6, 0, tzinfo=UTC)  # Saturday 14:00 in Shanghai
ORGANIZER = 1
CONFIRM_TARGET_MS = 500.0
HOURS_TARGET_MS = 20.0


async def _volunteers(db: Database, count: int) -> list[int]:
    stamp = to_db_time(NOW)
    async with db.transaction() as tx:
        await tx.execute_many(
            "INSERT INTO users (telegram_id, first_name, telegram_language_code, created_at, "
            "last_seen_at) VALUES (?, ?, 'zh', ?, ?)",
            [(100_000 + n, f"志愿者{n}", stamp, stamp) for n in range(count)],
        )
        await tx.execute_many(
            "INSERT INTO volunteers (telegram_id, real_name, phone, is_minor, registered_at, "
            "updated_at, birth_date, consent_version, consent_at) "
            "VALUES (?, ?, ?, 0, ?, ?, '1990-01-01', 'bench', ?)",
            [
                (100_000 + n, f"志愿者{n}", f"+86139{n:08d}", stamp, stamp, stamp)
                for n in range(count)
            ],
        )
    rows = await db.fetch_all("SELECT volunteer_id FROM volunteers ORDER BY volunteer_id")
    return [row["volunteer_id"] for row in rows]


async def _attendance(
    db: Database, activity_id: int, volunteers: list[int], start: datetime
) -> None:
    async with db.transaction() as tx:
        await tx.execute_many(
            "INSERT INTO attendance (activity_id, volunteer_id, mark, walk_in, checked_in_at, "
            "checked_out_at, in_method, out_method, updated_at) "
            "VALUES (?, ?, 'present', 1, ?, ?, 'code', 'code', ?)",
            [
                (
                    activity_id,
                    volunteer,
                    to_db_time(start - timedelta(minutes=n % 20)),
                    to_db_time(start + timedelta(hours=3, minutes=n % 25)),
                    to_db_time(start),
                )
                for n, volunteer in enumerate(volunteers)
            ],
        )


async def _history(db: Database, volunteer_id: int, organization_id: int, count: int) -> None:
    """``count`` records for one volunteer, one a few days apart over the years."""
    stamp = to_db_time(NOW)
    async with db.transaction() as tx:
        await tx.execute_many(
            "INSERT INTO service_records (volunteer_id, activity_id, organization_id, kind, "
            "activity_title, service_date, place, category_code, content, organization_name, "
            "leader_name, minutes, recorded_at, updated_at) "
            "VALUES (?, NULL, ?, 'service', ?, ?, '社区服务中心', 'health', '', '协会', '李老师', "
            "?, ?, ?)",
            [
                (
                    volunteer_id,
                    organization_id,
                    f"活动{n}",
                    (NOW - timedelta(days=3 * n)).date().isoformat(),
                    60 + 30 * (n % 5),
                    stamp,
                    stamp,
                )
                for n in range(count)
            ],
        )


async def _timed(action: Callable[[], Awaitable[object]], times: int) -> list[float]:
    found = []
    for _ in range(times):
        began = time.perf_counter()
        await action()
        found.append((time.perf_counter() - began) * 1000)
    return found


def _bare_confirm(path: Path, activity_id: int, volunteers: list[int]) -> float:
    """The floor: 500 rows inserted with bare sqlite3 in one transaction (then rolled back)."""
    conn = sqlite3.connect(path)
    try:
        began = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO service_records (volunteer_id, activity_id, organization_id, kind, "
            "activity_title, service_date, place, category_code, content, organization_name, "
            "leader_name, minutes, recorded_at, updated_at) VALUES "
            "(?, ?, NULL, 'service', 't', '2026-12-12', 'p', NULL, '', 'o', NULL, 120, 'x', 'x')",
            [(volunteer, activity_id) for volunteer in volunteers],
        )
        conn.execute("ROLLBACK")
        return (time.perf_counter() - began) * 1000
    finally:
        conn.close()


def _bare_hours(path: Path, volunteer_id: int, times: int) -> list[float]:
    conn = sqlite3.connect(path)
    try:
        found = []
        for _ in range(times):
            began = time.perf_counter()
            conn.execute(
                "SELECT COALESCE(SUM(minutes), 0), COUNT(*) FROM service_records "
                "WHERE volunteer_id = ?",
                (volunteer_id,),
            ).fetchone()
            conn.execute(
                "SELECT * FROM service_records WHERE volunteer_id = ? "
                "ORDER BY service_date DESC, record_id DESC LIMIT 8",
                (volunteer_id,),
            ).fetchall()
            found.append((time.perf_counter() - began) * 1000)
        return found
    finally:
        conn.close()


def _line(name: str, ours: list[float], bare: list[float], target: float) -> str:
    median = statistics.median(ours)
    p95 = sorted(ours)[max(0, int(len(ours) * 0.95) - 1)]
    floor = statistics.median(bare)
    verdict = "PASS" if median < target else "FAIL"
    return (
        f"{name:<34} {median:9.2f} {p95:9.2f} {floor:11.2f} {median / floor:8.1f}x "
        f"{target:8.0f}  {verdict}"
    )


async def run(volunteer_count: int, record_count: int, repeat: int, reads: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "records.sqlite3"
        db = await open_database(path)
        try:
            await migrate(db)
            clock = ManualClock(NOW - timedelta(days=30))
            organization = await OrganizationsRepository(db).create(
                NewOrganization(
                    name="长沙市青年志愿者协会",
                    org_type=OrganizationType.VOLUNTEER_TEAM,
                    area_code="furong",
                    contact_name="李老师",
                    contact_phone="+8613800000000",
                    status=OrganizationStatus.APPROVED,
                ),
                clock(),
            )
            await UsersRepository(db).touch(
                TelegramIdentity(
                    telegram_id=ORGANIZER,
                    first_name="李老师",
                    last_name=None,
                    username=None,
                    language_code="zh",
                ),
                clock(),
            )
            await OrganizationsRepository(db).add_member(
                organization.organization_id, ORGANIZER, MemberRole.MANAGER, clock()
            )
            volunteers = await _volunteers(db, volunteer_count)
            activities = []
            for n in range(repeat):
                start = NOW - timedelta(days=2 + n, hours=5)
                activity = await ActivitiesRepository(db).create(
                    NewActivity(
                        organization_id=organization.organization_id,
                        title=f"大型活动{n}",
                        category_code="health",
                        description="为社区老人测量血压、讲解健康知识。",
                        starts_at=start,
                        ends_at=start + timedelta(hours=3),
                        place="芙蓉区定王台街道社区服务中心",
                        area_code="furong",
                        capacity=10_000,
                    ),
                    clock(),
                )
                await _attendance(db, activity.activity_id, volunteers, start)
                activities.append(activity.activity_id)
            await _history(db, volunteers[0], organization.organization_id, record_count)
            await db.analyze()
            clock.set(NOW)
            staff = StaffService(
                UsersRepository(db),
                OrganizationsRepository(db),
                ActivitiesRepository(db),
                frozenset(),
            )
            attendance = AttendanceRepository(db)
            records = RecordsService(
                ServiceRecordsRepository(db), attendance, staff, clock, Settings(bot_token=None)
            )

            pending = list(activities)

            async def confirm() -> None:
                activity_id = pending.pop()
                _activity, lines = await records.review(ORGANIZER, activity_id)
                report = await records.confirm(ORGANIZER, activity_id, review_stamp(lines))
                assert report.records == volunteer_count, report

            confirming = await _timed(confirm, repeat)
            bare_confirm = [_bare_confirm(path, 10_000_000 + n, volunteers) for n in range(repeat)]
            reader = 100_000  # the telegram id of volunteers[0]

            async def hours() -> None:
                summary, shown, _page = await records.my_hours(reader, 0)
                assert shown and summary.records >= record_count
                await records.trainings_and_awards(reader)

            reading = await _timed(hours, reads)
            bare_reading = _bare_hours(path, volunteers[0], reads)
        finally:
            await db.close()
    print(
        f"service records: {volunteer_count} volunteers per activity, "
        f"{record_count} records for one volunteer (SQLite, {repeat} confirmations, "
        f"{reads} reads)"
    )
    print(
        f"{'scenario':<34} {'median ms':>9} {'p95 ms':>9} {'bare sqlite':>11} {'ratio':>9} "
        f"{'target':>8}"
    )
    print(
        _line(
            f"confirm hours ({volunteer_count} volunteers)",
            confirming,
            bare_confirm,
            CONFIRM_TARGET_MS,
        )
    )
    print(_line(f"/hours ({record_count} records)", reading, bare_reading, HOURS_TARGET_MS))
    print(
        "confirm = review (read + compute every line) + one transaction writing the records, "
        "their notifications, rating requests and the audit row; bare = the INSERTs alone."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=500)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.volunteers, args.records, args.repeat, args.reads))


if __name__ == "__main__":
    main()
