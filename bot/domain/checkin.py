"""Check-in codes that rotate: what a volunteer types or scans, and when it is accepted.

The organizer's message shows a six-digit code and a QR code of a deep link; both change every
:data:`STEP_SECONDS`. They are derived from a per-activity secret and the step number with
HMAC (the idea of TOTP, RFC 6238), so any process can check a code without shared state, a code
for check-out never checks anyone in, and a code of another activity never matches.

A code is accepted during its own step and the one after (:data:`ACCEPTED_STEPS`): the volunteer
reads it at the end of a step and types it in the next. An older code, up to
:data:`RECOGNIZED_STEPS` back, is recognized as *expired* — a forwarded photo or a code passed on
by message — and refused with that reason rather than "wrong code".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

STEP_SECONDS = 30
CODE_DIGITS = 6
ACCEPTED_STEPS = 2
RECOGNIZED_STEPS = 40  # 20 minutes back: "expired" rather than "wrong"
LINK_TOKEN_LENGTH = 12

_TYPED_CODE = re.compile(r"^\s*([0-9]{3})[\s-]?([0-9]{3})\s*$")


class CheckMode(StrEnum):
    IN = "in"
    OUT = "out"


class CheckMethod(StrEnum):
    CODE = "code"  # typed
    LINK = "link"  # scanned QR / deep link
    ORGANIZER = "organizer"  # marked by hand
    ALL = "all"  # "everyone out at …" (check-out only)


class CodeMatch(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    WRONG = "wrong"


def new_secret() -> str:
    return secrets.token_hex(16)


def step_at(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def next_step_at(step: int) -> float:
    """Unix time at which ``step`` ends (the rotation job's timer)."""
    return float((step + 1) * STEP_SECONDS)


def _mac(secret: str, mode: CheckMode, step: int, purpose: str) -> bytes:
    message = f"{purpose}:{mode.value}:{step}".encode()
    return hmac.new(bytes.fromhex(secret), message, hashlib.sha256).digest()


def code_for(secret: str, mode: CheckMode, step: int) -> str:
    """The six digits shown for ``step``."""
    value = int.from_bytes(_mac(secret, mode, step, "code")[:8], "big")
    return f"{value % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def shown_code(code: str) -> str:
    """``123 456``: easier to read aloud and to type from a screen across the room."""
    return f"{code[:3]} {code[3:]}"


def link_token_for(secret: str, mode: CheckMode, step: int) -> str:
    """The token in ``/start ck_<activity>_<token>`` (URL-safe, not guessable)."""
    raw = base64.urlsafe_b64encode(_mac(secret, mode, step, "link")).decode()
    return raw.replace("=", "")[:LINK_TOKEN_LENGTH]


def parse_typed_code(text: str) -> str | None:
    """Six digits, optionally as ``123 456`` or ``123-456``; anything else is not a code.

    Full-width digits (``１２３４５６``, typed with a Chinese input method) count as digits."""
    match = _TYPED_CODE.match(unicodedata.normalize("NFKC", text))
    return match.group(1) + match.group(2) if match else None


def match_code(secret: str, mode: CheckMode, code: str, now: datetime) -> CodeMatch:
    return _match_by(lambda step: code_for(secret, mode, step), code, step_at(now))


def match_link_token(secret: str, mode: CheckMode, token: str, now: datetime) -> CodeMatch:
    return _match_by(lambda step: link_token_for(secret, mode, step), token, step_at(now))


def _match_by(derive: Callable[[int], str], given: str, now_step: int) -> CodeMatch:
    for back in range(RECOGNIZED_STEPS):
        if hmac.compare_digest(derive(now_step - back), given):
            return CodeMatch.VALID if back < ACCEPTED_STEPS else CodeMatch.EXPIRED
    return CodeMatch.WRONG


@dataclass(frozen=True)
class CheckinWindow:
    """When volunteers may check in or out: from ``opens`` to ``closes``."""

    opens: datetime
    closes: datetime

    @classmethod
    def around(
        cls,
        starts_at: datetime,
        ends_at: datetime,
        *,
        before: timedelta,
        after: timedelta,
        credit_until: datetime | None = None,
    ) -> CheckinWindow:
        end = max(ends_at, credit_until) if credit_until is not None else ends_at
        return cls(starts_at - before, end + after)

    def contains(self, moment: datetime) -> bool:
        return self.opens <= moment <= self.closes


def is_far(distance_m: int | None, radius_m: int) -> bool:
    """A check-in farther than the radius from the activity's pin is flagged (not refused)."""
    return distance_m is not None and distance_m > radius_m
