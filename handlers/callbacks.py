"""Callback data: short, versioned strings routed by regex (``menu:browse``, ``lang:zh``).

Callback data is client input: a press can be forged or replayed, so every handler re-checks on
the server that the object exists, is in the right state and that this user may act on it.
"""

from __future__ import annotations

MAX_CALLBACK_BYTES = 64  # Telegram's limit


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
