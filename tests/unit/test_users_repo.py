"""storage.users.UsersRepository against a migrated database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.users import Language, Role, TelegramIdentity
from storage.db import Database
from storage.users import UsersRepository

T0 = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def identity(telegram_id: int = 1001, **changes: object) -> TelegramIdentity:
    base = TelegramIdentity(
        telegram_id=telegram_id,
        first_name="Li",
        last_name="Lei",
        username="lilei",
        language_code="zh-hans",
    )
    return base.model_copy(update=changes)


async def test_touch_inserts_then_updates(db: Database) -> None:
    users = UsersRepository(db)
    assert await users.get(1001) is None
    assert await users.count() == 0

    created = await users.touch(identity(), T0)
    assert created.telegram_id == 1001
    assert (created.first_name, created.last_name, created.username) == ("Li", "Lei", "lilei")
    assert created.telegram_language_code == "zh-hans"
    assert created.language is None
    assert created.role is Role.VOLUNTEER
    assert created.created_at == created.last_seen_at == T0
    assert created.is_reachable and created.blocked_at is None
    assert await users.get(1001) == created

    later = T0 + timedelta(minutes=5)
    updated = await users.touch(
        identity(first_name="Lei", last_name=None, username=None, language_code="en"), later
    )
    assert (updated.first_name, updated.last_name, updated.username) == ("Lei", None, None)
    assert updated.telegram_language_code == "en"
    assert updated.created_at == T0
    assert updated.last_seen_at == later
    assert await users.count() == 1


async def test_touch_keeps_language_code_when_telegram_omits_it(db: Database) -> None:
    users = UsersRepository(db)
    await users.touch(identity(), T0)
    user = await users.touch(identity(language_code=None), T0 + timedelta(seconds=1))
    assert user.telegram_language_code == "zh-hans"


async def test_last_seen_never_moves_backwards(db: Database) -> None:
    users = UsersRepository(db)
    await users.touch(identity(), T0 + timedelta(hours=1))
    user = await users.touch(identity(), T0)
    assert user.last_seen_at == T0 + timedelta(hours=1)


async def test_touch_makes_an_unreachable_user_reachable_again(db: Database) -> None:
    users = UsersRepository(db)
    await users.touch(identity(), T0)
    blocked = await users.mark_unreachable(1001, T0 + timedelta(days=1))
    assert blocked is not None
    assert not blocked.is_reachable
    assert blocked.blocked_at == T0 + timedelta(days=1)
    again = await users.mark_unreachable(1001, T0 + timedelta(days=2))
    assert again is not None and again.blocked_at == T0 + timedelta(days=1)  # first time kept

    back = await users.touch(identity(), T0 + timedelta(days=3))
    assert back.is_reachable and back.blocked_at is None
    assert await users.mark_unreachable(424242, T0) is None


async def test_set_language_round_trip_including_none(db: Database) -> None:
    users = UsersRepository(db)
    await users.touch(identity(), T0)
    chosen = await users.set_language(1001, Language.EN)
    assert chosen is not None and chosen.language is Language.EN
    stored = await users.get(1001)
    assert stored is not None and stored.language is Language.EN
    # A later touch does not overwrite the explicit choice.
    touched = await users.touch(identity(language_code="zh"), T0 + timedelta(seconds=1))
    assert touched.language is Language.EN

    cleared = await users.set_language(1001, None)
    assert cleared is not None and cleared.language is None
    stored = await users.get(1001)
    assert stored is not None and stored.language is None
    assert await users.set_language(999, Language.ZH) is None


async def test_roles(db: Database) -> None:
    users = UsersRepository(db)
    for telegram_id in (1, 2, 3):
        await users.touch(identity(telegram_id), T0)
    promoted = await users.set_role(2, Role.ORGANIZER)
    assert promoted is not None and promoted.role is Role.ORGANIZER
    await users.set_role(3, Role.ADMIN)
    assert [u.telegram_id for u in await users.list_by_role(Role.ORGANIZER)] == [2]
    assert [u.telegram_id for u in await users.list_by_role(Role.ADMIN)] == [3]
    assert [u.telegram_id for u in await users.list_by_role(Role.VOLUNTEER)] == [1]
    assert await users.set_role(999, Role.ADMIN) is None
    # Touch leaves the role alone.
    assert (await users.touch(identity(3), T0)).role is Role.ADMIN


async def test_database_rejects_invalid_values(db: Database) -> None:
    await UsersRepository(db).touch(identity(), T0)
    with pytest.raises(Exception, match=r"(?i)check"):
        async with db.transaction() as tx:
            await tx.execute("UPDATE users SET role = 'overlord' WHERE telegram_id = 1001")
    with pytest.raises(Exception, match=r"(?i)check"):
        async with db.transaction() as tx:
            await tx.execute("UPDATE users SET language = 'fr' WHERE telegram_id = 1001")


async def test_concurrent_first_touches_of_one_user_make_one_row(db: Database) -> None:
    users = UsersRepository(db)
    results = await asyncio.gather(
        *(users.touch(identity(), T0 + timedelta(seconds=i)) for i in range(20))
    )
    assert await users.count() == 1
    # In whatever order they ran (PostgreSQL runs them side by side): the earliest first-seen
    # time and the latest last-seen time are kept.
    stored = await users.get(1001)
    assert stored is not None and stored.created_at == T0
    assert stored.last_seen_at == T0 + timedelta(seconds=19)
    assert all(user.telegram_id == 1001 for user in results)


async def test_naive_times_are_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="naive"):
        await UsersRepository(db).touch(identity(), datetime(2026, 1, 1))
