"""Storage: the SQLite database, numbered migrations and the repositories."""

from storage.db import Database, Transaction
from storage.migrate import MigrationError, MigrationReport, current_version, migrate
from storage.timeutil import Clock, from_db_time, to_db_time, utcnow
from storage.users import UsersRepository

__all__ = [
    "Clock",
    "Database",
    "MigrationError",
    "MigrationReport",
    "Transaction",
    "UsersRepository",
    "current_version",
    "from_db_time",
    "migrate",
    "to_db_time",
    "utcnow",
]
