"""``zhiyuan copy-to-postgres``: move an SQLite deployment into a PostgreSQL database.

What it does, in order:

1. **Reads the SQLite file read-only** (``mode=ro``: the file is never changed) inside one read
   transaction, so every count, row and checksum comes from the same snapshot even if a bot
   still writes to it (stop the bot first anyway: what it writes after the snapshot is not
   copied). The file must be at the schema version this code knows; an older file is
   migrated first with ``zhiyuan migrate`` (which changes it, so that is the operator's step).
2. **Migrates the target** to the same version (under the migration lock) and checks that it
   has every table and column of the source.
3. **Refuses a target that already holds data** unless ``replace=True`` (``--replace``): a copy
   never merges two deployments. "Data" means a row in a table that a freshly migrated database
   leaves empty, or a seed table (skills, areas …) with another number of rows than a fresh one;
   a database that was only migrated is accepted.
4. **Copies every table in one transaction**, parents before children (the order is derived from
   the source's foreign keys, so tables added by later migrations need nothing here), each with
   ``COPY … FROM STDIN``, with the foreign keys and secondary indexes dropped for the load and
   rebuilt before the commit (:func:`_deferred_schema`). The target's tables
   are emptied first inside the same transaction (the seed rows the migrations wrote are
   replaced by the source's, which may have been edited since), and the ids are copied as they
   are. Values stay identical: the schema keeps timestamps as ISO-8601 text and booleans as 0/1
   on both backends, and floats travel as their shortest exact text. Then the identity counters
   are moved past the copied ids (:meth:`storage.postgres.PostgresDatabase.after_migration`),
   so the next ``INSERT`` gets a fresh id.

   *One transaction, not one per table*: a failure half-way (a constraint the SQLite data
   breaks, the connection dropping) leaves the target exactly as it was, so the command can
   simply be run again; per-table commits would leave half a deployment that the bot would
   happily start on. PostgreSQL has no practical limit on a transaction's size (it writes the
   rows to the tables as it goes; the WAL is flushed at the commit), and nobody else uses the
   target meanwhile.
5. ``ANALYZE``, so the planner knows the new table sizes before the bot's first query.
6. **Verifies** after the commit, on a fresh connection: per table the number of rows and a
   checksum of every row's values must equal the source's. The checksum is the sum of
   Python's ``hash`` of each row tuple as both drivers return it (order-independent, 64 bits;
   computed in this one process, so the per-process string hash seed is the same on both
   sides). It catches a changed value, a lost or doubled row; it is no defence against
   tampering, and it does not tell ``1`` from ``1.0``, which cannot differ here: PostgreSQL's
   COPY parses each value into the column's type and refuses what does not fit, and SQLite's
   column affinities already hold each column to one type. ``hash`` costs 0.1 s per 300,000
   rows where a BLAKE2b of each row's ``repr`` cost 1.3 s. Reading the rows back costs about
   a third of the copy (bench/copy_to_postgres.py), and in exchange "the copy is identical"
   is checked rather than assumed.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection, sql

from storage.db import Database, SqliteDatabase, is_postgres_url
from storage.migrate import MigrationError, load_migrations, migrate

__all__ = [
    "CopyRefused",
    "CopyReport",
    "TableCopy",
    "copy_order",
    "copy_to_postgres",
    "format_report",
]

#: Rows read from SQLite per ``fetchmany`` (and written to the COPY stream in between).
BATCH_ROWS = 5_000
#: A table at least this big reports its progress every this many rows.
PROGRESS_EVERY = 50_000
#: Applied by the migration runner itself; copied like any other table.
MIGRATIONS_TABLE = "schema_migrations"

Progress = Callable[[str], None]


class CopyRefused(Exception):
    """The copy cannot start: the message says why and what to do (nothing was written)."""


@dataclass(frozen=True)
class TableCopy:
    name: str
    source_rows: int
    target_rows: int
    source_checksum: int
    target_checksum: int

    @property
    def ok(self) -> bool:
        return (self.source_rows, self.source_checksum) == (self.target_rows, self.target_checksum)


@dataclass(frozen=True)
class CopyReport:
    source: str
    target: str
    version: int
    tables: list[TableCopy]
    copy_seconds: float
    analyze_seconds: float
    verify_seconds: float

    @property
    def ok(self) -> bool:
        return all(table.ok for table in self.tables)

    @property
    def rows(self) -> int:
        return sum(table.source_rows for table in self.tables)


# ------------------------------------------------------------------------------- the schema


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(source: sqlite3.Connection) -> list[str]:
    rows = source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\' ORDER BY name"
    ).fetchall()
    return [row[0] for row in rows]


def _columns(source: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in source.execute(f"PRAGMA table_info({_quote(table)})")]


def _parents(source: sqlite3.Connection, table: str) -> set[str]:
    return {row[2] for row in source.execute(f"PRAGMA foreign_key_list({_quote(table)})")}


def copy_order(tables: Iterable[str], parents: dict[str, set[str]]) -> list[str]:
    """``tables`` with every table after the tables its foreign keys reference, alphabetical
    among equals (a stable order). The foreign keys are off while the rows are loaded (see
    :func:`_deferred_schema`), so the order is not needed for correctness: it makes the report
    read parents first, and tables in a cycle (none today) simply follow in alphabetical order.
    References to tables outside ``tables`` are ignored."""
    pending = {table: set(parents.get(table, set())) - {table} for table in tables}
    order: list[str] = []
    while pending:
        ready = sorted(table for table, refs in pending.items() if not refs & pending.keys())
        for table in ready or sorted(pending):
            order.append(table)
            del pending[table]
    return order


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise CopyRefused(f"{path} does not exist (or is not a file)")
    # mode=ro: SQLite refuses any write on this connection, and it never creates the file.
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, isolation_level=None)
        connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise CopyRefused(f"{path} is not a readable SQLite database: {error}") from error
    return connection


def _source_version(source: sqlite3.Connection, path: Path) -> int:
    if MIGRATIONS_TABLE not in _tables(source):
        raise CopyRefused(f"{path} is not a Zhiyuan database (no {MIGRATIONS_TABLE} table)")
    row = source.execute(f"SELECT MAX(version) FROM {MIGRATIONS_TABLE}").fetchone()
    version = int(row[0] or 0)
    latest = load_migrations()[-1].version
    if version < latest:
        raise CopyRefused(
            f"{path} is at schema version {version}, this code at {latest}: migrate the file "
            f"first (DATABASE_PATH={path} zhiyuan migrate, after a backup), then copy"
        )
    if version > latest:
        raise CopyRefused(
            f"{path} is at schema version {version}, newer than this code ({latest}): "
            "copy it with the version of Zhiyuan that wrote it"
        )
    return version


async def _fresh_counts() -> dict[str, int]:
    """Rows per table in a freshly migrated database (the migrations' seed data)."""
    with tempfile.TemporaryDirectory(prefix="zhiyuan-fresh-") as folder:
        fresh = await SqliteDatabase.open_file(Path(folder) / "fresh.sqlite3")
        try:
            await migrate(fresh)
            names = await fresh.fetch_all(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            )
            counts: dict[str, int] = {}
            for row in names:
                found = await fresh.fetch_one(f"SELECT COUNT(*) AS n FROM {_quote(row['name'])}")
                counts[row["name"]] = int(found["n"]) if found is not None else 0
            return counts
        finally:
            await fresh.close()


# ------------------------------------------------------------------------------- checksums


#: Checksums are sums of per-row hashes modulo this (order-independent: no ORDER BY needed,
#: which would also sort text differently on the two backends).
_MOD = 1 << 64


# ------------------------------------------------------------------------------- the copy


async def copy_to_postgres(
    source_path: Path,
    target_url: str,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy the SQLite deployment at ``source_path`` into the PostgreSQL database at
    ``target_url`` and verify it (see the module's docstring). Raises :class:`CopyRefused`
    before writing anything when the copy cannot start; a database error during the copy
    rolls the whole copy back and propagates. The report's ``ok`` says whether every table
    matched after the copy."""
    say = progress or (lambda message: None)
    if not is_postgres_url(target_url):
        raise CopyRefused("the target must be a postgresql:// URL")
    source = _open_read_only(source_path)
    try:
        version = _source_version(source, source_path)
        tables = _tables(source)
        columns = {table: _columns(source, table) for table in tables}
        order = copy_order(tables, {table: _parents(source, table) for table in tables})
        return await _copy(source, source_path, target_url, order, columns, version, replace, say)
    finally:
        source.close()


async def _copy(
    source: sqlite3.Connection,
    source_path: Path,
    target_url: str,
    order: list[str],
    columns: dict[str, list[str]],
    version: int,
    replace: bool,
    say: Progress,
) -> CopyReport:
    from storage.postgres import PostgresDatabase, PostgresTransaction

    target = await PostgresDatabase.connect(target_url, max_size=2)
    try:
        say(f"migrating {target.describe()} to schema version {version}")
        try:
            report = await migrate(target)
        except MigrationError as error:
            raise CopyRefused(str(error)) from error
        if report.version != version:  # pragma: no cover - both equal the code's latest
            raise CopyRefused(f"the target is at version {report.version}, the source {version}")
        await _check_target(target, order, columns, replace)

        # One read transaction on SQLite: counts, rows and checksums from one snapshot.
        source.execute("BEGIN")
        source_counts: dict[str, int] = {}
        source_sums: dict[str, int] = {}
        started = time.perf_counter()
        counts = {table: _count(source, table) for table in order}
        say(f"copying {len(order)} tables, {sum(counts.values()):,} rows")
        async with await AsyncConnection.connect(target_url) as conn, conn.transaction():
            async with _deferred_schema(conn, order, say):
                await conn.execute(
                    sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, order)))
                )
                for table in order:
                    rows, checksum = await _copy_table(
                        source, conn, table, columns[table], counts[table], say
                    )
                    source_counts[table], source_sums[table] = rows, checksum
            # The copied ids are explicit values: move each identity counter past them.
            await target.after_migration(PostgresTransaction(conn))
        source.execute("COMMIT")
        copy_seconds = time.perf_counter() - started

        say("ANALYZE (planner statistics)")
        started = time.perf_counter()
        await target.analyze()
        analyze_seconds = time.perf_counter() - started

        say("verifying: rows and checksums per table, read back from PostgreSQL")
        started = time.perf_counter()
        copies: list[TableCopy] = []
        async with await AsyncConnection.connect(target_url) as conn:
            for table in order:
                rows, checksum = await _target_table(conn, table, columns[table])
                copies.append(
                    TableCopy(table, source_counts[table], rows, source_sums[table], checksum)
                )
        verify_seconds = time.perf_counter() - started
        return CopyReport(
            source=str(source_path),
            target=target.describe(),
            version=version,
            tables=copies,
            copy_seconds=copy_seconds,
            analyze_seconds=analyze_seconds,
            verify_seconds=verify_seconds,
        )
    finally:
        if source.in_transaction:
            source.execute("ROLLBACK")
        await target.close()


@asynccontextmanager
async def _deferred_schema(
    conn: AsyncConnection[Any], tables: list[str], say: Progress
) -> AsyncIterator[None]:
    """Drop the foreign keys and the secondary indexes of ``tables`` for the block, then create
    them again exactly as they were (``pg_get_constraintdef``/``pg_get_indexdef``), as
    ``pg_restore`` does. Loading with them in place costs a trigger call per row and foreign
    key plus an index insertion per row and index: 19 s instead of 5 s for the benchmark's
    300,000 sign-ups. Building an index afterwards is one sort, and adding a foreign key back
    checks every row in one join, so nothing goes unchecked. Primary keys and UNIQUE
    constraints stay (duplicates fail at once). Inside the copy's transaction: if anything
    fails, PostgreSQL rolls the DDL back too, and no other session ever sees the table
    without them (the DDL holds an exclusive lock until the commit)."""
    foreign_keys = await (
        await conn.execute(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace "
            "AND t.relname = ANY(%s) ORDER BY t.relname, c.conname",
            (tables,),
        )
    ).fetchall()
    # Indexes that back no primary key, UNIQUE or exclusion constraint (a foreign key's
    # conindid names the referenced index: those foreign keys are dropped first).
    indexes = await (
        await conn.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid "
            "AND c.contype IN ('p', 'u', 'x')) ORDER BY i.relname",
            (tables,),
        )
    ).fetchall()
    for table, name, _definition in foreign_keys:
        await conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    for name, _definition in indexes:
        await conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    yield
    say(f"creating {len(indexes)} indexes and checking {len(foreign_keys)} foreign keys")
    for _name, definition in indexes:
        await conn.execute(definition.encode())
    for table, name, definition in foreign_keys:
        await conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
            )
        )


def _count(source: sqlite3.Connection, table: str) -> int:
    return int(source.execute(f"SELECT COUNT(*) FROM {_quote(table)}").fetchone()[0])


async def _check_target(
    target: Database, order: list[str], columns: dict[str, list[str]], replace: bool
) -> None:
    found = await target.fetch_all(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )
    target_columns: dict[str, set[str]] = {}
    for row in found:
        target_columns.setdefault(row["table_name"], set()).add(row["column_name"])
    for table in order:
        if target_columns.get(table) != set(columns[table]):
            raise CopyRefused(
                f"table {table} differs between the source and the migrated target "
                f"(source columns {sorted(columns[table])}, target "
                f"{sorted(target_columns.get(table, set()))}): was the file's schema changed "
                "by hand?"
            )
    if replace:
        return
    fresh = await _fresh_counts()
    holding: list[str] = []
    for table in order:
        if table == MIGRATIONS_TABLE:
            continue
        counted = await target.fetch_one(f"SELECT COUNT(*) AS n FROM {_quote(table)}")
        rows = int(counted["n"]) if counted is not None else 0
        if rows != fresh.get(table, 0):
            holding.append(f"{table} ({rows:,} rows)")
    if holding:
        shown = ", ".join(holding[:5]) + (
            f" and {len(holding) - 5} more" if len(holding) > 5 else ""
        )
        raise CopyRefused(
            f"the target already holds data: {shown}. A copy never merges "
            "two deployments; use an empty database, or --replace to delete the target's data "
            "and copy (it cannot be undone)"
        )


def _column_list(names: list[str]) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, names))


async def _copy_table(
    source: sqlite3.Connection,
    conn: AsyncConnection[Any],
    table: str,
    names: list[str],
    rows: int,
    say: Progress,
) -> tuple[int, int]:
    """COPY one table's rows; return how many were read and their checksum."""
    column_list = ", ".join(_quote(name) for name in names)
    cursor = source.execute(f"SELECT {column_list} FROM {_quote(table)}")
    copied = 0
    checksum = 0
    next_report = PROGRESS_EVERY
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), _column_list(names)
    )
    async with conn.cursor() as target_cursor, target_cursor.copy(statement) as copy:
        while batch := cursor.fetchmany(BATCH_ROWS):
            for values in batch:
                await copy.write_row(values)
                checksum += hash(values)
            copied += len(batch)
            if copied >= next_report:
                say(f"  {table}: {copied:,} of {rows:,} rows")
                next_report += PROGRESS_EVERY
    return copied, checksum % _MOD


async def _target_table(
    conn: AsyncConnection[Any], table: str, names: list[str]
) -> tuple[int, int]:
    rows = 0
    checksum = 0
    async with conn.cursor(name=f"verify_{table}") as cursor:
        # A server-side cursor: a big table is read in chunks, not into memory at once.
        await cursor.execute(
            sql.SQL("SELECT {} FROM {}").format(_column_list(names), sql.Identifier(table))
        )
        while batch := await cursor.fetchmany(BATCH_ROWS):
            for values in batch:
                checksum += hash(values)
            rows += len(batch)
    return rows, checksum % _MOD


def format_report(report: CopyReport) -> str:
    """The verification table: one line per table, then the verdict."""
    width = max(len("table"), *(len(table.name) for table in report.tables))
    lines = [
        f"{'table':<{width}}  {'SQLite':>10}  {'PostgreSQL':>10}  checksum  ok",
        "-" * (width + 38),
    ]
    for table in report.tables:
        same_sum = "same" if table.source_checksum == table.target_checksum else "DIFFERS"
        lines.append(
            f"{table.name:<{width}}  {table.source_rows:>10,}  {table.target_rows:>10,}  "
            f"{same_sum:>8}  {'ok' if table.ok else 'MISMATCH'}"
        )
    rate = report.rows / report.copy_seconds if report.copy_seconds > 0 else 0.0
    lines.append("-" * (width + 38))
    lines.append(
        f"{len(report.tables)} tables, {report.rows:,} rows copied in {report.copy_seconds:.1f} s "
        f"({rate:,.0f} rows/s); ANALYZE {report.analyze_seconds:.1f} s; "
        f"verified in {report.verify_seconds:.1f} s"
    )
    mismatched = [table.name for table in report.tables if not table.ok]
    lines.append(
        f"OK: {report.source} copied to {report.target} (schema version {report.version})"
        if not mismatched
        else f"MISMATCH in {', '.join(mismatched)}: do not switch the bot to {report.target}"
    )
    return "\n".join(lines)
