"""Key dates (table ``key_dates`` of migration 0010) and an administrator's draft of one."""

from __future__ import annotations

from datetime import datetime

from bot.domain.keydates import CODE_PATTERN, KeyDate, KeyDateDraft, is_valid_day
from storage.db import Database, Row
from storage.timeutil import from_db_time, to_db_time

__all__ = ["KeyDateDraft", "KeyDatesRepository"]

_COLUMNS = "code, name_zh, name_en, month, day, is_lunar, is_enabled, builtin"


def _to_key_date(row: Row) -> KeyDate:
    return KeyDate(
        code=row["code"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        month=row["month"],
        day=row["day"],
        is_lunar=bool(row["is_lunar"]),
        is_enabled=bool(row["is_enabled"]),
        builtin=bool(row["builtin"]),
    )


class KeyDatesRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[KeyDate]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM key_dates ORDER BY is_lunar, month, day, code"
        )
        return [_to_key_date(row) for row in rows]

    async def enabled(self) -> list[KeyDate]:
        return [key_date for key_date in await self.all() if key_date.is_enabled]

    async def get(self, code: str) -> KeyDate | None:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM key_dates WHERE code = ?", (code,))
        return _to_key_date(row) if row is not None else None

    async def add(self, key_date: KeyDate, now: datetime) -> bool:
        """Store a new key date; ``False`` when the code is taken (nothing was written: the
        caller must not report success, see ``KeyDateAdminService.add``)."""
        self._check(key_date)
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "INSERT INTO key_dates (code, name_zh, name_en, month, day, is_lunar, is_enabled, "
                "builtin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?) "
                "ON CONFLICT (code) DO NOTHING",
                (
                    key_date.code,
                    key_date.name_zh,
                    key_date.name_en,
                    key_date.month,
                    key_date.day,
                    int(key_date.is_lunar),
                    int(key_date.is_enabled),
                    stamp,
                    stamp,
                ),
            )
        return changed > 0

    async def update(self, key_date: KeyDate, now: datetime) -> bool:
        """Rename, move or enable/disable (the code and builtin flag never change)."""
        self._check(key_date)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE key_dates SET name_zh = ?, name_en = ?, month = ?, day = ?, is_lunar = ?, "
                "is_enabled = ?, updated_at = ? WHERE code = ?",
                (
                    key_date.name_zh,
                    key_date.name_en,
                    key_date.month,
                    key_date.day,
                    int(key_date.is_lunar),
                    int(key_date.is_enabled),
                    to_db_time(now),
                    key_date.code,
                ),
            )
        return changed > 0

    # Narrow writes for the admin screens: each touches only its own columns, so a rename and
    # a concurrent enable/disable by another administrator do not undo each other.

    async def set_enabled(self, code: str, enabled: bool, now: datetime) -> bool:
        """``False`` when no key date has this code."""
        return await self._set(code, "is_enabled = ?", (int(enabled),), now)

    async def rename(
        self, code: str, name_zh: str | None, name_en: str | None, now: datetime
    ) -> bool:
        """Set the names given (``None`` keeps that name); ``False`` when no key date has this
        code."""
        if any(name is not None and not name.strip() for name in (name_zh, name_en)):
            raise ValueError("a key date name cannot be empty")
        return await self._set(
            code,
            "name_zh = COALESCE(?, name_zh), name_en = COALESCE(?, name_en)",
            (name_zh, name_en),
            now,
        )

    async def set_day(self, code: str, month: int, day: int, is_lunar: bool, now: datetime) -> bool:
        """``False`` when no key date has this code."""
        if not is_valid_day(month, day, lunar=is_lunar):
            raise ValueError(f"no such day {month}-{day}")
        return await self._set(
            code, "month = ?, day = ?, is_lunar = ?", (month, day, int(is_lunar)), now
        )

    async def _set(
        self, code: str, assignments: str, params: tuple[object, ...], now: datetime
    ) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE key_dates SET {assignments}, updated_at = ? WHERE code = ?",
                (*params, to_db_time(now), code),
            )
        return changed > 0

    @staticmethod
    def _check(key_date: KeyDate) -> None:
        if not CODE_PATTERN.fullmatch(key_date.code):
            raise ValueError(f"bad key date code {key_date.code!r}")
        if not key_date.name_zh.strip() or not key_date.name_en.strip():
            raise ValueError("a key date needs both names")
        if not is_valid_day(key_date.month, key_date.day, lunar=key_date.is_lunar):
            raise ValueError(f"no such day {key_date.month}-{key_date.day}")

    # -- the administrator's draft ---------------------------------------------------------------

    async def get_draft(self, telegram_id: int) -> KeyDateDraft | None:
        row = await self._db.fetch_one(
            "SELECT telegram_id, code, field, name_zh, name_en, updated_at FROM key_date_drafts "
            "WHERE telegram_id = ?",
            (telegram_id,),
        )
        if row is None:
            return None
        return KeyDateDraft(
            telegram_id=row["telegram_id"],
            code=row["code"],
            field=row["field"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            updated_at=from_db_time(row["updated_at"]),
        )

    async def save_draft(self, draft: KeyDateDraft) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO key_date_drafts (telegram_id, code, field, name_zh, name_en, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (telegram_id) DO UPDATE SET "
                "code = excluded.code, field = excluded.field, name_zh = excluded.name_zh, "
                "name_en = excluded.name_en, updated_at = excluded.updated_at",
                (
                    draft.telegram_id,
                    draft.code,
                    draft.field,
                    draft.name_zh,
                    draft.name_en,
                    to_db_time(draft.updated_at),
                ),
            )

    async def delete_draft(self, telegram_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM key_date_drafts WHERE telegram_id = ?", (telegram_id,))
