"""The SQLite database: one write connection for explicit transactions, one read connection.

Why two connections:

* **Writes** go through ``async with db.transaction() as tx:``. The transaction starts with
  ``BEGIN IMMEDIATE`` (it takes SQLite's write lock up front, so it can never fail half-way with
  ``SQLITE_BUSY`` on lock upgrade) and an :class:`asyncio.Lock` lets one coroutine at a time in.
  Other coroutines therefore never interleave statements inside someone else's transaction, and a
  read-check-write (``SELECT taken ...`` then ``UPDATE ... SET taken = taken + 1``) or a
  conditional ``UPDATE ... WHERE taken < capacity`` inside one transaction is atomic with respect
  to every other writer in the process. Other processes are held off by SQLite's own lock
  (``busy_timeout`` waits up to 5 s, and ``BEGIN IMMEDIATE`` is retried a bounded number of
  times after that: see :data:`BEGIN_ATTEMPTS`).

  Correctness must not depend on this serialization: the project is moving to PostgreSQL with
  several bot processes, where transactions run side by side (READ COMMITTED) and a value read
  in one statement may be stale by the next. So every decision is taken *in* the statement that
  acts on it: a conditional ``UPDATE ... WHERE status = ?`` whose row count (or ``RETURNING``
  row) says whether this transaction won, ``INSERT ... ON CONFLICT``, or an
  ``UPDATE ... WHERE id = (SELECT ...) AND <the same condition again>``. Where a rule spans
  several rows (the last manager of an organization, a daily cap) the transaction first updates
  the one parent row they share, which PostgreSQL locks until commit, so the rule's later
  statements see every competitor's committed rows. The lock below is a SQLite performance
  measure (one writer per process queues in memory instead of in the busy handler).
* **Reads** outside a transaction (``db.fetch_one``/``db.fetch_all``) go to a separate connection.
  In WAL mode it sees the last *committed* state, even while a write transaction is open, so a
  reader never observes another coroutine's uncommitted writes and never waits for the write lock.
  It is opened with ``PRAGMA query_only`` so a write sent there by mistake fails loudly.
  Inside a transaction, read with ``tx.fetch_*`` to see your own uncommitted writes.

Each read runs as one call on aiosqlite's worker thread (execute and fetch together), so no
statement stays open between calls and every read starts from a fresh snapshot: once a
transaction has committed, every later read sees it.

SQL uses ``?`` placeholders (SQLite's ``qmark`` style). A PostgreSQL backend will translate them
to ``$1, $2 ...``; keep SQL portable: TEXT timestamps from :mod:`storage.timeutil`, INTEGER 0/1
booleans, ``RETURNING`` and ``ON CONFLICT ... DO UPDATE`` are fine, SQLite-only functions are not.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import aiosqlite

from storage.timeutil import Clock, from_db_time, to_db_time, utcnow

__all__ = [
    "Clock",
    "Database",
    "IntegrityError",
    "Params",
    "Row",
    "SqliteDatabase",
    "Transaction",
    "from_db_time",
    "to_db_time",
    "utcnow",
]

_LOGGER = logging.getLogger(__name__)

#: Positional parameters for ``?`` placeholders.
Params = Sequence[Any]

_T = TypeVar("_T")


class Row(Protocol):
    """A result row on either backend: by column name or position, with its column names.

    ``Row`` on SQLite, :class:`storage.postgres.PgRow` on PostgreSQL."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


if TYPE_CHECKING:
    #: A constraint violation (UNIQUE, CHECK, foreign key) on either backend.
    IntegrityError: tuple[type[Exception], ...]
else:

    def __getattr__(name: str) -> object:
        # Built when first asked for: psycopg (~40 ms to import) is not loaded by a bot that
        # runs on SQLite (issue #14, start-up).
        if name != "IntegrityError":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        try:
            import psycopg
        except ImportError:  # pragma: no cover - a dependency; SQLite alone still works
            return (sqlite3.IntegrityError,)
        return (sqlite3.IntegrityError, psycopg.IntegrityError)


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


