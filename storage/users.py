"""The ``users`` table: who wrote to the bot, which language they want, what they may do."""

from __future__ import annotations

from datetime import datetime

from bot.domain.users import Language, MenuRole, Role, TelegramIdentity, User
from storage.db import Database, Row
from storage.timeutil import from_db_time, to_db_time

__all__ = ["UsersRepository"]

_COLUMNS = (
    "telegram_id, first_name, last_name, username, language, telegram_language_code, role, "
    "created_at, last_seen_at, is_reachable, blocked_at, menu_role"
)

# One statement for "insert if new, else refresh": safe against two updates from the same new
# user arriving at once. Names and username are overwritten (the user may have removed them);
# Telegram sometimes omits language_code, so a missing one keeps the last known value.
# last_seen_at never moves backwards, even if updates are handled out of order.
# Writing again proves the user is reachable: is_reachable = 1, blocked_at cleared.
_TOUCH = f"""
INSERT INTO users (
    telegram_id, first_name, last_name, username, telegram_language_code,
    created_at, last_seen_at
) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (telegram_id) DO UPDATE SET
    first_name = excluded.first_name,
    last_name = excluded.last_name,
    username = excluded.username,
    telegram_language_code = COALESCE(
        excluded.telegram_language_code, users.telegram_language_code
    ),
    last_seen_at = CASE
        WHEN excluded.last_seen_at > users.last_seen_at THEN excluded.last_seen_at
        ELSE users.last_seen_at
    END,
    -- Several processes may insert a new user's first updates in any order: the earliest wins.
    created_at = CASE
        WHEN excluded.created_at < users.created_at THEN excluded.created_at
        ELSE users.created_at
    END,
    is_reachable = 1,
    blocked_at = NULL
RETURNING {_COLUMNS}
"""


def _to_user(row: Row) -> User:
    blocked_at = row["blocked_at"]
    language = row["language"]
    return User(
        telegram_id=row["telegram_id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        language=Language(language) if language is not None else None,
        telegram_language_code=row["telegram_language_code"],
        role=Role(row["role"]),
        created_at=from_db_time(row["created_at"]),
        last_seen_at=from_db_time(row["last_seen_at"]),
        is_reachable=bool(row["is_reachable"]),
        blocked_at=from_db_time(blocked_at) if blocked_at is not None else None,
        menu_role=MenuRole(row["menu_role"]) if row["menu_role"] is not None else None,
    )


class UsersRepository:
    """Reads and writes :class:`~bot.domain.users.User`. Times come from the caller's clock."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def touch(self, identity: TelegramIdentity, now: datetime) -> User:
        """Record an interaction: create the user, or refresh what Telegram tells us about them."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                _TOUCH,
                (
                    identity.telegram_id,
                    identity.first_name,
                    identity.last_name,
                    identity.username,
                    identity.language_code,
                    stamp,
                    stamp,
                ),
            )
        if row is None:  # pragma: no cover - INSERT ... RETURNING always yields the row
            raise RuntimeError(f"upsert of user {identity.telegram_id} returned no row")
        return _to_user(row)

    async def get(self, telegram_id: int) -> User | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM users WHERE telegram_id = ?", (telegram_id,)
        )
        return _to_user(row) if row is not None else None

    async def list_by_role(self, role: Role) -> list[User]:
        """Everyone with ``role`` (cheap for organizers and admins: a partial index covers them)."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM users WHERE role = ? ORDER BY telegram_id", (role.value,)
        )
        return [_to_user(row) for row in rows]

    async def set_language(self, telegram_id: int, language: Language | None) -> User | None:
        """Store the user's explicit language (``None``: derive it again). ``None`` if no user."""
        return await self._update(
            "SET language = ?", (language.value if language is not None else None,), telegram_id
        )

    async def acts_for_an_organization(self, telegram_id: int) -> bool:
        """Whether this person is a member of an approved organization (the organizer's menu)."""
        row = await self._db.fetch_one(
            "SELECT 1 AS found FROM organization_members m "
            "JOIN organizations o ON o.organization_id = m.organization_id "
            "WHERE m.telegram_id = ? AND o.status = 'approved' LIMIT 1",
            (telegram_id,),
        )
        return row is not None

    async def set_menu_role(self, telegram_id: int, menu_role: MenuRole) -> None:
        """Remember which command menu was published to this user's private chat."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET menu_role = ? WHERE telegram_id = ?",
                (menu_role.value, telegram_id),
            )

    async def set_role(self, telegram_id: int, role: Role) -> User | None:
        """Change what the user may do. Returns ``None`` if there is no such user."""
        return await self._update("SET role = ?", (role.value,), telegram_id)

    async def mark_unreachable(self, telegram_id: int, now: datetime) -> User | None:
        """Telegram refused delivery (403: blocked, deactivated). Keeps the first ``blocked_at``."""
        return await self._update(
            "SET is_reachable = 0, blocked_at = COALESCE(blocked_at, ?)",
            (to_db_time(now),),
            telegram_id,
        )

    async def count(self) -> int:
        row = await self._db.fetch_one("SELECT COUNT(*) AS n FROM users")
        return int(row["n"]) if row is not None else 0

    async def _update(
        self, set_clause: str, params: tuple[object, ...], telegram_id: int
    ) -> User | None:
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                f"UPDATE users {set_clause} WHERE telegram_id = ? RETURNING {_COLUMNS}",
                (*params, telegram_id),
            )
        return _to_user(row) if row is not None else None
