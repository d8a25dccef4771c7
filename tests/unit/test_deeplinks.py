from __future__ import annotations

import pytest

from bot.domain.deeplinks import (
    ActivityLink,
    OrganizerInviteLink,
    UnknownLink,
    activity_payload,
    invite_payload,
    parse_start_payload,
)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("act_42", ActivityLink(42)),
        (activity_payload(7), ActivityLink(7)),
        ("act_0", UnknownLink("act_0")),
        ("act_", UnknownLink("act_")),
        ("act_12x", UnknownLink("act_12x")),
        (invite_payload("Ab3_xYz-9Q"), OrganizerInviteLink("Ab3_xYz-9Q")),
        ("inv_short", UnknownLink("inv_short")),
        ("hello", UnknownLink("hello")),
        ("bad payload!", UnknownLink("bad payload!")),
        ("x" * 100, UnknownLink("x" * 64)),
    ],
)
def test_parse_start_payload(payload: str | None, expected: object) -> None:
    assert parse_start_payload(payload) == expected
