"""Reference lists: skills, service categories and areas (seeded by migration 0003).

Administrators edit them from the admin panel (handlers/admin.py); a retired entry is
deactivated, never deleted, because profiles (and later activities) keep referring to its code.

The three lists are read on nearly every screen (a card names its category, skills and area), so
they are kept for :data:`LISTS_KEPT_FOR` seconds per database (issue #14: three round trips less
per screen). An edit through this repository drops them at once, so an administrator sees the
change on the next screen; other instances of the bot on the same PostgreSQL database see it
within those seconds.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Final

from bot.domain.volunteers import CODE_PATTERN, CatalogItem, CatalogKind
from storage.db import Database, Row

__all__ = ["CODE_PATTERN", "CatalogKind", "CatalogRepository"]


# The only place a table name is chosen: never from user input, always from this fixed map.
_TABLES: Final[dict[CatalogKind, str]] = {
    CatalogKind.SKILL: "skills",
    CatalogKind.CATEGORY: "service_categories",
    CatalogKind.AREA: "areas",
}

#: What a code may look like: it travels inside callback data (at most 64 bytes in all).

_COLUMNS = "code, name_zh, name_en, sort_order, is_active"


def _table(kind: CatalogKind) -> str:
    return _TABLES[CatalogKind(kind)]  # CatalogKind() refuses anything else with a ValueError


def _to_item(row: Row) -> CatalogItem:
    return CatalogItem(
        code=row["code"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        sort_order=row["sort_order"],
        is_active=bool(row["is_active"]),
    )


def _check_item(item: CatalogItem) -> None:
    if CODE_PATTERN.fullmatch(item.code) is None:
        raise ValueError(
            f"catalog code {item.code!r} must be 1-32 characters: a lowercase letter, then "
            "lowercase letters, digits or underscores"
        )
    if not item.name_zh.strip() or not item.name_en.strip():
        raise ValueError(f"catalog item {item.code!r} needs both a Chinese and an English name")


#: How long a list read from the database is used again (see the module).
LISTS_KEPT_FOR: Final = 10.0


@dataclass
class _KeptLists:
    """The lists of one database as last read, with the ``time.monotonic()`` of the reading."""

    lists: dict[CatalogKind, tuple[float, tuple[CatalogItem, ...]]] = field(default_factory=dict)


# One per Database object, so every repository on it (the bot's, a test's) shares the lists.
_KEPT: weakref.WeakKeyDictionary[Database, _KeptLists] = weakref.WeakKeyDictionary()


class CatalogRepository:
    """Reads and edits the reference lists. Lists come sorted by ``sort_order``, then code."""

    def __init__(self, db: Database) -> None:
        self._db = db
        try:
            self._kept = _KEPT.setdefault(db, _KeptLists())
        except TypeError:  # a stand-in that cannot be weakly referenced (the fuzz test's)
            self._kept = _KeptLists()

    # -- generic ---------------------------------------------------------------------------------

    async def items(
        self, kind: CatalogKind, *, include_inactive: bool = False
    ) -> list[CatalogItem]:
        kept = self._kept.lists.get(kind)
        if kept is None or time.monotonic() - kept[0] > LISTS_KEPT_FOR:
            read_at = time.monotonic()
            rows = await self._db.fetch_all(
                f"SELECT {_COLUMNS} FROM {_table(kind)} ORDER BY sort_order, code"
            )
            kept = (read_at, tuple(_to_item(row) for row in rows))
            self._kept.lists[kind] = kept
        return [item for item in kept[1] if include_inactive or item.is_active]

    def forget(self) -> None:
        """Read the lists afresh next time (after an edit, or a change made around us)."""
        self._kept.lists.clear()

    async def get(self, kind: CatalogKind, code: str) -> CatalogItem | None:
        """The entry with ``code``, active or not (a profile may still refer to a retired one)."""
        return next(
            (item for item in await self.items(kind, include_inactive=True) if item.code == code),
            None,
        )

    async def upsert(self, kind: CatalogKind, item: CatalogItem) -> CatalogItem:
        """Add an entry, or change the names, order and active flag of an existing one.

        Raises :class:`ValueError` for a malformed code or an empty name.
        """
        _check_item(item)
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                f"""
                INSERT INTO {_table(kind)} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (code) DO UPDATE SET
                    name_zh = excluded.name_zh,
                    name_en = excluded.name_en,
                    sort_order = excluded.sort_order,
                    is_active = excluded.is_active
                RETURNING {_COLUMNS}
                """,
                (
                    item.code,
                    item.name_zh.strip(),
                    item.name_en.strip(),
                    item.sort_order,
                    int(item.is_active),
                ),
            )
        self.forget()
        if row is None:  # pragma: no cover - INSERT ... RETURNING always yields the row
            raise RuntimeError(f"upsert of {kind} {item.code!r} returned no row")
        return _to_item(row)

    async def set_active(self, kind: CatalogKind, code: str, active: bool) -> bool:
        """Show or hide an entry in the lists; ``False`` if there is no such code."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE {_table(kind)} SET is_active = ? WHERE code = ?", (int(active), code)
            )
        self.forget()
        return changed > 0

    async def add(self, kind: CatalogKind, item: CatalogItem) -> bool:
        """Add a new entry at the end of the list; ``False`` if the code is already taken
        (an existing entry is never overwritten from the "add" screen)."""
        _check_item(item)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"INSERT INTO {_table(kind)} ({_COLUMNS}) "
                f"SELECT ?, ?, ?, COALESCE(MAX(sort_order), 0) + 1, ? FROM {_table(kind)} "
                "WHERE true ON CONFLICT (code) DO NOTHING",
                (item.code, item.name_zh.strip(), item.name_en.strip(), int(item.is_active)),
            )
        self.forget()
        return changed > 0

    async def rename(self, kind: CatalogKind, code: str, name_zh: str, name_en: str) -> bool:
        """Change both names of an entry; ``False`` if there is no such code."""
        if not name_zh.strip() or not name_en.strip():
            raise ValueError(f"catalog item {code!r} needs both a Chinese and an English name")
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE {_table(kind)} SET name_zh = ?, name_en = ? WHERE code = ?",
                (name_zh.strip(), name_en.strip(), code),
            )
        self.forget()
        return changed > 0

    # -- by kind -------------------------------------------------------------------------------

    async def skills(self, *, include_inactive: bool = False) -> list[CatalogItem]:
        return await self.items(CatalogKind.SKILL, include_inactive=include_inactive)

    async def categories(self, *, include_inactive: bool = False) -> list[CatalogItem]:
        return await self.items(CatalogKind.CATEGORY, include_inactive=include_inactive)

    async def areas(self, *, include_inactive: bool = False) -> list[CatalogItem]:
        return await self.items(CatalogKind.AREA, include_inactive=include_inactive)

    async def area_places(self) -> dict[str, str]:
        """Places people type (街道, towns, landmarks) → the code of their district."""
        rows = await self._db.fetch_all("SELECT name, area_code FROM area_places")
        return {row["name"]: row["area_code"] for row in rows}

    async def skill(self, code: str) -> CatalogItem | None:
        return await self.get(CatalogKind.SKILL, code)

    async def category(self, code: str) -> CatalogItem | None:
        return await self.get(CatalogKind.CATEGORY, code)

    async def area(self, code: str) -> CatalogItem | None:
        return await self.get(CatalogKind.AREA, code)

    async def upsert_skill(self, item: CatalogItem) -> CatalogItem:
        return await self.upsert(CatalogKind.SKILL, item)

    async def upsert_category(self, item: CatalogItem) -> CatalogItem:
        return await self.upsert(CatalogKind.CATEGORY, item)

    async def upsert_area(self, item: CatalogItem) -> CatalogItem:
        """Add or edit an area; a new one is top-level, an existing one keeps its parent."""
        return await self.upsert(CatalogKind.AREA, item)
