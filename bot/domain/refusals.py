"""The common shape of "a rule said no": every service refusal names its reason.

Services raise a subclass (``StaffRefused``, ``SignupRefused`` …) whose ``reason`` is a member
of that service's reason enum; handlers answer it in the user's language through one wrapper
(:func:`handlers.refusals.refusing`) instead of a ``try``/``except`` in every handler.
"""

from __future__ import annotations

from enum import StrEnum


class Refused(Exception):
    """A service refused an action; ``reason`` says why (a member of the service's enum)."""

    reason: StrEnum

    def __init__(self, reason: StrEnum) -> None:
        super().__init__(reason.value)
        self.reason = reason
