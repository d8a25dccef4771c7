"""Outbox scan benchmark (issue #6): one tick of the delivery job's claim over a big outbox.

    python -m bench.outbox_scan [--rows 1000000] [--due 1000] [--repeat 200]

The outbox holds ``--rows`` rows: 90 % finished (sent, dropped or failed — history), the rest
pending, of which ``--due`` are due now and the others due over the next 30 days. One tick is
:meth:`OutboxRepository.claim_due` as the deliverer calls it (``BATCH_SIZE`` rows, the lease,
and the paced chats left out), through aiosqlite; after each timed claim the rows are released
again (untimed), so every tick sees the same 1,000 due rows. Target: under 50 ms. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.delivery import BATCH_SIZE, LEASE
from storage.backends import open_database
from storage.db import Database
from storage.migrate import migrate
from storage.outbox import OutboxRepository
from storage.timeutil import to_db_time

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TARGET_MS = 50.0
CHUNK = 50_000


async def build(db: Database, rows: int, due: int, seed: int) -> None:
    rng = random.Random(seed)
    finished = int(rows * 0.9)
    future = rows - finished - due
    kinds = ("reminder", "campaign", "broadcast", "waitlist_offer", "invitation")

    def row(n: int) -> tuple[object, ...]:
        if n < finished:
            at = NOW - timedelta(seconds=rng.randrange(1, 365 * 86400))
            status = rng.choices(("sent", "dropped", "failed"), (90, 8, 2))[0]
            done: str | None = to_db_time(at + timedelta(seconds=5))
        elif n < finished + future:
            at = NOW + timedelta(seconds=rng.randrange(60, 30 * 86400))
            status, done = "pending", None
        else:
            at = NOW - timedelta(seconds=rng.randrange(0, 600))
            status, done = "pending", None
        return (
            f"k:{n}",
            rng.choice(kinds),
            200_000 + rng.randrange(100_000),
            "{}",
            to_db_time(at),
            status,
            1 if status != "pending" else 0,
            to_db_time(at - timedelta(days=1)),
            done,
        )

    order = list(range(rows))
    rng.shuffle(order)  # rows are written in creation order, not grouped by status
    for start in range(0, rows, CHUNK):
        async with db.transaction() as tx:
            await tx.execute_many(
                "INSERT INTO outbox (dedup_key, kind, telegram_id, payload, due_at, status, "
                "attempts, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row(n) for n in order[start : start + CHUNK]),
            )


async def measure(path: Path, repeat: int, skip: int) -> None:
    db = await open_database(path)
    try:
        outbox = OutboxRepository(db)
        rng = random.Random(2)
        skip_chats = [200_000 + rng.randrange(100_000) for _ in range(skip)]
        plan = await db.fetch_all(
            "EXPLAIN QUERY PLAN SELECT notification_id FROM outbox WHERE status = 'pending' "
            "AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?) "
            "AND telegram_id NOT IN (1, 2) ORDER BY due_at, notification_id LIMIT 100",
            (to_db_time(NOW), to_db_time(NOW)),
        )
        print("plan of the claim's scan: " + "; ".join(row["detail"] for row in plan))
        for label, limit, chats in (
            (f"claim_due, {BATCH_SIZE} rows", BATCH_SIZE, ()),
            (f"claim_due, {BATCH_SIZE} rows, {skip} paced chats", BATCH_SIZE, skip_chats),
            ("claim_due, all 1,000 due", 1000, ()),
        ):
            timings: list[float] = []
            for index in range(repeat + 5):
                begin = time.perf_counter()
                items = await outbox.claim_due(NOW, LEASE, limit, skip_chats=chats)
                elapsed = (time.perf_counter() - begin) * 1000
                await outbox.release(item.notification_id for item in items)
                if index >= 5:  # warm-up
                    timings.append(elapsed)
            timings.sort()
            median = statistics.median(timings)
            p95 = timings[int(len(timings) * 0.95) - 1]
            verdict = "PASS" if median < TARGET_MS else "FAIL"
            print(
                f"{label:42} {len(items):5} claimed  median {median:6.2f} ms  "
                f"p95 {p95:6.2f} ms  max {timings[-1]:6.2f} ms  target {TARGET_MS:g} ms {verdict}"
            )
    finally:
        await db.close()


async def run(rows: int, due: int, repeat: int, skip: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "outbox.sqlite3"
        db = await open_database(path)
        try:
            await migrate(db)
            began = time.perf_counter()
            await build(db, rows, due, seed=1)
            await db.analyze()
            print(
                f"built {rows:,} outbox rows ({due:,} due) in {time.perf_counter() - began:.1f} s"
            )
            counts = await OutboxRepository(db).counts()
            print(f"rows by status: {dict(sorted(counts.items()))}")
        finally:
            await db.close()
        await measure(path, repeat, skip)  # reopened, so the planner reads the statistics
    print(f"(Python {platform.python_version()}, SQLite {sqlite3.sqlite_version})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--skip", type=int, default=50, help="paced chats left out of the claim")
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.due, args.repeat, args.skip))


if __name__ == "__main__":
    main()