class Transaction(ABC):
    """Statements inside one open write transaction. Only valid inside its ``async with`` block."""

    _after_commit: list[Callable[[], None]]

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once this transaction has committed, not if it rolls back: for a
        cache of what it changed, which a read between the change and the commit would fill
        again with the rows as they were. ``callback`` must not raise."""
        self._after_commit.append(callback)

    def _committed(self) -> None:
        for callback in self._after_commit:
            callback()

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the number of rows it changed.

        For ``INSERT/UPDATE ... RETURNING`` use :meth:`fetch_one`/:meth:`fetch_all` instead.
        """

    @abstractmethod
    async def execute_many(self, sql: str, params_seq: Iterable[Params]) -> int:
        """Run one statement once per parameter tuple; return the total number of changed rows."""

    @abstractmethod
    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """First row of the result, or ``None``. Fetches the whole result: add ``LIMIT 1``."""

    @abstractmethod
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...


class Database(ABC):
    """An open database: SQLite (:class:`SqliteDatabase`, the embedded default) or PostgreSQL
    (:class:`storage.postgres.PostgresDatabase`, several processes). Same SQL on both."""

    #: "sqlite" or "postgresql".
    backend: str
    #: Appended to the subquery that picks rows to claim (a queue): PostgreSQL skips rows
    #: another transaction is claiming instead of waiting for them; SQLite has one writer.
    skip_locked: str = ""

    @property
    @abstractmethod
    def closed(self) -> bool: ...

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, for messages (a path, or a URL without its password)."""

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        Do not nest them (pass the open :class:`Transaction` down instead); nesting in the same
        task raises :class:`RuntimeError`.
        """

    @abstractmethod
    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """First row of a read outside a transaction (committed data only)."""

    @abstractmethod
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a read outside a transaction (committed data only)."""

    @abstractmethod
    async def write(self, sql: str, params: Params = ()) -> list[Row]:
        """One writing statement, committed on its own; the rows of its ``RETURNING`` clause.

        For the inbox's store, claim and done, run on every update: a statement is atomic by
        itself, so ``BEGIN`` and ``COMMIT`` around it were two more round trips to the database
        for nothing (issue #14). Anything of more than one statement takes
        :meth:`transaction`. Like it, not to be called inside a transaction of the same task.
        """

    @abstractmethod
    async def has_table(self, name: str) -> bool: ...

    @abstractmethod
    def migration_lock(self) -> AbstractAsyncContextManager[None]:
        """Held while migrating, so instances starting together do not race (PostgreSQL:
        an advisory lock; SQLite: nothing, its write lock already serializes)."""

    @abstractmethod
    def schema_sql(self, sql: str) -> str:
        """A migration statement as this backend needs it (types of ids, floats …)."""

    async def retrying(self, work: Callable[[], Awaitable[_T]]) -> _T:
        """Run ``work`` (a function that opens its own transaction) and return its result; on
        PostgreSQL run it again when the server aborted the transaction to break a deadlock or
        a serialization conflict (:meth:`storage.postgres.PostgresDatabase.retrying`).

        SQLite has one writer at a time (``BEGIN IMMEDIATE``), so it never aborts a transaction
        for these reasons: ``work`` runs once. ``work`` must do nothing outside its transaction
        that cannot be repeated (a message sent, a counter in memory)."""
        return await work()

    async def after_migration(self, tx: Transaction) -> None:  # noqa: B027 - optional hook
        """Anything the backend needs after a migration ran (PostgreSQL: identity counters)."""

    @abstractmethod
    async def analyze(self) -> None: ...

    async def statistics_stale(self) -> bool:
        """Whether the query planner's statistics should be refreshed at start-up. PostgreSQL's
        autovacuum keeps them current by itself."""
        return False

    async def scrub(self) -> None:  # noqa: B027 - optional hook
        """After personal data was deleted: make sure no copy of it stays in the database's
        files (SQLite: its write-ahead log). Nothing to do where the server manages storage."""

    @abstractmethod
    async def close(self) -> None: ...


BUSY_TIMEOUT_MS = 5000

#: The tables whose growth makes the planner's statistics stale (the menu's joins use them).
_PLANNED_TABLES = ("users", "volunteers", "activities", "signups")
#: Growth below this many rows never counts as stale (a small database plans well anyway).
STALE_ROWS_SLACK = 1000

#: How often ``BEGIN IMMEDIATE`` (and a read) is tried when SQLite answers ``SQLITE_BUSY``.
#: Two bot processes (or two :class:`Database` objects on one file) share SQLite's single write
#: lock; each attempt already waits up to ``busy_timeout`` inside SQLite, so a busy answer means
#: another process held the lock that long. Retrying a bounded number of times rides out a long
#: transaction elsewhere (a broadcast chunk, ``ANALYZE``) without hanging forever on a stuck
#: one. Only statements that changed nothing yet are retried: ``BEGIN`` itself and reads.
BEGIN_ATTEMPTS = 4

_SQLITE_BUSY = 5  # primary result code; extended codes (BUSY_RECOVERY, ...) share the low byte


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == _SQLITE_BUSY)
    return "database is locked" in str(error)


async def _retry_busy(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> list[sqlite3.Row]:
    """:func:`_run` for a statement that is safe to repeat (``BEGIN``, a read), retried when
    another process holds SQLite's lock longer than ``busy_timeout`` (at most
    :data:`BEGIN_ATTEMPTS` tries; the last error is raised)."""
    for attempt in range(1, BEGIN_ATTEMPTS + 1):
        try:
            return await _run(conn, sql, params)
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or attempt == BEGIN_ATTEMPTS:
                raise
            _LOGGER.warning("database busy (attempt %s of %s): %s", attempt, BEGIN_ATTEMPTS, sql)
    raise AssertionError("unreachable")  # pragma: no cover


async def _run(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    """Execute and fetch all rows in one hop to the worker thread (the statement is done after)."""
    return list(await conn.execute_fetchall(sql, params))


async def _complete(operation: Awaitable[None]) -> None:
    """Await ``operation`` to the end even if the calling task is cancelled meanwhile.

    Used for COMMIT and ROLLBACK: the transaction lock must not be released while one of them is
    still pending, or the next ``BEGIN`` could run inside a transaction that was never closed.
    A cancellation that arrives meanwhile is re-raised once the operation has finished.
    """
    future = asyncio.ensure_future(operation)
    cancelled = False
    while True:
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            if future.done():
                raise
            cancelled = True
        else:
            break
    if cancelled:
        raise asyncio.CancelledError


class SqliteTransaction(Transaction):
    __slots__ = ("_after_commit", "_conn", "_open")

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._open = True
        self._after_commit = []

    def _check(self) -> aiosqlite.Connection:
        if not self._open:
            raise RuntimeError("this transaction is already finished; use it inside its block")
        return self._conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the number of rows it changed (``-1`` for DDL).

        For ``INSERT/UPDATE ... RETURNING`` use :meth:`fetch_one`/:meth:`fetch_all` instead.
        """
        conn = self._check()
        async with conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def execute_many(self, sql: str, params_seq: Iterable[Params]) -> int:
        """Run one statement once per parameter tuple; return the total number of changed rows."""
        conn = self._check()
        async with conn.executemany(sql, params_seq) as cursor:
            return cursor.rowcount

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await _run(self._check(), sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await _run(self._check(), sql, params))

    def _finish(self) -> None:
        self._open = False


