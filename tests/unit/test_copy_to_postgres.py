"""``zhiyuan copy-to-postgres`` (storage/to_postgres.py): an SQLite deployment copied into
PostgreSQL is the same data — every row, the bot's reads, fresh ids afterwards — and the
command refuses what it must refuse.

The copies themselves need a PostgreSQL server (``ZHIYUAN_TEST_POSTGRES``, as .ci/run sets it)
and are skipped without one; the argument and refusal checks run everywhere (the source is
checked before the target is contacted).
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.cli import main
from bot.demo import PERSONAS, load_demo_data
from bot.domain.notifications import Notification, NotificationKind
from storage.activities import ActivitiesRepository
from storage.backends import open_database
from storage.db import Database, SqliteDatabase
from storage.migrate import load_migrations, migrate
from storage.organizations import OrganizationsRepository
from storage.outbox import OutboxRepository
from storage.to_postgres import (
    CopyRefused,
    CopyReport,
    TableCopy,
    copy_order,
    copy_to_postgres,
    format_report,
)
from storage.volunteers import VolunteersRepository
from tests.conftest import POSTGRES_ADMIN_URL
from tests.factories import NOW, add_organization, add_volunteer

needs_postgres = pytest.mark.skipif(
    POSTGRES_ADMIN_URL is None, reason="needs a PostgreSQL server (ZHIYUAN_TEST_POSTGRES)"
)
NOWHERE = "postgresql://nobody@/never?host=/nonexistent"


# ------------------------------------------------------------------------------- fixtures


def _admin(statement: str) -> None:
    import psycopg

    assert POSTGRES_ADMIN_URL is not None
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement.encode())


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (not even migrated), dropped afterwards."""
    assert POSTGRES_ADMIN_URL is not None
    name = f"zy_copy_{uuid.uuid4().hex[:16]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(POSTGRES_ADMIN_URL)._replace(path=f"/{name}"))
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _demo_deployment(path: Path) -> None:
    """A migrated SQLite file with the demo data and a few outbox rows."""
    db = await SqliteDatabase.open_file(path)
    try:
        await migrate(db)
        assert await load_demo_data(db, NOW)
        async with db.transaction() as tx:
            for number, persona in enumerate(PERSONAS):
                await OutboxRepository.enqueue(
                    tx,
                    Notification(
                        kind=NotificationKind.REMINDER,
                        telegram_id=persona.telegram_id,
                        subject=f"copy-test:{number}",
                        payload={"activity_id": number + 1, "note": "换行\n\t制表符 \\ 'quote'"},
                        due_at=NOW + timedelta(minutes=number),
                    ),
                    NOW,
                )
    finally:
        await db.close()


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[Path]:
    path = tmp_path / "deployment.sqlite3"
    await _demo_deployment(path)
    yield path


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _all_rows(db: Database, table: str, columns: list[str]) -> list[tuple[object, ...]]:
    listed = ", ".join(f'"{name}"' for name in columns)
    rows = await db.fetch_all(f'SELECT {listed} FROM "{table}"')
    return sorted((tuple(row) for row in rows), key=repr)


# ------------------------------------------------------------------------------- the copy


