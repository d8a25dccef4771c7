"""Shared fixtures. Storage: a migrated database per test — an SQLite file by default, or a
PostgreSQL database when ``ZHIYUAN_TEST_POSTGRES`` names a server.

``ZHIYUAN_TEST_POSTGRES=postgresql://postgres@/postgres?host=/tmp/pg pytest`` runs the same
repository, service and end-to-end tests on PostgreSQL (``.ci/run`` does it with a throwaway
cluster): a template database is migrated once per session and each test gets its own copy
(``CREATE DATABASE … TEMPLATE``, a file copy, tens of milliseconds), dropped afterwards. Tests of
SQLite itself (its files, pragmas, the migration runner on files) are marked ``sqlite_only``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from storage.backends import open_database
from storage.db import Database
from storage.migrate import migrate

POSTGRES_ADMIN_URL = os.environ.get("ZHIYUAN_TEST_POSTGRES", "").strip() or None


def on_postgres() -> bool:
    return POSTGRES_ADMIN_URL is not None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: tests of SQLite itself (files, pragmas); skipped on PostgreSQL"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not on_postgres():
        return
    skip = pytest.mark.skip(reason="SQLite-specific (ZHIYUAN_TEST_POSTGRES is set)")
    for item in items:
        if item.get_closest_marker("sqlite_only") is not None:
            item.add_marker(skip)


def _database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(statement: str) -> None:
    import psycopg

    assert POSTGRES_ADMIN_URL is not None
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement.encode())


async def _migrated(url: str) -> None:
    database = await open_database(url)
    try:
        await migrate(database)
    finally:
        await database.close()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """The migrated template database (PostgreSQL runs only)."""
    if POSTGRES_ADMIN_URL is None:
        yield None
        return
    name = f"zy_template_{os.getpid()}"
    _admin(f'DROP DATABASE IF EXISTS "{name}"')
    _admin(f'CREATE DATABASE "{name}"')
    url = _database_url(POSTGRES_ADMIN_URL, name)
    asyncio.run(_migrated(url))
    try:
        yield name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_path(tmp_path: Path, postgres_template: str | None) -> Iterator[Path]:
    """Where the test's database lives: a file path, or (on PostgreSQL) the URL of a fresh
    copy of the migrated template. Typed as a path because most tests treat it as opaque."""
    if postgres_template is None or POSTGRES_ADMIN_URL is None:
        yield tmp_path / "data" / "zhiyuan.sqlite3"
        return
    name = f"zy_t_{uuid.uuid4().hex[:16]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    try:
        yield _database_url(POSTGRES_ADMIN_URL, name)  # type: ignore[misc]
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    """An open database with every migration applied; closed after the test."""
    database = await open_database(db_path)
    try:
        await migrate(database)
        yield database
    finally:
        await database.close()
