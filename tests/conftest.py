"""Shared fixtures. Storage: a migrated database in a fresh file per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database
from storage.migrate import migrate


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "zhiyuan.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    """An open database with every migration applied; closed after the test."""
    database = await Database.open(db_path)
    try:
        await migrate(database)
        yield database
    finally:
        await database.close()
