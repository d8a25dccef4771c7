"""Copy benchmark (issue #21): the time ``zhiyuan copy-to-postgres`` takes to move the
100,000-volunteer menu benchmark database (bench/menu.py) into PostgreSQL.

    python -m bench.copy_to_postgres --postgres postgresql://postgres@/postgres?host=/tmp/pg
                                     [--database /tmp/menu.sqlite3] [--runs 1] [--keep]

``--postgres`` names a server by a database you may connect to (default: the
``ZHIYUAN_TEST_POSTGRES`` variable); a scratch database ``zy_copy_bench_<pid>`` is created
there for each run and dropped afterwards (``--keep`` keeps the last one). ``--database`` is
the SQLite file to copy: an existing ``bench.menu`` file, or built here at the default size
(~20 s) and kept when the path does not exist yet; without it the data set is built in a
temporary folder.

Each run is the whole command as an operator runs it (storage.to_postgres.copy_to_postgres:
migrate the empty target, load every table with COPY, rebuild foreign keys and indexes, move the
identity counters, commit, ANALYZE, read everything back to verify). Printed: the verification
table of the last run, then per run the copy (load + commit), ANALYZE and verification times,
rows/s of the copy, and the whole command's wall time. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench import menu
from storage.backends import open_database
from storage.migrate import migrate
from storage.to_postgres import CopyReport, copy_to_postgres, format_report


def _database_url(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def _admin(server_url: str, statement: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement.encode())


async def _ensure_source(path: Path) -> None:
    """Build the menu benchmark's data set at ``path`` unless it is there already."""
    db = await open_database(path)
    try:
        await migrate(db)
        row = await db.fetch_one("SELECT COUNT(*) AS n FROM volunteers")
        if row is not None and row["n"] > 0:
            print(f"copying the data already in {path}")
            return
        print(f"building the menu benchmark's data set in {path}:")
        await menu.build(db, menu.parse_args([]))
    finally:
        await db.close()


async def _one_run(
    source: Path, server_url: str, name: str, keep: bool
) -> tuple[CopyReport, float]:
    _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        started = time.perf_counter()
        report = await copy_to_postgres(source, _database_url(server_url, name))
        return report, time.perf_counter() - started
    finally:
        if not keep:
            _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="zhiyuan-bench-") as scratch:
        source = Path(args.database) if args.database else Path(scratch) / "menu.sqlite3"
        await _ensure_source(source)
        with psycopg.connect(args.postgres) as conn:
            server = conn.execute("SHOW server_version").fetchone()
            settings = conn.execute(
                "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings "
                "WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', "
                "'maintenance_work_mem', 'max_wal_size')"
            ).fetchone()
        print(
            f"Zhiyuan copy-to-postgres benchmark: Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}, PostgreSQL {server[0] if server else '?'} "
            f"({settings[0] if settings else ''}), {os.cpu_count()} CPUs, "
            f"source {source} ({source.stat().st_size / 1e6:.0f} MB)\n"
        )
        name = f"zy_copy_bench_{os.getpid()}"
        runs: list[tuple[CopyReport, float]] = []
        for number in range(1, args.runs + 1):
            report, wall = await _one_run(source, args.postgres, name, args.keep)
            runs.append((report, wall))
            print(
                f"run {number}: copy {report.copy_seconds:5.1f} s "
                f"({report.rows / report.copy_seconds:,.0f} rows/s), ANALYZE "
                f"{report.analyze_seconds:4.1f} s, verify {report.verify_seconds:4.1f} s, "
                f"whole command {wall:5.1f} s, {'ok' if report.ok else 'MISMATCH'}"
            )
        last = runs[-1][0]
        print()
        print(format_report(last))
        copies = [report.copy_seconds for report, _ in runs]
        walls = [wall for _, wall in runs]
        print(
            f"\n{last.rows:,} rows: copy median {statistics.median(copies):.1f} s "
            f"({last.rows / statistics.median(copies):,.0f} rows/s), whole command median "
            f"{statistics.median(walls):.1f} s over {len(runs)} run(s)"
            + (f"; kept as {_database_url(args.postgres, name)}" if args.keep else "")
        )
        return 0 if all(report.ok for report, _ in runs) else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.copy_to_postgres",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("ZHIYUAN_TEST_POSTGRES"),
        help="a PostgreSQL server, by a database to connect to (default ZHIYUAN_TEST_POSTGRES)",
    )
    parser.add_argument("--database", help="the SQLite file to copy (built when missing)")
    parser.add_argument("--runs", type=int, default=1, help="copies to time (median printed)")
    parser.add_argument("--keep", action="store_true", help="keep the last copy's database")
    args = parser.parse_args(argv)
    if not args.postgres:
        parser.error("give --postgres postgresql://… (or set ZHIYUAN_TEST_POSTGRES)")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
