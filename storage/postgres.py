"""The PostgreSQL backend: the same repositories and SQL as SQLite, for several bot processes.

Chosen with ``DATABASE_URL=postgresql://…`` (:meth:`storage.db.Database.open`). What differs
from SQLite, and where it is handled:

* **Placeholders**: the SQL is written with ``?``; :func:`translate` turns them into psycopg's
  ``%s`` (and doubles a literal ``%``), skipping string literals and quoted names. Translations
  are cached: the statements are constants.
* **Types**: migrations are written for SQLite; :meth:`PostgresDatabase.schema_sql` makes ids
  identity columns (``INTEGER PRIMARY KEY``), every other ``INTEGER`` a ``BIGINT`` (Telegram ids
  and counters alike) and ``REAL`` a ``DOUBLE PRECISION``. Timestamps stay ISO-8601 UTC text and
  booleans 0/1 on both backends on purpose: the values are identical, so the same Python reads
  both and ``zhiyuan copy-to-postgres`` copies rows as they are; ISO-8601 text in UTC sorts and
  compares like the instants it names. ``SUM``/``AVG`` come back as ``numeric``; they are read
  as ``int`` when whole and ``float`` otherwise, as SQLite returns them.
* **Concurrency**: each transaction has its own pooled connection and runs at READ COMMITTED,
  side by side with other processes'. Every decision is guarded in the statement that acts on
  it (see :mod:`storage.db`); a conditional ``UPDATE`` waits for a competitor's row lock and then
  re-checks its ``WHERE`` against the committed row, which is what makes those guards hold here.
* **Deadlocks and serialization failures**: PostgreSQL aborts one of two transactions that
  wait for each other's row locks (``40P01``) and, under ``SERIALIZABLE``, one of two that
  conflict (``40001``). Statements lock rows in one order where they can (a sign-up's activity
  row before the sign-up row), and :meth:`PostgresDatabase.retrying` runs a transaction
  function again, a bounded number of times after a short random wait, when it was aborted so.
* **Migrations** run under ``pg_advisory_lock``, so instances starting together apply each one
  once; afterwards the identity counters are moved past ids the seed data wrote explicitly.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from psycopg import AsyncConnection, AsyncCursor, errors
from psycopg.adapt import Buffer, Loader
from psycopg_pool import AsyncConnectionPool

from storage.db import Database, Params, Row, Transaction

_LOGGER = logging.getLogger(__name__)

#: The key of the advisory lock held while migrating (any constant of our own).
MIGRATION_LOCK_KEY = 0x7A6869_7975616E  # "zhiyuan"
POOL_MAX_SIZE = 10

#: How often a transaction function is tried when PostgreSQL aborts it for a deadlock or a
#: serialization conflict. Each abort means another transaction committed (or is about to), so
#: a few tries settle any real contention; more would only hide a lock-order bug.
CONFLICT_ATTEMPTS = 6
#: The random wait before try *n* is up to ``CONFLICT_BACKOFF * 2**n`` seconds, so two
#: transactions that deadlocked do not meet again in the same order at the same moment.
CONFLICT_BACKOFF = 0.01

#: The errors PostgreSQL raises when it aborts a transaction that may simply be run again.
RETRYABLE = (errors.DeadlockDetected, errors.SerializationFailure)

_T = TypeVar("_T")


# -------------------------------------------------------------------------------- placeholders


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """``?`` → ``%s`` and ``%`` → ``%%`` outside string literals and quoted names."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if quote is not None:
            if char == quote:
                quote = None
            out.append("%%" if char == "%" else char)
        elif char in ("'", '"'):
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    return "".join(out)


def _params(params: Params) -> tuple[Any, ...]:
    # Booleans are stored as 0/1 integers (as on SQLite); psycopg would send a boolean.
    return tuple(int(value) if isinstance(value, bool) else value for value in params)


# ------------------------------------------------------------------------------------- rows


