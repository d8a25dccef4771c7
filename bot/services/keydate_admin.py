"""What an administrator may do to the key dates: enable/disable, rename, move, add.

Every method re-checks that ``actor`` is an administrator (:class:`StaffRefused` otherwise, and
nothing is written), validates what was typed, writes through the repository, logs, and reports
failure honestly: a code that vanished meanwhile raises :class:`KeyDateNotFound`, and ``add``
never claims success for a row it did not write.

Codes are generated from the English name (``Arbor Day`` → ``arbor_day``). Two administrators
adding the same name at once both compute ``arbor_day``; the insert of the second one writes
nothing, so ``add`` retries with the next free code (``arbor_day_2``) instead of reporting a key
date that does not exist.
"""

from __future__ import annotations

import logging
import re
from typing import Final

from bot.clock import Clock
from bot.domain.keydates import CODE_PATTERN, KeyDate, KeyDateDraft, is_valid_day
from bot.domain.validation import clean_free_text
from bot.services.staff import StaffService
from storage.keydates import KeyDatesRepository

__all__ = [
    "ADD_ATTEMPTS",
    "MAX_NAME_LENGTH",
    "InvalidKeyDay",
    "KeyDateAdminService",
    "KeyDateDraft",
    "KeyDateNotAdded",
    "KeyDateNotFound",
    "clean_name",
    "new_code",
]

log = logging.getLogger(__name__)

MAX_NAME_LENGTH: Final = 40
#: Inserts tried with ever new codes before ``add`` gives up (each failure means another
#: administrator took that code between our read and our insert: rare, never many times).
ADD_ATTEMPTS: Final = 5


class KeyDateNotFound(LookupError):
    """No key date has this code (a stale button, or it vanished meanwhile)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class InvalidKeyDay(ValueError):
    """(month, day) is no day of the (lunar) calendar, e.g. 2-30."""

    def __init__(self, month: int, day: int, *, lunar: bool) -> None:
        super().__init__(f"no such {'lunar ' if lunar else ''}day {month}-{day}")
        self.month, self.day, self.lunar = month, day, lunar


class KeyDateNotAdded(RuntimeError):
    """The insert wrote nothing with any code tried: nothing was added."""


def clean_name(text: str) -> str:
    """A key date's name, cleaned; raises ``InvalidInput`` (localized by the caller)."""
    return clean_free_text(text, min_length=1, max_length=MAX_NAME_LENGTH)


def new_code(name_en: str, taken: set[str]) -> str:
    """A short ASCII code from the English name ("Arbor Day" → ``arbor_day``), not in
    ``taken``."""
    base = re.sub(r"[^a-z0-9]+", "_", name_en.lower()).strip("_")[:20].strip("_")
    if not base or not base[0].isalpha():
        base = f"kd_{base}"[:20].strip("_")
    code, number = base, 2
    while code in taken or not CODE_PATTERN.fullmatch(code):
        code = f"{base}_{number}"
        number += 1
    return code


def _check_day(month: int, day: int, lunar: bool) -> None:
    if not is_valid_day(month, day, lunar=lunar):
        raise InvalidKeyDay(month, day, lunar=lunar)


