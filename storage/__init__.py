"""Storage: the SQLite database, numbered migrations, repositories and PTB persistence."""

from storage.db import Database, Transaction
from storage.migrate import MigrationError, MigrationReport, current_version, migrate
from storage.persistence import PersistenceDataError, SQLitePersistence
from storage.timeutil import Clock, from_db_time, to_db_time, utcnow
from storage.users import UsersRepository

__all__ = [
    "Clock",
    "Database",
    "MigrationError",
    "MigrationReport",
    "PersistenceDataError",
    "SQLitePersistence",
    "Transaction",
    "UsersRepository",
    "current_version",
    "from_db_time",
    "migrate",
    "to_db_time",
    "utcnow",
]
