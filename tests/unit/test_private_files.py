"""Files (issue #15 item 5): the database and its log are readable by the bot's account only,
and an erased account leaves none of its bytes behind in them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.db import SqliteDatabase
from storage.migrate import migrate
from storage.volunteers import VolunteersRepository
from tests.factories import NOW, add_activity, add_organization, add_volunteer

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default, which makes files 0644
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_database_folder_and_log_files_are_private(
    tmp_path: Path, permissive_umask: None
) -> None:
    path = tmp_path / "new" / "folder" / "zhiyuan.db"
    db = await SqliteDatabase.open_file(path)
    try:
        await migrate(db)
        await add_volunteer(db, 4242, name="钱七", now=NOW)
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert name.exists(), name
            assert mode(name) == 0o600, (name, oct(mode(name)))
        assert mode(path.parent) == 0o700
    finally:
        await db.close()


async def test_files_left_readable_by_an_older_version_are_made_private(
    tmp_path: Path, permissive_umask: None
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o755)
    path = folder / "zhiyuan.db"
    path.touch()
    os.chmod(path, 0o644)
    db = await SqliteDatabase.open_file(path)
    await db.close()
    assert mode(path) == 0o600
    assert mode(folder) == 0o755  # a folder that existed (/var/lib/…) is not ours to change


async def test_an_erased_account_leaves_no_bytes_in_the_files(tmp_path: Path) -> None:
    path = tmp_path / "zhiyuan.db"
    db = await SqliteDatabase.open_file(path)
    try:
        await migrate(db)
        organization = await add_organization(db)
        activity = await add_activity(db, organization)
        name = "欧阳独特名"
        person = await add_volunteer(db, 31337, name=name, now=NOW)
        phone = person.phone
        assert phone is not None
        # Someone else's data next to it, and some churn so the pages are in the log.
        for n in range(20):
            await add_volunteer(db, 50_000 + n, name=f"别人{n}", now=NOW)
        assert activity.activity_id
        files = [path, Path(f"{path}-wal")]

        def everything() -> bytes:
            return b"".join(f.read_bytes() for f in files if f.exists())

        assert name.encode() in everything()
        await VolunteersRepository(db).delete_account(person.telegram_id, NOW)
        stored = everything()
        for secret in (name, phone, phone.lstrip("+")):
            assert secret.encode() not in stored, secret
        assert "别人3".encode() in stored
    finally:
        await db.close()
