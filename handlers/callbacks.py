"""Callback data: short, versioned strings routed by regex (``menu:browse``, ``lang:zh``).

Callback data is client input: a press can be forged or replayed, so every handler re-checks on
the server that the object exists, is in the right state and that this user may act on it.

Numbers in callback data are parsed here and only here, strictly: ASCII digits and nothing else.
``str.isdigit()`` is no guard, it accepts "²" or "١٢", which ``int()`` then rejects or reads.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton

MAX_CALLBACK_BYTES = 64  # Telegram's limit
MAX_ID_DIGITS = 12  # our own row ids
MAX_TELEGRAM_ID_DIGITS = 16  # Telegram ids fit in 52 bits

_DIGITS = re.compile(r"[0-9]+")


def callback(*parts: str | int) -> str:
    data = ":".join(str(part) for part in parts)
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def pattern(prefix: str) -> str:
    """A regex matching callback data of one family, e.g. ``pattern("menu")``."""
    return rf"^{prefix}(:|$)"


def split(data: str | None) -> list[str]:
    return (data or "").split(":")


def button(label: str, *parts: str | int) -> InlineKeyboardButton:
    """An inline button whose callback data is ``parts`` joined (see :func:`callback`)."""
    return InlineKeyboardButton(label, callback_data=callback(*parts))


def button_rows(
    buttons: list[InlineKeyboardButton], width: int = 2
) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out ``width`` to a row."""
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def parse_int(text: str | None, max_digits: int) -> int | None:
    """A whole number of 1 to ``max_digits`` ASCII digits (no sign, no spaces), else ``None``."""
    if text is None or not 0 < len(text) <= max_digits or not _DIGITS.fullmatch(text):
        return None
    return int(text)


def parse_page(text: str | None, max_page: int) -> int | None:
    """A page number from 0 to ``max_page``, else ``None``."""
    page = parse_int(text, len(str(max_page)))
    return page if page is not None and page <= max_page else None


def parse_id(text: str | None) -> int | None:
    """A row id (positive, at most 12 digits), else ``None``."""
    value = parse_int(text, MAX_ID_DIGITS)
    return value if value else None


def parse_telegram_id(text: str | None) -> int | None:
    """A Telegram user id (positive, at most 16 digits), else ``None``."""
    value = parse_int(text, MAX_TELEGRAM_ID_DIGITS)
    return value if value else None