@needs_postgres
async def test_a_demo_deployment_arrives_identical_and_keeps_working(
    source: Path, empty_postgres: str
) -> None:
    before = _file_hash(source)
    messages: list[str] = []

    report = await copy_to_postgres(source, empty_postgres, progress=messages.append)

    assert report.ok, format_report(report)
    assert _file_hash(source) == before  # opened read-only, never changed
    assert any("migrating" in message for message in messages)

    reader = sqlite3.connect(source)
    tables = [
        name
        for (name,) in reader.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
        )
    ]
    assert sorted(table.name for table in report.tables) == sorted(tables)
    counts = {table.name: table.source_rows for table in report.tables}
    assert counts["activities"] >= 30 and counts["signups"] > 0 and counts["outbox"] >= 8

    sqlite_db = await open_database(source)
    postgres_db = await open_database(empty_postgres)
    try:
        # Every row of every table, column by column (the demo is small enough for all).
        for table in tables:
            columns = [row[1] for row in reader.execute(f'PRAGMA table_info("{table}")')]
            on_sqlite = await _all_rows(sqlite_db, table, columns)
            on_postgres = await _all_rows(postgres_db, table, columns)
            assert len(on_postgres) == counts[table], table
            assert on_postgres == on_sqlite, table

        # The bot's repositories read the same on both.
        menu = await ActivitiesRepository(sqlite_db).category_counts(NOW)
        assert menu and await ActivitiesRepository(postgres_db).category_counts(NOW) == menu
        volunteer = PERSONAS[2].telegram_id
        profile = await VolunteersRepository(sqlite_db).get_profile(volunteer)
        assert profile is not None
        assert await VolunteersRepository(postgres_db).get_profile(volunteer) == profile
        outbox_sqlite, outbox_postgres = OutboxRepository(sqlite_db), OutboxRepository(postgres_db)
        assert await outbox_postgres.counts() == await outbox_sqlite.counts()
        queued = [tuple(row) for row in await outbox_sqlite.for_recipient(volunteer)]
        assert (
            queued
            and [tuple(row) for row in await outbox_postgres.for_recipient(volunteer)] == queued
        )
        activity = await ActivitiesRepository(sqlite_db).get(1)
        assert activity is not None and activity.latitude is not None  # a float survived
        assert await ActivitiesRepository(postgres_db).get(1) == activity

        # The identity counters moved past the copied ids: new rows get fresh ids.
        highest = await postgres_db.fetch_one("SELECT MAX(organization_id) AS o FROM organizations")
        assert highest is not None
        organization = await add_organization(postgres_db, name="复制之后的新组织")
        assert organization.organization_id == highest["o"] + 1
        newcomer = await add_volunteer(postgres_db, 990_001)
        assert newcomer.volunteer_id > counts["volunteers"]
        assert await OrganizationsRepository(postgres_db).get(organization.organization_id)
    finally:
        reader.close()
        await sqlite_db.close()
        await postgres_db.close()


@needs_postgres
async def test_a_migrated_target_is_accepted_but_one_with_data_only_with_replace(
    source: Path, db_path: Path
) -> None:
    target = str(db_path)  # on PostgreSQL runs: a copy of the migrated template, seeds only
    assert (await copy_to_postgres(source, target)).ok

    with pytest.raises(CopyRefused, match=r"already holds data: .*users"):
        await copy_to_postgres(source, target)

    again = await copy_to_postgres(source, target, replace=True)
    assert again.ok
    assert {table.name: table.target_rows for table in again.tables}["users"] > 0


@needs_postgres
async def test_a_copy_that_fails_leaves_the_target_as_it_was(
    source: Path, empty_postgres: str
) -> None:
    # A sign-up of an activity that does not exist (written with SQLite's checks off):
    # PostgreSQL refuses it when the foreign keys are added back after the load.
    broken = sqlite3.connect(source)
    with broken:
        broken.execute("PRAGMA foreign_keys = OFF")
        row = broken.execute("SELECT * FROM signups LIMIT 1").fetchone()
        columns = [d[1] for d in broken.execute("PRAGMA table_info(signups)")]
        values = dict(zip(columns, row, strict=True))
        values |= {"signup_id": 999_999, "activity_id": 888_888}
        broken.execute(
            f"INSERT INTO signups ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
            tuple(values.values()),
        )
    broken.close()

    import psycopg

    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        await copy_to_postgres(source, empty_postgres)

    target = await open_database(empty_postgres)
    try:
        users = await target.fetch_one("SELECT COUNT(*) AS n FROM users")
        assert users is not None and users["n"] == 0
        foreign_keys = await target.fetch_one(
            "SELECT COUNT(*) AS n FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = 'signups'::regclass"
        )
        assert foreign_keys is not None and foreign_keys["n"] == 2  # the DDL was rolled back
        indexes = await target.fetch_one(
            "SELECT COUNT(*) AS n FROM pg_indexes WHERE tablename = 'signups'"
        )
        assert indexes is not None and indexes["n"] == 5
    finally:
        await target.close()
    # Repaired, the same command runs again on the same (migrated, empty) target.
    with sqlite3.connect(source) as repaired:
        repaired.execute("DELETE FROM signups WHERE signup_id = 999999")
    repaired.close()
    assert (await copy_to_postgres(source, empty_postgres)).ok


# ------------------------------------------------------------------------------- the order


