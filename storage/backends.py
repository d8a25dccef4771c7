"""Opening the database the settings name: PostgreSQL for a ``postgresql://`` URL, else the
SQLite file. Kept apart from :mod:`storage.db` so the base classes import neither backend."""

from __future__ import annotations

from pathlib import Path

from storage.db import Database, SqliteDatabase, is_postgres_url


async def open_database(target: Path | str, *, sqlite_cache_mb: int | None = None) -> Database:
    """A ``postgresql://`` URL opens PostgreSQL (a connection pool); anything else is an SQLite
    file path (created with its folder if needed), with a page cache of ``sqlite_cache_mb`` per
    connection (``SQLITE_CACHE_MB``; SQLite's own 2 MB when not given)."""
    if is_postgres_url(target):
        from storage.postgres import PostgresDatabase

        return await PostgresDatabase.connect(str(target))
    return await SqliteDatabase.open_file(target, cache_mb=sqlite_cache_mb)