class KeyDateAdminService:
    def __init__(self, key_dates: KeyDatesRepository, staff: StaffService, clock: Clock) -> None:
        self._key_dates = key_dates
        self._staff = staff
        self._clock = clock

    async def all(self, actor: int) -> list[KeyDate]:
        await self._staff.require_admin(actor)
        return await self._key_dates.all()

    async def get(self, actor: int, code: str) -> KeyDate:
        """The key date (raises :class:`KeyDateNotFound` for an unknown or malformed code)."""
        await self._staff.require_admin(actor)
        return await self._get(code)

    async def set_enabled(self, actor: int, code: str, enabled: bool) -> KeyDate:
        await self._staff.require_admin(actor)
        changed = await self._key_dates.set_enabled(code, enabled, self._clock())
        return await self._after_write(actor, code, changed, "enabled" if enabled else "disabled")

    async def rename(
        self, actor: int, code: str, name_zh: str | None = None, name_en: str | None = None
    ) -> KeyDate:
        """Set the names given; ``None`` keeps that name (so renaming one does not undo another
        administrator's concurrent rename of the other)."""
        await self._staff.require_admin(actor)
        name_zh = clean_name(name_zh) if name_zh is not None else None
        name_en = clean_name(name_en) if name_en is not None else None
        changed = await self._key_dates.rename(code, name_zh, name_en, self._clock())
        return await self._after_write(actor, code, changed, "renamed")

    async def set_day(self, actor: int, code: str, month: int, day: int, is_lunar: bool) -> KeyDate:
        await self._staff.require_admin(actor)
        _check_day(month, day, is_lunar)
        changed = await self._key_dates.set_day(code, month, day, is_lunar, self._clock())
        return await self._after_write(actor, code, changed, "moved")

    async def add(
        self, actor: int, name_zh: str, name_en: str, month: int, day: int, is_lunar: bool
    ) -> KeyDate:
        """The new key date, as stored; :class:`KeyDateNotAdded` when no insert wrote a row."""
        await self._staff.require_admin(actor)
        name_zh, name_en = clean_name(name_zh), clean_name(name_en)
        _check_day(month, day, is_lunar)
        taken = {key_date.code for key_date in await self._key_dates.all()}
        for _attempt in range(ADD_ATTEMPTS):
            new = KeyDate(
                code=new_code(name_en, taken),
                name_zh=name_zh,
                name_en=name_en,
                month=month,
                day=day,
                is_lunar=is_lunar,
            )
            if await self._key_dates.add(new, self._clock()):
                log.info("admin %s added key date %s", actor, new.code)
                return new
            # Taken since we read the list (another administrator, same name): next code.
            log.info("key date code %s was taken meanwhile; trying another", new.code)
            taken.add(new.code)
        log.warning("admin %s could not add key date %r: every code was taken", actor, name_en)
        raise KeyDateNotAdded(name_en)

    # -- the administrator's half-typed key date (key_date_drafts) ---------------------------------
    # Written only through these methods, so the same administrator check guards them as the
    # key dates themselves (a draft is where a key date is being made).

    async def start_draft(self, actor: int, code: str | None, field: str) -> KeyDateDraft:
        """Start typing ``field`` of the key date ``code`` (``None``: a new key date); the
        draft starts from the stored names (raises :class:`KeyDateNotFound` when it is gone)."""
        await self._staff.require_admin(actor)
        key_date = await self._get(code) if code is not None else None
        draft = KeyDateDraft(
            telegram_id=actor,
            code=code,
            field=field,
            name_zh=key_date.name_zh if key_date else None,
            name_en=key_date.name_en if key_date else None,
            updated_at=self._clock(),
        )
        await self._key_dates.save_draft(draft)
        return draft

    async def draft(self, actor: int) -> KeyDateDraft | None:
        await self._staff.require_admin(actor)
        return await self._key_dates.get_draft(actor)

    async def next_field(
        self,
        actor: int,
        draft: KeyDateDraft,
        field: str,
        *,
        name_zh: str | None,
        name_en: str | None,
    ) -> KeyDateDraft:
        """Adding goes on: the names typed so far are kept, ``field`` is typed next."""
        await self._staff.require_admin(actor)
        following = KeyDateDraft(
            telegram_id=actor,
            code=draft.code,
            field=field,
            name_zh=clean_name(name_zh) if name_zh is not None else None,
            name_en=clean_name(name_en) if name_en is not None else None,
            updated_at=self._clock(),
        )
        await self._key_dates.save_draft(following)
        return following

    async def drop_draft(self, actor: int) -> None:
        """Forget the draft (done, cancelled, or no longer an administrator: dropping one's own
        draft needs no right)."""
        await self._key_dates.delete_draft(actor)

    async def _get(self, code: str) -> KeyDate:
        key_date = await self._key_dates.get(code) if CODE_PATTERN.fullmatch(code) else None
        if key_date is None:
            raise KeyDateNotFound(code)
        return key_date

    async def _after_write(self, actor: int, code: str, changed: bool, what: str) -> KeyDate:
        if not changed:
            log.info("admin %s: key date %s not %s, it no longer exists", actor, code, what)
            raise KeyDateNotFound(code)
        log.info("admin %s %s key date %s", actor, what, code)
        return await self._get(code)