class PgRow:
    """A row readable by column name or position, like ``Row``."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: Sequence[Any]) -> None:
        self._index = index
        self._values = tuple(values)

    def __getitem__(self, key: int | str, /) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"PgRow({dict(zip(self._index, self._values, strict=True))!r})"


def _row_factory(cursor: AsyncCursor[Any]) -> Any:
    description = cursor.description or []
    index = {column.name: number for number, column in enumerate(description)}

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(index, values)

    return make


class _WholeOrFloat(Loader):
    """``numeric`` (what ``SUM``/``AVG`` of integers return) as ``int`` when whole, else
    ``float`` — what SQLite returns for the same queries."""

    def load(self, data: Buffer) -> int | float:
        text = bytes(data).decode()
        if text.lstrip("-").isdigit():
            return int(text)
        return float(text)


async def _configure(conn: AsyncConnection[Any]) -> None:
    conn.adapters.register_loader("numeric", _WholeOrFloat)
    await conn.set_autocommit(True)


# -------------------------------------------------------------------------------- statements


async def _execute(conn: AsyncConnection[Any], sql: str, params: Params) -> AsyncCursor[Any]:
    cursor = conn.cursor(row_factory=_row_factory)
    if params:
        await cursor.execute(translate(sql), _params(params))
    else:
        await cursor.execute(sql)
    return cursor


class PostgresTransaction(Transaction):
    __slots__ = ("_after_commit", "_conn", "_open")

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn
        self._open = True
        self._after_commit = []

    def _check(self) -> AsyncConnection[Any]:
        if not self._open:
            raise RuntimeError("this transaction is already finished; use it inside its block")
        return self._conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await _execute(self._check(), sql, params)
        async with cursor:
            return max(cursor.rowcount, 0)

    async def execute_many(self, sql: str, params_seq: Iterable[Params]) -> int:
        rows = [_params(params) for params in params_seq]
        if not rows:
            return 0
        async with self._check().cursor() as cursor:
            # psycopg sends them in one pipeline; rowcount is the sum over all of them.
            await cursor.executemany(translate(sql), rows)
            return max(cursor.rowcount, 0)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        cursor = await _execute(self._check(), sql, params)
        async with cursor:
            if cursor.description is None:
                return []
            found: list[Row] = await cursor.fetchall()
            return found

    def _finish(self) -> None:
        self._open = False


# ------------------------------------------------------------------------------------ schema

_IDENTITY = re.compile(r"\bINTEGER\s+PRIMARY\s+KEY\b", re.IGNORECASE)
_INTEGER = re.compile(r"\bINTEGER\b", re.IGNORECASE)
_REAL = re.compile(r"\bREAL\b", re.IGNORECASE)


def schema_sql(sql: str) -> str:
    """A migration statement written for SQLite, as PostgreSQL needs it."""
    sql = _IDENTITY.sub("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", sql)
    sql = _INTEGER.sub("BIGINT", sql)
    return _REAL.sub("DOUBLE PRECISION", sql)


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresDatabase(Database):
    backend = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        self._url = url
        self._pool = pool
        self._owners: set[asyncio.Task[Any]] = set()
        self._closed = False

    @classmethod
    async def connect(cls, url: str, *, max_size: int = POOL_MAX_SIZE) -> PostgresDatabase:
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            url, min_size=1, max_size=max_size, configure=_configure, open=False
        )
        await pool.open(wait=True, timeout=30)
        _LOGGER.debug("Opened database %s", _safe_url(url))
        return cls(url, pool)

    @property
    def url(self) -> str:
        return self._url

    @property
    def closed(self) -> bool:
        return self._closed

    def describe(self) -> str:
        return _safe_url(self._url)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"database {self.describe()} is closed")

    def _outside_own_transaction(self, refusal: str) -> asyncio.Task[Any] | None:
        """The current task; ``RuntimeError(refusal)`` when it has a transaction open already."""
        task = asyncio.current_task()
        if task is not None and task in self._owners:
            raise RuntimeError(refusal)
        return task

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        task = self._outside_own_transaction(
            "nested db.transaction() in the same task; "
            "pass the open Transaction to the inner code instead"
        )
        self._check_open()
        if task is not None:
            self._owners.add(task)
        try:
            async with self._pool.connection() as conn:
                async with conn.transaction():
                    tx = PostgresTransaction(conn)
                    try:
                        yield tx
                    finally:
                        tx._finish()
                tx._committed()  # not reached when the block raised (rolled back)
        finally:
            if task is not None:
                self._owners.discard(task)

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        self._check_open()
        async with self._pool.connection() as conn:
            cursor = await _execute(conn, sql, params)
            async with cursor:
                if cursor.description is None:
                    return []
                found: list[Row] = await cursor.fetchall()
                return found

    async def write(self, sql: str, params: Params = ()) -> list[Row]:
        """The pool's connections are in autocommit mode (``_configure``): the statement is its
        own transaction, in one round trip instead of three (``BEGIN``, it, ``COMMIT``)."""
        self._outside_own_transaction(
            "db.write() inside db.transaction() of the same task; use the open Transaction instead"
        )
        return await self.fetch_all(sql, params)

    async def has_table(self, name: str) -> bool:
        row = await self.fetch_one(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_name = ?",
            (name,),
        )
        return row is not None

    async def retrying(self, work: Callable[[], Awaitable[_T]]) -> _T:
        """Run ``work`` (one transaction) again when PostgreSQL aborted it with ``40P01``
        (deadlock detected) or ``40001`` (serialization failure), at most
        :data:`CONFLICT_ATTEMPTS` times, after a random wait that grows with each try. Logged
        once per call that needed it; the last error is raised."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return await work()
            except RETRYABLE as error:
                if attempt == CONFLICT_ATTEMPTS:
                    raise
                if attempt == 1:
                    _LOGGER.info(
                        "transaction aborted by PostgreSQL (%s); running it again",
                        error.sqlstate,
                    )
                await asyncio.sleep(random.uniform(0, CONFLICT_BACKOFF * 2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    @asynccontextmanager
    async def migration_lock(self) -> AsyncIterator[None]:
        async with self._pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))

    def schema_sql(self, sql: str) -> str:
        return schema_sql(sql)

    async def after_migration(self, tx: Transaction) -> None:
        """Seed rows written with explicit ids leave an identity's counter behind them: move
        every counter past the largest id, or the next INSERT would collide."""
        columns = await tx.fetch_all(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
        for column in columns:
            table, name = column["table_name"], column["column_name"]
            await tx.fetch_all(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{name}'), "
                f'GREATEST(COALESCE(MAX("{name}"), 0), 1), MAX("{name}") IS NOT NULL) '
                f'FROM "{table}"'
            )

    async def analyze(self) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("ANALYZE")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._pool.close()
        _LOGGER.debug("Closed database %s", self.describe())