async def test_the_copy_order_puts_every_table_after_the_tables_it_references(
    tmp_path: Path,
) -> None:
    db = await SqliteDatabase.open_file(tmp_path / "schema.sqlite3")
    try:
        await migrate(db)
    finally:
        await db.close()
    with sqlite3.connect(tmp_path / "schema.sqlite3") as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            )
        ]
        parents = {
            table: {row[2] for row in conn.execute(f'PRAGMA foreign_key_list("{table}")')}
            for table in tables
        }
    conn.close()
    order = copy_order(tables, parents)
    assert sorted(order) == sorted(tables)
    position = {table: index for index, table in enumerate(order)}
    for table, refs in parents.items():
        for parent in refs - {table}:
            assert position[parent] < position[table], (parent, table)


def test_a_cycle_or_a_self_reference_does_not_stop_the_order() -> None:
    assert copy_order(["b", "a", "c"], {"a": {"b"}, "b": {"a"}, "c": {"c"}}) == ["c", "a", "b"]
    assert copy_order(["child", "parent"], {"child": {"parent", "elsewhere"}}) == [
        "parent",
        "child",
    ]


def test_the_report_names_a_mismatch() -> None:
    report = CopyReport(
        source="a.sqlite3",
        target="postgresql://x@/y",
        version=20,
        tables=[TableCopy("users", 3, 3, 7, 7), TableCopy("signups", 5, 4, 9, 8)],
        copy_seconds=1.0,
        analyze_seconds=0.1,
        verify_seconds=0.2,
    )
    text = format_report(report)
    assert not report.ok
    assert "MISMATCH in signups" in text
    users_line = next(line for line in text.splitlines() if line.startswith("users"))
    assert users_line.split() == ["users", "3", "3", "same", "ok"]


# ------------------------------------------------------------------------------- the command


def test_the_command_refuses_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # main() configures the process's logging; keep pytest's as it is.
    monkeypatch.setattr("bot.cli.setup_logging", lambda *args, **kwargs: None)
    with pytest.raises(SystemExit) as exited:
        main(["copy-to-postgres", "--to", NOWHERE])  # no --from
    assert exited.value.code == 2

    assert main(["copy-to-postgres", "--from", str(tmp_path / "x"), "--to", "/tmp/y"]) == 2
    assert "--to must be a postgresql:// URL" in capsys.readouterr().err

    missing = tmp_path / "missing.sqlite3"
    assert main(["copy-to-postgres", "--from", str(missing), "--to", NOWHERE]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not missing.exists()  # never created

    not_ours = tmp_path / "other.sqlite3"
    with sqlite3.connect(not_ours) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
    conn.close()
    assert main(["copy-to-postgres", "--from", str(not_ours), "--to", NOWHERE]) == 2
    assert "not a Zhiyuan database" in capsys.readouterr().err

    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all" * 100)
    assert main(["copy-to-postgres", "--from", str(garbage), "--to", NOWHERE]) == 2
    assert "not a readable SQLite database" in capsys.readouterr().err


async def test_a_file_at_an_older_schema_version_must_be_migrated_first(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    db = await SqliteDatabase.open_file(old)
    try:
        await migrate(db, load_migrations()[:-1])
    finally:
        await db.close()
    before = _file_hash(old)
    with pytest.raises(CopyRefused, match="migrate the file first"):
        await copy_to_postgres(old, NOWHERE)
    assert _file_hash(old) == before


@needs_postgres
async def test_the_command_prints_the_check_and_exits_by_it(
    source: Path,
    empty_postgres: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.cli.setup_logging", lambda *args, **kwargs: None)
    command = ["copy-to-postgres", "--from", str(source), "--to", empty_postgres]

    assert await asyncio.to_thread(main, command) == 0
    printed = capsys.readouterr()
    assert "copying" in printed.err  # progress on stderr, the table on stdout
    volunteers = next(line for line in printed.out.splitlines() if line.startswith("volunteers "))
    assert volunteers.split()[-2:] == ["same", "ok"]
    assert printed.out.splitlines()[-1].startswith("OK: ")

    assert await asyncio.to_thread(main, command) == 2  # now the target holds data
    assert "already holds data" in capsys.readouterr().err
    assert await asyncio.to_thread(main, [*command, "--replace"]) == 0
