"""Users as the bot knows them: one row per Telegram account that ever wrote to the bot."""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    """What a person may do. Organizer rights also come from organization membership."""

    VOLUNTEER = "volunteer"
    ORGANIZER = "organizer"
    ADMIN = "admin"


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


class TelegramIdentity(BaseModel):
    """What Telegram tells us about the sender of an update (no personal data beyond that)."""

    model_config = ConfigDict(frozen=True)

    telegram_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


class MenuRole(StrEnum):
    """Which command menu and help a person gets: what they can do, not their title."""

    VOLUNTEER = "volunteer"  # volunteers and visitors
    ORGANIZER = "organizer"  # members of an approved organization
    ADMIN = "admin"  # the federation's administrators


class User(BaseModel):
    model_config = ConfigDict(frozen=True)

    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    # The user's own explicit choice (``/language``); ``None`` means "derive it".
    language: Language | None
    # Telegram's IETF tag as last seen, used to derive a language when none was chosen.
    telegram_language_code: str | None
    role: Role
    created_at: datetime
    last_seen_at: datetime
    # False once Telegram answered 403 (blocked bot / kicked); true again when they write.
    is_reachable: bool
    # When the user became unreachable; ``None`` while reachable.
    blocked_at: datetime | None = None
    # The command menu last published to their private chat (``None``: the default one).
    menu_role: MenuRole | None = None


def is_administrator(telegram_id: int, user: User | None, admin_ids: Set[int]) -> bool:
    """``ADMIN_IDS`` always; appointed administrators by their stored role."""
    return telegram_id in admin_ids or (user is not None and user.role is Role.ADMIN)