class SqliteDatabase(Database):
    """An open SQLite database file. Create with :meth:`Database.open`, release with
    :meth:`close`."""

    backend = "sqlite"

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        *,
        cache_mb: int | None = None,
    ) -> None:
        self._path = path
        self._cache_mb = cache_mb
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._closed = False

    @classmethod
    async def open_file(cls, path: Path | str, *, cache_mb: int | None = None) -> SqliteDatabase:
        """Open (creating if needed) the database file at ``path`` and its parent folder;
        ``cache_mb`` is each connection's page cache (``None``: SQLite's default, 2 MB).

        The file holds personal data, so only the bot's own account may read it: a folder
        created here is 0700, and the file is made 0600 before SQLite opens it (SQLite gives
        its ``-wal`` and ``-shm`` files the mode of the main file), whatever the umask.
        """
        path = Path(path)
        if not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(path.parent, _PRIVATE_FOLDER)
        _make_private(path)
        writer = await _connect(path, read_only=False, cache_mb=cache_mb)
        try:
            reader = await _connect(path, read_only=True, cache_mb=cache_mb)
        except BaseException:
            await writer.close()
            raise
        _LOGGER.debug("Opened database %s", path)
        return cls(path, writer, reader, cache_mb=cache_mb)

    @property
    def path(self) -> Path:
        return self._path

    def describe(self) -> str:
        return str(self._path)

    async def has_table(self, name: str) -> bool:
        row = await self.fetch_one(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        )
        return row is not None

    @asynccontextmanager
    async def migration_lock(self) -> AsyncIterator[None]:
        yield

    def schema_sql(self, sql: str) -> str:
        return sql

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"database {self._path} is closed")

    def _outside_own_transaction(self, refusal: str) -> asyncio.Task[Any] | None:
        """The current task; ``RuntimeError(refusal)`` when it holds the transaction lock
        already (waiting for the lock again would deadlock)."""
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            raise RuntimeError(refusal)
        return task

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Transactions are serialized: a second coroutine waits here until the first one is
        done. Nesting in the same task is detected and raises rather than deadlocking."""
        task = self._outside_own_transaction(
            "nested db.transaction() in the same task would deadlock; "
            "pass the open Transaction to the inner code instead"
        )
        async with self._lock:
            self._check_open()
            self._owner = task
            tx = SqliteTransaction(self._writer)
            try:
                try:
                    await _retry_busy(self._writer, "BEGIN IMMEDIATE")
                    yield tx
                except BaseException:
                    tx._finish()
                    # Connection.rollback() is a no-op when no transaction is active (BEGIN failed).
                    await _complete(self._writer.rollback())
                    raise
                tx._finish()
                try:
                    await _complete(self._writer.commit())
                except BaseException:
                    # e.g. a deferred foreign-key violation: COMMIT fails, the transaction stays.
                    await _complete(self._writer.rollback())
                    raise
                tx._committed()
            finally:
                self._owner = None

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        """First row of a read on the read connection. Fetches the whole result: add ``LIMIT 1``."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a read on the read connection (committed data only)."""
        self._check_open()
        return list(await _retry_busy(self._reader, sql, params))

    async def write(self, sql: str, params: Params = ()) -> list[Row]:
        """The statement alone in autocommit mode on the write connection: one hop to its
        thread instead of three. Holding the transaction lock keeps it out of a transaction
        another task has open on that connection. A busy answer (another process held the
        write lock longer than ``busy_timeout``) left nothing changed, so it is retried."""
        self._outside_own_transaction(
            "db.write() inside db.transaction() of the same task would deadlock; "
            "use the open Transaction instead"
        )
        async with self._lock:
            self._check_open()
            return list(await _retry_busy(self._writer, sql, params))

    async def analyze(self) -> None:
        """Refresh the query planner's statistics (``ANALYZE``, valid in PostgreSQL too).

        Without them SQLite picks poor plans for the menu's joins (``bench/menu.py`` measured
        "My sign-ups" at 28 ms instead of under 1 ms). A connection loads statistics when it
        opens, so the read connection is reopened afterwards. Call it when nothing else reads
        yet (at start-up).
        """
        async with self.transaction() as tx:
            await tx.execute("ANALYZE")
        async with self._lock:
            self._check_open()
            old, self._reader = (
                self._reader,
                await _connect(self._path, read_only=True, cache_mb=self._cache_mb),
            )
            await old.close()

    async def statistics_stale(self) -> bool:
        """Missing, or taken when one of the big tables had less than half its rows now.

        ``ANALYZE`` reads every index (a few hundred ms at city size), so start-up runs it only
        when this says so or a migration ran, not every time. The row count each table had is
        the first number of its ``sqlite_stat1`` rows. The rows now are bounded first by the
        largest rowid (rowids are distinct and positive, so there are no more rows than that;
        one B-tree step instead of counting ≈ 500,000 rows, ≈ 5 ms of every start, #14) and
        counted only when that bound alone would call the statistics stale.
        """
        if await self.fetch_one("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'") is None:
            return True
        for table in _PLANNED_TABLES:
            row = await self.fetch_one(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = ? LIMIT 1", (table,)
            )
            largest = await self.fetch_one(f"SELECT MAX(rowid) AS n FROM {table}")
            at_most = int(largest["n"] or 0) if largest is not None else 0
            if row is None:
                if at_most > 0:  # a table with a row has a largest rowid
                    return True
                continue
            limit = 2 * int(str(row["stat"]).split()[0]) + STALE_ROWS_SLACK
            if at_most <= limit:
                continue
            counted = await self.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
            if counted is not None and int(counted["n"]) > limit:
                return True
        return False

    async def scrub(self) -> None:
        """Copy the write-ahead log into the main file and truncate it to nothing.

        Deleted rows are overwritten with zeros in the pages they were on (``secure_delete``),
        but older versions of those pages stay in the ``-wal`` file until a checkpoint; after
        this one the deleted bytes are nowhere in the files. If another process still reads an
        older snapshot the log cannot be reset yet; SQLite's next checkpoint does it.
        """
        async with self._lock:
            self._check_open()
            rows = await _run(self._writer, "PRAGMA wal_checkpoint(TRUNCATE)")
        if rows and rows[0][0]:
            _LOGGER.warning("database %s: the log could not be reset yet (busy)", self._path)

    async def close(self) -> None:
        """Wait for a running transaction to finish, then close both connections.

        Closing the last connection checkpoints the WAL into the main file and removes it.
        """
        if self._closed:
            return
        async with self._lock:
            self._closed = True
            try:
                await self._reader.close()
            finally:
                await self._writer.close()
        _LOGGER.debug("Closed database %s", self._path)


