"""storage.migrate: ordered, transactional, idempotent migrations."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.backends import open_database
from storage.db import Database
from storage.migrate import (
    Migration,
    MigrationError,
    current_version,
    load_migrations,
    migrate,
    split_statements,
)

# SQLite itself: its files, pragmas and the migration runner on files.
pytestmark = pytest.mark.sqlite_only


async def table_names(db: Database) -> set[str]:
    rows = await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql, encoding="utf-8")
    return directory


async def test_packaged_migrations_are_numbered_and_parse() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].label == "0001_users"
    for migration in migrations:
        assert migration.statements()


async def test_fresh_database_gets_everything_then_nothing(db_path: Path) -> None:
    db = await open_database(db_path)
    try:
        assert await current_version(db) == 0
        latest = load_migrations()[-1].version
        report = await migrate(db)
        assert report.applied == list(range(1, latest + 1))
        assert report.version == latest == await current_version(db)
        tables = await table_names(db)
        assert {"users", "flow_owners", "browse_sessions", "schema_migrations"} <= tables
        assert "ptb_persistence" not in tables  # made by 0002, dropped by 0016
        rows = await db.fetch_all("SELECT version, name, applied_at FROM schema_migrations")
        assert [(row["version"], row["name"]) for row in rows][:2] == [
            (1, "users"),
            (2, "ptb_persistence"),
        ]

        again = await migrate(db)
        assert again.applied == []
        assert again.version == latest
    finally:
        await db.close()

    reopened = await open_database(db_path)
    try:
        assert await current_version(reopened) == latest
        assert (await migrate(reopened)).applied == []
    finally:
        await reopened.close()


async def test_failing_migration_is_rolled_back_entirely(tmp_path: Path) -> None:
    source = write(
        tmp_path / "migrations",
        {
            "0001_first.sql": "CREATE TABLE first (id INTEGER PRIMARY KEY);\n",
            "0002_broken.sql": (
                "CREATE TABLE half (id INTEGER PRIMARY KEY);\n"
                "INSERT INTO first (id) VALUES (1);\n"
                "INSERT INTO no_such_table (id) VALUES (1);\n"
            ),
        },
    )
    db = await open_database(tmp_path / "m.sqlite3")
    try:
        with pytest.raises(MigrationError, match=r"0002_broken failed at statement 3"):
            await migrate(db, load_migrations(source))
        assert await current_version(db) == 1
        tables = await table_names(db)
        assert "first" in tables
        assert "half" not in tables
        assert await db.fetch_all("SELECT id FROM first") == []

        # Fixing the migration lets it apply on the next run.
        write(source, {"0002_broken.sql": "CREATE TABLE half (id INTEGER PRIMARY KEY);\n"})
        report = await migrate(db, load_migrations(source))
        assert report.applied == [2]
        assert "half" in await table_names(db)
    finally:
        await db.close()


async def test_database_newer_than_code_is_refused(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "m.sqlite3")
    try:
        await migrate(db)
        known = load_migrations()
        with pytest.raises(MigrationError, match="newer version"):
            await migrate(db, known[:-1])
        assert await current_version(db) == known[-1].version
    finally:
        await db.close()


async def test_custom_migration_list_and_no_migrations(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "m.sqlite3")
    try:
        assert (await migrate(db, [])).version == 0
        report = await migrate(db, [Migration(1, "only", "CREATE TABLE only_one (x TEXT);")])
        assert report.applied == [1]
        assert "only_one" in await table_names(db)
    finally:
        await db.close()


def test_bad_file_names_and_gaps_are_rejected(tmp_path: Path) -> None:
    bad_name = write(tmp_path / "a", {"1_users.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match="not named like"):
        load_migrations(bad_name)
    gap = write(tmp_path / "b", {"0001_a.sql": "SELECT 1;", "0003_c.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match="expected version 2"):
        load_migrations(gap)
    ignored = write(tmp_path / "c", {"0001_a.sql": "SELECT 1;", "README.md": "notes"})
    assert [m.version for m in load_migrations(ignored)] == [1]


def test_splitter_keeps_semicolons_in_strings_comments_and_triggers() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b', "odd;name" INTEGER);
    /* block; comment */
    INSERT INTO t (x) VALUES ('it''s; fine');
    CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
        UPDATE t SET x = x || ';' WHERE rowid = new.rowid;
        SELECT 1;
    END;
    -- trailing comment only
    SELECT 2
    """
    statements = split_statements(script)
    assert len(statements) == 4
    assert statements[0].endswith("""CREATE TABLE t (x TEXT DEFAULT 'a;b', "odd;name" INTEGER);""")
    assert statements[1].endswith("VALUES ('it''s; fine');")
    assert statements[2].startswith("CREATE TRIGGER") and statements[2].endswith("END;")
    assert statements[3].endswith("SELECT 2")
    assert split_statements("-- nothing here;\n/* ; */\n") == []
    with pytest.raises(MigrationError, match="unterminated"):
        split_statements("INSERT INTO t VALUES ('open string;")


async def test_trigger_migration_applies(tmp_path: Path) -> None:
    migration = Migration(
        1,
        "trigger",
        """
        CREATE TABLE t (x TEXT);
        CREATE TABLE log (x TEXT);
        CREATE TRIGGER t_log AFTER INSERT ON t BEGIN
            INSERT INTO log (x) VALUES (new.x || ';');
        END;
        INSERT INTO t (x) VALUES ('a');
        """,
    )
    db = await open_database(tmp_path / "m.sqlite3")
    try:
        await migrate(db, [migration])
        rows = await db.fetch_all("SELECT x FROM log")
        assert [row["x"] for row in rows] == ["a;"]
    finally:
        await db.close()
