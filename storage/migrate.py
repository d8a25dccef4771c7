"""Numbered SQL migrations: ``storage/migrations/NNNN_name.sql``, applied in order, each once.

Rules for migration files:

* Name: four digits, an underscore, lowercase words: ``0003_activities.sql``. Versions start at 1
  and have no gaps. Never edit a migration that has shipped; add a new one.
* Content: plain SQL statements, each ending with ``;``. Comments (``--`` and ``/* */``), string
  literals containing ``;`` and ``CREATE TRIGGER ... BEGIN ...; END;`` bodies are all fine: the
  splitter cuts at a ``;`` only where :func:`sqlite3.complete_statement` says a statement ends.
* Each migration runs in its own transaction together with the row recording it in
  ``schema_migrations``, so a failing migration leaves the previous schema intact and records
  nothing. Therefore a migration must not contain ``BEGIN``/``COMMIT``, ``VACUUM``, or
  ``PRAGMA foreign_keys`` (which is a no-op inside a transaction); a table rebuild that needs
  foreign keys off should use ``PRAGMA defer_foreign_keys = ON`` instead.

(Why not ``executescript``: sqlite3 commits before running a script and runs it outside our
transaction, so a failure half-way would leave half a migration applied.)
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from storage.db import Database, Transaction
from storage.timeutil import Clock, to_db_time, utcnow

__all__ = [
    "Migration",
    "MigrationError",
    "MigrationReport",
    "current_version",
    "load_migrations",
    "migrate",
    "split_statements",
]

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9]+(?:_[a-z0-9]+)*)\.sql$")
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)

_CREATE_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""


class MigrationError(RuntimeError):
    """A migration could not be loaded or applied, or the database is newer than this code."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"

    def statements(self) -> list[str]:
        return split_statements(self.sql, source=self.label)


@dataclass(frozen=True)
class MigrationReport:
    applied: list[int]
    version: int


def _has_code(sql: str) -> bool:
    """Whether ``sql`` holds more than whitespace, comments and semicolons.

    Only decides emptiness: a ``--`` inside a string literal is stripped too, but a string literal
    never comes first in a statement, so a statement with one always has code left before it.
    """
    return bool(_COMMENTS.sub("", sql).replace(";", "").strip())


def split_statements(sql: str, *, source: str = "<sql>") -> list[str]:
    """Split a script into single statements (comment-only pieces are dropped).

    A ``;`` ends a statement only where :func:`sqlite3.complete_statement` agrees, so semicolons
    inside string literals, quoted identifiers, comments and trigger bodies are kept in place.
    A final statement without ``;`` is accepted; an unterminated one (an open string, an
    unfinished trigger) raises :class:`MigrationError`.
    """
    statements: list[str] = []
    start = 0
    position = sql.find(";")
    while position != -1:
        candidate = sql[start : position + 1]
        if sqlite3.complete_statement(candidate):
            if _has_code(candidate):
                statements.append(candidate.strip())
            start = position + 1
        position = sql.find(";", position + 1)
    rest = sql[start:]
    if _has_code(rest):
        if not sqlite3.complete_statement(rest + ";"):
            raise MigrationError(
                f"{source}: unterminated SQL statement at the end: {rest.strip()!r}"
            )
        statements.append(rest.strip())
    return statements


def _default_source() -> Traversable:
    return resources.files("storage") / "migrations"


def load_migrations(directory: Traversable | Path | None = None) -> list[Migration]:
    """Read ``NNNN_name.sql`` files from ``directory`` (default: the packaged ``migrations``).

    Other files (``__init__.py``, a README) are ignored; a ``.sql`` file with a bad name, a
    duplicate version or a gap in the numbering raises :class:`MigrationError`.
    """
    source: Traversable = directory if directory is not None else _default_source()
    migrations: list[Migration] = []
    for entry in source.iterdir():
        if not entry.is_file() or not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(
                f"migration file {entry.name!r} is not named like '0001_some_name.sql'"
            )
        migrations.append(
            Migration(
                version=int(match["version"]),
                name=match["name"],
                sql=entry.read_text(encoding="utf-8"),
            )
        )
    migrations.sort(key=lambda m: m.version)
    _check_sequence(migrations)
    return migrations


def _check_sequence(migrations: Sequence[Migration]) -> None:
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migrations must be numbered 1, 2, 3 ... without gaps or duplicates; "
                f"expected version {expected}, found {migration.label}"
            )


async def _version_in(tx: Transaction) -> int:
    row = await tx.fetch_one("SELECT MAX(version) AS version FROM schema_migrations")
    return int(row["version"]) if row is not None and row["version"] is not None else 0


async def current_version(db: Database) -> int:
    """The schema version of ``db``: the highest applied migration, 0 for a fresh database."""
    if not await db.has_table("schema_migrations"):
        return 0
    row = await db.fetch_one("SELECT MAX(version) AS version FROM schema_migrations")
    return int(row["version"]) if row is not None and row["version"] is not None else 0


async def migrate(
    db: Database,
    migrations: Sequence[Migration] | None = None,
    *,
    clock: Clock = utcnow,
) -> MigrationReport:
    """Bring ``db`` up to the latest migration; return what was applied and the final version.

    ``migrations`` defaults to the packaged files; tests pass their own list (see
    :func:`load_migrations`). Safe to re-run (applies nothing when up to date) and safe against a
    second process migrating at the same time (the version is re-read inside each transaction).
    Raises :class:`MigrationError` when the database is newer than the code, or when a migration
    fails (that migration is rolled back; earlier ones stay applied).
    """
    known = list(migrations) if migrations is not None else load_migrations()
    known.sort(key=lambda m: m.version)
    _check_sequence(known)
    latest = known[-1].version if known else 0

    async with db.migration_lock():
        return await _migrate(db, known, latest, clock)


async def _migrate(
    db: Database, known: list[Migration], latest: int, clock: Clock
) -> MigrationReport:
    async with db.transaction() as tx:
        await tx.execute(db.schema_sql(_CREATE_SCHEMA_MIGRATIONS))
        version = await _version_in(tx)
    if version > latest:
        raise MigrationError(
            f"database {db.describe()} is at schema version {version}, but this code only knows "
            f"migrations up to {latest}; run a newer version of the bot (or restore a backup)"
        )

    applied: list[int] = []
    for migration in known:
        if migration.version <= version:
            continue
        statements = migration.statements()
        async with db.transaction() as tx:
            version = await _version_in(tx)
            if migration.version <= version:
                continue  # another process applied it meanwhile
            for number, statement in enumerate(statements, start=1):
                statement = db.schema_sql(statement)
                try:
                    await tx.execute(statement)
                except Exception as exc:  # sqlite3.Error or psycopg.Error: the same report
                    raise MigrationError(
                        f"migration {migration.label} failed at statement {number}: {exc}\n"
                        f"{statement}"
                    ) from exc
            await tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, to_db_time(clock())),
            )
            await db.after_migration(tx)
        version = migration.version
        applied.append(migration.version)
    return MigrationReport(applied=applied, version=version)