_PRIVATE_FOLDER = 0o700
_PRIVATE_FILE = 0o600


def _make_private(path: Path) -> None:
    """Create ``path`` if missing and make it and its ``-wal``/``-shm`` files 0600 (files left
    by an older version may be 0644)."""
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, _PRIVATE_FILE))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if name.exists():
            os.chmod(name, _PRIVATE_FILE)


async def _connect(
    path: Path, *, read_only: bool, cache_mb: int | None = None
) -> aiosqlite.Connection:
    # isolation_level=None: autocommit mode, sqlite3 never opens transactions behind our back;
    # Database.transaction() issues BEGIN IMMEDIATE / COMMIT / ROLLBACK itself.
    conn = await aiosqlite.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.row_factory = sqlite3.Row
        pragmas = [
            f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
            "PRAGMA foreign_keys = ON",
            "PRAGMA synchronous = NORMAL",
            # Deleted content is overwritten with zeros, so an erased account leaves no bytes
            # behind in the file (Database.scrub empties the write-ahead log afterwards).
            "PRAGMA secure_delete = ON",
        ]
        if cache_mb is not None:
            pragmas.append(f"PRAGMA cache_size = {-1024 * int(cache_mb)}")  # negative: KiB
        if read_only:
            pragmas.append("PRAGMA query_only = ON")
        # One hop to the connection's thread for all of them (each is one more at start-up).
        await conn.executescript(";\n".join(pragmas) + ";")
        if not read_only:
            rows = await _run(conn, "PRAGMA journal_mode = WAL")
            mode = rows[0][0] if rows else None
            if mode != "wal":
                raise RuntimeError(f"could not switch {path} to WAL mode (journal_mode={mode!r})")
    except BaseException:
        await conn.close()
        raise
    return conn
