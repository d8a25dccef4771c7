"""Deep links: ``https://t.me/<bot>?start=<payload>`` arrive as ``/start <payload>``.

Telegram allows 1–64 characters from ``A-Z a-z 0-9 _ -`` in a payload. Each kind of link has a
prefix; anything else is :class:`UnknownLink` (told to the user, never an error).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ACTIVITY = re.compile(r"^act_([1-9]\d{0,17})$")
_INVITE = re.compile(r"^inv_([A-Za-z0-9_-]{8,60})$")
_CHECKIN = re.compile(r"^ck_([1-9]\d{0,17})_([A-Za-z0-9_-]{8,40})$")
_CERTIFICATE = re.compile(r"^cv_([A-Za-z0-9_-]{16,40})$")


@dataclass(frozen=True)
class ActivityLink:
    activity_id: int


@dataclass(frozen=True)
class OrganizerInviteLink:
    code: str


@dataclass(frozen=True)
class UnknownLink:
    payload: str


@dataclass(frozen=True)
class CheckinLink:
    """A scanned check-in (or check-out) QR code: the activity and the rotating token."""

    activity_id: int
    token: str


@dataclass(frozen=True)
class CertificateLink:
    """A scanned certificate QR code: verify the certificate with this code."""

    code: str


DeepLink = ActivityLink | OrganizerInviteLink | CheckinLink | CertificateLink | UnknownLink


def parse_start_payload(payload: str | None) -> DeepLink | None:
    """``None`` for a plain ``/start``; otherwise what the link points at."""
    if payload is None or not payload.strip():
        return None
    payload = payload.strip()
    if not _PAYLOAD.match(payload):
        return UnknownLink(payload[:64])
    if match := _ACTIVITY.match(payload):
        return ActivityLink(int(match.group(1)))
    if match := _INVITE.match(payload):
        return OrganizerInviteLink(match.group(1))
    if match := _CHECKIN.match(payload):
        return CheckinLink(int(match.group(1)), match.group(2))
    if match := _CERTIFICATE.match(payload):
        return CertificateLink(match.group(1))
    return UnknownLink(payload)


def activity_payload(activity_id: int) -> str:
    return f"act_{activity_id}"


def invite_payload(code: str) -> str:
    return f"inv_{code}"


def checkin_payload(activity_id: int, token: str) -> str:
    return f"ck_{activity_id}_{token}"
