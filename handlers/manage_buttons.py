"""The management card's button families (``mg.``), apart from the modules that handle them.

The card (:mod:`handlers.manage`) draws the entry buttons of every managing flow (roster,
cancel, message, duplicate) and each flow draws "back to the card", so the families live here
and the flow modules import each other's screens only through :mod:`handlers.manage`.

Buttons of a typed step carry what they were drawn for: the activity, and for a confirmation of
typed text a stamp of that text (:func:`bot.services.activity_management.draft_stamp`). A press
from an older screen (the text was typed again since) is refused instead of acting on the newer
text.

Old colon-separated data (``mg:a:7``, still drawn by the organization home and the publishing
screens, and on buttons already sent) is read by :func:`legacy_press` into the same families.
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain.activities import ActivityTab
from bot.services.activity_management import Audience
from handlers.callbacks import Press, parse_id, parse_page, split

MAX_PAGE = 9999
TYPED = "t"  # CancelConfirm.code of a typed reason (the reason is in the draft)


class ExportKind(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ManageList(Press, prefix="mg.list"):
    organization_id: int
    tab: ActivityTab = ActivityTab.UPCOMING
    page: int = 0


class ManageCard(Press, prefix="mg.card"):
    activity_id: int


class ManageSignups(Press, prefix="mg.signups"):
    """Close sign-up early (``open`` false) or reopen it."""

    activity_id: int
    open: bool


class RosterShown(Press, prefix="mg.roster"):
    activity_id: int
    page: int = 0


class RosterExport(Press, prefix="mg.export"):
    activity_id: int
    kind: ExportKind


class CancelAsk(Press, prefix="mg.cx"):
    activity_id: int


class CancelPreset(Press, prefix="mg.cx.preset"):
    activity_id: int
    code: str  # a key of CANCEL_PRESETS


class CancelType(Press, prefix="mg.cx.type"):
    activity_id: int


class CancelConfirm(Press, prefix="mg.cx.yes"):
    activity_id: int
    code: str  # a key of CANCEL_PRESETS, or TYPED
    stamp: int = 0  # of the typed reason the button was drawn for


class MessageStart(Press, prefix="mg.msg"):
    activity_id: int


class MessageAudience(Press, prefix="mg.msg.to"):
    activity_id: int
    audience: Audience
    stamp: int  # of the message the button was drawn for


class MessageSend(Press, prefix="mg.msg.send"):
    activity_id: int
    stamp: int  # of the message and audience the preview showed


class DuplicateStart(Press, prefix="mg.dup"):
    activity_id: int


# ------------------------------------------------------------------------------ old buttons

#: Old-format data of each module, for its own legacy handler.
LEGACY_CARD = r"^mg:(list|a|close|open):"
LEGACY_ROSTER = r"^mg:(r|csv|xlsx):"
LEGACY_CANCEL = r"^mg:(cx|cxp|cxt|cxy):"
LEGACY_MESSAGE = r"^mg:(msg|aud|send):"
LEGACY_DUPLICATE = r"^mg:dup:"

_AUDIENCES = {"c": Audience.CONFIRMED, "e": Audience.EVERYONE}


def legacy_press(data: str) -> Press | None:
    """``mg:<action>:<id>[:…]`` as drawn before the typed families. A typed step's old
    confirmation carries no stamp (0), so it is refused as stale rather than acting on
    whatever was typed last."""
    parts = split(data)
    if len(parts) < 3:
        return None
    prefix, action, raw_target, *rest = parts
    target = parse_id(raw_target)
    if prefix != "mg" or target is None:
        return None
    if action == "list":
        if not rest:
            return ManageList(target)
        tabs = {tab.value: tab for tab in ActivityTab}
        page = parse_page(rest[1], MAX_PAGE) if len(rest) == 2 else None
        if rest[0] not in tabs or page is None:
            return None
        return ManageList(target, tabs[rest[0]], page)
    simple: dict[str, Press] = {
        "a": ManageCard(target),
        "close": ManageSignups(target, open=False),
        "open": ManageSignups(target, open=True),
        "csv": RosterExport(target, ExportKind.CSV),
        "xlsx": RosterExport(target, ExportKind.XLSX),
        "cx": CancelAsk(target),
        "cxt": CancelType(target),
        "msg": MessageStart(target),
        "send": MessageSend(target, 0),
        "dup": DuplicateStart(target),
    }
    if action in simple and not rest:
        return simple[action]
    if action == "r" and len(rest) == 1:
        page = parse_page(rest[0], MAX_PAGE)
        return RosterShown(target, page) if page is not None else None
    if action == "cxp" and len(rest) == 1:
        return CancelPreset(target, rest[0])  # the code is checked against the presets
    if action == "cxy" and len(rest) == 1:
        return CancelConfirm(target, rest[0], 0)
    if action == "aud" and len(rest) == 1 and rest[0] in _AUDIENCES:
        return MessageAudience(target, _AUDIENCES[rest[0]], 0)
    return None
